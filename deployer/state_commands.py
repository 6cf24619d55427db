"""`deployer state list|show|rm` and `deployer import`: looking at state and changing what it
manages without touching AWS (rm) or after reading AWS (import), as Terraform's commands do.

Addresses are `WORKSPACE:TYPE.NAME` (what `state list` prints) or `TYPE.NAME` with `--region`
(`deployer/addresses.py`). `list` and `show` only read state (no lock, no AWS call, as
`terraform state list`); `rm` and `import` take the workspace's lock and write through `State`,
so each is one atomic replacement with the previous file kept as `.backup` (an S3 backend keeps
the previous version). `show` never prints a secret: write-only attributes and those that may
hold a secret are masked, whatever a state file holds.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import networkx as nx

from deployer.addresses import AddressError, one_address
from deployer.aws import Clients, DeployerError
from deployer.backends import Backend
from deployer.executor import recorded_dependencies
from deployer.graph import Graph, build_graph
from deployer.model import WORKSPACES, is_write_only, node_key
from deployer.planner import Action, Change, PlanError, context_for, plan_changes
from deployer.resource import DETAILS, Resource, resource_driver
from deployer.spec import Spec
from deployer.state import SECRET_ATTRIBUTES, State, workspace_lock

Handler = Callable[[argparse.Namespace], int]
SENSITIVE = "(sensitive value)"
WRITE_ONLY = "(write-only attribute)"


def register(sub: Any, state: Handler, import_: Handler) -> None:
    """The `state` and `import` subcommands (their arguments; `state` and `import_` run them)."""
    p = sub.add_parser("state", help="look at state, or forget a resource (state list|show|rm)")
    verbs = p.add_subparsers(dest="state_command", metavar="list|show|rm", required=True)
    listing = verbs.add_parser("list", help="the addresses in state, one per line")
    listing.add_argument("--region", help="a region (us-east-1) or workspace (primary)")
    listing.add_argument("--json", action="store_true")
    show = verbs.add_parser("show", help="the attributes state records for one resource")
    show.add_argument("address", metavar="ADDRESS", help="primary:aws_vpc.main, or with --region")
    show.add_argument("--region", help="the workspace of a bare TYPE.NAME")
    rm = verbs.add_parser("rm", help="forget resources without deleting them")
    rm.add_argument("addresses", nargs="+", metavar="ADDRESS")
    rm.add_argument("--region", help="the workspace of a bare TYPE.NAME")
    p.set_defaults(handler=state)
    p = sub.add_parser("import", help="adopt an existing resource into state, after reading it")
    p.add_argument("address", metavar="ADDRESS", help="an address of the spec")
    p.add_argument("id", metavar="ID", help="its id, as Terraform's import of the type takes it")
    p.add_argument("--region", help="the workspace of a bare TYPE.NAME")
    p.set_defaults(handler=import_)


def run_state(
    args: argparse.Namespace, spec: Spec, state_dir: Path, backend: Backend | None
) -> int:
    """`state list|show|rm`: state only, through the session's backend; no AWS call."""

    def load(ws: str) -> State:
        return State.load(state_dir, ws, backend)

    if args.state_command == "list":
        workspaces = [spec.workspace_for(args.region)] if args.region else list(WORKSPACES)
        listed = state_list({ws: load(ws) for ws in workspaces}, args.json)
        if listed:
            print(listed)
    elif args.state_command == "show":
        print(state_show(spec, {ws: load(ws) for ws in WORKSPACES}, args.address, args.region))
    else:
        print(state_rm(spec, state_dir, backend, args.addresses, args.region))
    return 0


def state_list(states: dict[str, State], as_json: bool) -> str:
    """`WORKSPACE:TYPE.NAME` per line (or JSON); an interrupted create is said on stderr."""
    rows = [
        {
            "workspace": ws,
            "address": address,
            "type": entry.get("type"),
            "id": entry.get("id"),
            "status": entry.get("status"),
            # Set while a failover has marked the workspace's region lost (`deployer failback`).
            "lost_since": (state.lost or {}).get("since"),
        }
        for ws, state in states.items()
        for address in state.addresses()
        if (entry := state.get(address)) is not None
    ]
    if as_json:
        return json.dumps(rows, indent=2)
    pending = [f"{r['workspace']}:{r['address']}" for r in rows if r["status"] != "created"]
    if pending:
        print(
            f"Note: {', '.join(pending)}: an interrupted create (no confirmed id); the next "
            "apply adopts what it made, or makes it.",
            file=sys.stderr,
        )
    for ws, state in states.items():
        if state.lost is not None:
            print(
                f"Note: {ws} is marked lost since {state.lost.get('since')} (deployer "
                "failover): its resources are listed, not planned.",
                file=sys.stderr,
            )
    if not rows:
        print("No resources in state.", file=sys.stderr)
    return "\n".join(f"{r['workspace']}:{r['address']}" for r in rows)


