"""DynamoDB tables against moto: round trips, in-place updates, replacement, deletion, adoption.

The emulator's extensions (`emulator.dynamodb.DYNAMODB_CORRECTIONS`) give moto AWS's rules for
stream changes, attribute definitions and tags; the tests of AWS-only behaviour (a CREATING table,
a late ContinuousBackups) inject the responses AWS gives.
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.awsrequest import AWSResponse

from deployer.aws import DeployerError
from deployer.cli import outputs_of
from deployer.schema import validate_attributes

TRANSACTIONS = "primary:aws_dynamodb_table.transactions"
IDEMPOTENCY = "primary:aws_dynamodb_table.idempotency"
DYNAMODB_KEY = "primary:aws_kms_key.dynamodb"
TRANSACTIONS_NAME = "payments-transactions-dev"
IDEMPOTENCY_NAME = "payments-idempotency-dev"


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


def table(client_for: Any, name: str, region: str = "us-east-1") -> dict[str, Any]:
    described: dict[str, Any] = client_for("dynamodb", region).describe_table(TableName=name)[
        "Table"
    ]
    return described


def recovery_status(client_for: Any, name: str) -> str:
    backups = client_for("dynamodb").describe_continuous_backups(TableName=name)
    status: str = backups["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"][
        "PointInTimeRecoveryStatus"
    ]
    return status


def table_tags(client_for: Any, name: str) -> dict[str, str]:
    ddb = client_for("dynamodb")
    arn = table(client_for, name)["TableArn"]
    return {t["Key"]: t["Value"] for t in ddb.list_tags_of_resource(ResourceArn=arn)["Tags"]}


def error_response(code: str, message: str) -> tuple[AWSResponse, dict[str, Any]]:
    """What a botocore `before-call` handler returns to make a call fail as AWS would."""
    http = AWSResponse("https://dynamodb.amazonaws.com/", 400, {}, None)
    return http, {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {}}


def capture_calls(client: Any, operation: str) -> list[dict[str, Any]]:
    """The parameters of every `operation` call the client makes from now on."""
    calls: list[dict[str, Any]] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        calls.append(dict(params))

    client.meta.events.register(f"provide-client-params.dynamodb.{operation}", record)
    return calls


def delete_outside(client_for: Any, name: str) -> None:
    ddb = client_for("dynamodb")
    ddb.update_table(TableName=name, DeletionProtectionEnabled=False)
    ddb.delete_table(TableName=name)


# ---------------------------------------------------------------------------------------------
# The nodes
# ---------------------------------------------------------------------------------------------


def test_nodes_match_the_provider_schema(deployment: Any) -> None:
    for key in (TRANSACTIONS, IDEMPOTENCY, "secondary:aws_dynamodb_table_replica.transactions"):
        node = deployment.graph.node(key)
        assert validate_attributes(node.type, node.attributes) == [], key


def test_tables_use_the_workspace_key_and_the_handler_names(deployment: Any) -> None:
    transactions = deployment.graph.node(TRANSACTIONS).attributes
    idempotency = deployment.graph.node(IDEMPOTENCY).attributes
    for attributes in (transactions, idempotency):
        (sse,) = attributes["server_side_encryption"]
        assert str(sse["kms_key_arn"]) == "aws_kms_key.dynamodb.arn"
    assert transactions["name"] == TRANSACTIONS_NAME
    assert transactions["hash_key"] == "transaction_id"
    assert idempotency["hash_key"] == "idempotency_key"
    assert idempotency["ttl"] == [{"attribute_name": "expires_at", "enabled": True}]
    assert DYNAMODB_KEY in {dep for dep, _ in deployment.graph.dependencies(TRANSACTIONS)}


# ---------------------------------------------------------------------------------------------
# Round trips
# ---------------------------------------------------------------------------------------------


def test_transactions_round_trip(deployment: Any, client_for: Any) -> None:
    deployment.apply(TRANSACTIONS)
    assert deployment.diff(TRANSACTIONS) == {}
    assert deployment.entry(TRANSACTIONS)["id"] == TRANSACTIONS_NAME
    described = table(client_for, TRANSACTIONS_NAME)
    key_arn = deployment.entry(DYNAMODB_KEY)["attributes"]["arn"]
    assert described["TableStatus"] == "ACTIVE"
    assert described["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert described["KeySchema"] == [{"AttributeName": "transaction_id", "KeyType": "HASH"}]
    assert described["SSEDescription"]["Status"] == "ENABLED"
    assert described["SSEDescription"]["KMSMasterKeyArn"] == key_arn
    assert described["StreamSpecification"] == {
        "StreamEnabled": True,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    assert described["DeletionProtectionEnabled"] is True
    assert recovery_status(client_for, TRANSACTIONS_NAME) == "ENABLED"
    tags = table_tags(client_for, TRANSACTIONS_NAME)
    assert tags["deployer:address"] == "aws_dynamodb_table.transactions"
    assert tags["Workspace"] == "primary"
    live = deployment.read(TRANSACTIONS)
    assert live is not None
    assert live["arn"] == described["TableArn"]
    assert live["stream_arn"] == described["LatestStreamArn"]
    assert live["stream_label"] == described["LatestStreamLabel"]


def test_transactions_has_the_merchant_index(deployment: Any, client_for: Any) -> None:
    deployment.apply(TRANSACTIONS)
    (index,) = table(client_for, TRANSACTIONS_NAME)["GlobalSecondaryIndexes"]
    assert index["IndexName"] == "by_merchant"
    assert index["KeySchema"] == [
        {"AttributeName": "merchant_id", "KeyType": "HASH"},
        {"AttributeName": "created_at", "KeyType": "RANGE"},
    ]
    assert index["Projection"]["ProjectionType"] == "ALL"
    items = client_for("dynamodb").query(
        TableName=TRANSACTIONS_NAME,
        IndexName="by_merchant",
        KeyConditionExpression="merchant_id = :m",
        ExpressionAttributeValues={":m": {"S": "merchant-1"}},
    )
    assert items["Count"] == 0


def test_idempotency_round_trip(deployment: Any, client_for: Any) -> None:
    deployment.apply(IDEMPOTENCY)
    assert deployment.diff(IDEMPOTENCY) == {}
    described = table(client_for, IDEMPOTENCY_NAME)
    key_arn = deployment.entry(DYNAMODB_KEY)["attributes"]["arn"]
    assert described["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert described["KeySchema"] == [{"AttributeName": "idempotency_key", "KeyType": "HASH"}]
    assert described["SSEDescription"]["KMSMasterKeyArn"] == key_arn
    # A table with replicas keeps its stream (AWS refuses to disable it).
    assert described["StreamSpecification"] == {
        "StreamEnabled": True,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    assert described["DeletionProtectionEnabled"] is True
    assert recovery_status(client_for, IDEMPOTENCY_NAME) == "ENABLED"
    ttl = client_for("dynamodb").describe_time_to_live(TableName=IDEMPOTENCY_NAME)
    assert ttl["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "ENABLED",
        "AttributeName": "expires_at",
    }


def test_secondary_declares_replicas_of_the_primarys_tables(deployment: Any) -> None:
    for name in ("transactions", "idempotency"):
        assert f"secondary:aws_dynamodb_table.{name}" not in deployment.graph
        replica = deployment.graph.node(f"secondary:aws_dynamodb_table_replica.{name}")
        ref = replica.attributes["global_table_arn"]
        assert (ref.workspace, ref.address, ref.attribute) == (
            "primary",
            f"aws_dynamodb_table.{name}",
            "arn",
        )
        assert str(replica.attributes["kms_key_arn"]) == "aws_kms_key.dynamodb.arn"
        assert replica.attributes["point_in_time_recovery"] is True
        assert replica.attributes["deletion_protection_enabled"] is True


def test_outputs_name_the_tables_and_the_stream(deployment: Any, client_for: Any) -> None:
    deployment.apply(TRANSACTIONS, IDEMPOTENCY)
    outputs = outputs_of(deployment.graph, deployment.states())["primary"]
    described = table(client_for, TRANSACTIONS_NAME)
    assert outputs["dynamodb_transactions_table_name"] == TRANSACTIONS_NAME
    assert outputs["dynamodb_transactions_table_arn"] == described["TableArn"]
    assert outputs["dynamodb_transactions_stream_arn"] == described["LatestStreamArn"]
    assert outputs["dynamodb_idempotency_table_name"] == IDEMPOTENCY_NAME
    assert (
        outputs["dynamodb_idempotency_table_arn"] == table(client_for, IDEMPOTENCY_NAME)["TableArn"]
    )


# ---------------------------------------------------------------------------------------------
# In-place updates
# ---------------------------------------------------------------------------------------------


def update(deployment: Any, key: str, **changes: Any) -> dict[str, Any]:
    """Change attributes, check the plan says update, apply; return the fresh live read."""
    deployment.apply(key)
    deployment.graph.node(key).attributes.update(changes)
    plan = deployment.plan(key)
    assert plan.changes[key].action.value == "update"
    assert set(plan.changes[key].diffs) == {k for k, v in changes.items() if v is not None}
    deployment.apply(key)
    assert deployment.entry(key)["id"] == deployment.graph.node(key).attributes["name"]
    assert deployment.diff(key) == {}
    live = deployment.read(key)
    assert live is not None
    return live


def test_point_in_time_recovery_off(deployment: Any, client_for: Any) -> None:
    update(deployment, TRANSACTIONS, point_in_time_recovery=[{"enabled": False}])
    assert recovery_status(client_for, TRANSACTIONS_NAME) == "DISABLED"


def test_ttl_off(deployment: Any, client_for: Any) -> None:
    update(deployment, IDEMPOTENCY, ttl=[{"enabled": False}])
    ttl = client_for("dynamodb").describe_time_to_live(TableName=IDEMPOTENCY_NAME)
    assert ttl["TimeToLiveDescription"]["TimeToLiveStatus"] == "DISABLED"


def test_ttl_on_for_a_table_without_it(deployment: Any, client_for: Any) -> None:
    live = update(deployment, TRANSACTIONS, ttl=[{"attribute_name": "purge_at", "enabled": True}])
    assert live["ttl"] == [{"attribute_name": "purge_at", "enabled": True}]
    ttl = client_for("dynamodb").describe_time_to_live(TableName=TRANSACTIONS_NAME)
    assert ttl["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "ENABLED",
        "AttributeName": "purge_at",
    }


def test_ttl_cannot_jump_to_another_attribute(deployment: Any, client_for: Any) -> None:
    """AWS refuses it (TTL on one attribute, one change an hour): refuse before calling."""
    deployment.apply(IDEMPOTENCY)
    deployment.graph.node(IDEMPOTENCY).attributes["ttl"] = [
        {"attribute_name": "purge_at", "enabled": True}
    ]
    driver, ctx = deployment.driver_and_context(IDEMPOTENCY)
    calls = capture_calls(client_for("dynamodb"), "UpdateTimeToLive")
    desired = {
        **deployment.desired(IDEMPOTENCY),
        "ttl": [{"attribute_name": "purge_at", "enabled": True}],
    }
    with pytest.raises(DeployerError, match="enabled = false first"):
        driver.update(ctx, IDEMPOTENCY_NAME, desired, deployment.read(IDEMPOTENCY))
    assert calls == []
    ttl = client_for("dynamodb").describe_time_to_live(TableName=IDEMPOTENCY_NAME)
    assert ttl["TimeToLiveDescription"]["AttributeName"] == "expires_at"


def test_stream_view_type_change(deployment: Any, client_for: Any) -> None:
    deployment.apply(TRANSACTIONS)
    old_stream = table(client_for, TRANSACTIONS_NAME)["LatestStreamArn"]
    live = update(deployment, TRANSACTIONS, stream_view_type="KEYS_ONLY")
    described = table(client_for, TRANSACTIONS_NAME)
    assert described["StreamSpecification"] == {
        "StreamEnabled": True,
        "StreamViewType": "KEYS_ONLY",
    }
    assert described["LatestStreamArn"] != old_stream
    assert live["stream_arn"] == described["LatestStreamArn"]


def test_stream_off(deployment: Any, client_for: Any) -> None:
    # As in Terraform, a view type is only set while the stream is enabled.
    live = update(deployment, TRANSACTIONS, stream_enabled=False, stream_view_type=None)
    assert "StreamSpecification" not in table(client_for, TRANSACTIONS_NAME)
    assert live["stream_enabled"] is False and live["stream_view_type"] == ""


def test_deletion_protection_off(deployment: Any, client_for: Any) -> None:
    update(deployment, IDEMPOTENCY, deletion_protection_enabled=False)
    assert table(client_for, IDEMPOTENCY_NAME)["DeletionProtectionEnabled"] is False


def test_tags_update(deployment: Any, client_for: Any) -> None:
    deployment.apply(IDEMPOTENCY)
    tags = dict(deployment.graph.node(IDEMPOTENCY).attributes["tags"])
    tags["Owner"] = "someone-else"
    del tags["CostCenter"]
    update(deployment, IDEMPOTENCY, tags=tags)
    live_tags = table_tags(client_for, IDEMPOTENCY_NAME)
    assert live_tags["Owner"] == "someone-else"
    assert "CostCenter" not in live_tags


def test_encryption_key_change_calls_update_table(deployment: Any, client_for: Any) -> None:
    """One UpdateTable with the new key (the emulator switches it, as AWS does)."""
    deployment.apply(IDEMPOTENCY)
    new_key = client_for("kms").create_key()["KeyMetadata"]["Arn"]
    calls = capture_calls(client_for("dynamodb"), "UpdateTable")
    deployment.graph.node(IDEMPOTENCY).attributes["server_side_encryption"] = [
        {"enabled": True, "kms_key_arn": new_key}
    ]
    assert deployment.plan(IDEMPOTENCY).changes[IDEMPOTENCY].action.value == "update"
    deployment.apply(IDEMPOTENCY)
    assert calls == [
        {
            "TableName": IDEMPOTENCY_NAME,
            "SSESpecification": {"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": new_key},
        }
    ]
    assert table(client_for, IDEMPOTENCY_NAME)["SSEDescription"]["KMSMasterKeyArn"] == new_key
    assert deployment.diff(IDEMPOTENCY) == {}


def test_index_added_and_removed_one_per_call(deployment: Any, client_for: Any) -> None:
    deployment.apply(TRANSACTIONS)
    calls = capture_calls(client_for("dynamodb"), "UpdateTable")
    attributes = deployment.graph.node(TRANSACTIONS).attributes
    attributes["attribute"] = [
        {"name": "transaction_id", "type": "S"},
        {"name": "status", "type": "S"},
        {"name": "region", "type": "S"},
    ]
    attributes["global_secondary_index"] = [
        {
            "name": name,
            "key_schema": [{"attribute_name": key, "key_type": "HASH"}],
            "projection_type": "KEYS_ONLY",
        }
        for name, key in (("by_status", "status"), ("by_region", "region"))
    ]
    deployment.apply(TRANSACTIONS)
    assert [len(c["GlobalSecondaryIndexUpdates"]) for c in calls] == [1, 1, 1]
    assert [next(iter(c["GlobalSecondaryIndexUpdates"][0])) for c in calls] == [
        "Delete",
        "Create",
        "Create",
    ]
    described = table(client_for, TRANSACTIONS_NAME)
    assert sorted(i["IndexName"] for i in described["GlobalSecondaryIndexes"]) == [
        "by_region",
        "by_status",
    ]
    assert sorted(a["AttributeName"] for a in described["AttributeDefinitions"]) == [
        "region",
        "status",
        "transaction_id",
    ]
    assert deployment.diff(TRANSACTIONS) == {}


def test_billing_mode_switch(deployment: Any, client_for: Any) -> None:
    deployment.apply(IDEMPOTENCY)
    attributes = deployment.graph.node(IDEMPOTENCY).attributes
    attributes.update(billing_mode="PROVISIONED", read_capacity=5, write_capacity=2)
    deployment.apply(IDEMPOTENCY)
    described = table(client_for, IDEMPOTENCY_NAME)
    assert described["BillingModeSummary"]["BillingMode"] == "PROVISIONED"
    assert described["ProvisionedThroughput"]["ReadCapacityUnits"] == 5
    assert deployment.diff(IDEMPOTENCY) == {}


def test_unused_attribute_is_refused_before_any_call(deployment: Any, client_for: Any) -> None:
    attributes = deployment.graph.node(IDEMPOTENCY).attributes
    attributes["attribute"] = [*attributes["attribute"], {"name": "expires_at", "type": "N"}]
    driver, ctx = deployment.driver_and_context(IDEMPOTENCY)
    deployment.apply(DYNAMODB_KEY)
    with pytest.raises(DeployerError, match=r"no key uses: \['expires_at'\]"):
        driver.create(ctx, {**attributes, "server_side_encryption": []})
    assert client_for("dynamodb").list_tables()["TableNames"] == []


# ---------------------------------------------------------------------------------------------
# Replacement, deletion, disappearance, adoption
# ---------------------------------------------------------------------------------------------


def test_hash_key_change_replaces_the_table(deployment: Any, client_for: Any) -> None:
    deployment.apply(IDEMPOTENCY)
    attributes = deployment.graph.node(IDEMPOTENCY).attributes
    old_key = {"hash_key": attributes["hash_key"], "attribute": attributes["attribute"]}
    new_key = {"hash_key": "request_id", "attribute": [{"name": "request_id", "type": "S"}]}
    attributes.update(new_key)
    plan = deployment.plan(IDEMPOTENCY)
    assert plan.changes[IDEMPOTENCY].action.value == "replace"
    assert plan.changes[IDEMPOTENCY].forces == ["hash_key"]
    # Deletion protection holds the old table: nothing is deleted or created.
    with pytest.raises(AssertionError, match="has deletion protection on"):
        deployment.apply(IDEMPOTENCY)
    described = table(client_for, IDEMPOTENCY_NAME)
    assert described["KeySchema"] == [{"AttributeName": "idempotency_key", "KeyType": "HASH"}]
    # As with Terraform: switch the protection off first, then replace.
    attributes.update(old_key, deletion_protection_enabled=False)
    deployment.apply(IDEMPOTENCY)
    attributes.update(new_key)
    deployment.apply(IDEMPOTENCY)
    described = table(client_for, IDEMPOTENCY_NAME)
    assert described["KeySchema"] == [{"AttributeName": "request_id", "KeyType": "HASH"}]
    assert described["DeletionProtectionEnabled"] is False
    assert deployment.diff(IDEMPOTENCY) == {}


def test_delete_refuses_a_protected_table_unless_allowed(deployment: Any, client_for: Any) -> None:
    deployment.apply(TRANSACTIONS)
    driver, ctx = deployment.driver_and_context(TRANSACTIONS)
    with pytest.raises(DeployerError, match="has deletion protection on"):
        driver.delete(ctx, TRANSACTIONS_NAME, deployment.read(TRANSACTIONS))
    assert table(client_for, TRANSACTIONS_NAME)["DeletionProtectionEnabled"] is True
    # `destroy --disable-deletion-protection`: switched off, then deleted.
    ctx.options["disable_deletion_protection"] = True
    driver.delete(ctx, TRANSACTIONS_NAME, deployment.read(TRANSACTIONS))
    assert client_for("dynamodb").list_tables()["TableNames"] == []
    assert driver.read(ctx, TRANSACTIONS_NAME) is None
    driver.delete(ctx, TRANSACTIONS_NAME, None)


def test_table_deleted_outside_is_planned_for_creation(deployment: Any, client_for: Any) -> None:
    deployment.apply(IDEMPOTENCY)
    delete_outside(client_for, IDEMPOTENCY_NAME)
    plan = deployment.plan(IDEMPOTENCY)
    assert plan.changes[IDEMPOTENCY].action.value == "create"
    deployment.apply(IDEMPOTENCY)
    assert table(client_for, IDEMPOTENCY_NAME)["TableStatus"] == "ACTIVE"


def test_interrupted_create_adopts_the_tagged_table(deployment: Any, client_for: Any) -> None:
    deployment.apply(IDEMPOTENCY)
    entry = deployment.entry(IDEMPOTENCY)
    deployment.states()["primary"].record(
        "aws_dynamodb_table.idempotency",
        {"type": "aws_dynamodb_table", "status": "creating", "applied": entry["applied"]},
    )
    creates = capture_calls(client_for("dynamodb"), "CreateTable")
    deployment.apply(IDEMPOTENCY)
    assert creates == []
    assert deployment.entry(IDEMPOTENCY)["id"] == IDEMPOTENCY_NAME
    assert deployment.entry(IDEMPOTENCY)["status"] == "created"


def test_an_untagged_table_of_the_same_name_is_not_adopted(
    deployment: Any, client_for: Any
) -> None:
    client_for("dynamodb").create_table(
        TableName=IDEMPOTENCY_NAME,
        AttributeDefinitions=[{"AttributeName": "idempotency_key", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "idempotency_key", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    deployment.apply(DYNAMODB_KEY)
    driver, ctx = deployment.driver_and_context(IDEMPOTENCY)
    desired = deployment.graph.node(IDEMPOTENCY).attributes
    assert driver.find(ctx, desired) is None
    with pytest.raises(DeployerError, match="already exists"):
        driver.create(ctx, {**desired, "server_side_encryption": []})


# ---------------------------------------------------------------------------------------------
# AWS behaviour moto does not show: injected responses
# ---------------------------------------------------------------------------------------------


def test_create_waits_for_active_before_backups_and_ttl(deployment: Any, client_for: Any) -> None:
    """A new table is CREATING for a while; AWS refuses PITR and TTL changes until ACTIVE."""
    ddb = client_for("dynamodb")
    creating_reads = {"left": 3}

    def still_creating(parsed: dict[str, Any], **_: Any) -> None:
        described = parsed.get("Table")
        if described and described["TableName"] == IDEMPOTENCY_NAME and creating_reads["left"]:
            creating_reads["left"] -= 1
            described["TableStatus"] = "CREATING"

    def refuse_while_creating(**_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        if creating_reads["left"]:
            return error_response("ResourceInUseException", "Table is being created")
        return None

    ddb.meta.events.register("after-call.dynamodb.DescribeTable", still_creating)
    ddb.meta.events.register("before-call.dynamodb.UpdateContinuousBackups", refuse_while_creating)
    ddb.meta.events.register("before-call.dynamodb.UpdateTimeToLive", refuse_while_creating)
    deployment.apply(IDEMPOTENCY)
    assert creating_reads["left"] == 0
    assert recovery_status(client_for, IDEMPOTENCY_NAME) == "ENABLED"
    assert deployment.diff(IDEMPOTENCY) == {}


def test_backups_not_yet_available_are_retried(deployment: Any, client_for: Any) -> None:
    """Right after CreateTable AWS may answer ContinuousBackupsUnavailableException."""
    refusals = {"left": 2}

    def backups_unavailable(**_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        if refusals["left"]:
            refusals["left"] -= 1
            return error_response(
                "ContinuousBackupsUnavailableException",
                "Backups are being enabled for the table. Please retry later",
            )
        return None

    client_for("dynamodb").meta.events.register(
        "before-call.dynamodb.UpdateContinuousBackups", backups_unavailable
    )
    deployment.apply(TRANSACTIONS)
    assert refusals["left"] == 0
    assert recovery_status(client_for, TRANSACTIONS_NAME) == "ENABLED"


def test_unusable_kms_key_fails_the_wait_at_once(deployment: Any, client_for: Any) -> None:
    deployment.apply(IDEMPOTENCY)

    def inaccessible(parsed: dict[str, Any], **_: Any) -> None:
        if "Table" in parsed:
            parsed["Table"]["TableStatus"] = "INACCESSIBLE_ENCRYPTION_CREDENTIALS"

    client_for("dynamodb").meta.events.register("after-call.dynamodb.DescribeTable", inaccessible)
    driver, ctx = deployment.driver_and_context(IDEMPOTENCY)
    with pytest.raises(DeployerError, match="cannot use its KMS key"):
        driver.wait_ready(ctx, IDEMPOTENCY_NAME)


def test_default_billing_mode_changed_outside_is_put_back(deployment: Any, client_for: Any) -> None:
    """Left unset, `billing_mode` is the provider's PROVISIONED: switched to on-demand behind
    the deployer's back, it is planned back as an in-place update. (moto keeps no table class,
    the other default, so it cannot show that one drift.)"""
    attributes = deployment.graph.node(IDEMPOTENCY).attributes
    del attributes["billing_mode"]
    attributes.update(read_capacity=5, write_capacity=2)
    deployment.apply(IDEMPOTENCY)
    assert table(client_for, IDEMPOTENCY_NAME)["BillingModeSummary"]["BillingMode"] == (
        "PROVISIONED"
    )
    client_for("dynamodb").update_table(TableName=IDEMPOTENCY_NAME, BillingMode="PAY_PER_REQUEST")
    change = deployment.plan(IDEMPOTENCY).changes[IDEMPOTENCY]
    assert change.action.value == "update" and "billing_mode" in change.diffs
    deployment.apply(IDEMPOTENCY)
    described = table(client_for, IDEMPOTENCY_NAME)
    assert described["BillingModeSummary"]["BillingMode"] == "PROVISIONED"
    assert described["ProvisionedThroughput"]["ReadCapacityUnits"] == 5
    assert deployment.diff(IDEMPOTENCY) == {}


def test_local_index_is_made_with_the_table(deployment: Any, client_for: Any) -> None:
    """A local secondary index exists only from CreateTable on (changing it replaces the
    table): it is sent there and read back."""
    attributes = deployment.graph.node(IDEMPOTENCY).attributes
    attributes["range_key"] = "created_at"
    attributes["attribute"] = [
        *attributes["attribute"],
        {"name": "created_at", "type": "S"},
        {"name": "status", "type": "S"},
    ]
    attributes["local_secondary_index"] = [
        {"name": "by_status", "range_key": "status", "projection_type": "KEYS_ONLY"}
    ]
    deployment.apply(IDEMPOTENCY)
    (index,) = table(client_for, IDEMPOTENCY_NAME)["LocalSecondaryIndexes"]
    assert index["IndexName"] == "by_status"
    assert index["KeySchema"] == [
        {"AttributeName": "idempotency_key", "KeyType": "HASH"},
        {"AttributeName": "status", "KeyType": "RANGE"},
    ]
    assert deployment.diff(IDEMPOTENCY) == {}
    attributes["local_secondary_index"] = [
        {"name": "by_status", "range_key": "created_at", "projection_type": "KEYS_ONLY"}
    ]
    change = deployment.plan(IDEMPOTENCY).changes[IDEMPOTENCY]
    assert change.action.value == "replace" and change.forces == ["local_secondary_index"]
