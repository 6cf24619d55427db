"""The resource graph as Graphviz dot or Mermaid text (`deployer graph`): solid edges need the
dependency ready, dotted ones only its id."""

from __future__ import annotations

from deployer.graph import Graph


def render_dot(graph: Graph) -> str:
    lines = ["digraph deployer {", "  rankdir=LR;", '  node [shape=box, fontname="Helvetica"];']
    for node in graph.nodes():
        shape = ", style=dashed" if node.data else ""
        lines.append(f'  "{node.key}" [label="{node.address}\\n({node.workspace})"{shape}];')
    for dep, dependent in sorted(graph.dag.edges):
        style = "" if graph.dag.edges[dep, dependent]["ready"] else " [style=dotted]"
        lines.append(f'  "{dep}" -> "{dependent}"{style};')
    lines.append("}")
    return "\n".join(lines)


def render_mermaid(graph: Graph) -> str:
    ids = {node.key: f"n{i}" for i, node in enumerate(graph.nodes())}
    lines = ["flowchart LR"]
    for node in graph.nodes():
        lines.append(f'  {ids[node.key]}["{node.address} ({node.workspace})"]')
    for dep, dependent in sorted(graph.dag.edges):
        arrow = "-->" if graph.dag.edges[dep, dependent]["ready"] else "-.->"
        lines.append(f"  {ids[dep]} {arrow} {ids[dependent]}")
    return "\n".join(lines)
