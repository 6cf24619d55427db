"""Saved plans: `plan -out FILE` writes what a reviewer saw, `apply FILE` applies exactly that.

A saved plan is a JSON document holding, for every resource of the planned workspaces, the
action and the provider-neutral values before (the live values planned against, as state and
the driver's read report them) and after, plus the digests of the spec file and of each
workspace's state it was made from. No secret goes in: attributes that may hold one and
write-only ones are left out (their names are kept, so the plan can say they change).

`apply FILE` does not trust the digests alone: it plans again and compares the new plan with the
saved one, record by record, so that a change behind our back (a live resource edited, a Lambda
package rebuilt) also makes the plan stale. A stale plan is refused before any write, naming
what changed, as Terraform refuses a saved plan whose state moved on.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from deployer.aws import DeployerError
from deployer.graph import Graph
from deployer.model import (
    UNKNOWN,
    WORKSPACES,
    Ref,
    attribute_value,
    is_write_only,
    iter_refs,
    ref_key,
    resolve,
    split_key,
)
from deployer.outputs import outputs_of
from deployer.planner import Action, Change, Plan
from deployer.resource import registered_resources
from deployer.state import SECRET_ATTRIBUTES, State, atomic_write, without_secrets

FORMAT = "deployer-saved-plan"
FORMAT_VERSION = 1
# How a value known only after apply is written in a saved plan (JSON has no such value).
UNKNOWN_MARK = "__deployer_unknown__"
# Attributes a replacement gives new values (Terraform shows them "(known after apply)").
NEW_ON_REPLACE = ("id", "arn")


class StalePlanError(DeployerError):
    pass


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str).encode()


def encode(value: Any) -> Any:
    """A value as JSON: UNKNOWN becomes the mark, tuples lists."""
    if value is UNKNOWN:
        return {UNKNOWN_MARK: True}
    if isinstance(value, dict):
        return {str(k): encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [encode(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def decode(value: Any) -> Any:
    if isinstance(value, dict):
        if value == {UNKNOWN_MARK: True}:
            return UNKNOWN
        return {k: decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode(v) for v in value]
    return value


def _hidden(name: str) -> bool:
    return is_write_only(name) or name in SECRET_ATTRIBUTES


def _clean(values: dict[str, Any] | None) -> dict[str, Any] | None:
    if values is None:
        return None
    cleaned: dict[str, Any] = without_secrets({k: v for k, v in values.items() if not _hidden(k)})
    return cleaned


def conditional_addresses(graph: Graph) -> set[str]:
    """Addresses the full graph has in one workspace only: the export gives them `count` by
    workspace, so Terraform calls them `address[0]`."""
    present: dict[str, set[str]] = {}
    for node in graph.nodes():
        present.setdefault(node.address, set()).add(node.workspace)
    return {a for a, ws in present.items() if len(ws) == 1}


def expressions(attributes: dict[str, Any], workspace: str) -> dict[str, Any]:
    """The references of a node's attributes as Terraform's plan JSON writes a configuration's
    `expressions` (`{"kms_key_id": {"references": ["aws_kms_key.s3.arn", "aws_kms_key.s3"]}}`):
    tools read them where a value is known only after apply. References into the other
    workspace are left out (the export turns them into look-ups)."""
    out: dict[str, Any] = {}
    for name, value in attributes.items():
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            blocks = [expressions(v, workspace) for v in value]
            if any(blocks):
                out[name] = blocks
            continue
        refs = [r for r in iter_refs(value) if r.workspace in (None, workspace)]
        if refs:
            names = dict.fromkeys(n for r in refs for n in (str(r), r.address))
            out[name] = {"references": list(names)}
    return out


def change_record(
    change: Change, state: State, conditional: set[str], graph: Graph
) -> dict[str, Any]:
    """One resource of the plan, provider-neutral and without secrets."""
    entry = state.get(change.address) or {}
    data = change.address.startswith("data.")
    before: dict[str, Any] | None = None
    if change.action == Action.READ:
        before = None
    elif change.live is not None and entry.get("status") == "created":
        before = {**({"id": entry["id"]} if "id" in entry else {}), **change.live}
    elif change.action == Action.DELETE:
        before = {**({"id": entry["id"]} if "id" in entry else {}), **(change.live or {})}
    after: dict[str, Any] | None
    if change.action == Action.DELETE:
        after = None
    elif change.action == Action.READ:
        after = dict(change.live) if change.live is not None else None
    elif change.action == Action.CREATE:
        after = {"id": UNKNOWN, **{k: a for k, (_, a) in change.diffs.items()}}
    else:
        after = {**(before or {}), **{k: a for k, (_, a) in change.diffs.items()}}
        if change.action == Action.REPLACE:
            after.update({k: UNKNOWN for k in NEW_ON_REPLACE if k in after})
    address = change.address
    driver = None if data else registered_resources().get(change.type)
    tf_address = f"{address}[0]" if address in conditional else address
    return {
        "key": change.key,
        "workspace": change.workspace,
        "address": address,
        "terraform_address": tf_address,
        "mode": "data" if data else "managed",
        "type": change.type,
        "action": change.action.value,
        "reason": change.reason,
        "forces_replacement": list(change.forces),
        "create_before_destroy": bool(driver and driver.create_before_destroy),
        "deposed": list(change.deposed),
        "changed": sorted(change.diffs),
        "write_only_changed": sorted(k for k in change.diffs if _hidden(k)),
        "expressions": expressions(graph.node(change.key).attributes, change.workspace)
        if change.key in graph
        else {},
        "before": encode(_clean(before)),
        "after": encode(_clean(after)),
    }


def output_records(
    graph: Graph,
    states: dict[str, State],
    records: dict[str, dict[str, Any]],
    workspaces: list[str],
) -> list[dict[str, Any]]:
    """Each output of the planned workspaces: its value now (from state) and after apply
    (resolved against the planned values; unknown where those are)."""
    now = outputs_of(graph, states)
    result = []
    for output in graph.outputs:
        if output.workspace not in workspaces:
            continue

        def lookup(ref: Ref, ws: str = output.workspace) -> Any:
            record = records.get(ref_key(ref, ws))
            if record is None or record["after"] is None:
                entry = states[ref.workspace or ws].get(ref.address) or {}
                values = {**(entry.get("applied") or {}), **(entry.get("attributes") or {})}
            else:
                values = decode(record["after"])
            return attribute_value(values, ref.attribute, UNKNOWN)

        after = resolve(output.value, lookup)
        result.append(
            {
                "workspace": output.workspace,
                "name": output.name,
                "before": encode(without_secrets(now.get(output.workspace, {}).get(output.name))),
                "after": encode(without_secrets(after)),
            }
        )
    return result


def state_digest(state: State) -> dict[str, Any]:
    return {"serial": state.serial, "sha256": sha256(state.to_bytes())}


def build(
    plan: Plan, graph: Graph, states: dict[str, State], spec_path: Path, full_graph: Graph
) -> dict[str, Any]:
    """The saved-plan document of `plan`, made from `graph` (the planned workspaces) and
    `states` (every workspace's, as read under the locks)."""
    conditional = conditional_addresses(full_graph)
    records = {
        key: change_record(change, states[change.workspace], conditional, graph)
        for key, change in sorted(plan.changes.items())
        if not change.address.startswith("ephemeral.")
    }
    spec = graph.spec
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "spec": {"path": str(spec_path), "sha256": sha256(spec_path.read_bytes())},
        "workspaces": list(plan.workspaces),
        "regions": {ws: spec.region(ws) for ws in WORKSPACES},
        "states": {ws: state_digest(states[ws]) for ws in sorted(states)},
        "live_sha256": sha256(_canonical({k: r["before"] for k, r in records.items()})),
        "summary": plan.counts(),
        "changes": list(records.values()),
        "outputs": output_records(graph, states, records, list(plan.workspaces)),
    }


