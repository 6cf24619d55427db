"""What a failover needs to know about the stack, declared by the stack and resolved from state.

The engine knows no stack (tests/test_imports.py): the stack registers one function that says,
as references into state, which resources play which part in a region failover (the database
of each region, each region's health check, the name the failover records answer, the table a
drill writes its marker into). `deployer failover` resolves them from the workspaces' states,
as outputs are.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from deployer.aws import DeployerError
from deployer.model import Interp, Ref, resolve
from deployer.outputs import recorded_value
from deployer.resource import load_stack
from deployer.spec import Spec
from deployer.state import State

Value = Ref | Interp | str


@dataclass(frozen=True)
class RegionRoles:
    """One workspace's parts, as references into its state (a Ref's `workspace` may point to
    the other one: the secondary uses the primary's hosted zone)."""

    database_identifier: Ref
    database_arn: Ref
    health_check_id: Ref
    # What the failover record of this region answers with (its API's regional domain name).
    dns_target: Ref
    zone_id: Value
    api_id: Ref
    # The tables the handler writes, by name (global tables: the same name in both regions).
    tables: tuple[Value, ...]


@dataclass(frozen=True)
class RecoveryRoles:
    api_name: str
    stage: str
    health_path: str
    regions: dict[str, RegionRoles]
    # A drill times replication with a marker item written into the first of `tables`, under
    # this key attribute, and deleted afterwards.
    marker_key: str


_DECLARATION: list[Callable[[Spec], RecoveryRoles]] = []


def recovery_roles(fn: Callable[[Spec], RecoveryRoles]) -> Callable[[Spec], RecoveryRoles]:
    """Register the stack's declaration (one per stack)."""
    _DECLARATION.append(fn)
    return fn


def roles_of(spec: Spec) -> RecoveryRoles:
    load_stack()
    if not _DECLARATION:
        raise DeployerError("this stack declares no failover roles (deployer.recovery)")
    return _DECLARATION[-1](spec)


class Resolver:
    """Values of references, read from the workspaces' states (nothing is asked of AWS)."""

    def __init__(self, states: dict[str, State]) -> None:
        self.states = states

    def value(self, value: Value, workspace: str) -> Any:
        def lookup(ref: Ref) -> Any:
            found = recorded_value(self.states, ref, workspace)
            if found is None:
                raise DeployerError(
                    f"{ref.workspace or workspace}: {ref.address}.{ref.attribute} is not in "
                    "state: apply the environment before a failover"
                )
            return found

        return resolve(value, lookup)

    def text(self, value: Value, workspace: str) -> str:
        return str(self.value(value, workspace))
