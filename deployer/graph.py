"""Spec → graph: every service's blueprint yields nodes; references become edges.

Edges point from a dependency to its dependent and carry `ready`: whether the dependent needs
the dependency ready (waited for) or merely existing (its id known).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import networkx as nx

from deployer.aws import DeployerError
from deployer.model import WORKSPACES, Node, Output, ref_key
from deployer.resource import Resource, blueprints, driver_for
from deployer.spec import Spec
from deployer.tagging import ADDRESS_TAG

MANAGED_BY = "deployer"


def identity_tags(spec: Spec, node: Node) -> dict[str, str]:
    """Tags that let us find our resources without state (adoption, drift discovery)."""
    return {
        **spec.tags,
        "Project": spec.project,
        "Environment": spec.environment_suffix,
        "Workspace": node.workspace,
        "ManagedBy": MANAGED_BY,
        ADDRESS_TAG: node.address,
    }


class GraphError(DeployerError):
    pass


@dataclass
class Graph:
    """The resource graph of one or both workspaces."""

    dag: nx.DiGraph
    spec: Spec
    outputs: list[Output]

    def node(self, key: str) -> Node:
        node: Node = self.dag.nodes[key]["node"]
        return node

    def __contains__(self, key: str) -> bool:
        return key in self.dag

    def nodes(self, workspace: str | None = None) -> Iterator[Node]:
        """Nodes in a deterministic topological order."""
        for key in nx.lexicographical_topological_sort(self.dag):
            node = self.node(key)
            if workspace is None or node.workspace == workspace:
                yield node

    def dependencies(self, key: str) -> list[tuple[str, bool]]:
        """(dependency key, needs ready) for every edge into `key`."""
        return [
            (dep, bool(self.dag.edges[dep, key]["ready"])) for dep in self.dag.predecessors(key)
        ]

    def dependents(self, key: str) -> list[str]:
        return list(self.dag.successors(key))

    def subgraph(self, keys: Iterable[str]) -> Graph:
        return Graph(self.dag.subgraph(list(keys)).copy(), self.spec, self.outputs)


def build_graph(
    spec: Spec, workspaces: Iterable[str] = WORKSPACES, extra: Iterable[Node] = ()
) -> Graph:
    """All nodes of the given workspaces, with identity tags, checked for dangling refs and cycles.

    Nodes of other workspaces that the requested ones reference are not included: a reference
    into another workspace is resolved from that workspace's state. `extra` nodes join the
    blueprints' (a test's fixture of a type the stack does not use).
    """
    wanted = list(workspaces)
    nodes: list[Node] = list(extra)
    outputs: list[Output] = []
    for workspace in WORKSPACES:
        for make in blueprints():
            for item in make(spec, workspace):
                if isinstance(item, Output):
                    outputs.append(item)
                else:
                    item.origin = make.__module__
                    nodes.append(item)
    by_key: dict[str, Node] = {}
    for node in nodes:
        if node.key in by_key:
            raise GraphError(f"two nodes share the address {node.key}")
        by_key[node.key] = node
        driver = driver_for(node)
        if isinstance(driver, Resource) and driver.taggable:
            node.attributes["tags"] = {
                **identity_tags(spec, node),
                **node.attributes.get("tags", {}),
            }

    dag = nx.DiGraph()
    for node in nodes:
        if node.workspace not in wanted:
            continue
        dag.add_node(node.key, node=node)
    for node in nodes:
        if node.workspace not in wanted:
            continue
        for ref in node.references():
            target = ref_key(ref, node.workspace)
            if target not in by_key:
                raise GraphError(f"{node.key} refers to {target}, which no blueprint declares")
            target_node = by_key[target]
            if (
                target_node.workspace != node.workspace
                and node.workspace == "primary"
                # After a failover the primary's database replicates from the secondary's.
                and spec.failover.writer == "primary"
            ):
                raise GraphError(
                    f"{node.key} refers to {target}: the primary workspace may not depend on "
                    "the secondary"
                )
            if target not in dag:
                continue  # another workspace's node, resolved from its state
            ready = (
                ref.ready or bool(dag.edges[target, node.key]["ready"])
                if dag.has_edge(target, node.key)
                else ref.ready
            )
            dag.add_edge(target, node.key, ready=ready)
    try:
        cycle = nx.find_cycle(dag)
    except nx.NetworkXNoCycle:
        cycle = None
    if cycle:
        chain = " → ".join([a for a, _ in cycle] + [cycle[0][0]])
        raise GraphError(f"dependency cycle: {chain}")
    return Graph(dag, spec, [o for o in outputs if o.workspace in wanted])