def state_show(spec: Spec, states: dict[str, State], text: str, region: str | None) -> str:
    """The recorded attributes of one resource as `terraform state show` prints them, masked."""
    ws, address = one_address(
        text, spec, region, lambda w, a: states[w].get(a) is not None, "state"
    )
    entry = states[ws].get(address) or {}
    values = {**(entry.get("applied") or {}), **(entry.get("attributes") or {})}
    values.pop(DETAILS, None)  # the deployer's own words, not a Terraform attribute
    if entry.get("id") is not None:
        values["id"] = entry["id"]
    graph = build_graph(spec, [ws])
    key = node_key(ws, address)
    if key in graph:  # write-only attributes are never in state: the spec says which are set
        values.update({k: WRITE_ONLY for k in graph.node(key).attributes if is_write_only(k)})
    tf_type, name = address.split(".", 1)
    header = f"# {ws}:{address}:"
    if entry.get("status") != "created":
        header += " (an interrupted create: the next apply adopts what it made, or makes it)"
    lines = [header, f'resource "{tf_type}" "{name}" {{']
    lines += _body(_masked(values), 1)
    lines.append("}")
    for old in entry.get("deposed") or []:
        lines.append(f"# {ws}:{address}: deposed object {old} (deleted by the next apply)")
    return "\n".join(lines)


