"""The `failover` and `failback` command lines (deployer/failover.py does the work)."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from deployer.aws import Clients, DeployerError
from deployer.drill_report import DrillReport
from deployer.failover import Failover, run_failback, run_failover
from deployer.model import WORKSPACES
from deployer.state import State


def register(sub: Any, handler: Callable[[argparse.Namespace], int]) -> None:
    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--auto-approve", action="store_true", help="do not ask for confirmation")
        p.add_argument(
            "--plan", action="store_true", help="print what it would do, and change nothing"
        )
        p.add_argument(
            "--report",
            type=Path,
            metavar="FILE",
            help="write the drill report as JSON to FILE (markdown and a timeline .svg beside)",
        )
        p.set_defaults(handler=handler)

    p = sub.add_parser(
        "failover", help="move the writer to the other region (promote the read replica)"
    )
    p.add_argument(
        "--to",
        choices=WORKSPACES,
        required=True,
        help="secondary: fail over; primary: the same as `deployer failback`",
    )
    p.add_argument(
        "--drill",
        action="store_true",
        help="rehearsal: fail the primary's health check on purpose, restore it at the end",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="the primary region is lost: proceed although preconditions fail (not with --drill)",
    )
    common(p)
    p = sub.add_parser("failback", help="rebuild the primary as a replica and swap back")
    p.set_defaults(to="primary", drill=False, force=False)
    common(p)


def run(
    args: argparse.Namespace,
    spec_path: Path,
    states: dict[str, State],
    clients: Clients,
    confirm: Callable[[str], bool],
) -> int:
    """Run with both workspaces' locks held by the caller; exit 0 when the roles moved and
    every check passed, 1 otherwise (the report says which)."""
    if args.force and args.drill:
        raise DeployerError("--force with --drill: a drill never overrides a failed precondition")
    failing_back = args.to == "primary"
    out = sys.stdout
    run_ = Failover(
        spec_path,
        states,
        clients,
        out,
        confirm,
        drill=args.drill,
        auto_approve=args.auto_approve,
        force=args.force,
    )
    source, target = ("secondary", "primary") if failing_back else ("primary", "secondary")
    report = DrillReport(
        "failback" if failing_back else "failover",
        args.drill,
        source,
        target,
        {ws: run_.spec.region(ws) for ws in WORKSPACES},
    )
    run_.report = report
    try:
        if not (run_failback if failing_back else run_failover)(run_, args.plan):
            report.result = "nothing to do"
            return 0
    except BaseException:
        if report.result == "running":
            report.result = "failed"
        raise
    finally:
        if args.report and not args.plan:
            report.ended = report.ended or time.time()
            written = report.write(args.report)
            print(f"Report: {', '.join(str(p) for p in written)}", file=out)
    if args.plan:
        return 0
    print(
        f"\n{report.kind.capitalize()} {'complete' if report.result == 'ok' else report.result}:"
        f" the writer is now {target} ({report.regions[target]}). RTO "
        f"{_seconds(report.rto_seconds)}; RPO: replica lag "
        f"{_seconds(report.rds_replica_lag_seconds)}, DynamoDB replication "
        f"{_seconds(report.dynamodb_replication_lag_seconds)}.",
        file=out,
    )
    if report.result != "ok":
        raise DeployerError(
            "checks failed: "
            + "; ".join(f"{c.name}: {c.detail}" for c in report.checks if not c.ok)
        )
    return 0


def _seconds(value: float | None) -> str:
    return "not measured" if value is None else f"{value:.2f} s"
