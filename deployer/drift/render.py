"""The drift report for people (a table, with ANSI colour on a terminal; markdown for a pull
request or an audit ticket) and for programs (JSON, format version 2, docs/drift.md).

Every finding shows its severity and what it is in words (`describe`, `severity`)."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from deployer.drift.report import (
    DRIFTED,
    FORMAT_VERSION,
    IN_SYNC,
    MISSING,
    PENDING,
    UNCHECKED,
    AttributeChange,
    DriftReport,
)
from deployer.drift.severity import SEVERITIES
from deployer.model import UNKNOWN

_RED, _YELLOW, _MAGENTA, _CYAN, _GREEN = "\033[31m", "\033[33m", "\033[35m", "\033[36m", "\033[32m"
_BOLD, _DIM, _RESET = "\033[1m", "\033[2m", "\033[0m"

# Sections of the table, in order: (key, title, colour).
SECTIONS: tuple[tuple[str, str, str], ...] = (
    (DRIFTED, "Drifted: changed outside the deployer", _RED),
    (MISSING, "Missing: deleted outside the deployer", _RED),
    ("unmanaged", "Unmanaged: in the environment but in no state", _YELLOW),
    ("parity", "Region parity breaks: secondary differs from primary", _MAGENTA),
    (PENDING, "Pending: the spec changed (a plan, not drift)", _CYAN),
    (UNCHECKED, "Unchecked: nothing compares these", _DIM),
    (IN_SYNC, "In sync", _GREEN),
)


def _value_text(value: Any, limit: int = 100) -> str:
    if value is UNKNOWN:
        return "(known after apply)"
    text = json.dumps(_json_value(value), sort_keys=True, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _json_value(value: Any) -> Any:
    if value is UNKNOWN:
        return {"unknown": True}
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def summary(report: DriftReport) -> dict[str, int]:
    """Counts: resources by status, findings, and unchecked attributes and resources."""
    counts = report.counts()
    return {
        "resources": len(report.resources),
        **counts,
        "unmanaged": len(report.unmanaged),
        "parity_breaks": len(report.parity),
        "unchecked_attributes": report.unchecked_count,
        "unchecked_resources": sum(1 for r in report.resources if r.unchecked),
        # Findings (drifted attributes, missing and unmanaged resources, parity breaks) by
        # severity.
        **{level: 0 for level in SEVERITIES},
        **Counter(report.severities()),
    }


def _summary_line(report: DriftReport) -> str:
    s = summary(report)
    verdict = "Drift detected" if report.has_drift else "No drift"
    return (
        f"{verdict} in {', '.join(report.workspaces)}: {s[DRIFTED]} drifted, {s[MISSING]} "
        f"missing, {s['unmanaged']} unmanaged, {s['parity_breaks']} parity breaks; "
        f"{s[PENDING]} pending, {s[IN_SYNC]} in sync, {s['unchecked_attributes']} attributes "
        f"unchecked. Findings by severity: "
        + ", ".join(f"{s[level]} {level}" for level in SEVERITIES)
        + f". {report.api_calls} read API calls."
    )


def _change_lines(changes: list[AttributeChange], pending: bool = False) -> list[str]:
    if pending:
        return [
            f"      ~ {c.name}: {_value_text(c.actual)} -> {_value_text(c.expected)}"
            for c in changes
        ]
    lines: list[str] = []
    for c in changes:
        lines.append(
            f"      ~ {c.name}: expected {_value_text(c.expected)}, actual {_value_text(c.actual)}"
        )
        lines.append(f"        [{c.severity or '-'}] {c.description}")
    return lines


def render_table(report: DriftReport, colour: bool) -> str:
    """A report for people: one section per status or finding, ANSI colour when `colour`."""

    def paint(code: str, text: str) -> str:
        return f"{code}{text}{_RESET}" if colour else text

    sections: dict[str, list[str]] = {key: [] for key, _, _ in SECTIONS}
    counts: dict[str, int] = {key: 0 for key, _, _ in SECTIONS}
    for r in report.resources:
        if r.status == IN_SYNC:
            counts[IN_SYNC] += 1
            continue
        counts[r.status] += 1
        where = f"  {r.workspace:<9} {r.address}"
        if r.status in (DRIFTED, MISSING):
            sections[r.status].append(f"{where}  (id {r.id}) [{r.severity}]")
            sections[r.status] += _change_lines(r.changes)
        elif r.status == PENDING:
            sections[PENDING].append(f"{where}  ({r.reason})")
            sections[PENDING] += _change_lines(r.planned, pending=True)
        else:
            sections[UNCHECKED].append(f"{where}  ({r.reason})")
    unchecked = [r for r in report.resources if r.unchecked and r.status != UNCHECKED]
    for r in unchecked:
        sections[UNCHECKED].append(f"  {r.workspace:<9} {r.address}: {', '.join(r.unchecked)}")
    counts[UNCHECKED] += sum(len(r.unchecked) for r in unchecked)
    width = max((len(u.kind) for u in report.unmanaged), default=0)
    for u in report.unmanaged:
        sections["unmanaged"].append(
            f"  {u.workspace:<9} {u.region:<14} {u.kind:<{width}}  {u.id} [{u.severity}]"
        )
        sections["unmanaged"].append(f"      {u.description or u.reason}")
        if u.description:
            sections["unmanaged"].append(f"      {u.reason}")
    counts["unmanaged"] = len(report.unmanaged)
    for p in report.parity:
        sections["parity"].append(f"  {p.address}  {p.attribute} [{p.severity}]")
        sections["parity"].append(
            f"      primary {_value_text(p.primary)}, secondary {_value_text(p.secondary)}"
        )
        if p.description:
            sections["parity"].append(f"      {p.description}")
    counts["parity"] = len(report.parity)
    with_unchecked = sum(1 for r in report.resources if r.status == IN_SYNC and r.unchecked)
    if with_unchecked:
        sections[IN_SYNC].append(
            f"  ({with_unchecked} of them with unchecked attributes, listed above)"
        )

    lines: list[str] = []
    for key, title, code in SECTIONS:
        if not counts[key] and key != IN_SYNC:
            continue
        lines.append(paint(code + _BOLD if colour else "", f"{title} ({counts[key]})"))
        lines += sections[key]
        lines.append("")
    lines.append(paint(_RED if report.has_drift else _GREEN, _summary_line(report)))
    return "\n".join(lines)


def _change_json(change: AttributeChange) -> dict[str, Any]:
    return {
        "name": change.name,
        "expected": _json_value(change.expected),
        "actual": _json_value(change.actual),
        "description": change.description,
        "severity": change.severity or None,
    }


def report_to_json(report: DriftReport) -> dict[str, Any]:
    """The report as the document described in docs/drift.md (format version 2)."""
    return {
        "format_version": FORMAT_VERSION,
        "workspaces": list(report.workspaces),
        "has_drift": report.has_drift,
        "summary": summary(report),
        "api_calls": report.api_calls,
        "api_calls_by_operation": dict(report.calls),
        "resources": [
            {
                "workspace": r.workspace,
                "address": r.address,
                "type": r.type,
                "id": r.id,
                "status": r.status,
                "severity": r.severity,
                "reason": r.reason or None,
                "changes": [_change_json(c) for c in r.changes],
                "planned": [_change_json(c) for c in r.planned],
                "unchecked": list(r.unchecked),
            }
            for r in report.resources
        ],
        "unmanaged": [
            {
                "workspace": u.workspace,
                "region": u.region,
                "kind": u.kind,
                "id": u.id,
                "reason": u.reason,
                "details": dict(u.details),
                "description": u.description,
                "severity": u.severity,
            }
            for u in report.unmanaged
        ],
        "parity": [
            {
                "address": p.address,
                "attribute": p.attribute,
                "primary": _json_value(p.primary),
                "secondary": _json_value(p.secondary),
                "description": p.description,
                "severity": p.severity,
            }
            for p in report.parity
        ],
    }


def render_json(report: DriftReport) -> str:
    """The JSON document, keys sorted, so that two reports diff line by line."""
    return json.dumps(report_to_json(report), indent=2, sort_keys=True)


def _md(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _md_value(value: Any) -> str:
    return f"`{_md(_value_text(value, 80))}`"


def render_markdown(report: DriftReport) -> str:
    """A report for a pull request or an audit ticket: a summary table, then one table per
    kind of finding."""
    s = summary(report)
    verdict = "Drift detected" if report.has_drift else "No drift"
    lines = [
        "## Drift report",
        "",
        f"**{verdict}** in {', '.join(f'`{w}`' for w in report.workspaces)} "
        f"({report.api_calls} read API calls, no write).",
        "",
        "| Finding | Count |",
        "| --- | ---: |",
    ]
    for key, label in (
        (DRIFTED, "Drifted"),
        (MISSING, "Missing"),
        ("unmanaged", "Unmanaged"),
        ("parity_breaks", "Parity breaks"),
        (PENDING, "Pending (not drift)"),
        (UNCHECKED, "Unreadable resources"),
        ("unchecked_attributes", "Unchecked attributes"),
        (IN_SYNC, "In sync"),
        *((level, f"Findings of severity {level}") for level in SEVERITIES),
    ):
        lines.append(f"| {label} | {s[key]} |")
    drifted = [r for r in report.resources if r.status in (DRIFTED, MISSING)]
    if drifted:
        lines += [
            "",
            "### Drifted and missing resources",
            "",
            "| Workspace | Address | Status | Attribute | Expected | Actual | Severity "
            "| Description |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        for r in drifted:
            if not r.changes:
                lines.append(
                    f"| {r.workspace} | `{_md(r.address)}` | {r.status} | | | | {r.severity} "
                    f"| {_md(r.reason)} |"
                )
            for c in r.changes:
                lines.append(
                    f"| {r.workspace} | `{_md(r.address)}` | {r.status} | `{_md(c.name)}` | "
                    f"{_md_value(c.expected)} | {_md_value(c.actual)} | {c.severity} | "
                    f"{_md(c.description)} |"
                )
    if report.unmanaged:
        lines += [
            "",
            "### Unmanaged resources",
            "",
            "| Workspace | Region | Kind | Id | Reason | Severity | Description |",
            "| --- | --- | --- | --- | --- | --- | --- |",
        ]
        for u in report.unmanaged:
            lines.append(
                f"| {u.workspace} | {u.region} | `{_md(u.kind)}` | `{_md(u.id)}` | "
                f"{_md(u.reason)} | {u.severity} | {_md(u.description)} |"
            )
    if report.parity:
        lines += [
            "",
            "### Region parity breaks",
            "",
            "| Address | Attribute | Primary | Secondary | Severity | Description |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for p in report.parity:
            lines.append(
                f"| `{_md(p.address)}` | `{_md(p.attribute)}` | {_md_value(p.primary)} | "
                f"{_md_value(p.secondary)} | {p.severity} | {_md(p.description)} |"
            )
    pending = report.with_status(PENDING)
    if pending:
        lines += [
            "",
            "### Pending changes (the spec changed; not drift)",
            "",
            "| Workspace | Address | Reason | Attributes |",
            "| --- | --- | --- | --- |",
        ]
        for r in pending:
            names = ", ".join(f"`{_md(c.name)}`" for c in r.planned)
            lines.append(f"| {r.workspace} | `{_md(r.address)}` | {_md(r.reason)} | {names} |")
    unchecked = [r for r in report.resources if r.unchecked]
    if unchecked:
        lines += [
            "",
            "### Unchecked attributes (nothing compares them)",
            "",
            "| Workspace | Address | Attributes |",
            "| --- | --- | --- |",
        ]
        for r in unchecked:
            names = ", ".join(f"`{_md(n)}`" for n in r.unchecked)
            lines.append(f"| {r.workspace} | `{_md(r.address)}` | {names} |")
    lines.append("")
    return "\n".join(lines)
