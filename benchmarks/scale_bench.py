"""How graph building, planning and scheduling grow with the size of the environment.

    python benchmarks/scale_bench.py [--tenants 10,100,1000] [--no-schedule]

A blueprint registered only here adds N tenants per region (workspace) to the repo's spec: each a
DynamoDB table, a CloudWatch log group (the queue-like resource) and two alarms on the table,
wired to the workspace's alarm topic. For each N it measures, against empty state:

- graph building (`build_graph`: blueprints, identity tags, edges, cycle check),
- planning (`plan_changes`: against empty state no resource is read; the spec's few data
  sources are read from an in-process moto, a constant number of calls, printed),
- the executor's scheduling alone (`Scheduler.run` with work that makes no AWS call), so
  that engine overhead shows without AWS latency,
- peak memory of building + planning (tracemalloc).
"""

from __future__ import annotations

import argparse
import gc
import itertools
import os
import sys
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

TENANTS = {"n": 0}


def tenant_nodes(spec: Any, workspace: str) -> Iterator[Any]:
    from deployer.model import Node, Ref

    suffix = spec.environment_suffix
    for i in range(TENANTS["n"]):
        table = f"tenant_{i:05d}"
        yield Node(
            "aws_dynamodb_table",
            table,
            workspace,
            {
                "name": f"tenant-{i:05d}-{workspace}-{suffix}",
                "billing_mode": "PAY_PER_REQUEST",
                "hash_key": "pk",
                "attribute": [{"name": "pk", "type": "S"}],
            },
        )
        yield Node(
            "aws_cloudwatch_log_group",
            f"tenant_{i:05d}_queue",
            workspace,
            {"name": f"/tenants/{i:05d}/{workspace}-{suffix}", "retention_in_days": 30},
        )
        for metric in ("ReadThrottleEvents", "WriteThrottleEvents"):
            yield Node(
                "aws_cloudwatch_metric_alarm",
                f"tenant_{i:05d}_{metric.lower()}",
                workspace,
                {
                    "alarm_name": f"tenant-{i:05d}-{metric}-{workspace}-{suffix}",
                    "namespace": "AWS/DynamoDB",
                    "metric_name": metric,
                    "statistic": "Sum",
                    "period": 60,
                    "evaluation_periods": 1,
                    "threshold": 1,
                    "comparison_operator": "GreaterThanOrEqualToThreshold",
                    "dimensions": {"TableName": Ref(f"aws_dynamodb_table.{table}", "name")},
                    "alarm_actions": [Ref("aws_sns_topic.alarms", "arn")],
                },
            )


def measure(n: int, spec: Any, clients: Any, schedule: bool) -> dict[str, float]:
    from deployer.executor import ApplyResult, Scheduler
    from deployer.graph import build_graph
    from deployer.model import WORKSPACES
    from deployer.planner import plan_changes
    from deployer.state import State

    TENANTS["n"] = n
    gc.collect()
    tracemalloc.start()
    t0 = time.perf_counter()
    graph = build_graph(spec)
    t1 = time.perf_counter()
    states = {ws: State.load(Path(f"/nonexistent-scale-bench/{n}"), ws) for ws in WORKSPACES}
    before = sum(clients.counter.calls.values())
    plan = plan_changes(graph, states, clients, workspaces=list(WORKSPACES))
    t2 = time.perf_counter()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    calls = sum(clients.counter.calls.values()) - before
    out = {
        "nodes": len(graph.dag),
        "edges": graph.dag.number_of_edges(),
        "build": t1 - t0,
        "plan": t2 - t1,
        "changes": len(plan.actionable()),
        "calls": calls,
        "peak_mb": peak / 2**20,
    }
    if schedule:
        keys = sorted(graph.dag.nodes)
        deps = {k: graph.dependencies(k) for k in keys}
        result = ApplyResult()
        t3 = time.perf_counter()
        Scheduler(10).run(keys, deps, lambda key: None, result)
        out["schedule"] = time.perf_counter() - t3
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tenants", default="10,100,1000")
    parser.add_argument("--no-schedule", action="store_true")
    args = parser.parse_args(argv)
    sizes = [int(x) for x in args.tenants.split(",")]

    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        os.environ[name] = value
    os.environ.pop("AWS_ENDPOINT_URL", None)
    os.environ.pop("AWS_PROFILE", None)

    from moto import mock_aws

    from deployer.aws import Clients
    from deployer.resource import blueprint, blueprints
    from deployer.spec import load_spec

    blueprints()  # the real ones first
    blueprint(tenant_nodes)
    spec = load_spec(REPO / "spec.yaml")
    rows: dict[int, dict[str, float]] = {}
    with mock_aws():
        clients = Clients(rate_limits=None)
        measure(1, spec, clients, schedule=False)  # warm imports and moto backends
        for n in sizes:
            rows[n] = measure(n, spec, clients, schedule=not args.no_schedule)

    head = (
        f"{'tenants/region':>14} {'nodes':>6} {'edges':>6} {'build s':>8} {'plan s':>8} "
        f"{'sched s':>8} {'peak MiB':>9} {'AWS calls':>9}"
    )
    print(head)
    for n, r in rows.items():
        sched = f"{r['schedule']:8.3f}" if "schedule" in r else f"{'-':>8}"
        print(
            f"{n:>14} {r['nodes']:>6.0f} {r['edges']:>6.0f} {r['build']:8.3f} {r['plan']:8.3f} "
            f"{sched} {r['peak_mb']:9.1f} {r['calls']:>9.0f}"
        )
    ns = sorted(rows)
    for small, big in itertools.pairwise(ns):
        a, b = rows[small], rows[big]
        growth = (b["nodes"] + b["edges"]) / (a["nodes"] + a["edges"])
        print(f"\nN={big} vs N={small}: nodes+edges x{growth:.1f}")
        for what in ("build", "plan", "schedule"):
            if what in a and what in b:
                print(f"  {what:<9} x{b[what] / a[what]:.1f}")
        print(f"  peak mem  x{b['peak_mb'] / a['peak_mb']:.1f}")
        extra = (b["peak_mb"] - a["peak_mb"]) * 1024 / ((big - small) * 8)
        print(f"  memory per added node: {extra:.1f} KiB")
    if 100 in rows and 1000 in rows:
        ratio = rows[1000]["plan"] / rows[100]["plan"]
        verdict = "ok" if ratio <= 12 else "MISSED (target <= 12)"
        print(f"\nplan(1000)/plan(100) = {ratio:.1f}   {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
