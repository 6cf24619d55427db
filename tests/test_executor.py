"""The executor: edge order, readiness, overlap, and failures that leave state consistent."""

from __future__ import annotations

import io
import threading
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from deployer.aws import Clients
from deployer.cli import Progress
from deployer.executor import ApplyResult, Executor, Scheduler
from deployer.graph import build_graph
from deployer.planner import plan_changes
from deployer.state import State

KMS_KEYS = [f"primary:aws_kms_key.{p}" for p in ("s3", "rds", "dynamodb", "logs")]
KMS_ALIASES = [k.replace("aws_kms_key", "aws_kms_alias") for k in KMS_KEYS]


def test_scheduler_readiness_edges() -> None:
    """An existence edge lets the dependent start while the dependency is still getting ready."""
    events: list[tuple[str, str]] = []
    lock = threading.Lock()
    slow_ready = threading.Event()

    def log(what: str, key: str) -> None:
        with lock:
            events.append((what, key))

    def work(key: str) -> Any:
        log("start", key)
        if key == "db":

            def wait() -> None:
                slow_ready.wait(5)
                log("ready", key)

            return wait
        if key == "alarm":
            slow_ready.set()  # the alarm ran while the database was not ready yet
        return None

    deps = {"alarm": [("db", False)], "replica": [("db", True)]}
    result = ApplyResult()
    Scheduler(4).run(["db", "alarm", "replica"], deps, work, result)
    assert result.ok
    order = [e for e in events]
    assert order.index(("start", "alarm")) < order.index(("ready", "db"))
    assert order.index(("ready", "db")) < order.index(("start", "replica"))


def test_scheduler_failure_stops_new_work_but_lets_in_flight_finish() -> None:
    started: list[str] = []
    slow_started = threading.Event()

    def work(key: str) -> Any:
        started.append(key)
        if key == "bad":
            slow_started.wait(5)  # fail while "slow" is in flight
            raise RuntimeError("boom")
        if key == "slow":
            slow_started.set()
            time.sleep(0.3)
        return None

    deps = {"after_bad": [("bad", False)], "after_slow": [("slow", False)]}
    result = ApplyResult()
    Scheduler(4).run(["bad", "slow", "after_bad", "after_slow"], deps, work, result)
    assert set(result.failures) == {"bad"}
    assert "slow" in result.timeline and result.timeline["slow"].ready is not None
    assert "after_bad" not in started
    assert "after_slow" not in started


def _apply(spec: Any, tmp_path: Any, clients: Clients, keys: list[str]) -> tuple[Any, Any]:
    graph = build_graph(spec, ["primary"])
    wanted = set(keys) | {"primary:data.aws_caller_identity.current"}
    sub = graph.subgraph(wanted)
    states = {ws: State.load(tmp_path, ws) for ws in ("primary", "secondary")}
    plan = plan_changes(sub, states, clients, workspaces=["primary"])
    result = Executor(sub, states, clients, parallelism=10).apply(plan)
    return sub, result


def test_order_respects_every_edge_and_independent_work_overlaps(
    aws: None, spec: Any, tmp_path: Any
) -> None:
    def slow_create(**_: Any) -> None:
        time.sleep(0.2)

    clients = Clients(hooks=[("before-call.kms.CreateKey", slow_create)])
    graph, result = _apply(spec, tmp_path, clients, KMS_KEYS + KMS_ALIASES)
    assert result.ok, result.failures
    timeline = result.timeline
    for dep, dependent in graph.dag.edges:
        if dep in timeline and dependent in timeline:
            needed = (
                timeline[dep].ready
                if graph.dag.edges[dep, dependent]["ready"]
                else (timeline[dep].exists)
            )
            assert needed is not None and timeline[dependent].start >= needed
    # The four keys depend on nothing of each other: their creations overlap.
    spans = [(timeline[k].start, timeline[k].exists) for k in KMS_KEYS]
    latest_start = max(s for s, _ in spans)
    earliest_end = min(e for _, e in spans if e is not None)
    assert latest_start < earliest_end


