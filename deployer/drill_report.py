"""The record of a failover or failback: its steps with their times and API calls, the checks
it made, the recovery time (RTO) and the data it could lose (RPO), as JSON, markdown and a
timeline picture, so that a weekly drill leaves evidence that can be compared week to week."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any, TextIO

from deployer.aws import CallCounter, is_read_operation
from deployer.backends import atomic_write

FORMAT_VERSION = 1


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds")


@dataclass
class Step:
    name: str
    description: str
    started: float
    ended: float = 0.0
    reads: int = 0
    writes: int = 0
    by_operation: dict[str, int] = field(default_factory=dict)
    outcome: str = "ok"  # ok, skipped (already done), failed
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "started_at": _iso(self.started),
            "ended_at": _iso(self.ended),
            "seconds": round(self.ended - self.started, 3),
            "api_calls": {
                "read": self.reads,
                "write": self.writes,
                "by_operation": dict(sorted(self.by_operation.items())),
            },
            "outcome": self.outcome,
            "detail": self.detail,
        }


@dataclass
class Check:
    name: str
    ok: bool
    detail: str


@dataclass
class DrillReport:
    """Filled in as the command runs; `steps` and `checks` in the order they happened."""

    kind: str  # failover or failback
    drill: bool
    source: str  # the workspace the writer leaves
    target: str  # the workspace the writer moves to
    regions: dict[str, str]
    started: float = field(default_factory=time.time)
    ended: float = 0.0
    steps: list[Step] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    rto_seconds: float | None = None
    rds_replica_lag_seconds: float | None = None
    dynamodb_replication_lag_seconds: float | None = None
    result: str = "running"
    # Set when this run resumed one that stopped (its start, from the journal in state).
    resumed_from: str | None = None
    # Preconditions that failed and `failover --force` went past.
    overridden: list[str] = field(default_factory=list)

    @contextmanager
    def step(
        self, name: str, description: str, counter: CallCounter, out: TextIO
    ) -> Iterator[Step]:
        """Time a step and count its API calls; a failure marks it failed and propagates."""
        before = dict(counter.calls)
        step = Step(name, description, time.time())
        self.steps.append(step)
        print(f"==> {description}", file=out, flush=True)
        try:
            yield step
        except BaseException:
            step.outcome = "failed"
            raise
        finally:
            step.ended = time.time()
            calls = {op: n - before.get(op, 0) for op, n in counter.calls.items()}
            step.by_operation = {op: n for op, n in calls.items() if n}
            step.reads = sum(
                n for op, n in step.by_operation.items() if is_read_operation(op.split(":")[1])
            )
            step.writes = sum(step.by_operation.values()) - step.reads
            if step.outcome != "failed":
                suffix = f": {step.detail}" if step.detail else ""
                print(
                    f"    {step.outcome} in {step.ended - step.started:.1f}s "
                    f"({step.reads} read, {step.writes} write calls){suffix}",
                    file=out,
                    flush=True,
                )

    def check(self, name: str, ok: bool, detail: str) -> Check:
        found = Check(name, ok, detail)
        self.checks.append(found)
        return found

    def to_json(self) -> dict[str, Any]:
        return {
            "format_version": FORMAT_VERSION,
            "kind": self.kind,
            "drill": self.drill,
            "from": {"workspace": self.source, "region": self.regions[self.source]},
            "to": {"workspace": self.target, "region": self.regions[self.target]},
            "started_at": _iso(self.started),
            "ended_at": _iso(self.ended or time.time()),
            "result": self.result,
            "resumed_from": self.resumed_from,
            "rto_seconds": self.rto_seconds,
            "rpo": {
                "rds_replica_lag_seconds": self.rds_replica_lag_seconds,
                "dynamodb_replication_lag_seconds": self.dynamodb_replication_lag_seconds,
            },
            "overridden_preconditions": self.overridden,
            "checks": [asdict(c) for c in self.checks],
            "steps": [s.to_json() for s in self.steps],
        }

    def write(self, path: Path) -> list[Path]:
        """FILE (JSON), FILE's .md and .svg beside it; each written atomically."""
        doc = self.to_json()
        written = [
            (path, json.dumps(doc, indent=2) + "\n"),
            (path.with_suffix(".md"), render_markdown(doc)),
            (path.with_suffix(".svg"), render_timeline(doc)),
        ]
        for target, text in written:
            target.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(target, text.encode(), keep_backup=False)
        return [target for target, _ in written]


