"""Apply the full environment (both workspaces) to the local emulator through a latency model.

    python benchmarks/apply_bench.py [--scale 0.01] [--timeline out.svg] [--parallelism 10]

The real planner and executor run against moto's server (`deployer.sandbox`). A botocore
`before-send` hook sleeps each call's modelled latency (by operation kind) times `--scale`; the
registered drivers' `wait_ready` is wrapped so that an asynchronous resource (RDS, NAT gateway,
ACM validation, ...) becomes ready only its modelled provisioning delay (times `--scale`) after
its create returned. Every figure is printed in modelled seconds (real seconds / scale).

From the same model and the same graph it computes the critical-path lower bound, the serial
sum and a Terraform-like schedule (every edge waits for readiness, parallelism 10, a slot held
while waiting), then runs a no-op apply (plan + apply again) and counts its calls.
"""

from __future__ import annotations

import argparse
import heapq
import os
import platform
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.model import (  # noqa: E402
    call_latency,
    provisioning_delay,
)

# --------------------------------------------------------------------------------------------
# Instrumentation: which node (and which phase of it) each AWS call belongs to
# --------------------------------------------------------------------------------------------


@dataclass
class NodeCost:
    """Modelled seconds of API latency a node spent, by phase, and its provisioning delay."""

    work: float = 0.0  # in the apply worker: create/read/update (start → exists)
    at_create: float | None = None  # `work` when create returned (the delay starts there)
    poll: float = 0.0  # inside wait_ready
    refresh: float = 0.0  # the read after ready (refresh_after_ready)
    delay: float = 0.0  # modelled provisioning delay
    calls: Counter[str] = field(default_factory=Counter)

    def exists_cost(self) -> float:
        return self.work

    def ready_cost(self) -> float:
        created = self.at_create if self.at_create is not None else self.work
        return max(self.work + self.poll, created + self.delay) + self.refresh


class Instrument:
    """The latency hook and the driver wrappers, sharing a thread-local 'current node'."""

    def __init__(self, scale: float) -> None:
        self.scale = scale
        self.local = threading.local()
        self.lock = threading.Lock()
        self.phase = "apply"  # or "noop"
        self.costs: dict[str, dict[str, NodeCost]] = {"apply": {}, "noop": {}}
        # Calls made for no single node: a refresh's batched describes, per phase.
        self.unattributed: dict[str, Counter[str]] = {"apply": Counter(), "noop": Counter()}
        self.created_at: dict[str, float] = {}

    # botocore before-send: sleep the modelled latency, charge it to the current node
    def __call__(self, request: Any, event_name: str, **_: Any) -> None:
        service, operation = event_name.split(".", 2)[1:]
        latency = call_latency(service, operation)
        where = getattr(self.local, "where", None)
        with self.lock:
            if where is None:
                self.unattributed[self.phase][f"{service}:{operation}"] += 1
            else:
                key, part = where
                cost = self.cost(key)
                setattr(cost, part, getattr(cost, part) + latency)
                cost.calls[f"{service}:{operation}"] += 1
        time.sleep(latency * self.scale)
        return None

    def cost(self, key: str) -> NodeCost:
        return self.costs[self.phase].setdefault(key, NodeCost())

    def _in(self, key: str, part: str, call: Callable[[], Any]) -> Any:
        saved = getattr(self.local, "where", None)
        self.local.where = (key, part)
        try:
            return call()
        finally:
            self.local.where = saved

    def wrap_drivers(self) -> None:
        from deployer.resource import registered_data_sources, registered_resources

        for driver in registered_resources().values():
            self._wrap_resource(driver)
        for source in registered_data_sources().values():
            self._wrap_data_source(source)

    def _wrap_resource(self, driver: Any) -> None:
        create, read, update, wait_ready = (
            driver.create,
            driver.read,
            driver.update,
            driver.wait_ready,
        )
        bench = self

        def part() -> str:
            return "refresh" if threading.current_thread().name.startswith("wait") else "work"

        def w_create(ctx: Any, desired: Any) -> Any:
            out = bench._in(ctx.node.key, "work", lambda: create(ctx, desired))
            with bench.lock:
                cost = bench.cost(ctx.node.key)
                cost.at_create = cost.work
                cost.delay = provisioning_delay(ctx.node)
                bench.created_at[ctx.node.key] = time.monotonic()
            return out

        def w_read(ctx: Any, id: Any) -> Any:
            return bench._in(ctx.node.key, part(), lambda: read(ctx, id))

        def w_update(ctx: Any, id: Any, desired: Any, live: Any) -> Any:
            return bench._in(ctx.node.key, "work", lambda: update(ctx, id, desired, live))

        def w_wait_ready(ctx: Any, id: Any) -> Any:
            bench._in(ctx.node.key, "poll", lambda: wait_ready(ctx, id))
            created = bench.created_at.get(ctx.node.key)
            if created is not None:
                # Ready only the modelled delay after the create returned.
                remaining = created + provisioning_delay(ctx.node) * bench.scale - time.monotonic()
                if remaining > 0:
                    time.sleep(remaining)

        driver.create, driver.read, driver.update = w_create, w_read, w_update
        driver.wait_ready = w_wait_ready

    def _wrap_data_source(self, source: Any) -> None:
        read = source.read
        bench = self

        def w_read(ctx: Any, desired: Any) -> Any:
            return bench._in(ctx.node.key, "work", lambda: read(ctx, desired))

        source.read = w_read


