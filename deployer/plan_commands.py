"""What `plan -out`, `plan --json`, `show FILE` and `apply FILE` do around the planner: write,
print, and check a saved plan (deployer/saved_plan.py) before it is applied."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from deployer.aws import DeployerError
from deployer.graph import Graph, build_graph
from deployer.plan_json import terraform_plan_json
from deployer.planner import Plan, plan_to_json, render_plan
from deployer.saved_plan import (
    build,
    check_spec,
    check_states,
    compare,
    load,
    save,
    to_plan,
)
from deployer.state import State


def emit_plan(args: argparse.Namespace, plan: Plan, graph: Graph, states: dict[str, State]) -> None:
    """`plan`'s output: the text, Terraform's plan JSON (`--json`) or the deployer's own
    (`--json --format deployer`), and the saved plan (`-out FILE`)."""
    document = None
    if args.out is not None or (args.json and args.format == "terraform"):
        document = build(plan, graph, states, args.spec, build_graph(graph.spec))
        if args.out is not None:
            save(document, args.out)
            print(
                f"Saved the plan to {args.out}: `deployer apply {args.out}` applies exactly it.",
                file=sys.stderr,
            )
    if not args.json:
        print(render_plan(plan))
    elif document is not None and args.format == "terraform":
        print(json.dumps(terraform_plan_json(document), indent=2))
    else:
        print(json.dumps(plan_to_json(plan), indent=2, default=str))


def show(path: Path, as_json: bool) -> None:
    """`deployer show FILE [-json]`: the saved plan as `plan` prints it, or Terraform's JSON."""
    document = load(path)
    if as_json:
        print(json.dumps(terraform_plan_json(document), indent=2))
        return
    spec = document["spec"]
    print(
        f"Saved plan of workspace(s) {', '.join(document['workspaces'])}, made "
        f"{document.get('created_at', '?')} from {spec['path']} (sha256 {spec['sha256'][:12]}…).\n"
    )
    print(render_plan(to_plan(document)))


def load_for_apply(args: argparse.Namespace) -> dict[str, Any]:
    """The saved plan `apply FILE` was given, refused before any AWS call when it cannot be
    applied: options that would change what it does, or a spec changed since."""
    if args.region is not None:
        raise DeployerError(
            "--region cannot be given with a saved plan: the plan says which workspaces it "
            "changes (plan again with --region instead)"
        )
    document = load(args.plan_file)
    check_spec(document, args.spec).raise_if_any(args.plan_file)
    return document


def verify_saved(
    args: argparse.Namespace,
    saved: dict[str, Any],
    states: dict[str, State],
) -> None:
    """Under the locks, before planning again: the planned workspaces' state is the one the
    plan was made from."""
    check_states(saved, states).raise_if_any(args.plan_file)


def verify_replanned(
    args: argparse.Namespace,
    saved: dict[str, Any],
    plan: Plan,
    graph: Graph,
    states: dict[str, State],
) -> None:
    """Planned again now, the same changes and the same live values as the saved plan: so the
    plan applied is exactly the one reviewed."""
    fresh = build(plan, graph, states, args.spec, build_graph(graph.spec))
    compare(saved, fresh).raise_if_any(args.plan_file)
