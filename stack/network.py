"""The network of one region.

Per workspace: a VPC over three availability zones with a public and a private subnet in each,
an internet gateway, NAT gateway(s) with Elastic IPs (one per AZ, or a single one when the spec
says `nat_gateways: single`), route tables with routes and associations, gateway endpoints for
S3 and DynamoDB whose policies keep the private subnets to this account's payment data, the
Lambda and database security groups with their rules as separate resources, and VPC flow logs
to a KMS-encrypted log group, delivered through the `flow_logs` role whose permissions this
component declares.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from deployer.model import Json, Node, Output, Ref
from deployer.resource import blueprint
from deployer.spec import Spec
from stack.account import ACCOUNT_ID, account_arn
from stack.bucket import bucket_name
from stack.keys import key_ref
from stack.permissions import Statement, grants, regions, statement
from stack.roles import role_ref
from stack.tables import HANDLER_ACTIONS, table_arns

# The file of the Terraform export that holds this component's blocks.
TERRAFORM_FILE = "vpc.tf"

FLOW_LOG_GROUP = "aws_cloudwatch_log_group.flow_logs"

AZ_SUFFIXES: tuple[str, ...] = ("a", "b", "c")
ANYWHERE_IPV4 = "0.0.0.0/0"
HTTPS_PORT = 443
POSTGRES_PORT = 5432
# Services reached through gateway endpoints (no NAT traffic, no per-hour cost).
GATEWAY_ENDPOINT_SERVICES: tuple[str, ...] = ("s3", "dynamodb")
# What the S3 endpoint lets the private subnets do with the region's payments bucket: list it,
# read and write its objects (versions included); no bucket configuration, no deletes.
PAYMENTS_BUCKET_ACTIONS: tuple[str, ...] = (
    "s3:GetObject",
    "s3:GetObjectVersion",
    "s3:ListBucket",
    "s3:PutObject",
)


# ---------------------------------------------------------------------------------------------
# Names and references other components use


def availability_zones(spec: Spec, workspace: str) -> list[str]:
    """`<region>a`, `<region>b`, `<region>c`: the three AZs the subnets spread over."""
    region = spec.region(workspace)
    return [f"{region}{suffix}" for suffix in AZ_SUFFIXES]


def nat_gateway_suffixes(spec: Spec) -> tuple[str, ...]:
    """One NAT gateway per AZ, or a single one in the first AZ."""
    return AZ_SUFFIXES if spec.network.nat_gateways == "per_az" else AZ_SUFFIXES[:1]


def nat_gateway_for(spec: Spec, az_suffix: str) -> str:
    """Which NAT gateway an AZ's private subnet routes through."""
    return az_suffix if spec.network.nat_gateways == "per_az" else AZ_SUFFIXES[0]


def private_subnet_refs(spec: Spec, workspace: str) -> list[Ref]:
    """The private subnets' ids, where the Lambda and the database live."""
    return [Ref(f"aws_subnet.private_{suffix}", "id") for suffix in AZ_SUFFIXES]


def public_subnet_refs(spec: Spec, workspace: str) -> list[Ref]:
    return [Ref(f"aws_subnet.public_{suffix}", "id") for suffix in AZ_SUFFIXES]


def security_group_ref(name: str) -> Ref:
    """`lambda` or `db`: the group's id, to put on a function or a database."""
    return Ref(f"aws_security_group.{name}", "id")


def security_group_name(spec: Spec, name: str) -> str:
    return spec.name(name, "sg")


def flow_log_group_name(spec: Spec) -> str:
    return f"/aws/vpc/flow-logs/{spec.name('vpc')}"


def endpoint_policy(spec: Spec, workspace: str, service: str) -> Json:
    """Only this account's principals, only on this region's payment data, only what it needs.

    A data perimeter: the private subnets reach DynamoDB and S3 through the endpoints alone,
    so neither stolen credentials of another account nor our own carry data out to any other
    table or bucket. DynamoDB: what the payment handler does on the region's tables. S3: the
    region's payments bucket and its objects (for S3, whose bucket names any account may take
    once freed, the bucket must also be this account's).
    """
    region = spec.region(workspace)
    conditions: dict[str, Any] = {"aws:PrincipalAccount": ACCOUNT_ID}
    actions: list[str]
    resources: list[Any]
    if service == "dynamodb":
        actions, resources = list(HANDLER_ACTIONS), list(table_arns(spec, region))
    elif service == "s3":
        bucket = f"arn:aws:s3:::{bucket_name(spec, workspace)}"
        actions, resources = list(PAYMENTS_BUCKET_ACTIONS), [bucket, f"{bucket}/*"]
        conditions["aws:ResourceAccount"] = ACCOUNT_ID
    else:
        raise ValueError(f"no endpoint policy for {service}")
    return Json(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "ThisAccountPaymentData",
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": actions,
                    "Resource": resources,
                    "Condition": {"StringEquals": conditions},
                }
            ],
        }
    )


