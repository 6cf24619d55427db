"""EC2/VPC drivers, one module per part of the network.

- `shared`: the batched describe calls, EC2's tag calls, finding what an interrupted create
  made, and the base class of the drivers;
- `vpc`: the VPC and its subnets, and drift's scan of a managed VPC for what no state manages;
- `gateways`: the internet gateway, Elastic IPs and NAT gateways;
- `routing`: route tables, routes and their associations;
- `security_groups`: security groups, the VPC's default group and rules;
- `exclusive_rules`: the whole rule set of a group (`aws_vpc_security_group_rules_exclusive`);
- `endpoints`: VPC endpoints; `flow_logs`: VPC flow logs.

The drivers are registered by their modules (the loader imports every one); the names below
are for readers and tests.
"""

from __future__ import annotations

from resources.ec2.endpoints import VpcEndpoint
from resources.ec2.exclusive_rules import SecurityGroupRulesExclusive
from resources.ec2.flow_logs import FlowLog
from resources.ec2.gateways import ElasticIp, InternetGateway, NatGateway
from resources.ec2.routing import Route, RouteTable, RouteTableAssociation
from resources.ec2.security_groups import (
    DefaultSecurityGroup,
    SecurityGroup,
    SecurityGroupEgressRule,
    SecurityGroupIngressRule,
)
from resources.ec2.vpc import Subnet, Vpc

__all__ = [
    "DefaultSecurityGroup",
    "ElasticIp",
    "FlowLog",
    "InternetGateway",
    "NatGateway",
    "Route",
    "RouteTable",
    "RouteTableAssociation",
    "SecurityGroup",
    "SecurityGroupEgressRule",
    "SecurityGroupIngressRule",
    "SecurityGroupRulesExclusive",
    "Subnet",
    "Vpc",
    "VpcEndpoint",
]