# --------------------------------------------------------------------------------------------
# The model's schedules over the graph
# --------------------------------------------------------------------------------------------


def critical_path(
    graph: Any, costs: dict[str, NodeCost]
) -> tuple[float, list[str], dict[str, tuple[float, float, float]]]:
    """Earliest start/exists/ready of every node with unlimited workers and edge semantics."""
    times: dict[str, tuple[float, float, float]] = {}
    via: dict[str, str | None] = {}
    for node in graph.nodes():
        key = node.key
        start, parent = 0.0, None
        for dep, need_ready in graph.dependencies(key):
            if dep not in times:
                continue
            t = times[dep][2] if need_ready else times[dep][1]
            if t > start:
                start, parent = t, dep
        cost = costs.get(key, NodeCost())
        times[key] = (start, start + cost.exists_cost(), start + cost.ready_cost())
        via[key] = parent
    end_key = max(times, key=lambda k: times[k][2])
    path = [end_key]
    while (parent := via[path[-1]]) is not None:
        path.append(parent)
    return times[end_key][2], path[::-1], times


def terraform_like(
    graph: Any,
    costs: dict[str, NodeCost],
    keys: list[str],
    parallelism: int,
    t0: float = 0.0,
    finished_at: dict[str, float] | None = None,
) -> float:
    """Discrete-event simulation: a node starts when every dependency is READY and one of
    `parallelism` slots is free; it holds the slot until it is ready (Terraform's create
    includes its waiter). Ties go to the lexicographically first key, as Terraform's walk is
    deterministic but unordered."""
    wanted = set(keys)
    deps = {k: [d for d, _ in graph.dependencies(k) if d in wanted] for k in keys}
    waiting_on = {k: len(v) for k, v in deps.items()}
    dependents: dict[str, list[str]] = defaultdict(list)
    for k, ds in deps.items():
        for d in ds:
            dependents[d].append(k)
    ready_queue = sorted(k for k in keys if waiting_on[k] == 0)
    heapq.heapify(ready_queue)
    running: list[tuple[float, str]] = []
    now = t0
    finished = 0
    while finished < len(keys):
        while ready_queue and len(running) < parallelism:
            key = heapq.heappop(ready_queue)
            heapq.heappush(running, (now + costs.get(key, NodeCost()).ready_cost(), key))
        now, key = heapq.heappop(running)
        finished += 1
        if finished_at is not None:
            finished_at[key] = now
        for nxt in dependents[key]:
            waiting_on[nxt] -= 1
            if waiting_on[nxt] == 0:
                heapq.heappush(ready_queue, nxt)
    return now


