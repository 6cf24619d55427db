"""`deployer failover` and `deployer failback`: move the single writer between the regions.

A failover checks its preconditions (read calls only) and refuses with every reason that fails;
then it marks the primary lost in state, confirms that Route 53 answers the API's name with the
secondary (a drill fails the primary's health check on purpose by inverting it, and restores it
at the end), rewrites the spec's `failover.writer`, and applies the secondary with that topology
(the read replica is promoted in place, with the primary's Multi-AZ, backups and deletion
protection). A failback rebuilds the primary's database as a replica of the new writer, waits
for it to catch up and swaps back. Every step is recorded in state or in the spec before it is
taken and checks what is already done, so a run killed at any point converges when run again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from deployer.aws import Clients, DeployerError
from deployer.dns_probe import dns_answer, health_status, health_url, probe_health
from deployer.drill_report import DrillReport
from deployer.executor import ApplyResult, Executor
from deployer.failover_checks import table_status, time_replication
from deployer.graph import build_graph
from deployer.guards import refuse_blocked_deletes
from deployer.model import WORKSPACES
from deployer.planner import Plan, plan_changes, render_plan
from deployer.progress import Progress
from deployer.recovery import RecoveryRoles, Resolver, roles_of
from deployer.replica_facts import db_instance, read_replica_facts, replica_lag
from deployer.resource import GLOBAL_REGION  # Route 53's control plane
from deployer.spec import Spec, load_spec
from deployer.state import State
from deployer.topology import set_writer
from deployer.waiting import poll

# How long Route 53 may take to notice a failed endpoint and answer with the other record:
# request interval x failure threshold (30 s x 3), plus the alias record's 60 s.
DNS_TIMEOUT_S = 300.0
CATCH_UP_TIMEOUT_S = 3600.0
SNAPSHOT_TIMEOUT_S = 1800.0


@dataclass
class Failover:
    """One run of `failover` or `failback`, holding both workspaces' locks (the caller's)."""

    spec_path: Path
    states: dict[str, State]
    clients: Clients
    out: TextIO
    confirm: Callable[[str], bool]
    drill: bool = False
    auto_approve: bool = False
    # A real region loss: proceed although preconditions fail (replication broken, lag unknown).
    force: bool = False
    report: DrillReport | None = None
    spec: Spec = field(init=False)
    roles: RecoveryRoles = field(init=False)

    def __post_init__(self) -> None:
        self.reload()

    def reload(self) -> None:
        self.spec = load_spec(self.spec_path)
        self.roles = roles_of(self.spec)

    # ------------------------------------------------------------------ shared pieces

    def region(self, workspace: str) -> str:
        return self.spec.region(workspace)

    def resolved(self, value: Any, workspace: str) -> str:
        return Resolver(self.states).text(value, workspace)

    def step(self, name: str, description: str) -> Any:
        assert self.report is not None
        return self.report.step(name, description, self.clients.counter, self.out)

    def apply(self, workspaces: list[str], options: dict[str, Any] | None = None) -> Plan:
        """Plan and apply the spec's current topology for `workspaces` (locks already held)."""
        graph = build_graph(self.spec, workspaces)
        plan = plan_changes(graph, self.states, self.clients, workspaces=workspaces)
        if plan.has_changes:
            print(render_plan(plan), file=self.out)
        executor = Executor(
            graph, self.states, self.clients, emit=Progress(self.out), options=options or {}
        )
        refuse_blocked_deletes(executor, plan)
        result = executor.apply(plan) if plan.has_changes else ApplyResult()
        if not result.ok:
            failures = "; ".join(f"{k}: {e}" for k, e in sorted(result.failures.items()))
            raise DeployerError(f"apply failed ({failures}): run the command again to resume")
        return plan

    def remaining_changes(self, workspaces: list[str]) -> int:
        graph = build_graph(self.spec, workspaces)
        plan = plan_changes(graph, self.states, self.clients, workspaces=workspaces)
        return len(plan.actionable())

    def dns_answers(self) -> list[str]:
        zone = self.resolved(self.roles.regions["primary"].zone_id, "primary")
        return dns_answer(self.clients, zone, self.roles.api_name, "A")

    def target_of(self, workspace: str) -> str:
        return self.resolved(self.roles.regions[workspace].dns_target, workspace).rstrip(".")

    def health_code(self, workspace: str) -> int:
        api_id = self.resolved(self.roles.regions[workspace].api_id, workspace)
        url = health_url(
            self.clients.endpoint_url,
            api_id,
            self.region(workspace),
            self.roles.stage,
            self.roles.health_path,
        )
        return probe_health(url)

    def wait_for_answer(self, workspace: str) -> None:
        """Until the API's name resolves to `workspace`'s API and its /health answers 200."""
        target = self.target_of(workspace)

        def answered() -> bool | None:
            answers = [a.rstrip(".").lower() for a in self.dns_answers()]
            if target.lower() not in answers:
                return None
            return True if self.health_code(workspace) == 200 else None

        poll(
            answered,
            what=f"{self.roles.api_name} to answer from {self.region(workspace)} with /health 200",
            timeout=DNS_TIMEOUT_S,
            delay=1.0,
        )

    def set_inverted(self, workspace: str, inverted: bool) -> None:
        route53 = self.clients("route53", GLOBAL_REGION)
        check_id = self.resolved(self.roles.regions[workspace].health_check_id, workspace)
        current = route53.get_health_check(HealthCheckId=check_id)["HealthCheck"]
        if bool(current["HealthCheckConfig"].get("Inverted")) == inverted:
            return
        route53.update_health_check(
            HealthCheckId=check_id,
            HealthCheckVersion=current["HealthCheckVersion"],
            Inverted=inverted,
        )

    def journal(self, **changes: Any) -> None:
        """The failover's progress, kept in the primary's `lost` mark (saved at once)."""
        state = self.states["primary"]
        state.mark_lost({**(state.lost or {}), **changes})

    def db_identifier(self, workspace: str) -> str:
        return self.resolved(self.roles.regions[workspace].database_identifier, workspace)

    def lag_of(self, workspace: str) -> float | None:
        cloudwatch = self.clients("cloudwatch", self.region(workspace))
        return replica_lag(cloudwatch, self.db_identifier(workspace))

    def time_tables(self, source: str, target: str) -> float | None:
        table = self.resolved(self.roles.regions[source].tables[0], source)
        try:
            return time_replication(
                self.clients,
                self.region(source),
                self.region(target),
                table,
                self.roles.marker_key,
            )
        except Exception as exc:  # the source region may be down: RPO then unmeasured
            print(f"    DynamoDB replication not timed: {exc}", file=self.out)
            return None

    def ask(self, question: str) -> None:
        if not self.auto_approve and not self.confirm(question):
            raise DeployerError("cancelled: nothing was changed")


