"""DynamoDB table replicas (`aws_dynamodb_table_replica`) against moto with the emulator's global
tables (`emulator.dynamodb_global`): round trip, in-place updates, replacement, deletion,
adoption and drift."""

from __future__ import annotations

from typing import Any

import pytest

from deployer.aws import DeployerError
from deployer.cli import outputs_of
from resources.dynamodb.replica import main_table, parse_id

TRANSACTIONS = "primary:aws_dynamodb_table.transactions"
REPLICA = "secondary:aws_dynamodb_table_replica.transactions"
IDEMPOTENCY_REPLICA = "secondary:aws_dynamodb_table_replica.idempotency"
SECONDARY_KEY = "secondary:aws_kms_key.dynamodb"
NAME = "payments-transactions-dev"
PRIMARY, SECONDARY = "us-east-1", "eu-west-1"


def replicas_of(client_for: Any, name: str = NAME) -> dict[str, str]:
    """Region → status, as the main table lists its replicas."""
    table = client_for("dynamodb", PRIMARY).describe_table(TableName=name)["Table"]
    return {r["RegionName"]: r["ReplicaStatus"] for r in table.get("Replicas", [])}


def replica_table(client_for: Any, name: str = NAME) -> dict[str, Any]:
    described: dict[str, Any] = client_for("dynamodb", SECONDARY).describe_table(TableName=name)[
        "Table"
    ]
    return described


def recovery(client_for: Any, name: str = NAME) -> str:
    backups = client_for("dynamodb", SECONDARY).describe_continuous_backups(TableName=name)
    status: str = backups["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"][
        "PointInTimeRecoveryStatus"
    ]
    return status


def update(deployment: Any, key: str, **changes: Any) -> str:
    """Change attributes on an applied node, apply, and return the plan's action."""
    deployment.graph.node(key).attributes.update(changes)
    action: str = deployment.plan(key).changes[key].action.value
    deployment.apply(key)
    return action


def test_ids_are_the_providers() -> None:
    arn = f"arn:aws:dynamodb:{PRIMARY}:123456789012:table/{NAME}"
    assert main_table(arn) == (NAME, PRIMARY)
    assert parse_id(f"{NAME}:{PRIMARY}") == (NAME, PRIMARY)
    with pytest.raises(DeployerError):
        main_table("arn:aws:s3:::bucket")
    with pytest.raises(DeployerError):
        parse_id(NAME)


def test_replica_round_trip(deployment: Any, client_for: Any) -> None:
    deployment.apply(REPLICA)
    entry = deployment.entry(REPLICA)
    assert entry["id"] == f"{NAME}:{PRIMARY}"
    assert deployment.diff(REPLICA) == {}
    assert replicas_of(client_for) == {SECONDARY: "ACTIVE"}
    described = replica_table(client_for)
    key_arn = deployment.entry(SECONDARY_KEY)["attributes"]["arn"]
    assert ":eu-west-1:" in key_arn
    assert described["SSEDescription"]["KMSMasterKeyArn"] == key_arn
    assert described["DeletionProtectionEnabled"] is True
    assert described["GlobalTableVersion"] == "2019.11.21"
    assert recovery(client_for) == "ENABLED"
    keys = client_for("kms", SECONDARY).list_keys()["Keys"]
    live = deployment.read(REPLICA)
    assert live is not None
    # The read made no key (a DescribeKey of alias/aws/dynamodb would have made AWS's).
    assert client_for("kms", SECONDARY).list_keys()["Keys"] == keys
    assert live["arn"] == described["TableArn"]
    assert live["kms_key_arn"] == key_arn
    assert live["global_table_arn"] == deployment.entry(TRANSACTIONS)["attributes"]["arn"]
    assert live["tags"]["deployer:address"] == "aws_dynamodb_table_replica.transactions"
    assert live["tags"]["Workspace"] == "secondary"
    outputs = outputs_of(deployment.graph, deployment.states())["secondary"]
    assert outputs["dynamodb_transactions_table_arn"] == described["TableArn"]
    assert outputs["dynamodb_transactions_table_name"] == NAME

    # The payment data crosses regions: written in the primary, read in the secondary.
    item = {"transaction_id": {"S": "t-1"}, "merchant_id": {"S": "m"}, "created_at": {"S": "0"}}
    client_for("dynamodb", PRIMARY).put_item(TableName=NAME, Item=item)
    read = client_for("dynamodb", SECONDARY).get_item(
        TableName=NAME, Key={"transaction_id": {"S": "t-1"}}
    )
    assert read["Item"] == item


