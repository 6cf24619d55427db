"""What apply and destroy refuse, and why: the engine's safety rules, checked before any write.

Each guard raises a `DeployerError` naming what it found and what the user can do about it;
the CLI calls them, so scripts and tests get the same refusals as the command line.
"""

from __future__ import annotations

from collections.abc import Callable

from deployer.aws import DeployerError
from deployer.executor import Executor
from deployer.model import split_key
from deployer.planner import Action, Plan
from deployer.resource import resource_driver
from deployer.spec import Spec
from deployer.state import State

StateOf = Callable[[str], State]


def require_primary_first(spec: Spec, state_of: StateOf, workspaces: list[str]) -> None:
    """The secondary references the primary (IAM roles, the source bucket, the database)."""
    if workspaces == ["secondary"] and not state_of("primary").addresses():
        raise DeployerError(
            f"the primary workspace ({spec.region('primary')}) is not applied yet: "
            f"the secondary depends on it, so primary comes first (`deployer apply --region "
            f"{spec.region('primary')}`, or `deployer apply` for both)"
        )


def require_secondary_destroyed_first(spec: Spec, state_of: StateOf, workspaces: list[str]) -> None:
    """The primary cannot go while the secondary still refers to it."""
    if workspaces != ["primary"]:
        return
    left = len(state_of("secondary").addresses())
    if left:
        raise DeployerError(
            f"the secondary workspace still has {left} resources that depend on the primary: "
            f"destroy secondary first (`deployer destroy --region {spec.region('secondary')}`),"
            " or destroy both with no --region"
        )


def refuse_data_loss(plan: Plan, allowed: bool) -> None:
    """Replacing a database or a table deletes its data: only when asked for explicitly."""
    risky = [
        c
        for c in plan.actionable()
        if c.action == Action.REPLACE and resource_driver(c.type).replace_needs_consent
    ]
    if risky and not allowed:
        lines = [f"  {c.address} ({c.workspace}): {', '.join(c.forces)} changed" for c in risky]
        raise DeployerError(
            "this plan replaces resources that hold data, which deletes the data:\n"
            + "\n".join(lines)
            + "\nrerun with --allow-replace if that is intended (nothing was changed)"
        )


def refuse_blocked_deletes(executor: Executor, plan: Plan) -> None:
    """Ask every resource to be deleted first, so that a refusal changes nothing."""
    blockers = executor.delete_blockers(plan)
    if blockers:
        lines = [
            f"  {split_key(k)[1]} ({split_key(k)[0]}): {why}" for k, why in sorted(blockers.items())
        ]
        raise DeployerError(
            "some resources cannot be deleted as things stand (nothing was changed):\n"
            + "\n".join(lines)
        )