def save(document: dict[str, Any], path: Path) -> None:
    """Written whole (never half a plan), readable by its owner only: it holds the live
    configuration, if no secret."""
    atomic_write(path, (json.dumps(document, indent=2, sort_keys=True) + "\n").encode())
    os.chmod(path, 0o600)


def load(path: Path) -> dict[str, Any]:
    """A saved plan, checked to be one this deployer can apply."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise DeployerError(
            f"{path}: no such plan file (write one with `deployer plan -out {path}`)"
        ) from None
    except OSError as exc:
        raise DeployerError(f"{path}: cannot read the plan file ({exc.strerror})") from exc
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise DeployerError(f"{path}: not a deployer plan file (not JSON: {exc})") from exc
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise DeployerError(
            f'{path}: not a deployer plan file (no "format": "{FORMAT}"; write one with '
            f"`deployer plan -out {path}`)"
        )
    version = document.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise DeployerError(
            f"{path}: plan format version {version!r} is newer than this deployer understands "
            f"({FORMAT_VERSION}); upgrade the deployer or plan again"
        )
    missing = [
        k for k in ("spec", "workspaces", "states", "changes", "outputs") if k not in document
    ]
    workspaces = document.get("workspaces")
    if missing or not isinstance(workspaces, list) or not set(workspaces) <= set(WORKSPACES):
        raise DeployerError(
            f"{path}: a damaged plan file (missing or bad: {missing or 'workspaces'})"
        )
    return document


def to_plan(document: dict[str, Any]) -> Plan:
    """The saved changes as a `Plan`, for `render_plan` (`deployer show FILE`)."""
    changes: dict[str, Change] = {}
    for record in document["changes"]:
        before = decode(record["before"]) or {}
        after = decode(record["after"]) or {}
        diffs = {
            name: (None, None)
            if name in record["write_only_changed"]
            else (before.get(name), after.get(name))
            for name in record["changed"]
        }
        changes[record["key"]] = Change(
            record["key"],
            record["workspace"],
            record["address"],
            record["type"],
            Action(record["action"]),
            diffs=diffs,
            reason=record["reason"],
            forces=list(record["forces_replacement"]),
            deposed=list(record["deposed"]),
        )
    return Plan(changes, list(document["workspaces"]))


@dataclass
class Staleness:
    """What differs between a saved plan and now, in words."""

    reasons: list[str]

    def raise_if_any(self, path: Path) -> None:
        if not self.reasons:
            return
        shown = self.reasons[:12]
        more = len(self.reasons) - len(shown)
        lines = "\n  - ".join(shown + ([f"and {more} more"] if more else []))
        raise StalePlanError(
            f"the saved plan {path} is stale: nothing was changed. Since it was made:\n  - "
            f"{lines}\nRun `deployer plan -out {path}` again, review it, and apply that."
        )


def check_spec(document: dict[str, Any], spec_path: Path) -> Staleness:
    """Before any AWS call: the spec file the plan was made from, byte for byte."""
    then = document["spec"]["sha256"]
    now = sha256(spec_path.read_bytes())
    if then == now:
        return Staleness([])
    return Staleness([f"the spec {spec_path} changed (sha256 {then[:12]}… then, {now[:12]}… now)"])


def check_states(document: dict[str, Any], states: dict[str, State]) -> Staleness:
    """The planned workspaces' states (another workspace's values it reads are compared by
    `compare`, through the planned values)."""
    reasons = []
    for ws in document["workspaces"]:
        then = document["states"][ws]
        now = state_digest(states[ws])
        if now["sha256"] != then["sha256"]:
            reasons.append(
                f"the state of workspace {ws} changed (serial {then['serial']} then, "
                f"{now['serial']} now)"
            )
    return Staleness(reasons)


def compare(saved: dict[str, Any], fresh: dict[str, Any]) -> Staleness:
    """Resource by resource: what planning again now finds that the saved plan did not."""
    then = {r["key"]: r for r in saved["changes"]}
    now = {r["key"]: r for r in fresh["changes"]}
    reasons = []
    for key in sorted(then.keys() | now.keys()):
        workspace, address = split_key(key)
        where = f"{address} ({workspace})"
        old, new = then.get(key), now.get(key)
        if old is None or new is None:
            reasons.append(f"{where} is {'now' if old is None else 'no longer'} in the plan")
        elif old["action"] != new["action"] or old["before"] != new["before"]:
            live = _differing(old["before"], new["before"])
            said = f"the live {where} changed: {', '.join(live) or 'its values'}"
            if old["action"] != new["action"]:
                why = f" ({said})" if old["before"] != new["before"] else ""
                said = f"{where}: {old['action']} then, {new['action']} now{why}"
            reasons.append(said)
        elif old["after"] != new["after"] or old["changed"] != new["changed"]:
            names = _differing(old["after"], new["after"]) or sorted(
                set(old["changed"]) ^ set(new["changed"])
            )
            reasons.append(f"{where} would now set different values: {', '.join(names)}")
        elif old["deposed"] != new["deposed"]:
            reasons.append(f"{where}: its deposed objects changed")
    return Staleness(reasons)


def _differing(old: Any, new: Any) -> list[str]:
    if not isinstance(old, dict) or not isinstance(new, dict):
        return []
    return sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))
