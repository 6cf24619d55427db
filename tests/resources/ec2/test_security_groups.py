"""Security groups, the default group and rules (resources/ec2/security_groups.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from deployer.aws import DeployerError
from deployer.model import Ref

VPC = "primary:aws_vpc.main"
DB_GROUP = "primary:aws_security_group.db"
LAMBDA_GROUP = "primary:aws_security_group.lambda"
DEFAULT_GROUP = "primary:aws_default_security_group.main"
DB_INGRESS = "primary:aws_vpc_security_group_ingress_rule.db_postgres_from_lambda"
LAMBDA_HTTPS = "primary:aws_vpc_security_group_egress_rule.lambda_https"
LAMBDA_TO_DB = "primary:aws_vpc_security_group_egress_rule.lambda_postgres_to_db"


def test_new_security_group_has_no_rules_at_all(
    deployment: Any,
    client_for: Callable[..., Any],
    group_rules: Callable[[str], list[dict[str, Any]]],
) -> None:
    deployment.apply(DB_GROUP)
    assert deployment.diff(DB_GROUP) == {}
    group_id = deployment.entry(DB_GROUP)["id"]
    assert group_rules(group_id) == []
    live = deployment.read(DB_GROUP)
    assert live is not None and "ingress" not in live and "egress" not in live
    assert live["name"] == "payments-db-sg-dev"


def test_adopted_security_group_loses_the_default_egress(
    deployment: Any,
    client_for: Callable[..., Any],
    interrupted: Callable[[str], str],
    group_rules: Callable[[str], list[dict[str, Any]]],
) -> None:
    """A crash between CreateSecurityGroup and the revocation leaves the allow-all rule."""
    deployment.apply(LAMBDA_GROUP)
    ec2 = client_for("ec2")
    group_id = interrupted(LAMBDA_GROUP)
    ec2.authorize_security_group_egress(
        GroupId=group_id,
        IpPermissions=[{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
    )
    deployment.apply(LAMBDA_GROUP)
    assert deployment.entry(LAMBDA_GROUP)["id"] == group_id
    assert group_rules(group_id) == []


def test_security_group_description_forces_replacement(deployment: Any) -> None:
    deployment.apply(DB_GROUP)
    deployment.graph.node(DB_GROUP).attributes["description"] = "something else"
    change = deployment.plan(DB_GROUP).changes[DB_GROUP]
    assert (change.action.value, change.forces) == ("replace", ["description"])


def default_group(ec2: Any, vpc_id: str) -> dict[str, Any]:
    (group,) = ec2.describe_security_groups(
        Filters=[
            {"Name": "vpc-id", "Values": [vpc_id]},
            {"Name": "group-name", "Values": ["default"]},
        ]
    )["SecurityGroups"]
    return dict(group)


def test_default_security_group_is_adopted_and_emptied(
    deployment: Any,
    client_for: Callable[..., Any],
    group_rules: Callable[[str], list[dict[str, Any]]],
) -> None:
    ec2 = client_for("ec2")
    deployment.apply(VPC)
    group = default_group(ec2, deployment.entry(VPC)["id"])
    assert group_rules(group["GroupId"]), "AWS (and moto) open a new VPC's default group"

    deployment.apply(DEFAULT_GROUP)
    assert deployment.entry(DEFAULT_GROUP)["id"] == group["GroupId"]
    assert deployment.diff(DEFAULT_GROUP) == {}
    assert group_rules(group["GroupId"]) == []
    tags = {t["Key"]: t["Value"] for t in default_group(ec2, group["VpcId"]).get("Tags", [])}
    assert tags["deployer:address"] == "aws_default_security_group.main"
    live = deployment.read(DEFAULT_GROUP)
    assert live is not None
    assert (live["name"], live["ingress"], live["egress"]) == ("default", [], [])


def test_a_rule_added_to_the_default_group_is_drift_and_removed(
    deployment: Any,
    client_for: Callable[..., Any],
    group_rules: Callable[[str], list[dict[str, Any]]],
) -> None:
    ec2 = client_for("ec2")
    deployment.apply(DEFAULT_GROUP)
    group_id = deployment.entry(DEFAULT_GROUP)["id"]
    ec2.authorize_security_group_ingress(
        GroupId=group_id,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
             "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
            {"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": group_id}]},
        ],
    )  # fmt: skip
    live = deployment.read(DEFAULT_GROUP)
    assert live is not None
    assert sorted((r["protocol"], r["cidr_blocks"], r["self"]) for r in live["ingress"]) == [
        ("-1", [], True),
        ("tcp", ["0.0.0.0/0"], False),
    ]
    assert set(deployment.diff(DEFAULT_GROUP)) == {"ingress"}
    change = deployment.plan(DEFAULT_GROUP).changes[DEFAULT_GROUP]
    assert change.action.value == "update"

    deployment.apply(DEFAULT_GROUP)
    assert group_rules(group_id) == []
    assert deployment.entry(DEFAULT_GROUP)["id"] == group_id


def test_default_group_delete_lets_go_and_only_empty_rules_are_supported(
    deployment: Any, client_for: Callable[..., Any]
) -> None:
    deployment.apply(DEFAULT_GROUP)
    driver, ctx = deployment.driver_and_context(DEFAULT_GROUP)
    group_id = deployment.entry(DEFAULT_GROUP)["id"]
    driver.delete(ctx, group_id, None)  # AWS refuses DeleteSecurityGroup on a default group
    assert driver.read(ctx, group_id) is not None
    assert driver.find(ctx, {"vpc_id": deployment.entry(VPC)["id"]}) == group_id
    rule = {"protocol": "-1", "from_port": 0, "to_port": 0, "self": True}
    with pytest.raises(DeployerError, match="only an empty rule set"):
        driver.create(ctx, {"vpc_id": deployment.entry(VPC)["id"], "ingress": [rule]})


@pytest.mark.parametrize(
    ("attribute", "value", "api_field"),
    [("from_port", 8443, "FromPort"), ("description", "HTTPS to AWS", "Description")],
)
def test_security_group_rule_updates_in_place(
    deployment: Any, client_for: Callable[..., Any], attribute: str, value: Any, api_field: str
) -> None:
    deployment.apply(LAMBDA_HTTPS)
    rule_id = deployment.entry(LAMBDA_HTTPS)["id"]
    attributes = deployment.graph.node(LAMBDA_HTTPS).attributes
    attributes[attribute] = value
    if attribute == "from_port":
        attributes["to_port"] = value
    assert deployment.plan(LAMBDA_HTTPS).changes[LAMBDA_HTTPS].action.value == "update"
    deployment.apply(LAMBDA_HTTPS)
    assert deployment.entry(LAMBDA_HTTPS)["id"] == rule_id
    rule = client_for("ec2").describe_security_group_rules(SecurityGroupRuleIds=[rule_id])[
        "SecurityGroupRules"
    ][0]
    assert rule[api_field] == value
    assert deployment.diff(LAMBDA_HTTPS) == {}


def test_security_group_rule_tags(deployment: Any, client_for: Callable[..., Any]) -> None:
    deployment.apply(DB_INGRESS)
    rule_id = deployment.entry(DB_INGRESS)["id"]
    rule = client_for("ec2").describe_security_group_rules(SecurityGroupRuleIds=[rule_id])[
        "SecurityGroupRules"
    ][0]
    tags = {t["Key"]: t["Value"] for t in rule["Tags"]}
    assert tags["deployer:address"] == "aws_vpc_security_group_ingress_rule.db_postgres_from_lambda"
    assert rule["Description"] == "PostgreSQL from the payment Lambda"
    deployment.graph.node(DB_INGRESS).attributes["tags"]["Owner"] = "dba"
    deployment.apply(DB_INGRESS)
    live = deployment.read(DB_INGRESS)
    assert live is not None and live["tags"]["Owner"] == "dba"


def test_security_group_rule_moving_groups_forces_replacement(deployment: Any) -> None:
    deployment.apply(LAMBDA_TO_DB, DB_GROUP)
    deployment.graph.node(LAMBDA_TO_DB).attributes["security_group_id"] = Ref(
        "aws_security_group.db", "id"
    )
    change = deployment.plan(LAMBDA_TO_DB, DB_GROUP).changes[LAMBDA_TO_DB]
    assert (change.action.value, change.forces) == ("replace", ["security_group_id"])


def test_egress_driver_does_not_read_an_ingress_rule(deployment: Any) -> None:
    deployment.apply(DB_INGRESS, LAMBDA_HTTPS)
    egress_driver, ctx = deployment.driver_and_context(LAMBDA_HTTPS)
    assert egress_driver.read(ctx, deployment.entry(DB_INGRESS)["id"]) is None


def test_security_group_rule_interrupted_create_is_adopted(
    deployment: Any,
    client_for: Callable[..., Any],
    interrupted: Callable[[str], str],
    group_rules: Callable[[str], list[dict[str, Any]]],
) -> None:
    deployment.apply(LAMBDA_TO_DB)
    made = interrupted(LAMBDA_TO_DB)
    deployment.apply(LAMBDA_TO_DB)
    assert deployment.entry(LAMBDA_TO_DB)["id"] == made
    rules = group_rules(deployment.entry(LAMBDA_GROUP)["id"])
    assert [r["SecurityGroupRuleId"] for r in rules] == [made]