# ---------------------------------------------------------------------- failover


def failover_preconditions(run: Failover) -> list[str]:
    """Every reason not to fail over now (read calls only)."""
    sec = "secondary"
    region = run.region(sec)
    roles = run.roles.regions[sec]
    facts = read_replica_facts(run.clients, region, run.db_identifier(sec))
    problems = facts.problems(run.spec.failover.max_replica_lag_s)
    if run.report is not None:
        run.report.rds_replica_lag_seconds = facts.lag_seconds
    check_id = run.resolved(roles.health_check_id, sec)
    if not health_status(run.clients("route53", GLOBAL_REGION), check_id):
        problems.append(f"the secondary's health check {check_id} reports it unhealthy")
    for table in roles.tables:
        status = table_status(run.clients, region, run.resolved(table, sec))
        if status != "ACTIVE":
            problems.append(f"the table {table} in {region} is {status or 'missing'}")
    return problems


def run_failover(run: Failover, plan_only: bool) -> bool:
    """False when there is nothing to do (a failover already completed)."""
    primary = run.states["primary"]
    completed = (primary.lost or {}).get("completed")
    if completed and run.spec.failover.writer == "secondary":
        print(
            f"The secondary ({run.region('secondary')}) is the writer already: the failover "
            f"completed at {completed}. `deployer failback` moves it back.",
            file=run.out,
        )
        return False
    resuming = run.spec.failover.writer == "secondary" or primary.lost is not None
    steps = [
        "check the preconditions (replica lag, backups replication, secondary health, tables)",
        "mark the primary lost in state",
        "time DynamoDB replication with a marker item (the RPO of the tables)",
        ("invert the primary's health check (drill), then " if run.drill else "")
        + f"wait for {run.roles.api_name} to answer from {run.region('secondary')}",
        "set failover.writer: secondary in the spec and apply the secondary (promotes "
        f"{run.db_identifier('secondary')})",
        "check that plan shows 0 changes",
    ] + (["restore the primary's health check"] if run.drill else [])
    resumed = f": resuming the one begun at {(primary.lost or {}).get('since')}" if resuming else ""
    print(
        f"Failover of {run.spec.project} from primary ({run.region('primary')}) to secondary "
        f"({run.region('secondary')}){' (drill)' if run.drill else ''}"
        f"{resumed}:\n" + "\n".join(f"  {i}. {s}" for i, s in enumerate(steps, 1)),
        file=run.out,
    )
    if plan_only:
        return True
    report = run.report
    assert report is not None
    if resuming:
        report.resumed_from = str((primary.lost or {}).get("since"))
    else:
        with run.step("preconditions", "Check the preconditions") as step:
            problems = failover_preconditions(run)
            if problems and not run.force:
                report.result = "refused"
                raise DeployerError(
                    "failover refused (nothing was changed):\n"
                    + "\n".join(f"  - {p}" for p in problems)
                    + "\n(if the primary region is lost, --force proceeds and accepts the loss "
                    "of what did not replicate)"
                )
            report.overridden = problems
            for problem in problems:
                print(f"    overridden by --force: {problem}", file=run.out)
            step.detail = f"replica lag {report.rds_replica_lag_seconds} s"
        run.ask("Do you want to fail over to the secondary?")
    with run.step("mark-lost", "Mark the primary lost in state") as step:
        if primary.lost is None:
            run.journal(
                since=datetime.now(UTC).isoformat(timespec="seconds"),
                by="deployer failover",
                drill=run.drill,
                rds_replica_lag_seconds=report.rds_replica_lag_seconds,
            )
        else:  # resumed: the figures the first run measured before it stopped
            step.outcome = "skipped"
            report.rds_replica_lag_seconds = primary.lost.get("rds_replica_lag_seconds")
    with run.step("rpo-tables", "Time DynamoDB replication (marker item)") as step:
        lag = run.time_tables("primary", "secondary")
        report.dynamodb_replication_lag_seconds = lag
        step.detail = "not measured" if lag is None else f"{lag:.3f} s"
    with run.step("dns", f"Route 53 answers {run.roles.api_name} from the secondary") as step:
        if run.drill:
            run.journal(inverted_health_check=True)
            run.set_inverted("primary", True)
        try:
            run.wait_for_answer("secondary")
        except DeployerError as exc:
            if run.drill:
                raise
            # The primary's endpoint still passes its health check: Route 53 keeps sending the
            # API's name there (it serves from the global tables). The writer moves anyway.
            report.check("dns answers the secondary", False, str(exc))
            step.outcome = "failed"
        else:
            report.rto_seconds = time.time() - report.started
            step.detail = f"RTO {report.rto_seconds:.3f} s"
    with run.step("promote", "Promote the secondary's database (apply the new topology)") as step:
        if run.spec.failover.writer != "secondary":
            lag = run.lag_of("secondary")
            if lag is not None:
                report.rds_replica_lag_seconds = lag
                run.journal(rds_replica_lag_seconds=lag)
            set_writer(run.spec_path, "secondary")
            run.reload()
        plan = run.apply(["secondary"])
        step.detail = f"{len(plan.actionable())} changes applied"
    with run.step("verify", "Plan the new topology") as step:
        left = run.remaining_changes(["secondary"])
        report.check("plan after failover", left == 0, f"{left} changes")
        step.detail = f"{left} changes"
    if run.drill:
        with run.step("restore", "Restore the primary's health check") as step:
            run.set_inverted("primary", False)
            run.journal(inverted_health_check=False)
    run.journal(completed=datetime.now(UTC).isoformat(timespec="seconds"))
    report.result = "ok" if all(c.ok for c in report.checks) else "failed"
    return True


