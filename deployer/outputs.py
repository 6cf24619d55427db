"""Outputs: the values `deployer output` shows, resolved from each workspace's state."""

from __future__ import annotations

from typing import Any

from deployer.graph import Graph
from deployer.model import Ref, attribute_value, resolve
from deployer.state import State


def outputs_of(graph: Graph, states: dict[str, State]) -> dict[str, dict[str, Any]]:
    """Each applied workspace's outputs, resolved from its state."""
    result: dict[str, dict[str, Any]] = {}
    for output in graph.outputs:
        state = states[output.workspace]

        def lookup(ref: Ref, ws: str = output.workspace) -> Any:
            target_ws = ref.workspace or ws
            entry = states[target_ws].get(ref.address) or {}
            values = {**(entry.get("applied") or {}), **(entry.get("attributes") or {})}
            return attribute_value(values, ref.attribute)

        if not state.addresses():
            continue
        result.setdefault(output.workspace, {})[output.name] = resolve(output.value, lookup)
    return result
