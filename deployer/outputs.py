"""Outputs: the values `deployer output` shows, resolved from each workspace's state."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from deployer.graph import Graph
from deployer.model import Ref, attribute_value, resolve
from deployer.state import State


def recorded_value(states: dict[str, State], ref: Ref, workspace: str) -> Any:
    """What state records for a reference made from `workspace` (None when it records none)."""
    entry = states[ref.workspace or workspace].get(ref.address) or {}
    values = {**(entry.get("applied") or {}), **(entry.get("attributes") or {})}
    return attribute_value(values, ref.attribute)


def outputs_of(graph: Graph, states: dict[str, State]) -> dict[str, dict[str, Any]]:
    """Each applied workspace's outputs, resolved from its state."""
    result: dict[str, dict[str, Any]] = {}
    for output in graph.outputs:
        state = states[output.workspace]

        def lookup(ref: Ref, ws: str = output.workspace) -> Any:
            return recorded_value(states, ref, ws)

        if not state.addresses():
            continue
        result.setdefault(output.workspace, {})[output.name] = resolve(output.value, lookup)
    return result


def render_outputs(
    values: dict[str, dict[str, Any]], workspaces: list[str], region: Callable[[str], str]
) -> str:
    """`name = value` per workspace, as `terraform output` prints them."""
    lines: list[str] = []
    for ws in workspaces:
        if ws not in values:
            continue
        lines.append(f"# {ws} ({region(ws)})")
        for name, value in sorted(values[ws].items()):
            shown = json.dumps(value) if not isinstance(value, str) else f'"{value}"'
            lines.append(f"{name} = {shown}")
        lines.append("")
    return "\n".join(lines) + "\n"
