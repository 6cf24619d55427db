"""The graph: every blueprint's nodes, edges from references, cycles reported by name."""

from __future__ import annotations

from typing import Any

import networkx as nx
import pytest

from deployer.graph import GraphError, build_graph
from deployer.model import Node, Ref
from deployer.resource import _BLUEPRINTS, blueprint


def test_graph_is_acyclic_and_workspaces_only_point_primary_wards(spec: Any) -> None:
    graph = build_graph(spec)
    assert nx.is_directed_acyclic_graph(graph.dag)
    for dep, dependent in graph.dag.edges:
        if dep.split(":")[0] != dependent.split(":")[0]:
            assert dep.startswith("primary:") and dependent.startswith("secondary:")


def test_every_taggable_node_carries_the_identity_tags(spec: Any) -> None:
    from deployer.resource import Resource, driver_for

    for node in build_graph(spec).nodes():
        driver = driver_for(node)
        if isinstance(driver, Resource) and driver.taggable:
            tags = node.attributes["tags"]
            assert tags["deployer:address"] == node.address
            assert tags["Workspace"] == node.workspace
            assert tags["Environment"] == spec.environment_suffix


def test_a_cycle_is_reported_with_its_nodes(spec: Any) -> None:
    @blueprint
    def looping(spec: Any, workspace: str) -> Any:
        if workspace == "primary":
            yield Node(
                "aws_kms_alias",
                "loop_a",
                workspace,
                {"name": "alias/a", "target_key_id": Ref("aws_kms_alias.loop_b", "arn")},
            )
            yield Node(
                "aws_kms_alias",
                "loop_b",
                workspace,
                {"name": "alias/b", "target_key_id": Ref("aws_kms_alias.loop_a", "arn")},
            )

    try:
        with pytest.raises(GraphError, match="dependency cycle") as raised:
            build_graph(spec)
        assert "primary:aws_kms_alias.loop_a" in str(raised.value)
        assert "primary:aws_kms_alias.loop_b" in str(raised.value)
    finally:
        _BLUEPRINTS.remove(looping)


def test_a_dangling_reference_is_reported(spec: Any) -> None:
    @blueprint
    def dangling(spec: Any, workspace: str) -> Any:
        yield Node(
            "aws_kms_alias",
            "dangling",
            workspace,
            {"name": "alias/x", "target_key_id": Ref("aws_kms_key.nope", "key_id")},
        )

    try:
        with pytest.raises(GraphError, match=r"aws_kms_key\.nope, which no blueprint declares"):
            build_graph(spec)
    finally:
        _BLUEPRINTS.remove(dangling)