def _masked(value: Any) -> Any:
    """`value` with every write-only or secret-holding attribute replaced by its marker."""
    if isinstance(value, dict):
        return {
            k: WRITE_ONLY
            if is_write_only(k)
            else SENSITIVE
            if k in SECRET_ATTRIBUTES
            else _masked(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_masked(v) for v in value]
    return value


def _scalar(value: Any) -> str:
    if value in (SENSITIVE, WRITE_ONLY):
        return str(value)
    return json.dumps(value, default=str)


def _body(values: dict[str, Any], depth: int) -> list[str]:
    """Attributes in Terraform's layout: `=` aligned, maps and lists opened, blocks nested."""
    pad = "    " * depth
    shown = {k: v for k, v in sorted(values.items()) if v is not None}
    blocks = {k: v for k, v in shown.items() if _is_blocks(v)}
    width = max((len(k) for k in shown if k not in blocks), default=0)
    lines: list[str] = []
    for name, value in shown.items():
        if name in blocks:
            continue
        label = f'"{name}"' if depth > 1 and not name.isidentifier() else name
        lines += _value_lines(f"{pad}{label.ljust(width)} = ", value, pad)
    for name, items in blocks.items():
        for item in items:
            lines += ["", f"{pad}{name} {{", *_body(item, depth + 1), f"{pad}}}"]
    return lines


def _value_lines(prefix: str, value: Any, pad: str) -> list[str]:
    if isinstance(value, dict):
        if not value:
            return [f"{prefix}{{}}"]
        width = max(len(json.dumps(str(k))) for k in value)
        inner = [
            line
            for k, v in sorted(value.items())
            for line in _value_lines(
                f"{pad}    {json.dumps(str(k)).ljust(width)} = ", v, pad + "    "
            )
        ]
        return [f"{prefix}{{", *inner, f"{pad}}}"]
    if isinstance(value, list):
        if not value:
            return [f"{prefix}[]"]
        inner = [
            line + "," for item in value for line in _value_lines(f"{pad}    ", item, pad + "    ")
        ]
        return [f"{prefix}[", *inner, f"{pad}]"]
    return [f"{prefix}{_scalar(value)}"]


def _is_blocks(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def state_rm(
    spec: Spec,
    state_dir: Path,
    backend: Backend | None,
    texts: Sequence[str],
    region: str | None,
) -> str:
    """Forget resources without deleting them: all named ones or none (each must be in state),
    under the workspaces' locks; what was forgotten, and what the next apply does about it."""
    unlocked = {ws: State.load(state_dir, ws, backend) for ws in WORKSPACES}
    wanted = [
        one_address(t, spec, region, lambda w, a: unlocked[w].get(a) is not None, "state")
        for t in texts
    ]
    lines: list[str] = []
    with ExitStack() as stack:
        for ws in sorted({ws for ws, _ in wanted}):
            stack.enter_context(workspace_lock(state_dir, ws, "state rm", backend))
        states = {ws: State.load(state_dir, ws, backend) for ws in WORKSPACES}
        for ws, address in wanted:  # again under the lock: another run may have changed it
            if states[ws].get(address) is None:
                raise AddressError(f"{ws}:{address}: no longer in state (nothing was removed)")
        for ws, address in dict.fromkeys(wanted):
            entry = states[ws].remove(address) or {}
            lines.append(_forgotten(ws, address, entry))
    lines.append(f"Successfully removed {len(set(wanted))} resource(s) from state.")
    return "\n".join(lines)


def _forgotten(ws: str, address: str, entry: dict[str, Any]) -> str:
    """What `rm` forgot, and what happens to it next (it still exists in AWS)."""
    resource_id = entry.get("id")
    driver = resource_driver(str(entry.get("type")))
    found_again = type(driver).find is not Resource.find
    text = (
        f"Removed {ws}:{address} ({resource_id or 'no confirmed id'}) from state: it was not "
        "deleted and no longer managed. The next plan proposes creating it; "
    )
    if found_again:
        text += (
            "apply first looks for it (by its name or deployer:address tag) and adopts it "
            "rather than making a second one."
        )
    else:
        text += (
            f"apply cannot look up an existing {driver.type} and creates it again (its "
            "configuration sent anew)."
        )
    if resource_id:
        text += f" To manage it again now: deployer import {ws}:{address} {resource_id}"
    return text


def run_import(
    args: argparse.Namespace,
    spec: Spec,
    state_dir: Path,
    backend: Backend | None,
    clients: Callable[[], Clients],
) -> int:
    print(import_resource(spec, state_dir, backend, clients, args.address, args.id, args.region))
    return 0


def import_resource(
    spec: Spec,
    state_dir: Path,
    backend: Backend | None,
    clients: Callable[[], Clients],
    text: str,
    resource_id: str,
    region: str | None,
) -> str:
    """Read `resource_id` through the address's driver, compare it with the spec as a plan
    would, and record it in state; refused (nothing written) when the address is not a
    resource of the spec, is already in state, the id names nothing or another address's
    resource, or the read differs from the spec in an attribute that forces replacement."""
    graph = build_graph(spec)
    ws, address = one_address(
        text,
        spec,
        region,
        lambda w, a: node_key(w, a) in graph and graph.node(node_key(w, a)).stored,
        "spec",
    )
    key = node_key(ws, address)
    if not resource_id.strip():
        raise AddressError(f"import {key}: the ID is empty")
    graph = build_graph(spec, [ws])
    node = graph.node(key)
    driver = resource_driver(node.type)
    with workspace_lock(state_dir, ws, "import", backend):
        states = {w: State.load(state_dir, w, backend) for w in WORKSPACES}
        held = states[ws].get(address)
        if held is not None:
            raise AddressError(
                f"{key} is already in state (id {held.get('id') or 'not confirmed'}): "
                f"`deployer state rm {key}` first to import another one"
            )
        for other in states[ws].addresses():
            if (states[ws].get(other) or {}).get("id") == resource_id:
                raise AddressError(
                    f"{resource_id} is already in state as {ws}:{other}: one resource, one "
                    "address (`deployer state rm` that one first to move it)"
                )
        aws = clients()
        change = _planned(graph, key, states, aws, resource_id)
        where = context_for(aws, spec.region, node).region  # the node's, or IAM's global one
        if change.action == Action.CREATE:
            raise DeployerError(
                f"cannot import {key}: no {node.type} {resource_id} exists in {where} "
                "(nothing was imported)"
            )
        unreadable = sorted(k for k in change.diffs if k in driver.write_only)
        forces = [k for k in change.forces if k not in unreadable]
        if forces:
            raise DeployerError(
                f"cannot import {resource_id} as {key}: "
                + "; ".join(
                    f"{k} is {_said(change.diffs[k][0])} in AWS but {_said(change.diffs[k][1])} "
                    "in the spec"
                    for k in forces
                )
                + " (changing "
                + ("it" if len(forces) == 1 else "them")
                + " forces replacement; nothing was imported)"
            )
        live = change.live or {}
        applied = {k: live[k] for k in node.attributes if k in live and not is_write_only(k)}
        applied.update({k: change.diffs[k][1] for k in unreadable})
        states[ws].record(
            address,
            {
                "type": node.type,
                "status": "created",
                "id": resource_id,
                "applied": applied,
                "dependencies": recorded_dependencies(graph, node),
                "attributes": live,
            },
        )
    lines = [f"{key}: imported {resource_id} (read from {where})."]
    if unreadable:
        lines.append(
            f"  AWS never reports {', '.join(unreadable)}: recorded as the spec sets "
            + ("it." if len(unreadable) == 1 else "them.")
        )
    updates = sorted(k for k in change.diffs if k not in unreadable)
    if updates:
        lines.append(f"  The next plan updates it in place: {', '.join(updates)}.")
    else:
        lines.append("  It matches the spec: the next plan shows no change for it.")
    lines.append("Import successful! It is now in state and managed by the deployer.")
    return "\n".join(lines)


def _planned(
    graph: Graph, key: str, states: dict[str, State], clients: Clients, resource_id: str
) -> Change:
    """The plan's change for `key` were `resource_id` in state: the node and the data sources
    it reads (other references resolve from state), against a copy of state nobody saves."""
    ws, address = key.split(":", 1)
    trial = State(states[ws].path, ws, dict(states[ws].resources), backend=states[ws].backend)
    node = graph.node(key)
    trial.resources[address] = {"type": node.type, "status": "created", "id": resource_id}
    keys = {key} | {k for k in nx.ancestors(graph.dag, key) if not graph.node(k).stored}
    try:
        plan = plan_changes(graph.subgraph(keys), {**states, ws: trial}, clients, workspaces=[ws])
    except PlanError as exc:
        raise DeployerError(f"cannot import {key}: {exc} (or import it first)") from exc
    return plan.changes[key]


def _said(value: Any) -> str:
    return json.dumps(value, default=str) if not isinstance(value, str) else f'"{value}"'