# ---------------------------------------------------------------------- failback


def run_failback(run: Failover, plan_only: bool) -> bool:
    primary = run.states["primary"]
    writer = run.spec.failover.writer
    steps = [
        f"check that {run.region('primary')} answers",
        "rebuild the primary's database as a replica of the secondary's (the stale instance "
        "is snapshotted first)",
        "wait for the replica to catch up",
        "set failover.writer: primary in the spec and apply both regions (promotes the "
        "primary, rebuilds the secondary's replica)",
        f"wait for {run.roles.api_name} to answer from {run.region('primary')}",
        "check that plan shows 0 changes",
    ]
    print(
        f"Failback of {run.spec.project} to primary ({run.region('primary')}):\n"
        + "\n".join(f"  {i}. {s}" for i, s in enumerate(steps, 1)),
        file=run.out,
    )
    if plan_only:
        return True
    report = run.report
    assert report is not None
    with run.step("preconditions", f"Check that {run.region('primary')} answers"):
        try:
            db_instance(run.clients, run.region("primary"), run.db_identifier("primary"))
        except Exception as exc:
            report.result = "refused"
            raise DeployerError(
                f"failback refused: {run.region('primary')} does not answer ({exc})"
            ) from exc
    run.ask("Do you want to fail back to the primary?")
    if writer == "secondary":
        with run.step("snapshot", "Snapshot the stale primary database") as step:
            step.detail = snapshot_stale_writer(run)
        with run.step("rebuild", "Rebuild the primary's database as a replica") as step:
            if (primary.lost or {}).get("inverted_health_check"):
                run.set_inverted("primary", False)
            primary.mark_lost(None)
            plan = run.apply(["primary"], {"disable_deletion_protection": True})
            step.detail = f"{len(plan.actionable())} changes applied"
        with run.step("catch-up", "Wait for the primary's replica to catch up") as step:
            limit = run.spec.failover.max_replica_lag_s

            def caught_up() -> float | None:
                lag = run.lag_of("primary")
                return lag if lag is not None and lag <= limit else None

            lag = poll(caught_up, what="the replica to catch up", timeout=CATCH_UP_TIMEOUT_S)
            report.rds_replica_lag_seconds = lag
            step.detail = f"replica lag {lag} s"
        with run.step("rpo-tables", "Time DynamoDB replication (marker item)") as step:
            table_lag = run.time_tables("secondary", "primary")
            report.dynamodb_replication_lag_seconds = table_lag
            step.detail = "not measured" if table_lag is None else f"{table_lag:.3f} s"
        set_writer(run.spec_path, "primary")
        run.reload()
    with run.step("swap", "Swap back: promote the primary, then rebuild the secondary") as step:
        # The primary first: its replica is promoted while its source still exists; only then
        # is the secondary's instance replaced by a replica of it (and its backups replicated).
        promoted = run.apply(["primary"], {"disable_deletion_protection": True})
        rebuilt = run.apply(list(WORKSPACES), {"disable_deletion_protection": True})
        step.detail = f"{len(promoted.actionable()) + len(rebuilt.actionable())} changes applied"
    with run.step("dns", f"Route 53 answers {run.roles.api_name} from the primary") as step:
        run.wait_for_answer("primary")
        report.rto_seconds = time.time() - report.started
        step.detail = f"RTO {report.rto_seconds:.3f} s"
    with run.step("verify", "Plan the original topology") as step:
        left = run.remaining_changes(list(WORKSPACES))
        report.check("plan after failback", left == 0, f"{left} changes")
        step.detail = f"{left} changes"
    report.result = "ok" if all(c.ok for c in report.checks) else "failed"
    return True


