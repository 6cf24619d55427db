"""Batched reads: a refresh asks AWS once per kind and region, and reads the same as alone."""

from __future__ import annotations

from typing import Any

from deployer.aws import Clients
from deployer.batch import BatchRead, Describe, ReadBatch, ec2_filters, item_key
from deployer.model import Node
from deployer.planner import context_for, prefetch_reads
from deployer.resource import Resource, driver_for
from stack.network import network

ALARM = "primary:aws_cloudwatch_metric_alarm.lambda_errors"


def network_keys(deployment: Any) -> list[str]:
    return [n.key for n in network(deployment.spec, "primary") if isinstance(n, Node)]


def refresh(deployment: Any, keys: list[str]) -> tuple[Any, Clients]:
    """A plan of those nodes with fresh clients, whose counter sees only the refresh."""
    fresh = Clients()
    deployment.clients = fresh
    return deployment.plan(*keys), fresh


def test_a_refresh_describes_each_kind_once_per_region(deployment: Any) -> None:
    keys = network_keys(deployment)
    deployment.apply(*keys)

    plan, clients = refresh(deployment, keys)

    assert not plan.has_changes
    calls = clients.counter.calls
    # 6 subnets, 3 NAT gateways and EIPs, 4 route tables with 4 routes and 6 associations,
    # security groups and their rules: one call per kind and filter.
    assert calls["ec2:DescribeSubnets"] == 1
    assert calls["ec2:DescribeNatGateways"] == 1
    assert calls["ec2:DescribeAddresses"] == 1
    # The managed rules by id, the default group's rules (kept empty) by group.
    assert calls["ec2:DescribeSecurityGroupRules"] == 2
    # By table id (tables, routes), by association id, by VPC (the VPC's main table).
    assert calls["ec2:DescribeRouteTables"] == 3
    assert clients.counter.reads < len([k for k in keys if ".data." not in k])


def test_batched_reads_equal_reads_one_at_a_time(deployment: Any) -> None:
    keys = network_keys(deployment)
    deployment.apply(*keys)
    states = deployment.states()
    nodes = [deployment.graph.node(k) for k in keys]
    batch = prefetch_reads(nodes, states, deployment.clients, deployment.spec.region)

    compared = 0
    for node in nodes:
        driver = driver_for(node)
        if not isinstance(driver, Resource):
            continue
        entry = states[node.workspace].get(node.address)
        assert entry is not None
        alone = driver.read(
            context_for(deployment.clients, deployment.spec.region, node), entry["id"]
        )
        batched_context = context_for(deployment.clients, deployment.spec.region, node, batch=batch)
        assert driver.read(batched_context, entry["id"]) == alone, node.key
        compared += 1
    assert compared == len(nodes)


def test_what_was_deleted_outside_is_missing_from_the_batch(
    deployment: Any, client_for: Any
) -> None:
    keys = network_keys(deployment)
    deployment.apply(*keys)
    association = deployment.entry("primary:aws_route_table_association.private_a")["id"]
    rule = deployment.entry("primary:aws_vpc_security_group_egress_rule.lambda_https")
    ec2 = client_for("ec2")
    ec2.disassociate_route_table(AssociationId=association)
    ec2.revoke_security_group_egress(
        GroupId=rule["attributes"]["security_group_id"], SecurityGroupRuleIds=[rule["id"]]
    )

    plan, clients = refresh(deployment, keys)

    recreated = {c.address: c.reason for c in plan.actionable()}
    assert recreated == {
        "aws_route_table_association.private_a": "the resource was deleted outside the deployer",
        "aws_vpc_security_group_egress_rule.lambda_https": (
            "the resource was deleted outside the deployer"
        ),
        # The group's owned rule set names the rule: an update, to its new id (no reason).
        "aws_vpc_security_group_rules_exclusive.lambda": "",
    }
    assert clients.counter.calls["ec2:DescribeSecurityGroupRules"] == 2


def test_a_refused_batch_falls_back_to_one_call_per_resource(
    deployment: Any, client_for: Any
) -> None:
    keys = [k for k in network_keys(deployment) if ":aws_subnet." in k]
    deployment.apply(*keys)
    subnet_ids = [deployment.entry(k)["id"] for k in keys]

    def one_at_a_time(by: str, values: list[str]) -> dict[str, Any]:
        if len(values) > 1:  # as a service refusing a long filter would
            raise ValueError("too many values")
        return ec2_filters(by, values)

    subnets = Describe(
        "ec2", "describe_subnets", "Subnets", {"subnet-id": item_key("SubnetId")}, one_at_a_time
    )
    clients = Clients()
    batch = ReadBatch()
    batch.prefetch(clients, [("us-east-1", BatchRead(subnets, "subnet-id", i)) for i in subnet_ids])
    assert batch.answer(subnets, "us-east-1", "subnet-id", subnet_ids[0]) is None

    node = deployment.graph.node(keys[0])
    context = context_for(clients, deployment.spec.region, node, batch=batch)
    (subnet,) = context.describe(subnets, "subnet-id", subnet_ids[0])
    assert subnet["SubnetId"] == subnet_ids[0]
    assert clients.counter.calls["ec2:DescribeSubnets"] == 1


def test_alarms_are_described_together(deployment: Any) -> None:
    alarms = [
        n.key
        for n in deployment.graph.nodes()
        if n.type == "aws_cloudwatch_metric_alarm" and n.workspace == "primary"
    ][:3]
    deployment.apply(*alarms)

    plan, clients = refresh(deployment, alarms)

    assert not plan.has_changes, [(c.key, c.diffs) for c in plan.actionable()]
    assert clients.counter.calls["cloudwatch:DescribeAlarms"] == len(
        {
            context_for(clients, deployment.spec.region, deployment.graph.node(k)).region
            for k in alarms
        }
    )
