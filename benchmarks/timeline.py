"""A Gantt chart of an apply as a hand-written SVG: one bar per resource, coloured by service."""

from __future__ import annotations

import math
from html import escape
from pathlib import Path

PALETTE = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
    "#7f7f7f", "#bcbd22", "#17becf", "#393b79", "#637939", "#8c6d31", "#843c39",
    "#7b4173", "#3182bd",
]  # fmt: skip


def service_of(tf_type: str) -> str:
    parts = tf_type.split("_")
    if parts[0] != "aws":
        return parts[0]
    if parts[1] in ("api", "vpc", "db", "cloudwatch", "s3", "iam", "route53", "lambda"):
        return {"api": "apigateway", "db": "rds", "vpc": "ec2"}.get(parts[1], parts[1])
    if parts[1] == "caller":
        return "sts"
    if parts[1] in ("subnet", "route", "internet", "nat", "eip", "security", "flow"):
        return "ec2"
    return parts[1]


def write_svg(
    path: Path,
    timeline: dict[str, tuple[float, float, float]],
    critical: set[str],
    types: dict[str, str],
    *,
    title: str,
) -> None:
    """`timeline`: key → (start, exists, ready) in model seconds."""
    rows = sorted(timeline, key=lambda k: (timeline[k][0], timeline[k][2], k))
    services = sorted({service_of(types[k]) for k in rows})
    colour = {s: PALETTE[i % len(PALETTE)] for i, s in enumerate(services)}
    end = max(t[2] for t in timeline.values()) or 1.0
    label_w, chart_w, row_h, top = 420, 1100, 13, 70
    legend_h = 30 + 18 * math.ceil(len(services) / 6)
    height = top + row_h * len(rows) + 40 + legend_h
    width = label_w + chart_w + 30
    px = chart_w / end

    def x(t: float) -> float:
        return label_w + t * px

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="Helvetica, Arial, sans-serif">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="10" y="24" font-size="16" font-weight="bold">{escape(title)}</text>',
        '<text x="10" y="44" font-size="12" fill="#444">solid: start → exists (API calls); '
        "light: exists → ready (provisioning); red outline and label: critical path of the "
        "model</text>",
    ]
    # Axis: a tick every `step` seconds, chosen for ~12 ticks.
    step = next(s for s in (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900) if end / s <= 14)
    axis_y = top + row_h * len(rows) + 6
    t = 0.0
    while t <= end + 1e-9:
        xx = x(t)
        out.append(
            f'<line x1="{xx:.1f}" y1="{top - 6}" x2="{xx:.1f}" y2="{axis_y}" '
            'stroke="#ddd" stroke-width="1"/>'
        )
        lab = f"{t:.0f} s" if t < 120 else f"{t / 60:.0f} min"
        out.append(
            f'<text x="{xx:.1f}" y="{axis_y + 16}" font-size="11" text-anchor="middle">{lab}</text>'
        )
        t += step
    out.append(
        f'<text x="{label_w + chart_w / 2}" y="{axis_y + 32}" font-size="12" '
        'text-anchor="middle">model seconds since the apply started</text>'
    )
    for i, key in enumerate(rows):
        start, exists, ready = timeline[key]
        y = top + i * row_h
        c = colour[service_of(types[key])]
        on_path = key in critical
        workspace, address = key.split(":", 1)
        label = f"{'P' if workspace == 'primary' else 'S'}  {address}"
        weight = ' font-weight="bold" fill="#c00"' if on_path else ' fill="#222"'
        out.append(
            f'<text x="{label_w - 6}" y="{y + row_h - 3}" font-size="10" '
            f'text-anchor="end"{weight}>{escape(label)}</text>'
        )
        if i % 2:
            out.append(
                f'<rect x="{label_w}" y="{y}" width="{chart_w}" height="{row_h}" '
                'fill="#f6f6f6" opacity="0.6"/>'
            )
        solid = max(x(exists) - x(start), 1.5)
        out.append(
            f'<rect x="{x(start):.1f}" y="{y + 2}" width="{solid:.1f}" height="{row_h - 4}" '
            f'fill="{c}"><title>{escape(key)}: start {start:.1f} s, exists {exists:.1f} s, '
            f"ready {ready:.1f} s</title></rect>"
        )
        if ready - exists > 0:
            out.append(
                f'<rect x="{x(exists):.1f}" y="{y + 2}" width="{x(ready) - x(exists):.1f}" '
                f'height="{row_h - 4}" fill="{c}" opacity="0.35"/>'
            )
        if on_path:
            out.append(
                f'<rect x="{x(start) - 1:.1f}" y="{y + 1}" '
                f'width="{max(x(ready) - x(start), 1.5) + 2:.1f}" height="{row_h - 2}" '
                'fill="none" stroke="#d00" stroke-width="1.6"/>'
            )
    ly = axis_y + 52
    out.append(f'<text x="10" y="{ly}" font-size="12" font-weight="bold">Services</text>')
    for i, s in enumerate(services):
        lx = 90 + (i % 6) * 170
        yy = ly - 10 + (i // 6) * 18
        out.append(f'<rect x="{lx}" y="{yy}" width="14" height="10" fill="{colour[s]}"/>')
        out.append(f'<text x="{lx + 20}" y="{yy + 9}" font-size="11">{escape(s)}</text>')
    out.append("</svg>")
    Path(path).write_text("\n".join(out) + "\n")