def test_failure_mid_apply_keeps_state_consistent_and_next_apply_finishes(
    aws: None, spec: Any, tmp_path: Any
) -> None:
    def refuse_rds_alias(params: dict[str, Any], **_: Any) -> None:
        if params.get("AliasName") == "alias/payments-rds-dev":
            raise ClientError(
                {"Error": {"Code": "LimitExceededException", "Message": "too many aliases"}},
                "CreateAlias",
            )

    failing = Clients(hooks=[("provide-client-params.kms.CreateAlias", refuse_rds_alias)])
    _, result = _apply(spec, tmp_path, failing, KMS_KEYS + KMS_ALIASES)
    assert set(result.failures) == {"primary:aws_kms_alias.rds"}
    assert "LimitExceededException" in result.failures["primary:aws_kms_alias.rds"]

    state = State.load(tmp_path, "primary")
    kms = failing("kms", "us-east-1")
    live_keys = {k["KeyId"] for k in kms.list_keys()["Keys"]}
    recorded = {state.get(k.split(":")[1])["id"] for k in KMS_KEYS}  # type: ignore[index]
    assert recorded == live_keys  # every key made is recorded, none twice
    assert state.get("aws_kms_alias.rds") is None or state.get("aws_kms_alias.rds")["status"] != (  # type: ignore[index]
        "created"
    )

    clients = Clients()
    _, result = _apply(spec, tmp_path, clients, KMS_KEYS + KMS_ALIASES)
    assert result.ok, result.failures
    # Only what the failure held back is done now; no key is made again.
    assert result.done["primary:aws_kms_alias.rds"] == "create"
    assert set(result.done) <= set(KMS_ALIASES)
    assert set(result.done.values()) == {"create"}
    aliases = {a["AliasName"] for a in kms.list_aliases()["Aliases"]}
    assert "alias/payments-rds-dev" in aliases
    assert {k["KeyId"] for k in kms.list_keys()["Keys"]} == live_keys


@pytest.mark.parametrize("parallelism", [1, 3])
def test_parallelism_bounds_concurrent_calls(
    aws: None, spec: Any, tmp_path: Any, parallelism: int
) -> None:
    active = 0
    peak = 0
    lock = threading.Lock()

    def enter(**_: Any) -> None:
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
        time.sleep(0.05)
        with lock:
            active -= 1

    clients = Clients(hooks=[("before-call.kms.CreateKey", enter)])
    graph = build_graph(spec, ["primary"])
    sub = graph.subgraph(set(KMS_KEYS) | {"primary:data.aws_caller_identity.current"})
    states = {ws: State.load(tmp_path, ws) for ws in ("primary", "secondary")}
    plan = plan_changes(sub, states, clients, workspaces=["primary"])
    assert Executor(sub, states, clients, parallelism=parallelism).apply(plan).ok
    assert peak <= parallelism


DOMAIN = "primary:aws_api_gateway_domain_name.api"
CERT = "primary:aws_acm_certificate.api"


def _replace_certificate(deployment: Any) -> tuple[list[dict[str, Any]], Any]:
    """Change what forces a new certificate, apply, and return the executor's events."""
    from deployer.executor import Executor

    deployment.graph.node(CERT).attributes["key_algorithm"] = "EC_prime256v1"
    states = deployment.states()
    plan = deployment.plan(DOMAIN)
    assert plan.changes[CERT].action.value == "replace"
    events: list[dict[str, Any]] = []
    shown = io.StringIO()
    progress = Progress(shown)  # what `deployer apply` prints of the same events

    def emit(event: dict[str, Any]) -> None:
        events.append(event)
        progress(event)

    result = Executor(deployment.graph, states, deployment.clients, emit=emit).apply(plan)
    assert result.ok, result.failures
    assert "aws_acm_certificate.api (primary): Replaced object destroyed after" in shown.getvalue()
    return events, result


def test_create_before_destroy_keeps_the_old_object_until_its_users_moved(
    deployment: Any, client_for: Any
) -> None:
    deployment.apply(DOMAIN)
    old = deployment.entry(CERT)["id"]

    events, _ = _replace_certificate(deployment)

    new = deployment.entry(CERT)["id"]
    assert new != old
    assert "deposed" not in deployment.entry(CERT)
    arns = {
        c["CertificateArn"] for c in client_for("acm").list_certificates()["CertificateSummaryList"]
    }
    assert new in arns and old not in arns
    domain = client_for("apigateway").get_domain_name(domainName=deployment.entry(DOMAIN)["id"])
    assert domain["regionalCertificateArn"] == new
    steps = [(e["event"], e["key"], e["action"]) for e in events if e.get("key") in (CERT, DOMAIN)]
    created = steps.index(("done", CERT, "replace"))
    switched = steps.index(("done", DOMAIN, "update"))
    removed = steps.index(("done", CERT, "delete deposed"))
    assert created < switched < removed  # new certificate, domain moved, then the old one goes