def need_a_database(graph: Any) -> set[str]:
    """The database instances and what needs one *available* (through readiness edges): the
    part of any schedule that physics holds back, whoever schedules it."""
    held: set[str] = set()
    for node in graph.nodes():  # dependencies first
        if node.type == "aws_db_instance" or any(
            need_ready and dep in held for dep, need_ready in graph.dependencies(node.key)
        ):
            held.add(node.key)
    return held


# --------------------------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------------------------


def warm_up(endpoint: str, regions: list[str]) -> None:
    """Touch every service's backend once, outside the measurement: moto builds some lazily
    (IAM loads its managed policies on first use, about a second)."""
    from deployer.aws import Clients

    clients = Clients(endpoint_url=endpoint, rate_limits=None)
    calls = {
        "iam": "list_roles",
        "ec2": "describe_vpcs",
        "kms": "list_keys",
        "rds": "describe_db_instances",
        "lambda": "list_functions",
        "dynamodb": "list_tables",
        "s3": "list_buckets",
        "apigateway": "get_rest_apis",
        "route53": "list_hosted_zones",
        "acm": "list_certificates",
        "logs": "describe_log_groups",
        "cloudwatch": "describe_alarms",
        "sns": "list_topics",
        "secretsmanager": "list_secrets",
        "sts": "get_caller_identity",
    }
    for region in regions:
        for service, op in calls.items():
            getattr(clients(service, region), op)()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=0.01, help="real seconds per model second")
    parser.add_argument("--timeline", type=Path, help="write a Gantt chart (SVG) here")
    parser.add_argument("--parallelism", type=int, default=10)
    parser.add_argument("--spec", type=Path, default=REPO / "spec.yaml")
    args = parser.parse_args(argv)
    scale: float = args.scale

    from deployer import sandbox

    for name, value in sandbox.SANDBOX_CREDENTIALS.items():
        os.environ[name] = value
    os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
    os.environ.pop("AWS_PROFILE", None)
    os.environ.pop("AWS_ENDPOINT_URL", None)
    # Polling intervals run in model time too.
    os.environ["DEPLOYER_WAIT_SCALE"] = str(scale)

    from deployer.aws import Clients
    from deployer.executor import Executor
    from deployer.graph import build_graph
    from deployer.model import WORKSPACES
    from deployer.planner import plan_changes
    from deployer.ratelimit import DEFAULT_RATE_LIMITS, RateLimiter
    from deployer.resource import DataSource, Resource, driver_for
    from deployer.spec import load_spec
    from deployer.state import State

    spec = load_spec(args.spec)
    workspaces = list(WORKSPACES)
    graph = build_graph(spec, workspaces)
    bench = Instrument(scale)
    bench.wrap_drivers()

    with tempfile.TemporaryDirectory(prefix="apply-bench-") as tmp:
        state_dir = Path(tmp) / "state"
        info = sandbox.start(Path(tmp) / "sandbox")
        try:
            warm_up(info.endpoint, sorted({spec.region(ws) for ws in workspaces}))

            def make_clients() -> Clients:
                # Rate limits hold in model time: the real rate is the published one / scale.
                return Clients(
                    endpoint_url=info.endpoint,
                    hooks=[("before-send", bench)],
                    rate_limits=RateLimiter.scaled(DEFAULT_RATE_LIMITS, scale),
                )

            # ---- the full apply -------------------------------------------------------------
            states = {ws: State.load(state_dir, ws) for ws in WORKSPACES}
            clients = make_clients()
            began = time.monotonic()
            plan = plan_changes(
                graph, states, clients, workspaces=workspaces, parallelism=args.parallelism
            )
            planned = time.monotonic()
            result = Executor(graph, states, clients, parallelism=args.parallelism).apply(plan)
            wall_real = time.monotonic() - began
            if not result.ok:
                for key, error in sorted(result.failures.items()):
                    print(f"FAILED {key}: {error}", file=sys.stderr)
                return 1
            apply_calls = clients.counter
            rate_waited = clients.rate_limiter.waited() if clients.rate_limiter else {}

            # ---- the no-op apply ------------------------------------------------------------
            bench.phase = "noop"
            states = {ws: State.load(state_dir, ws) for ws in WORKSPACES}
            noop_clients = make_clients()
            noop_began = time.monotonic()
            noop_plan = plan_changes(
                graph, states, noop_clients, workspaces=workspaces, parallelism=args.parallelism
            )
            if noop_plan.has_changes:
                noop_result = Executor(
                    graph, states, noop_clients, parallelism=args.parallelism
                ).apply(noop_plan)
                assert noop_result.ok, noop_result.failures
            noop_real = time.monotonic() - noop_began
        finally:
            sandbox.stop(Path(tmp) / "sandbox")

    costs = bench.costs["apply"]
    if os.environ.get("BENCH_DEBUG"):
        _, _, mt = critical_path(graph, costs)
        for k in sorted(result.timeline, key=lambda k: result.timeline[k].start):
            t = result.timeline[k]
            print(
                f"{k:70} real {t.start / scale:7.1f} {(t.exists or 0) / scale:7.1f} "
                f"{(t.ready or 0) / scale:7.1f}  model {mt[k][0]:7.1f} {mt[k][1]:7.1f} "
                f"{mt[k][2]:7.1f}"
            )
    keys = [n.key for n in graph.nodes()]
    bound, path, _model_times = critical_path(graph, costs)
    serial = sum(costs.get(k, NodeCost()).ready_cost() for k in keys)
    tf_finished: dict[str, float] = {}
    tf_one = terraform_like(graph, costs, keys, 10, finished_at=tf_finished)
    primary = [k for k in keys if k.startswith("primary:")]
    secondary = [k for k in keys if k.startswith("secondary:")]
    tf_seq = terraform_like(
        graph, costs, secondary, 10, t0=terraform_like(graph, costs, primary, 10)
    )
    wall = wall_real / scale
    apply_only = result.elapsed / scale
    plan_time = (planned - began) / scale

    resources = [n for n in graph.nodes() if isinstance(driver_for(n), Resource)]
    data_sources = [n for n in graph.nodes() if isinstance(driver_for(n), DataSource)]

    def line(label: str, value: str) -> None:
        print(f"  {label:<48} {value}")

    print(
        f"\nFull apply of {args.spec.name}: {len(keys)} nodes ({len(resources)} resources, "
        f"{len(data_sources)} data sources), {graph.dag.number_of_edges()} edges, "
        f"workspaces {', '.join(workspaces)}; scale {scale} (model seconds = real / scale); "
        f"parallelism {args.parallelism}"
    )
    print("\nApply (model seconds)")
    line("wall time (plan + apply)", f"{wall:8.1f} s   (real {wall_real:.2f} s)")
    line("  of which plan", f"{plan_time:8.1f} s")
    line("  of which apply", f"{apply_only:8.1f} s")
    line("critical-path lower bound", f"{bound:8.1f} s")
    line("serial sum", f"{serial:8.1f} s")
    line("Terraform-like, one graph, parallelism 10", f"{tf_one:8.1f} s")
    line("Terraform-like, primary then secondary", f"{tf_seq:8.1f} s")
    ok1 = "ok" if wall <= 1.15 * bound else "MISSED (target <= 1.15)"
    ok2 = "ok" if tf_one / wall >= 3 else "MISSED (target >= 3)"
    ok3 = "ok" if tf_seq / wall >= 3 else "MISSED (target >= 3)"
    line("wall / critical path", f"{wall / bound:8.3f}     {ok1}")
    line("Terraform-like (one graph) / wall", f"{tf_one / wall:8.2f}x    {ok2}")
    line("Terraform-like (workspaces in sequence) / wall", f"{tf_seq / wall:8.2f}x    {ok3}")
    line("serial sum / wall", f"{serial / wall:8.2f}x")
    # Where scheduling can win: what needs no database available (alarms, dashboards, DNS,
    # the API...) is done long before the databases here, but waits for them under Terraform.
    free = [k for k in keys if k not in need_a_database(graph)]
    last_free = max(free, key=lambda k: result.timeline[k].ready or 0.0)
    ours_free = plan_time + (result.timeline[last_free].ready or 0.0) / scale
    tf_free = max(tf_finished[k] for k in free)
    line(
        f"all {len(free)} nodes needing no database ready",
        f"{ours_free:8.1f} s   (Terraform-like {tf_free:.1f} s: {tf_free / ours_free:.2f}x)",
    )
    print(f"    the last of them: {last_free}")
    print(
        "  critical path: "
        + " -> ".join(f"{k} ({costs.get(k, NodeCost()).ready_cost():.0f}s)" for k in path)
    )
    if rate_waited:
        waited = {k: v / scale for k, v in rate_waited.items() if v > 0}
        print(
            "  rate-limit waits (model s): "
            + (", ".join(f"{k} {v:.1f}" for k, v in waited.items()) or "none")
        )

    print(
        f"\nAPI calls of the apply: {sum(apply_calls.calls.values())} "
        f"({apply_calls.reads} reads, {apply_calls.writes} writes)"
    )
    by_service: dict[str, Counter[str]] = defaultdict(Counter)
    for op, n in apply_calls.calls.items():
        service, name = op.split(":", 1)
        from deployer.aws import is_read_operation

        by_service[service]["read" if is_read_operation(name) else "write"] += n
    for service in sorted(by_service):
        c = by_service[service]
        line(f"{service}", f"{c['read']:4d} reads {c['write']:4d} writes")
    if bench.unattributed["apply"]:
        print(f"  (calls outside any node: {dict(bench.unattributed['apply'])})")

    noop_calls = noop_clients.counter
    per_resource = noop_calls.reads / len(resources)
    print("\nNo-op apply (plan + apply again)")
    line("time", f"{noop_real / scale:8.1f} s   (real {noop_real:.2f} s)")
    line("changes planned", f"{len(noop_plan.actionable()):8d}")
    line(
        "write calls", f"{noop_calls.writes:8d}     {'ok' if noop_calls.writes == 0 else 'MISSED'}"
    )
    line("read calls", f"{noop_calls.reads:8d}")
    ok4 = "ok" if per_resource <= 1.2 else "MISSED (target <= 1.2)"
    line(f"read calls per resource ({len(resources)})", f"{per_resource:8.2f}     {ok4}")
    if noop_calls.writes:
        print(f"  writes: {noop_calls.write_operations()}")
    batched = bench.unattributed["noop"]
    if batched:
        print(
            f"  of which batched describes, each answering for every resource of a kind in a "
            f"region: {sum(batched.values())}"
        )
        for operation, count in sorted(batched.items()):
            print(f"    {operation:<50} {count:3d}")
    multi: Counter[str] = Counter()
    types: Counter[str] = Counter()
    for key, cost in bench.costs["noop"].items():
        node = graph.node(key)
        if isinstance(driver_for(node), Resource):
            multi[node.type] += sum(cost.calls.values())
            types[node.type] += 1
    heavy = {t: multi[t] / types[t] for t in multi if multi[t] / types[t] > 1}
    if heavy:
        print("  drivers reading more than once per resource (calls per resource):")
        for kind, per in sorted(heavy.items(), key=lambda kv: -kv[1]):
            print(f"    {kind:<50} {per:.1f}")

    print(f"\nMachine: {os.cpu_count()} CPUs, {cpu_model()}, Python {platform.python_version()}")

    if args.timeline:
        from benchmarks.timeline import write_svg

        timeline = {
            k: (
                t.start / scale,
                (t.exists or t.start) / scale,
                (t.ready or t.exists or t.start) / scale,
            )
            for k, t in result.timeline.items()
        }
        write_svg(
            args.timeline,
            timeline,
            set(path),
            {k: graph.node(k).type for k in keys},
            title=(
                f"deployer apply, {len(keys)} nodes, scale {scale}: wall {wall:.0f} s, "
                f"critical path {bound:.0f} s, Terraform-like {tf_one:.0f} s (model seconds)"
            ),
        )
        print(f"Timeline written to {args.timeline}")
    return 0


def cpu_model() -> str:
    try:
        for text in Path("/proc/cpuinfo").read_text().splitlines():
            if text.startswith("model name"):
                return text.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


if __name__ == "__main__":
    sys.exit(main())
