"""aws_s3_bucket, and the payments bucket's nodes as the stack declares them."""

from __future__ import annotations

from typing import Any

import pytest

from deployer.aws import DeployerError
from deployer.schema import validate_attributes

BUCKET = "primary:aws_s3_bucket.payments"
SECONDARY_BUCKET = "secondary:aws_s3_bucket.payments"
VERSIONING = "primary:aws_s3_bucket_versioning.payments"
SECONDARY_VERSIONING = "secondary:aws_s3_bucket_versioning.payments"
REPLICATION = "secondary:aws_s3_bucket_replication_configuration.payments"

PRIMARY_NAME = "payments-data-us-east-1-dev"
SECONDARY_NAME = "payments-data-eu-west-1-dev"


def _nodes_of(graph: Any, workspace: str) -> dict[str, Any]:
    return {n.address: n for n in graph.nodes(workspace) if n.type.startswith("aws_s3_")}


# ---------------------------------------------------------------------------------------------
# Blueprint
# ---------------------------------------------------------------------------------------------


def test_every_s3_node_validates_against_the_provider_schema(deployment: Any) -> None:
    for workspace in ("primary", "secondary"):
        nodes = _nodes_of(deployment.graph, workspace)
        assert nodes, workspace
        for node in nodes.values():
            assert validate_attributes(node.type, node.attributes) == [], node.key


def test_each_workspace_has_its_bucket_and_only_the_secondary_replicates(deployment: Any) -> None:
    settings = {
        "aws_s3_bucket.payments",
        "aws_s3_bucket_ownership_controls.payments",
        "aws_s3_bucket_versioning.payments",
        "aws_s3_bucket_server_side_encryption_configuration.payments",
        "aws_s3_bucket_public_access_block.payments",
        "aws_s3_bucket_policy.payments",
        "aws_s3_bucket_lifecycle_configuration.payments",
    }
    assert set(_nodes_of(deployment.graph, "primary")) == settings
    assert set(_nodes_of(deployment.graph, "secondary")) == settings | {
        "aws_s3_bucket_replication_configuration.payments"
    }
    assert deployment.graph.node(BUCKET).attributes["bucket"] == PRIMARY_NAME
    assert deployment.graph.node(SECONDARY_BUCKET).attributes["bucket"] == SECONDARY_NAME


def test_replication_node_replicates_primary_into_secondary(deployment: Any) -> None:
    node = deployment.graph.node(REPLICATION)
    assert node.attributes["region"] == "us-east-1"
    # IAM lives in the primary only: the secondary reads the role through its own look-up,
    # which the engine orders after the primary's role.
    assert str(node.attributes["role"]) == "data.aws_iam_role.s3_replication.arn"
    assert node.attributes["role"].workspace is None
    lookup = "secondary:data.aws_iam_role.s3_replication"
    assert "primary:aws_iam_role.s3_replication" in deployment.graph.dag.predecessors(lookup)
    assert node.attributes["bucket"].workspace == "primary"
    destination = node.attributes["rule"][0]["destination"][0]
    assert destination["bucket"].workspace is None  # the secondary's own bucket
    depends = {(ref.workspace, ref.address) for ref in node.depends_on}
    assert depends == {
        ("primary", "aws_s3_bucket_versioning.payments"),
        (None, "aws_s3_bucket_versioning.payments"),
    }
    # Both versioning nodes are ancestors: S3 rejects replication before versioning.
    ancestors = deployment.graph.dag.predecessors(REPLICATION)
    assert {VERSIONING, SECONDARY_VERSIONING, lookup} <= set(ancestors)


def test_outputs_name_each_workspace_bucket(deployment: Any) -> None:
    from deployer.cli import outputs_of

    deployment.apply(BUCKET)
    outputs = outputs_of(deployment.graph, deployment.states())["primary"]
    assert outputs["s3_bucket_name"] == PRIMARY_NAME
    assert outputs["s3_bucket_arn"] == f"arn:aws:s3:::{PRIMARY_NAME}"


# ---------------------------------------------------------------------------------------------
# aws_s3_bucket
# ---------------------------------------------------------------------------------------------


def test_bucket_round_trip(deployment: Any, client_for: Any) -> None:
    deployment.apply(BUCKET, SECONDARY_BUCKET)
    assert deployment.diff(BUCKET) == {}
    assert deployment.diff(SECONDARY_BUCKET) == {}
    s3 = client_for("s3")
    assert s3.get_bucket_location(Bucket=PRIMARY_NAME)["LocationConstraint"] is None
    location = client_for("s3", "eu-west-1").get_bucket_location(Bucket=SECONDARY_NAME)
    assert location["LocationConstraint"] == "eu-west-1"
    tags = {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=PRIMARY_NAME)["TagSet"]}
    assert tags["Name"] == PRIMARY_NAME
    assert tags["deployer:address"] == "aws_s3_bucket.payments"
    assert tags["Workspace"] == "primary"
    live = deployment.read(BUCKET)
    assert live is not None
    assert live["arn"] == f"arn:aws:s3:::{PRIMARY_NAME}"
    assert live["object_lock_enabled"] is False
    assert deployment.entry(BUCKET)["id"] == PRIMARY_NAME