def snapshot_stale_writer(run: Failover) -> str:
    """The primary's instance wrote until the failover; what it holds that never reached the
    secondary (the RPO window) is kept in a manual snapshot before it is rebuilt."""
    region = run.region("primary")
    identifier = run.db_identifier("primary")
    db = db_instance(run.clients, region, identifier)
    if db is None or db.get("ReadReplicaSourceDBInstanceIdentifier"):
        return "nothing to keep (no standalone instance)"
    rds = run.clients("rds", region)
    name = f"{identifier}-before-failback-{datetime.now(UTC):%Y%m%d%H%M%S}"
    made = rds.create_db_snapshot(DBSnapshotIdentifier=name, DBInstanceIdentifier=identifier)
    run.states["primary"].keep(
        made["DBSnapshot"]["DBSnapshotArn"], "deployer failback: the stale writer's data"
    )

    def available() -> bool | None:
        (snapshot,) = rds.describe_db_snapshots(DBSnapshotIdentifier=name)["DBSnapshots"]
        return True if snapshot["Status"] == "available" else None

    # The engine's poll (scaled by DEPLOYER_WAIT_SCALE), as every other wait of the deployer.
    poll(available, what=f"the snapshot {name} to be available", timeout=SNAPSHOT_TIMEOUT_S)
    return name
