"""Drift's names for unmanaged resources come from the drivers' ARN metadata.

The tagging API hands drift ARNs; the Terraform type it reports for each is the one whose driver
declares the ARN's kind (`arn_kind`) or claims the ARN (`arn_claim`). Planted resources carry
the project's tags in moto and are in no state.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any, ClassVar

import pytest

from deployer.arns import Claim, parse_arn
from deployer.drift import ArnKinds
from deployer.drift.unmanaged import find_unmanaged
from deployer.graph import build_graph
from deployer.resource import _RESOURCES, Resource, registered_resources
from deployer.state import State

P, S = "us-east-1", "eu-west-1"
ACCOUNT = "123456789012"
TAGS = {"Project": "payments", "Environment": "dev"}


def an_arn(kind: tuple[str, str], name: str) -> str:
    """An ARN of the kind as the tagging API spells it (`type/id`; no type: the id alone)."""
    service, resource_type = kind
    region = "" if service in ("s3", "iam", "route53") else P
    account = "" if service in ("s3", "apigateway") else ACCOUNT
    if service == "apigateway":
        return f"arn:aws:apigateway:{region}::/{resource_type}/{name}"
    resource = f"{resource_type}/{name}" if resource_type else name
    return f"arn:aws:{service}:{region}:{account}:{resource}"


def test_every_declared_kind_names_its_type() -> None:
    kinds = ArnKinds.from_registry()
    named = {
        tf_type: kinds.name(an_arn(driver.arn_kind, "x-1"))
        for tf_type, driver in registered_resources().items()
        if driver.arn_kind is not None and tf_type != "aws_api_gateway_stage"
    }
    assert named and all(name == tf_type for tf_type, name in named.items()), named
    # No driver: the service and its resource type.
    assert kinds.name("arn:aws:ecs:us-east-1:123456789012:cluster/c") == "ecs:cluster"
    assert kinds.name("arn:aws:ec2:us-east-1:1:security-group-rule/sgr-1") == (
        "ec2:security-group-rule"  # shared by the ingress and egress rule types
    )
    assert kinds.name("not-an-arn") == "unknown"


def test_odd_arns_are_claimed_by_their_drivers() -> None:
    kinds = ArnKinds.from_registry()
    api = "arn:aws:apigateway:us-east-1::/restapis/a1b2c3"
    assert kinds.name(api) == "aws_api_gateway_rest_api"
    assert kinds.name(f"{api}/stages/prod") == "aws_api_gateway_stage"

    def claim(arn: str) -> tuple[str, Claim] | None:
        parsed = parse_arn(arn)
        assert parsed is not None
        return kinds.claim(parsed)

    rds = f"arn:aws:rds:{P}:{ACCOUNT}"
    derived = ("aws_db_instance", Claim.DERIVED)
    assert claim(f"{rds}:snapshot:rds:payments-db-2026-01-01-00-00") == derived
    assert claim(f"{rds}:auto-backup:ab-1") == derived
    assert claim(f"{rds}:snapshot:before-upgrade") is None  # a manual snapshot is someone's
    assert claim(f"{rds}:db:payments-db") == ("aws_db_instance", Claim.OWN)


def test_two_drivers_may_not_declare_the_same_kind() -> None:
    class Twin(Resource):
        type = "aws_twin"
        arn_kind = ("ec2", "vpc")

    with pytest.raises(ValueError, match="aws_twin and aws_vpc both declare"):
        ArnKinds({**registered_resources(), "aws_twin": Twin()})


# ---------------------------------------------------------------------------------------------
# Planted in moto
# ---------------------------------------------------------------------------------------------


class Cluster(Resource):
    """A driver the registry does not have: registering it is all it takes to be named."""

    type = "aws_ecs_cluster"
    arn_kind: ClassVar[tuple[str, str] | None] = ("ecs", "cluster")


def tag_list(key: str = "Key", value: str = "Value") -> list[dict[str, str]]:
    return [{key: k, value: v} for k, v in TAGS.items()]


def plant(c: Any) -> dict[str, str]:
    """One tagged resource of each kind moto's tagging API lists: id → its Terraform type."""
    ec2 = c("ec2", P)
    spec = [{"ResourceType": "{}", "Tags": tag_list()}]

    def specs(resource_type: str) -> list[dict[str, Any]]:
        return [{**spec[0], "ResourceType": resource_type}]

    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16", TagSpecifications=specs("vpc"))["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(
        VpcId=vpc, CidrBlock="10.9.1.0/24", TagSpecifications=specs("subnet")
    )["Subnet"]["SubnetId"]
    group = ec2.create_security_group(
        GroupName="planted", Description="planted", VpcId=vpc,
        TagSpecifications=specs("security-group"),
    )["GroupId"]  # fmt: skip
    table = ec2.create_route_table(VpcId=vpc, TagSpecifications=specs("route-table"))["RouteTable"][
        "RouteTableId"
    ]
    gateway = ec2.create_internet_gateway(TagSpecifications=specs("internet-gateway"))[
        "InternetGateway"
    ]["InternetGatewayId"]
    key = c("kms", P).create_key(Tags=tag_list("TagKey", "TagValue"))["KeyMetadata"]["Arn"]
    c("logs", P).create_log_group(logGroupName="/planted", tags=TAGS)
    topic = c("sns", P).create_topic(Name="planted", Tags=tag_list())["TopicArn"]
    c("cloudwatch", P).put_metric_alarm(
        AlarmName="planted", MetricName="Errors", Namespace="AWS/Lambda", Statistic="Sum",
        Period=60, EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold",
        Tags=tag_list(),
    )  # fmt: skip
    secret = c("secretsmanager", P).create_secret(
        Name="planted", SecretString="x", Tags=tag_list()
    )["ARN"]
    c("dynamodb", P).create_table(
        TableName="planted", BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}], Tags=tag_list(),
    )  # fmt: skip
    certificate = c("acm", P).request_certificate(
        DomainName="planted.example.com", Tags=tag_list()
    )["CertificateArn"]
    role = c("iam", P).create_role(RoleName="planted-fn", AssumeRolePolicyDocument="{}")["Role"][
        "Arn"
    ]
    package = io.BytesIO()
    with zipfile.ZipFile(package, "w") as archive:
        archive.writestr("index.py", "def handler(event, context):\n    return 1\n")
    function = c("lambda", P).create_function(
        FunctionName="planted", Runtime="python3.12", Role=role, Handler="index.handler",
        Code={"ZipFile": package.getvalue()}, Tags=TAGS,
    )["FunctionArn"]  # fmt: skip
    c("rds", P).create_db_instance(
        DBInstanceIdentifier="planted", DBInstanceClass="db.t3.micro", Engine="postgres",
        MasterUsername="u", MasterUserPassword="password1", AllocatedStorage=20,
        Tags=tag_list(),
    )  # fmt: skip
    c("s3", S).create_bucket(
        Bucket="payments-planted-dev", CreateBucketConfiguration={"LocationConstraint": S}
    )
    c("s3", S).put_bucket_tagging(Bucket="payments-planted-dev", Tagging={"TagSet": tag_list()})
    cluster = c("ecs", P).create_cluster(clusterName="planted", tags=tag_list("key", "value"))[
        "cluster"
    ]["clusterArn"]
    ec2_arn = f"arn:aws:ec2:{P}:{ACCOUNT}"
    return {
        f"{ec2_arn}:vpc/{vpc}": "aws_vpc",
        f"{ec2_arn}:subnet/{subnet}": "aws_subnet",
        f"{ec2_arn}:security-group/{group}": "aws_security_group",
        f"{ec2_arn}:route-table/{table}": "aws_route_table",
        f"{ec2_arn}:internet-gateway/{gateway}": "aws_internet_gateway",
        key: "aws_kms_key",
        f"arn:aws:logs:{P}:{ACCOUNT}:log-group:/planted": "aws_cloudwatch_log_group",
        topic: "aws_sns_topic",
        f"arn:aws:cloudwatch:{P}:{ACCOUNT}:alarm:planted": "aws_cloudwatch_metric_alarm",
        secret: "aws_secretsmanager_secret",
        f"arn:aws:dynamodb:{P}:{ACCOUNT}:table/planted": "aws_dynamodb_table",
        certificate: "aws_acm_certificate",
        function: "aws_lambda_function",
        f"arn:aws:rds:{P}:{ACCOUNT}:db:planted": "aws_db_instance",
        "arn:aws:s3:::payments-planted-dev": "aws_s3_bucket",
        cluster: "aws_ecs_cluster",
    }