def test_replica_settings_change_in_place(deployment: Any, client_for: Any) -> None:
    deployment.apply(REPLICA)
    assert (
        update(
            deployment,
            REPLICA,
            point_in_time_recovery=False,
            deletion_protection_enabled=False,
            tags={"Name": NAME, "Owner": "payments"},
        )
        == "update"
    )
    assert deployment.diff(REPLICA) == {}
    assert recovery(client_for) == "DISABLED"
    assert replica_table(client_for)["DeletionProtectionEnabled"] is False
    live = deployment.read(REPLICA)
    assert live is not None and live["tags"]["Owner"] == "payments"
    # The main table is untouched by the replica's own settings.
    main = client_for("dynamodb", PRIMARY).describe_table(TableName=NAME)["Table"]
    assert main["DeletionProtectionEnabled"] is True


def test_another_key_replaces_the_replica(deployment: Any, client_for: Any) -> None:
    deployment.apply(REPLICA)
    other_key = client_for("kms", SECONDARY).create_key()["KeyMetadata"]["Arn"]
    deployment.graph.node(REPLICA).attributes["kms_key_arn"] = other_key
    change = deployment.plan(REPLICA).changes[REPLICA]
    assert change.action.value == "replace"


def test_delete_refuses_a_protected_replica_unless_allowed(
    deployment: Any, client_for: Any
) -> None:
    deployment.apply(REPLICA)
    driver, ctx = deployment.driver_and_context(REPLICA)
    id = deployment.entry(REPLICA)["id"]
    with pytest.raises(DeployerError, match="has deletion protection on"):
        driver.delete(ctx, id, deployment.read(REPLICA))
    assert replicas_of(client_for) == {SECONDARY: "ACTIVE"}
    ctx.options["disable_deletion_protection"] = True
    driver.delete(ctx, id, deployment.read(REPLICA))
    assert replicas_of(client_for) == {}
    assert client_for("dynamodb", SECONDARY).list_tables()["TableNames"] == []
    assert driver.read(ctx, id) is None
    driver.delete(ctx, id, None)  # idempotent
    # The main table is a table of its own again.
    assert (
        "GlobalTableVersion"
        not in client_for("dynamodb", PRIMARY).describe_table(TableName=NAME)["Table"]
    )


def test_replica_removed_outside_is_planned_for_creation(deployment: Any, client_for: Any) -> None:
    deployment.apply(IDEMPOTENCY_REPLICA)
    name = "payments-idempotency-dev"
    client_for("dynamodb", SECONDARY).update_table(TableName=name, DeletionProtectionEnabled=False)
    client_for("dynamodb", PRIMARY).update_table(
        TableName=name, ReplicaUpdates=[{"Delete": {"RegionName": SECONDARY}}]
    )
    assert deployment.plan(IDEMPOTENCY_REPLICA).changes[IDEMPOTENCY_REPLICA].action.value == (
        "create"
    )
    deployment.apply(IDEMPOTENCY_REPLICA)
    assert replicas_of(client_for, name) == {SECONDARY: "ACTIVE"}
    assert deployment.diff(IDEMPOTENCY_REPLICA) == {}


def test_drift_of_the_replicas_own_settings_shows(deployment: Any, client_for: Any) -> None:
    deployment.apply(REPLICA)
    client_for("dynamodb", SECONDARY).update_continuous_backups(
        TableName=NAME,
        PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False},
    )
    assert deployment.diff(REPLICA) == {"point_in_time_recovery": (False, True)}  # (live, desired)


def test_interrupted_create_adopts_the_tagged_replica(deployment: Any, client_for: Any) -> None:
    deployment.apply(REPLICA)
    driver, ctx = deployment.driver_and_context(REPLICA)
    desired = deployment.desired(REPLICA)
    assert driver.find(ctx, desired) == f"{NAME}:{PRIMARY}"
    # A replica made by someone else (not tagged with this node's address) is not adopted.
    arn = replica_table(client_for)["TableArn"]
    client_for("dynamodb", SECONDARY).untag_resource(ResourceArn=arn, TagKeys=["deployer:address"])
    assert driver.find(ctx, desired) is None


def test_replica_in_the_main_tables_region_is_refused(deployment: Any) -> None:
    deployment.apply(TRANSACTIONS)
    _, ctx = deployment.driver_and_context(TRANSACTIONS)
    replica_driver, _ = deployment.driver_and_context(REPLICA)
    arn = deployment.entry(TRANSACTIONS)["attributes"]["arn"]
    with pytest.raises(DeployerError, match="cannot be in the main table's region"):
        replica_driver.create(ctx, {"global_table_arn": arn})


def test_a_replica_on_the_managed_key_reads_as_no_key(deployment: Any, client_for: Any) -> None:
    """The provider reports `alias/aws/dynamodb` as no key."""
    del deployment.graph.node(REPLICA).attributes["kms_key_arn"]
    deployment.apply(REPLICA)
    managed = client_for("kms", SECONDARY).describe_key(KeyId="alias/aws/dynamodb")
    assert (
        replica_table(client_for)["SSEDescription"]["KMSMasterKeyArn"]
        == (managed["KeyMetadata"]["Arn"])
    )
    live = deployment.read(REPLICA)
    assert live is not None and live["kms_key_arn"] == ""
    assert deployment.diff(REPLICA) == {}
