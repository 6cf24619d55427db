"""The automated-backups replication against moto (resources/rds/backups.py).

moto 5.2 does not implement StartDBInstanceAutomatedBackupsReplication: the `emulator` package's
`install_extensions` (emulator/rds.py) adds it, for the sandbox and for these tests alike.
"""

from __future__ import annotations

from typing import Any

DB = "primary:aws_db_instance.main"
BACKUPS = "secondary:aws_db_instance_automated_backups_replication.main"
SECONDARY_REGION = "eu-west-1"


def describe_db(client_for: Any, identifier: str, region: str = "us-east-1") -> dict[str, Any]:
    db: dict[str, Any] = client_for("rds", region).describe_db_instances(
        DBInstanceIdentifier=identifier
    )["DBInstances"][0]
    return db


def attribute(deployment: Any, key: str, name: str) -> Any:
    return deployment.entry(key)["attributes"][name]


def test_backups_replication_delete_and_disappear(deployment: Any, client_for: Any) -> None:
    deployment.apply(BACKUPS)
    arn = deployment.entry(BACKUPS)["id"]
    driver, ctx = deployment.driver_and_context(BACKUPS)
    driver.delete(ctx, arn, deployment.read(BACKUPS))
    assert driver.read(ctx, arn) is None
    source = describe_db(client_for, "payments-db-dev")
    assert not source.get("DBInstanceAutomatedBackupsReplications")
    driver.delete(ctx, arn, None)
    assert deployment.plan(BACKUPS).changes[BACKUPS].action.value == "create"


def test_backups_replication_stopped_outside_is_restarted(deployment: Any, client_for: Any) -> None:
    deployment.apply(BACKUPS)
    old = deployment.entry(BACKUPS)["id"]
    client_for("rds", SECONDARY_REGION).stop_db_instance_automated_backups_replication(
        SourceDBInstanceArn=attribute(deployment, DB, "arn")
    )
    assert deployment.plan(BACKUPS).changes[BACKUPS].action.value == "create"
    deployment.apply(BACKUPS)
    assert deployment.entry(BACKUPS)["id"] != old


def test_backups_replication_retention_change_forces_replacement(deployment: Any) -> None:
    deployment.apply(BACKUPS)
    deployment.graph.node(BACKUPS).attributes["retention_period"] = 14
    change = deployment.plan(BACKUPS).changes[BACKUPS]
    assert change.action.value == "replace" and change.forces == ["retention_period"]


def test_interrupted_backups_replication_is_adopted(deployment: Any) -> None:
    deployment.apply(BACKUPS)
    entry = deployment.entry(BACKUPS)
    deployment.states()["secondary"].record(
        "aws_db_instance_automated_backups_replication.main",
        {
            "type": "aws_db_instance_automated_backups_replication",
            "status": "creating",
            "applied": entry["applied"],
        },
    )
    # AWS refuses a second replication of the same source: without adoption this apply fails.
    deployment.apply(BACKUPS)
    assert deployment.entry(BACKUPS)["id"] == entry["id"]


def test_backups_replication_sends_the_provider_s_default_retention(deployment: Any) -> None:
    """A retention the node leaves unset is the provider's seven days, sent as such (AWS has
    no call to change it later: a change replaces the replication)."""
    del deployment.graph.node(BACKUPS).attributes["retention_period"]
    calls: list[dict[str, Any]] = []
    deployment.clients("rds", SECONDARY_REGION).meta.events.register(
        "provide-client-params.rds.StartDBInstanceAutomatedBackupsReplication",
        lambda params, **_: calls.append(dict(params)),
    )
    deployment.apply(BACKUPS)
    assert [call["BackupRetentionPeriod"] for call in calls] == [7]
    assert deployment.diff(BACKUPS) == {}