def test_planted_tagged_resources_are_named_by_the_drivers_types(
    spec: Any, clients: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    planted = plant(clients)
    graph = build_graph(spec)
    states = {ws: State.load(tmp_path, ws) for ws in ("primary", "secondary")}

    def kinds() -> dict[str, tuple[str, str]]:
        found = find_unmanaged(graph, states, clients, ["primary", "secondary"], set())
        return {u.id.removesuffix(":*"): (u.kind, u.region) for u in found}

    # Without a driver for clusters, the cluster is named by its service and resource type: the
    # names are the registry's, not a table of drift's own.
    cluster = next(arn for arn, tf_type in planted.items() if tf_type == Cluster.type)
    assert kinds()[cluster] == ("ecs:cluster", P)
    monkeypatch.setitem(_RESOURCES, Cluster.type, Cluster())

    found = kinds()
    assert {arn: found[arn][0] for arn in planted} == planted
    # The bucket is listed in every region but reported in its own (the driver locates it).
    assert found["arn:aws:s3:::payments-planted-dev"][1] == S


def test_what_aws_makes_for_a_database_is_not_unmanaged(
    spec: Any, clients: Any, tmp_path: Path
) -> None:
    """Its automated snapshots carry its tags but are AWS's: the instance's driver claims them;
    a snapshot taken by hand is someone's, and reported."""
    rds = clients("rds", P)
    rds.create_db_instance(
        DBInstanceIdentifier="planted", DBInstanceClass="db.t3.micro", Engine="postgres",
        MasterUsername="u", MasterUserPassword="password1", AllocatedStorage=20,
        CopyTagsToSnapshot=True, Tags=tag_list(),
    )  # fmt: skip
    rds.create_db_snapshot(
        DBInstanceIdentifier="planted", DBSnapshotIdentifier="by-hand", Tags=tag_list()
    )
    automated = {
        s["DBSnapshotArn"]
        for s in rds.describe_db_snapshots(SnapshotType="automated")["DBSnapshots"]
    }
    tagged = {
        m["ResourceARN"]
        for m in clients("resourcegroupstaggingapi", P).get_resources(
            TagFilters=[{"Key": k, "Values": [v]} for k, v in TAGS.items()]
        )["ResourceTagMappingList"]
    }
    assert automated and automated <= tagged

    graph = build_graph(spec)
    states = {ws: State.load(tmp_path, ws) for ws in ("primary", "secondary")}
    found = find_unmanaged(graph, states, clients, ["primary"], set())
    assert {u.id: u.kind for u in found if u.kind.startswith("rds") or "rds" in u.id} == {
        f"arn:aws:rds:{P}:{ACCOUNT}:db:planted": "aws_db_instance",
        f"arn:aws:rds:{P}:{ACCOUNT}:snapshot:by-hand": "rds:snapshot",
    }