def _figure(value: float | None, unit: str = "s") -> str:
    return "not measured" if value is None else f"{value:.3f} {unit}"


def render_markdown(doc: dict[str, Any]) -> str:
    rpo = doc["rpo"]
    lines = [
        f"# {'Drill: ' if doc['drill'] else ''}{doc['kind']} from {doc['from']['workspace']} "
        f"({doc['from']['region']}) to {doc['to']['workspace']} ({doc['to']['region']})",
        "",
        f"Started {doc['started_at']}, ended {doc['ended_at']}: **{doc['result']}**."
        + (f" Resumed a run begun at {doc['resumed_from']}." if doc.get("resumed_from") else ""),
        "",
        "| Figure | Value |",
        "|---|---|",
        f"| RTO (start to the API name answering from {doc['to']['region']} with /health 200) "
        f"| {_figure(doc['rto_seconds'])} |",
        f"| RPO: RDS replica lag at promotion | {_figure(rpo['rds_replica_lag_seconds'])} |",
        "| RPO: DynamoDB replication lag (marker written in one region, read in the other) "
        f"| {_figure(rpo['dynamodb_replication_lag_seconds'])} |",
        "",
        "## Steps",
        "",
        "| Step | Start | Seconds | API calls (read/write) | Outcome |",
        "|---|---|---|---|---|",
    ]
    for step in doc["steps"]:
        calls = step["api_calls"]
        detail = f" ({step['detail']})" if step["detail"] else ""
        lines.append(
            f"| {step['description']} | {step['started_at']} | {step['seconds']:.3f} "
            f"| {calls['read']}/{calls['write']} | {step['outcome']}{detail} |"
        )
    lines += ["", "## Checks", "", "| Check | Result | Detail |", "|---|---|---|"]
    for check in doc["checks"]:
        result = "ok" if check["ok"] else "FAILED"
        lines.append(f"| {check['name']} | {result} | {check['detail']} |")
    return "\n".join(lines) + "\n"


def render_timeline(doc: dict[str, Any]) -> str:
    """One bar per step on a common time axis, as the apply timeline draws resources."""
    steps = doc["steps"]
    start = datetime.fromisoformat(doc["started_at"]).timestamp()
    end = max(
        [datetime.fromisoformat(doc["ended_at"]).timestamp()]
        + [datetime.fromisoformat(s["ended_at"]).timestamp() for s in steps]
    )
    span = max(end - start, 1e-3)
    label_w, bar_w, row_h = 330, 560, 22
    height = 40 + row_h * len(steps) + 30
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{label_w + bar_w + 90}" '
        f'height="{height}" font-family="sans-serif" font-size="12">',
        f'<text x="8" y="20" font-weight="bold">{escape(doc["kind"])} '
        f"{escape(doc['from']['region'])} to {escape(doc['to']['region'])}: "
        f"{span:.2f} s, RTO {_figure(doc['rto_seconds'])}</text>",
    ]
    colours = {"ok": "#4c78a8", "skipped": "#bab0ac", "failed": "#e45756"}
    for i, step in enumerate(steps):
        y = 34 + i * row_h
        s0 = datetime.fromisoformat(step["started_at"]).timestamp() - start
        x = label_w + bar_w * s0 / span
        w = max(bar_w * step["seconds"] / span, 1.0)
        parts.append(f'<text x="8" y="{y + 14}">{escape(step["description"][:48])}</text>')
        parts.append(
            f'<rect x="{x:.1f}" y="{y + 3}" width="{w:.1f}" height="{row_h - 6}" '
            f'fill="{colours.get(step["outcome"], "#4c78a8")}"/>'
        )
        parts.append(f'<text x="{x + w + 4:.1f}" y="{y + 14}">{step["seconds"]:.2f} s</text>')
    if doc["rto_seconds"] is not None:
        x = label_w + bar_w * min(doc["rto_seconds"] / span, 1.0)
        parts.append(
            f'<line x1="{x:.1f}" y1="28" x2="{x:.1f}" y2="{height - 20}" stroke="#e45756" '
            'stroke-dasharray="4 3"/>'
        )
        parts.append(f'<text x="{x + 3:.1f}" y="{height - 6}" fill="#e45756">RTO</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