@grants("flow_logs")
def flow_log_delivery(spec: Spec) -> list[Statement]:
    """Deliver flow logs into the flow-log group of either region, and nothing else."""
    group = flow_log_group_name(spec)
    return [
        statement(
            "DeliverFlowLogs",
            ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
            [account_arn("logs", region, f"log-group:{group}:*") for region in regions(spec)],
        ),
        # DescribeLogGroups is authorised on the account's whole log-group space: AWS
        # documents `log-group:*` as the narrowest resource that works.
        statement(
            "FindFlowLogGroup",
            ["logs:DescribeLogGroups"],
            [account_arn("logs", region, "log-group:*") for region in regions(spec)],
        ),
    ]


# ---------------------------------------------------------------------------------------------
# Blueprint


@blueprint
def network(spec: Spec, workspace: str) -> Iterator[Node | Output]:
    region = spec.region(workspace)
    net = spec.workspace_network(workspace)
    zones = availability_zones(spec, workspace)
    vpc_id = Ref("aws_vpc.main", "id")
    igw_id = Ref("aws_internet_gateway.main", "id")

    yield Node(
        "aws_vpc",
        "main",
        workspace,
        {
            "cidr_block": net.vpc_cidr,
            "enable_dns_support": True,
            "enable_dns_hostnames": True,
            "tags": {"Name": spec.name("vpc")},
        },
    )
    for tier, cidrs in (("public", net.public_subnets), ("private", net.private_subnets)):
        for suffix, zone, cidr in zip(AZ_SUFFIXES, zones, cidrs, strict=True):
            yield Node(
                "aws_subnet",
                f"{tier}_{suffix}",
                workspace,
                {
                    "vpc_id": vpc_id,
                    "cidr_block": cidr,
                    "availability_zone": zone,
                    # Nothing is launched in the public subnets but the NAT gateways.
                    "map_public_ip_on_launch": False,
                    "tags": {"Name": spec.name(tier, suffix), "Tier": tier},
                },
            )
    yield Node(
        "aws_internet_gateway",
        "main",
        workspace,
        {"vpc_id": vpc_id, "tags": {"Name": spec.name("igw")}},
    )

    for suffix in nat_gateway_suffixes(spec):
        yield Node(
            "aws_eip",
            f"nat_{suffix}",
            workspace,
            {"domain": "vpc", "tags": {"Name": spec.name("nat-eip", suffix)}},
        )
        yield Node(
            "aws_nat_gateway",
            suffix,
            workspace,
            {
                "allocation_id": Ref(f"aws_eip.nat_{suffix}", "id"),
                "subnet_id": Ref(f"aws_subnet.public_{suffix}", "id"),
                "connectivity_type": "public",
                "tags": {"Name": spec.name("nat", suffix)},
            },
            # A public NAT gateway fails without an internet gateway attached to its VPC.
            depends_on=(igw_id,),
        )

    yield Node(
        "aws_route_table",
        "public",
        workspace,
        {"vpc_id": vpc_id, "tags": {"Name": spec.name("public-rt")}},
    )
    yield Node(
        "aws_route",
        "public_internet",
        workspace,
        {
            "route_table_id": Ref("aws_route_table.public", "id"),
            "destination_cidr_block": ANYWHERE_IPV4,
            "gateway_id": igw_id,
        },
    )
    for suffix in AZ_SUFFIXES:
        yield Node(
            "aws_route_table",
            f"private_{suffix}",
            workspace,
            {"vpc_id": vpc_id, "tags": {"Name": spec.name("private-rt", suffix)}},
        )
        yield Node(
            "aws_route",
            f"private_{suffix}_nat",
            workspace,
            {
                "route_table_id": Ref(f"aws_route_table.private_{suffix}", "id"),
                "destination_cidr_block": ANYWHERE_IPV4,
                # A route to a NAT gateway that is still pending would blackhole traffic.
                "nat_gateway_id": Ref(
                    f"aws_nat_gateway.{nat_gateway_for(spec, suffix)}", "id", ready=True
                ),
            },
        )
    for tier in ("public", "private"):
        for suffix in AZ_SUFFIXES:
            table = "public" if tier == "public" else f"private_{suffix}"
            yield Node(
                "aws_route_table_association",
                f"{tier}_{suffix}",
                workspace,
                {
                    "subnet_id": Ref(f"aws_subnet.{tier}_{suffix}", "id"),
                    "route_table_id": Ref(f"aws_route_table.{table}", "id"),
                },
            )

    for service in GATEWAY_ENDPOINT_SERVICES:
        yield Node(
            "aws_vpc_endpoint",
            service,
            workspace,
            {
                "vpc_id": vpc_id,
                "service_name": f"com.amazonaws.{region}.{service}",
                "vpc_endpoint_type": "Gateway",
                "route_table_ids": [
                    Ref(f"aws_route_table.private_{suffix}", "id") for suffix in AZ_SUFFIXES
                ],
                "policy": endpoint_policy(spec, workspace, service),
                "tags": {"Name": spec.name(service, "endpoint")},
            },
        )

    yield from _security_groups(spec, workspace)
    yield from _flow_logs(spec, workspace)

    yield Output("vpc_id", workspace, vpc_id, "The region's VPC")
    yield Output(
        "public_subnet_ids", workspace, public_subnet_refs(spec, workspace), "NAT gateway subnets"
    )
    yield Output(
        "private_subnet_ids",
        workspace,
        private_subnet_refs(spec, workspace),
        "Subnets of the Lambda and the database",
    )
    yield Output(
        "lambda_security_group_id", workspace, security_group_ref("lambda"), "The Lambda's group"
    )
    yield Output(
        "db_security_group_id", workspace, security_group_ref("db"), "The database's group"
    )