def test_bucket_tag_update(deployment: Any, client_for: Any) -> None:
    deployment.apply(BUCKET)
    deployment.graph.node(BUCKET).attributes["tags"]["Owner"] = "someone-else"
    assert deployment.plan(BUCKET).changes[BUCKET].action.value == "update"
    deployment.apply(BUCKET)
    tagging = client_for("s3").get_bucket_tagging(Bucket=PRIMARY_NAME)["TagSet"]
    assert {"Key": "Owner", "Value": "someone-else"} in tagging
    assert deployment.diff(BUCKET) == {}


def test_bucket_rename_forces_replacement(deployment: Any) -> None:
    deployment.apply(BUCKET)
    deployment.graph.node(BUCKET).attributes["bucket"] = "payments-data-renamed-dev"
    change = deployment.plan(BUCKET).changes[BUCKET]
    assert change.action.value == "replace"
    assert change.forces == ["bucket"]


def test_bucket_delete_refuses_objects_then_deletes_when_empty(
    deployment: Any, client_for: Any
) -> None:
    deployment.apply(BUCKET)
    driver, ctx = deployment.driver_and_context(BUCKET)
    s3 = client_for("s3")
    s3.put_object(Bucket=PRIMARY_NAME, Key="payment.json", Body=b"{}")
    with pytest.raises(DeployerError, match="holds objects or object versions"):
        driver.delete(ctx, PRIMARY_NAME, None)
    assert s3.head_bucket(Bucket=PRIMARY_NAME)["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert s3.get_object(Bucket=PRIMARY_NAME, Key="payment.json")["Body"].read() == b"{}"
    s3.delete_object(Bucket=PRIMARY_NAME, Key="payment.json")
    driver.delete(ctx, PRIMARY_NAME, None)
    assert driver.read(ctx, PRIMARY_NAME) is None
    assert PRIMARY_NAME not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    driver.delete(ctx, PRIMARY_NAME, None)  # idempotent


def test_bucket_force_destroy_deletes_every_version(deployment: Any, client_for: Any) -> None:
    deployment.apply(VERSIONING)
    driver, ctx = deployment.driver_and_context(BUCKET)
    s3 = client_for("s3")
    for body in (b"{}", b"[]"):
        s3.put_object(Bucket=PRIMARY_NAME, Key="payment.json", Body=body)
    s3.delete_object(Bucket=PRIMARY_NAME, Key="payment.json")  # a delete marker on top
    with pytest.raises(DeployerError, match="holds objects or object versions"):
        driver.delete(ctx, PRIMARY_NAME, None)
    ctx.node.attributes["force_destroy"] = True
    driver.delete(ctx, PRIMARY_NAME, None)
    assert driver.read(ctx, PRIMARY_NAME) is None
    assert PRIMARY_NAME not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_bucket_deleted_outside_is_planned_for_creation(deployment: Any, client_for: Any) -> None:
    deployment.apply(BUCKET)
    client_for("s3").delete_bucket(Bucket=PRIMARY_NAME)
    change = deployment.plan(BUCKET).changes[BUCKET]
    assert change.action.value == "create"
    assert "deleted outside" in change.reason


def test_interrupted_bucket_create_is_adopted(deployment: Any, client_for: Any) -> None:
    deployment.apply(BUCKET)
    entry = deployment.entry(BUCKET)
    deployment.states()["primary"].record(
        "aws_s3_bucket.payments",
        {"type": "aws_s3_bucket", "status": "creating", "applied": entry["applied"]},
    )
    deployment.apply(BUCKET)
    assert deployment.entry(BUCKET)["id"] == PRIMARY_NAME
    names = [b["Name"] for b in client_for("s3").list_buckets()["Buckets"]]
    assert names.count(PRIMARY_NAME) == 1


def test_untagged_bucket_made_before_tagging_is_adopted_after_a_crash(
    deployment: Any, client_for: Any
) -> None:
    client_for("s3").create_bucket(Bucket=PRIMARY_NAME)  # created, crashed before tagging
    driver, ctx = deployment.driver_and_context(BUCKET)
    desired = {**ctx.node.attributes}
    assert driver.find(ctx, desired) == PRIMARY_NAME


def test_someone_elses_bucket_of_the_same_name_is_not_adopted(
    deployment: Any, client_for: Any
) -> None:
    s3 = client_for("s3", "eu-west-1")
    s3.create_bucket(
        Bucket=SECONDARY_NAME, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    s3.put_bucket_tagging(
        Bucket=SECONDARY_NAME,
        Tagging={"TagSet": [{"Key": "deployer:address", "Value": "aws_s3_bucket.other"}]},
    )
    driver, ctx = deployment.driver_and_context(SECONDARY_BUCKET)
    desired = {**ctx.node.attributes}
    assert driver.find(ctx, desired) is None
    with pytest.raises(DeployerError, match="already exists in this account"):
        driver.create(ctx, desired)
