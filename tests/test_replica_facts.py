"""deployer/replica_facts.py against the stack's replica in moto (with the emulator's replica
corrections: StatusInfos, the modelled ReplicaLag, the replicated backups' status)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from deployer.replica_facts import ReplicaFacts, read_replica_facts
from emulator.rds_replicas import set_replica_lag

REPLICA = "secondary:aws_db_instance.replica"
BACKUPS = "secondary:aws_db_instance_automated_backups_replication.main"
DB = "primary:aws_db_instance.main"
SECONDARY = "eu-west-1"
REPLICA_ID = "payments-db-replica-dev"


def test_a_healthy_replica_has_no_problem(deployment: Any, clients: Any) -> None:
    deployment.apply(REPLICA, BACKUPS)
    facts = read_replica_facts(clients, SECONDARY, REPLICA_ID)
    primary_arn = deployment.entry(DB)["attributes"]["arn"]
    assert facts == ReplicaFacts(
        REPLICA_ID,
        SECONDARY,
        status="available",
        source=primary_arn,
        replication_status="replicating",
        replication_normal=True,
        lag_seconds=0.0,
        backups_replicating=True,
    )
    assert facts.problems(max_lag_seconds=30) == []


def test_lag_above_the_limit_or_unknown_is_a_problem(deployment: Any, clients: Any) -> None:
    deployment.apply(REPLICA, BACKUPS)
    set_replica_lag(SECONDARY, REPLICA_ID, 45)
    facts = read_replica_facts(clients, SECONDARY, REPLICA_ID)
    assert facts.lag_seconds == 45.0
    (problem,) = facts.problems(max_lag_seconds=30)
    assert "lag 45 s is above the limit of 30 s" in problem
    assert facts.problems(max_lag_seconds=60) == []
    # Before the replica existed CloudWatch has no datapoint: unknown, not 0.
    earlier = read_replica_facts(
        clients, SECONDARY, REPLICA_ID, now=datetime.now(UTC) - timedelta(days=2)
    )
    assert earlier.lag_seconds is None
    assert any("no ReplicaLag datapoint" in p for p in earlier.problems(max_lag_seconds=30))


def test_backups_not_replicating_is_a_problem(deployment: Any, clients: Any) -> None:
    deployment.apply(REPLICA)  # the backups replication never started
    facts = read_replica_facts(clients, SECONDARY, REPLICA_ID)
    assert facts.backups_replicating is False
    (problem,) = facts.problems(max_lag_seconds=30)
    assert "automated backups" in problem and "not replicating" in problem


def test_a_promoted_or_missing_replica_is_refused(deployment: Any, clients: Any) -> None:
    deployment.apply(REPLICA, BACKUPS)
    clients("rds", SECONDARY).promote_read_replica(DBInstanceIdentifier=REPLICA_ID)
    facts = read_replica_facts(clients, SECONDARY, REPLICA_ID)
    assert (facts.source, facts.replication_status, facts.lag_seconds) == (None, None, None)
    assert any("no read replica" in p for p in facts.problems(max_lag_seconds=30))
    missing = read_replica_facts(clients, SECONDARY, "no-such-replica")
    assert missing.problems(max_lag_seconds=30) == [
        f"RDS read replica no-such-replica in {SECONDARY} does not exist"
    ]
