"""The modelled recovery time of a region failover: the drill on the emulator, timed by the model.

Starts the local emulator, applies the environment, runs `deployer failover --to secondary
--drill` and `deployer failback` with `--report`, then prices each recorded step with the
latency model of `benchmarks/model.py` (its API calls, by operation) plus the waits AWS documents
for what the step waits on (below). Prints the emulator's measured figures and the modelled ones
from that one run:

    python benchmarks/failover_bench.py

The modelled RTO is the steps up to Route 53 answering from the secondary (the report's "dns"
step), as the drill measures it; the modelled total adds the promotion.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.model import call_latency  # noqa: E402
from deployer import sandbox  # noqa: E402
from deployer.spec import load_spec  # noqa: E402

# What each step waits for on AWS beyond its own calls (model seconds), with the source.
DOCUMENTED_WAITS: dict[str, tuple[str, Any]] = {
    # Route 53 Developer Guide, "Values that you specify when you create or update health
    # checks": unhealthy after `failure_threshold` consecutive failed checks, one every
    # `request_interval` seconds; then resolvers keep the old answer for the record's TTL (an
    # alias record to API Gateway: 60 s, Route 53 Developer Guide, "Choosing between alias and
    # non-alias records").
    "dns": (
        "health check interval x failure threshold + 60 s alias TTL",
        lambda spec: (
            spec.dns.health_check_interval_s * spec.dns.health_check_failure_threshold + 60
        ),
    ),
    # DynamoDB Developer Guide, "Global tables: how it works": "changes ... typically
    # propagated to all replica tables within one second".
    "rpo-tables": ("global table replication, typically within a second", lambda spec: 1.0),
    # RDS User Guide, "Promoting a read replica to be a standalone DB instance": the instance
    # reboots during promotion, "a few minutes"; then "Modifying a DB instance to be a Multi-AZ
    # deployment" adds a standby from a snapshot: modelled as the primary's Multi-AZ create
    # minus the instance (~10 min of the model's 12).
    "promote": ("promotion (~5 min) then Multi-AZ conversion (~10 min)", lambda spec: 15 * 60.0),
    # RDS User Guide, "Creating a DB snapshot": the first snapshot of an instance copies its
    # whole volume (50 GB here); commonly several minutes.
    "snapshot": ("first snapshot of the 50 GB instance", lambda spec: 5 * 60.0),
    # Failback: a new cross-region replica (the model's 20 min), its catch-up, then the same
    # promotion and Multi-AZ conversion, and the secondary's replica rebuilt (20 min) in parallel.
    "rebuild": ("cross-region read replica from the new writer", lambda spec: 20 * 60.0),
    "swap": ("promotion + Multi-AZ (15 min) beside the new replica (20 min)", lambda s: 20 * 60.0),
}


def cli(endpoint: str, state: Path, spec: Path, *args: str) -> str:
    env = {**os.environ, **sandbox.SANDBOX_CREDENTIALS, "DEPLOYER_WAIT_SCALE": "0.01"}
    command = [sys.executable, "-m", "deployer", "--spec", str(spec), "--state-dir", str(state)]
    done = subprocess.run(
        [*command, "--endpoint-url", endpoint, *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
    )
    if done.returncode != 0:
        raise SystemExit(f"deployer {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def modelled(report: dict[str, Any], spec: Any) -> list[tuple[str, float, float, str]]:
    """(step, measured s, modelled s, why) for each step of a report."""
    rows = []
    for step in report["steps"]:
        calls = step["api_calls"]["by_operation"]
        cost = sum(call_latency(*op.split(":", 1)) * n for op, n in calls.items())
        why, wait = DOCUMENTED_WAITS.get(step["name"], ("calls only", lambda s: 0.0))
        if report["kind"] == "failback" and step["name"] == "dns":
            # The primary's record never stopped being healthy: its answer needs no detection.
            why, wait = "calls only (the primary's record stayed healthy)", lambda s: 0.0
        rows.append((step["description"], step["seconds"], cost + wait(spec), why))
    return rows


def main() -> int:
    spec = load_spec(REPO / "spec.yaml")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        spec_path = work / "spec.yaml"
        shutil.copy(REPO / "spec.yaml", spec_path)
        info = sandbox.start(work / "sandbox")
        try:
            state = work / "state"
            cli(info.endpoint, state, spec_path, "apply", "--auto-approve")
            reports = {}
            for kind, args in (
                ("failover", ("failover", "--to", "secondary", "--drill")),
                ("failback", ("failback",)),
            ):
                path = work / f"{kind}.json"
                cli(info.endpoint, state, spec_path, *args, "--auto-approve", "--report", str(path))
                reports[kind] = json.loads(path.read_text())
        finally:
            sandbox.stop(work / "sandbox")
    for kind, report in reports.items():
        rows = modelled(report, spec)
        print(f"\n{kind} ({report['from']['region']} -> {report['to']['region']})")
        print(f"  {'step':<58} {'emulator':>9} {'modelled':>10}  basis")
        for description, measured, model, why in rows:
            print(f"  {description[:58]:<58} {measured:>8.2f}s {model:>9.1f}s  {why}")
        names = [s["name"] for s in report["steps"]]
        upto = names.index("dns") + 1 if "dns" in names else len(rows)
        rto = sum(r[2] for r in rows[:upto])
        total = sum(r[2] for r in rows)
        print(f"  emulator RTO {report['rto_seconds']:.2f} s; RPO {report['rpo']}")
        print(f"  modelled RTO {rto:.0f} s ({rto / 60:.1f} min); whole run {total / 60:.1f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main())