def test_a_deposed_object_left_by_a_crash_is_planned_and_deleted(
    deployment: Any, client_for: Any
) -> None:
    from deployer.planner import plan_to_json, render_plan

    deployment.apply(DOMAIN)
    acm = client_for("acm")
    stray = acm.request_certificate(DomainName="api.payments.example.com")["CertificateArn"]
    workspace, address = CERT.split(":")
    state = deployment.states()[workspace]
    state.record(address, {**deployment.entry(CERT), "deposed": [stray]})  # as a crash leaves it

    plan = deployment.plan(DOMAIN)

    assert plan.has_changes and plan.counts()["delete"] == 1
    assert f"deposed object {stray} will be destroyed" in render_plan(plan)
    assert [c["deposed"] for c in plan_to_json(plan)["changes"]] == [[stray]]
    deployment.apply(DOMAIN)
    arns = {c["CertificateArn"] for c in acm.list_certificates()["CertificateSummaryList"]}
    assert stray not in arns and deployment.entry(CERT)["id"] in arns
    assert "deposed" not in deployment.entry(CERT)
    assert not deployment.plan(DOMAIN).has_changes


def test_scheduler_stop_starts_nothing_new_but_lets_in_flight_finish() -> None:
    """Ctrl-C's first press: what is running finishes (and is recorded), nothing new starts."""
    started: list[str] = []
    stop = threading.Event()

    def work(key: str) -> Any:
        started.append(key)
        if key == "first":
            stop.set()  # as the signal handler would, while "first" is in flight
            time.sleep(0.3)
        return None

    result = ApplyResult()
    deps = {"second": [("first", False)], "third": [("second", False)]}
    Scheduler(4).run(["first", "second", "third"], deps, work, result, stop=stop)
    assert started == ["first"]
    assert result.ok and result.timeline["first"].ready is not None


def test_an_interrupted_apply_records_what_finished_and_the_next_apply_completes(
    aws: None, spec: Any, tmp_path: Any
) -> None:
    graph = build_graph(spec, ["primary"])
    sub = graph.subgraph(set(KMS_KEYS) | {"primary:data.aws_caller_identity.current"})
    states = {ws: State.load(tmp_path, ws) for ws in ("primary", "secondary")}
    running: list[Executor] = []
    # Ctrl-C pressed as the first key is being created.
    clients = Clients(hooks=[("after-call.kms.CreateKey", lambda **_: running[0].interrupt())])
    running.append(Executor(sub, states, clients, parallelism=1))
    result = running[0].apply(plan_changes(sub, states, clients, workspaces=["primary"]))
    assert result.interrupted and result.ok
    created = [key for key in KMS_KEYS if key in result.done]
    assert len(created) == 1  # the one in flight finished; the other three never started
    assert states["primary"].get(created[0].split(":", 1)[1])["status"] == "created"

    plain = Clients()
    again = Executor(sub, states, plain).apply(
        plan_changes(sub, states, plain, workspaces=["primary"])
    )
    assert again.ok and not again.interrupted
    assert sorted(again.done) == sorted(set(KMS_KEYS) - set(created))
    keys = plain("kms", "us-east-1").list_keys()["Keys"]
    assert len(keys) == len(KMS_KEYS)  # no duplicate


def test_long_waits_say_how_long_they_have_been_going() -> None:
    shown = io.StringIO()
    progress = Progress(shown)
    progress({"event": "start", "key": "primary:aws_db_instance.main", "action": "create"})
    progress({"event": "waiting", "key": "primary:aws_db_instance.main", "seconds": 90.4})
    progress({"event": "start", "key": "primary:aws_nat_gateway.a", "action": "delete"})
    progress({"event": "waiting", "key": "primary:aws_nat_gateway.a", "seconds": 3725})
    lines = shown.getvalue().splitlines()
    assert lines[1] == "aws_db_instance.main (primary): Still creating... [1m30s elapsed]"
    assert lines[3] == "aws_nat_gateway.a (primary): Still destroying... [1h2m5s elapsed]"
