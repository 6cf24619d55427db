"""`-target ADDRESS` for plan and apply: only the targeted resources and what they depend on.

As Terraform's `-target`: the graph is cut down to the targets and their ancestors (their
dependencies, direct and indirect, data sources included), so nothing else is read, planned
or changed, and nothing outside it is proposed for deletion. A target is `WORKSPACE:TYPE.NAME`
or a bare `TYPE.NAME`, which targets the address in every workspace the run covers
(`deployer/addresses.py`); it must be a resource of the spec (to delete what was removed from
the spec, apply without `-target`). Checked before any AWS call. Terraform's warning is printed,
because a targeted run leaves the rest of the spec unapplied.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TextIO

import networkx as nx

from deployer.addresses import AddressError, parse_address
from deployer.graph import Graph
from deployer.model import node_key
from deployer.planner import Plan

PLAN_WARNING = """
Warning: Resource targeting is in effect

You are creating a plan with the -target option, which means that the result of this plan may
not represent all of the changes requested by the current configuration.

The -target option is not for routine use, and is provided only for exceptional situations such
as recovering from errors or mistakes, or when the deployer specifically suggests to use it as
part of an error message.
"""

APPLY_WARNING = """
Warning: Applied changes may be incomplete

The plan was created with the -target option in effect, so some changes requested in the
configuration may have been ignored and the output values may not be fully updated. Run the
following command to verify that no other changes are pending:
    deployer plan

Note that the -target option is not suitable for routine use, and is provided only for
exceptional situations such as recovering from errors or mistakes, or when the deployer
specifically suggests to use it as part of an error message.
"""


def add_target_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-target",
        "--target",
        action="append",
        dest="target",
        metavar="ADDRESS",
        help="only this resource and what it depends on (repeatable; not for routine use)",
    )


@dataclass
class Targeting:
    """The run's targets (none: the whole graph) and the graph cut down to them."""

    graph: Graph
    targets: list[str]

    @classmethod
    def select(
        cls, graph: Graph, texts: Sequence[str] | None, workspaces: Sequence[str]
    ) -> Targeting:
        if not texts:
            return cls(graph, [])
        targets: list[str] = []
        for text in texts:
            workspace, address = parse_address(text, graph.spec, None)
            if workspace is not None and workspace not in workspaces:
                raise AddressError(
                    f"-target {text}: the {workspace} workspace is not part of this run "
                    f"({', '.join(workspaces)})"
                )
            found = [
                key
                for ws in ([workspace] if workspace else workspaces)
                if (key := node_key(ws, address)) in graph and graph.node(key).stored
            ]
            if not found:
                raise AddressError(
                    f"-target {text}: no such resource in the spec (for {', '.join(workspaces)})"
                )
            targets += found
        keep = set(targets)
        for key in targets:
            keep |= nx.ancestors(graph.dag, key)
        return cls(graph.subgraph(keep), sorted(set(targets)))

    def limit(self, plan: Plan) -> Plan:
        """The plan without what lies outside the targets (state entries the cut graph does
        not hold would otherwise be proposed for deletion)."""
        if not self.targets:
            return plan
        changes = {k: c for k, c in plan.changes.items() if k in self.graph}
        return replace(plan, changes=changes)

    def warn(self, stream: TextIO, applied: bool = False) -> None:
        if self.targets:
            print(APPLY_WARNING if applied else PLAN_WARNING, file=stream)