def _security_groups(spec: Spec, workspace: str) -> Iterator[Node]:
    """Two groups without inline rules; each rule is its own resource (provider 6 style), and
    each group's whole rule set is owned (`aws_vpc_security_group_rules_exclusive`). The VPC's
    default group, which nothing uses, is kept without any rule."""
    yield Node(
        "aws_default_security_group",
        "main",
        workspace,
        {
            "vpc_id": Ref("aws_vpc.main", "id"),
            "ingress": [],
            "egress": [],
            "tags": {"Name": spec.name("default-sg-no-traffic")},
        },
    )
    purposes = {
        "lambda": "Payment Lambda: HTTPS to AWS APIs, PostgreSQL to the database",
        "db": "Payment database: PostgreSQL from the Lambda only",
    }
    for name, description in purposes.items():
        yield Node(
            "aws_security_group",
            name,
            workspace,
            {
                "name": security_group_name(spec, name),
                "description": description,
                "vpc_id": Ref("aws_vpc.main", "id"),
                "tags": {"Name": security_group_name(spec, name)},
            },
        )
    lambda_group, db_group = security_group_ref("lambda"), security_group_ref("db")
    yield Node(
        "aws_vpc_security_group_ingress_rule",
        "db_postgres_from_lambda",
        workspace,
        {
            "security_group_id": db_group,
            "referenced_security_group_id": lambda_group,
            "ip_protocol": "tcp",
            "from_port": POSTGRES_PORT,
            "to_port": POSTGRES_PORT,
            "description": "PostgreSQL from the payment Lambda",
            "tags": {"Name": spec.name("db-postgres-from-lambda")},
        },
    )
    yield Node(
        "aws_vpc_security_group_egress_rule",
        "lambda_https",
        workspace,
        {
            "security_group_id": lambda_group,
            "cidr_ipv4": ANYWHERE_IPV4,
            "ip_protocol": "tcp",
            "from_port": HTTPS_PORT,
            "to_port": HTTPS_PORT,
            "description": "HTTPS to AWS APIs",
            "tags": {"Name": spec.name("lambda-https")},
        },
    )
    yield Node(
        "aws_vpc_security_group_egress_rule",
        "lambda_postgres_to_db",
        workspace,
        {
            "security_group_id": lambda_group,
            "referenced_security_group_id": db_group,
            "ip_protocol": "tcp",
            "from_port": POSTGRES_PORT,
            "to_port": POSTGRES_PORT,
            "description": "PostgreSQL to the payment database",
            "tags": {"Name": spec.name("lambda-postgres-to-db")},
        },
    )
    # Each group owns its whole rule set: a rule opened behind our back is drift, and apply
    # revokes it (provider 6 only; the provider 5 export says it is not enforced there).
    owned = {
        "lambda": ([], ["lambda_https", "lambda_postgres_to_db"]),
        "db": (["db_postgres_from_lambda"], []),
    }
    for name, (ingress, egress) in owned.items():
        yield Node(
            "aws_vpc_security_group_rules_exclusive",
            name,
            workspace,
            {
                "security_group_id": security_group_ref(name),
                "ingress_rule_ids": [
                    Ref(f"aws_vpc_security_group_ingress_rule.{rule}", "id") for rule in ingress
                ],
                "egress_rule_ids": [
                    Ref(f"aws_vpc_security_group_egress_rule.{rule}", "id") for rule in egress
                ],
            },
        )


def _flow_logs(spec: Spec, workspace: str) -> Iterator[Node]:
    yield Node(
        "aws_cloudwatch_log_group",
        "flow_logs",
        workspace,
        {
            "name": flow_log_group_name(spec),
            "retention_in_days": spec.network.flow_logs_retention_days,
            "kms_key_id": key_ref("logs", "arn"),
            "tags": {"Name": spec.name("flow-logs")},
        },
    )
    yield Node(
        "aws_flow_log",
        "main",
        workspace,
        {
            "vpc_id": Ref("aws_vpc.main", "id"),
            "traffic_type": "ALL",
            "log_destination_type": "cloud-watch-logs",
            "log_destination": Ref(FLOW_LOG_GROUP, "arn"),
            "iam_role_arn": role_ref(workspace, "flow_logs"),
            "max_aggregation_interval": 600,
            "tags": {"Name": spec.name("flow-logs")},
        },
    )
