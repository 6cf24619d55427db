"""A group's whole rule set (resources/ec2/exclusive_rules.py), as drift and apply see it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from deployer.drift import DRIFTED, IN_SYNC, detect_drift
from deployer.resource import resource_driver
from resources.ec2.exclusive_rules import rule_words

DB_RULES = "primary:aws_vpc_security_group_rules_exclusive.db"
LAMBDA_RULES = "primary:aws_vpc_security_group_rules_exclusive.lambda"
DB_GROUP = "primary:aws_security_group.db"
DB_INGRESS = "primary:aws_vpc_security_group_ingress_rule.db_postgres_from_lambda"
LAMBDA_HTTPS = "primary:aws_vpc_security_group_egress_rule.lambda_https"
LAMBDA_TO_DB = "primary:aws_vpc_security_group_egress_rule.lambda_postgres_to_db"
SSH_FROM_ANYWHERE = {
    "IpProtocol": "tcp",
    "FromPort": 22,
    "ToPort": 22,
    "IpRanges": [{"CidrIp": "0.0.0.0/0", "Description": "debugging"}],
}


def _drift(deployment: Any) -> Any:
    return detect_drift(deployment.graph, deployment.states(), deployment.clients, ["primary"])


def _result(report: Any, key: str) -> Any:
    return next(r for r in report.resources if r.key == key)


def _rule_ids(rules: list[dict[str, Any]], egress: bool) -> list[str]:
    return sorted(r["SecurityGroupRuleId"] for r in rules if bool(r.get("IsEgress")) == egress)


def test_the_sets_are_the_groups_managed_rules(
    deployment: Any, group_rules: Callable[[str], list[dict[str, Any]]]
) -> None:
    deployment.apply(DB_RULES, LAMBDA_RULES)
    assert deployment.diff(DB_RULES) == {} and deployment.diff(LAMBDA_RULES) == {}
    db = deployment.read(DB_RULES)
    assert db is not None
    assert db["ingress_rule_ids"] == [deployment.entry(DB_INGRESS)["id"]]
    assert db["egress_rule_ids"] == []
    lam = deployment.read(LAMBDA_RULES)
    assert lam is not None
    assert lam["egress_rule_ids"] == sorted(
        deployment.entry(key)["id"] for key in (LAMBDA_HTTPS, LAMBDA_TO_DB)
    )
    group = deployment.entry(DB_GROUP)["id"]
    assert deployment.entry(DB_RULES)["id"] == group
    assert db["ingress_rule_ids"] == _rule_ids(group_rules(group), egress=False)


def test_an_opened_ingress_is_drift_described_once_and_revoked_by_apply(
    deployment: Any,
    client_for: Callable[..., Any],
    group_rules: Callable[[str], list[dict[str, Any]]],
) -> None:
    deployment.apply(DB_RULES)
    group = deployment.entry(DB_GROUP)["id"]
    managed = deployment.entry(DB_INGRESS)["id"]
    opened = client_for("ec2").authorize_security_group_ingress(
        GroupId=group, IpPermissions=[SSH_FROM_ANYWHERE]
    )["SecurityGroupRules"][0]["SecurityGroupRuleId"]

    report = _drift(deployment)
    result = _result(report, DB_RULES)
    assert result.status == DRIFTED
    changes = {c.name: (c.expected, c.actual) for c in result.changes}
    assert changes == {"ingress_rule_ids": ([managed], sorted([managed, opened]))}
    words = resource_driver(result.type).describe_value(
        "ingress_rule_ids", [opened], deployment.read(DB_RULES)
    )
    assert words == f"{opened}: ingress tcp port 22 from 0.0.0.0/0 (debugging)"
    # The VPC's scan for what no state manages does not report the same rule again.
    assert [u for u in report.unmanaged if u.id == opened] == []

    change = deployment.plan(DB_RULES).changes[DB_RULES]
    assert change.action.value == "update" and list(change.diffs) == ["ingress_rule_ids"]
    deployment.apply(DB_RULES)
    assert _rule_ids(group_rules(group), egress=False) == [managed]
    assert _result(_drift(deployment), DB_RULES).status == IN_SYNC


def test_an_added_egress_is_drift_and_revoked_by_apply(
    deployment: Any,
    client_for: Callable[..., Any],
    group_rules: Callable[[str], list[dict[str, Any]]],
) -> None:
    deployment.apply(DB_RULES)
    group = deployment.entry(DB_GROUP)["id"]
    client_for("ec2").authorize_security_group_egress(
        GroupId=group, IpPermissions=[{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]
    )
    result = _result(_drift(deployment), DB_RULES)
    assert [c.name for c in result.changes] == ["egress_rule_ids"]
    added = result.changes[0].actual
    words = resource_driver(result.type).describe_value(
        "egress_rule_ids", added, deployment.read(DB_RULES)
    )
    assert words == f"{added[0]}: egress all traffic to 0.0.0.0/0"
    deployment.apply(DB_RULES)
    assert _rule_ids(group_rules(group), egress=True) == []


def test_destroying_the_set_revokes_no_rule(
    deployment: Any, group_rules: Callable[[str], list[dict[str, Any]]]
) -> None:
    deployment.apply(DB_RULES)
    group = deployment.entry(DB_GROUP)["id"]
    driver, ctx = deployment.driver_and_context(DB_RULES)
    driver.delete(ctx, group, deployment.read(DB_RULES))
    assert _rule_ids(group_rules(group), egress=False) == [deployment.entry(DB_INGRESS)["id"]]


def test_a_rule_in_words() -> None:
    """Protocol, ports and peer, from what DescribeSecurityGroupRules says of a rule."""
    base = {"IsEgress": False, "IpProtocol": "tcp", "CidrIpv4": "10.0.0.0/8"}
    assert rule_words({**base, "FromPort": 443, "ToPort": 443}) == (
        "ingress tcp port 443 from 10.0.0.0/8"
    )
    assert rule_words({**base, "FromPort": 1024, "ToPort": 2048}) == (
        "ingress tcp ports 1024-2048 from 10.0.0.0/8"
    )
    assert rule_words({**base, "FromPort": 0, "ToPort": 65535}) == (
        "ingress tcp all ports from 10.0.0.0/8"
    )
    icmp = {"IsEgress": False, "IpProtocol": "icmp", "FromPort": 8, "ToPort": 0}
    assert rule_words({**icmp, "CidrIpv6": "::/0"}) == "ingress icmp type 8 code 0 from ::/0"
    assert rule_words(
        {"IsEgress": True, "IpProtocol": "-1", "ReferencedGroupInfo": {"GroupId": "sg-1"}}
    ) == ("egress all traffic to sg-1")
    assert rule_words(
        {"IsEgress": True, "IpProtocol": "udp", "FromPort": 53, "ToPort": 53,
         "PrefixListId": "pl-1"}
    ) == "egress udp port 53 to pl-1"  # fmt: skip
