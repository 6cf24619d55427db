"""Every driver describes its attributes once, in its table, and the table is complete: every
attribute a node of the stack sets and every attribute a read returns has its row (so create,
update, diff, drift, the export and the "unchecked" accounting all know it)."""

from __future__ import annotations

from typing import Any

import pytest

from deployer.graph import build_graph
from deployer.resource import DETAILS, Resource, driver_for, registered_resources

# Attributes every resource has that no table describes: the id, the tags (declared through
# the driver's `tagging`), and provider 6's resource-level `region` (the workspace's).
ENGINE_ATTRIBUTES = frozenset({"id", "tags", "tags_all", "region"})


def rows_of(driver: Resource) -> frozenset[str]:
    assert driver.table is not None
    return frozenset(driver.table.rows) | ENGINE_ATTRIBUTES


def test_every_resource_driver_has_a_table() -> None:
    missing = sorted(t for t, d in registered_resources().items() if d.table is None)
    assert missing == []


def test_every_attribute_a_node_sets_has_a_row(spec: Any) -> None:
    problems = []
    for node in build_graph(spec).nodes():
        driver = driver_for(node)
        if isinstance(driver, Resource):
            extra = set(node.attributes) - rows_of(driver)
            problems += [f"{node.key}.{name}" for name in sorted(extra)]
    assert problems == []


@pytest.mark.slow
def test_every_attribute_a_read_returns_has_a_row(deployment: Any) -> None:
    """The whole stack applied in the emulator, then read back through every driver."""
    deployment.apply()
    problems = []
    for node in deployment.graph.nodes():
        driver = driver_for(node)
        if not isinstance(driver, Resource):
            continue
        live = deployment.read(node.key)
        assert live is not None, node.key
        # What a read keeps to describe its items (`DETAILS`) is not an attribute.
        extra = set(live) - rows_of(driver) - {DETAILS}
        problems += [f"{node.key}.{name}" for name in sorted(extra)]
    assert problems == []
