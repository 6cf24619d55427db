"""Promoting the secondary's read replica through the RDS instance driver (resources/rds/
instance.py), as the Terraform provider does: removing `replicate_source_db` promotes the replica
in place (PromoteReadReplica, then ModifyDBInstance for the rest); setting or changing a source
replaces the instance.

moto's own promotion leaves the source links in place; the emulator's correction
(emulator/rds_replicas.py, installed by the conftest `aws` fixture) makes it AWS's.
"""

from __future__ import annotations

from typing import Any

from tests.resources.rds.test_instance import (
    DB,
    REPLICA,
    SECONDARY_REGION,
    attribute,
    capture,
    describe_db,
)

REPLICA_ID = "payments-db-replica-dev"
WINDOW = "02:00-02:30"


def _standalone(attributes: dict[str, Any]) -> None:
    """The replica's node as the new writer's: no source, the primary's Multi-AZ, deletion
    protection and backups."""
    del attributes["replicate_source_db"]
    attributes.update(
        multi_az=True, deletion_protection=True, backup_retention_period=7, backup_window=WINDOW
    )


def test_removing_the_source_promotes_the_replica_in_place(
    deployment: Any, client_for: Any
) -> None:
    attributes = deployment.graph.node(REPLICA).attributes
    attributes["deletion_protection"] = False
    deployment.apply(REPLICA)
    before = describe_db(client_for, REPLICA_ID, SECONDARY_REGION)
    assert before["ReadReplicaSourceDBInstanceIdentifier"] == attribute(deployment, DB, "arn")
    assert (before["MultiAZ"], before["DeletionProtection"]) == (False, False)

    _standalone(attributes)
    change = deployment.plan(REPLICA).changes[REPLICA]
    assert change.action.value == "update" and change.forces == []
    assert change.diffs["replicate_source_db"] == (attribute(deployment, DB, "arn"), None)
    assert {"multi_az", "deletion_protection", "backup_window"} <= set(change.diffs)

    promotions = capture(deployment, "PromoteReadReplica", SECONDARY_REGION)
    modifications = capture(deployment, "ModifyDBInstance", SECONDARY_REGION)
    deployment.apply(REPLICA)
    assert promotions == [
        {
            "DBInstanceIdentifier": REPLICA_ID,
            "BackupRetentionPeriod": 7,
            "PreferredBackupWindow": WINDOW,
        }
    ]
    # The rest by ModifyDBInstance, without what the promotion already set.
    assert len(modifications) == 1
    assert modifications[0]["MultiAZ"] is True and modifications[0]["DeletionProtection"] is True
    assert not {"BackupRetentionPeriod", "PreferredBackupWindow"} & set(modifications[0])

    after = describe_db(client_for, REPLICA_ID, SECONDARY_REGION)
    assert after["DBInstanceArn"] == before["DBInstanceArn"]  # the same instance, not a new one
    assert after.get("ReadReplicaSourceDBInstanceIdentifier") is None
    assert (after["MultiAZ"], after["DeletionProtection"]) == (True, True)
    assert (after["BackupRetentionPeriod"], after["PreferredBackupWindow"]) == (7, WINDOW)
    assert describe_db(client_for, "payments-db-dev")["ReadReplicaDBInstanceIdentifiers"] == []
    assert deployment.entry(REPLICA)["id"] == REPLICA_ID
    assert deployment.plan(REPLICA).changes[REPLICA].action.value == "no-op"


def test_removing_only_the_source_promotes(deployment: Any, client_for: Any) -> None:
    """A removal that is the only change still reaches the driver (the executor's no-change
    shortcut sees it too)."""
    deployment.apply(REPLICA)
    del deployment.graph.node(REPLICA).attributes["replicate_source_db"]
    change = deployment.plan(REPLICA).changes[REPLICA]
    assert change.action.value == "update" and set(change.diffs) == {"replicate_source_db"}
    promotions = capture(deployment, "PromoteReadReplica", SECONDARY_REGION)
    deployment.apply(REPLICA)
    assert promotions == [{"DBInstanceIdentifier": REPLICA_ID}]
    after = describe_db(client_for, REPLICA_ID, SECONDARY_REGION)
    assert after.get("ReadReplicaSourceDBInstanceIdentifier") is None
    assert deployment.plan(REPLICA).changes[REPLICA].action.value == "no-op"


def test_a_promotion_done_already_is_not_repeated(deployment: Any, client_for: Any) -> None:
    """After an apply killed once PromoteReadReplica went through (or a promotion by hand), the
    rerun makes only the remaining changes: AWS would refuse to promote a non-replica."""
    deployment.apply(REPLICA)
    client_for("rds", SECONDARY_REGION).promote_read_replica(DBInstanceIdentifier=REPLICA_ID)
    _standalone(deployment.graph.node(REPLICA).attributes)
    change = deployment.plan(REPLICA).changes[REPLICA]
    assert change.action.value == "update" and "replicate_source_db" not in change.diffs
    promotions = capture(deployment, "PromoteReadReplica", SECONDARY_REGION)
    deployment.apply(REPLICA)
    assert promotions == []
    after = describe_db(client_for, REPLICA_ID, SECONDARY_REGION)
    assert (after["MultiAZ"], after["BackupRetentionPeriod"]) == (True, 7)
    assert deployment.plan(REPLICA).changes[REPLICA].action.value == "no-op"


def test_a_replica_interrupted_in_its_promotion_is_promoted_once(
    deployment: Any, client_for: Any
) -> None:
    """The driver's promotion looks again before it promotes: a replica that is no longer one
    by then (promoted meanwhile) is only waited for."""
    deployment.apply(REPLICA)
    driver, ctx = deployment.driver_and_context(REPLICA)
    live = driver.read(ctx, REPLICA_ID)
    client_for("rds", SECONDARY_REGION).promote_read_replica(DBInstanceIdentifier=REPLICA_ID)
    promotions = capture(deployment, "PromoteReadReplica", SECONDARY_REGION)
    desired = {k: v for k, v in live.items() if k != "replicate_source_db"}
    driver.update(ctx, REPLICA_ID, desired, live)  # live still says "replica"
    assert promotions == []


def test_adding_a_source_to_a_standalone_instance_replaces_it(deployment: Any) -> None:
    deployment.apply(DB)
    deployment.graph.node(DB).attributes["replicate_source_db"] = (
        "arn:aws:rds:eu-west-1:123456789012:db:payments-db-replica-dev"
    )
    change = deployment.plan(DB).changes[DB]
    assert change.action.value == "replace" and change.forces == ["replicate_source_db"]


def test_changing_a_replicas_source_replaces_it(deployment: Any) -> None:
    deployment.apply(REPLICA)
    deployment.graph.node(REPLICA).attributes["replicate_source_db"] = (
        "arn:aws:rds:us-east-1:123456789012:db:another-source"
    )
    change = deployment.plan(REPLICA).changes[REPLICA]
    assert change.action.value == "replace" and change.forces == ["replicate_source_db"]
