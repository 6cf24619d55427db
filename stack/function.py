"""The function: the payment Lambda, identical in both regions but for its environment.

The function's code is the repository's `lambda/` directory, zipped deterministically
(`deployer.packaging`), so both regions get byte-identical code and an unchanged handler hashes
the same on every run; the zip's bytes ride along in the node's `files`, never in state, and the
HCL export writes the same bytes beside the configuration. The function runs in the private
subnets with the Lambda security group, traces with X-Ray, logs to a KMS-encrypted group made
before it, and reads its own region's tables, named in its environment. What its execution role
(`lambda_exec`) may do is declared here, beside what the handler does.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from deployer.model import FileDigest, Node, Output, Ref
from deployer.packaging import build_lambda_zip, code_sha256
from deployer.resource import blueprint
from deployer.spec import Spec
from stack.account import account_arn
from stack.keys import key_ref
from stack.network import private_subnet_refs, security_group_ref
from stack.permissions import Statement, grants, regions, sid, statement
from stack.roles import role_ref
from stack.tables import HANDLER_ACTIONS, table_arns, table_dependencies, table_name_in

# The file of the Terraform export that holds this component's blocks.
TERRAFORM_FILE = "lambda.tf"

# The handler's sources; the zip is built from them in memory on every graph build.
LAMBDA_SOURCE_DIR = Path(__file__).resolve().parent.parent / "lambda"
# The package's file name, beside the exported HCL.
PACKAGE_FILENAME = "payment_processor.zip"
HANDLER = "payment_processor.handler"
# Graviton: the handler is pure Python, and arm64 costs less per GB-second than x86_64.
ARCHITECTURE = "arm64"

FUNCTION = "aws_lambda_function.payment_processor"
LOG_GROUP = "aws_cloudwatch_log_group.lambda"


def function_name(spec: Spec) -> str:
    """The same name in both regions (IAM's execution policy names it too)."""
    return spec.name("payment-processor")


def function_ref(attribute: str = "arn") -> Ref:
    return Ref(FUNCTION, attribute)


def log_group_name(spec: Spec) -> str:
    """Lambda writes to `/aws/lambda/<function>`; creating it first makes it ours (retention,
    KMS) rather than one Lambda creates on first invocation with neither."""
    return f"/aws/lambda/{function_name(spec)}"


def build_package() -> bytes:
    """The deployment package, byte-identical for identical sources."""
    return build_lambda_zip(LAMBDA_SOURCE_DIR)


def environment_variables(spec: Spec, workspace: str) -> dict[str, Any]:
    """Region-specific: each region's function uses its own region's tables."""
    return {
        "TRANSACTIONS_TABLE": table_name_in(spec, workspace, "transactions"),
        "IDEMPOTENCY_TABLE": table_name_in(spec, workspace, "idempotency"),
        "DEPLOY_REGION": spec.region(workspace),
        "LOG_LEVEL": spec.lambda_.log_level,
        "IDEMPOTENCY_TTL_SECONDS": str(spec.dynamodb.idempotency_ttl_hours * 3600),
    }


def iam_ref(workspace: str, address: str) -> Ref:
    """A dependency on an IAM resource, which only the primary workspace makes."""
    return Ref(address, "id", workspace=None if workspace == "primary" else "primary")


@grants("lambda_exec")
def execution(spec: Spec) -> list[Statement]:
    """What the payment handler does in either region, and what Lambda needs around it."""
    log_group = log_group_name(spec)
    return [
        statement(
            "PaymentTables",
            list(HANDLER_ACTIONS),
            [arn for region in regions(spec) for arn in table_arns(spec, region)],
        ),
        # Each region's table key, used only through that region's DynamoDB: the secondary's
        # key ids are unknown to the primary workspace, the condition narrows the wildcard.
        *(
            statement(
                sid("TableKeys", region),
                ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"],
                [account_arn("kms", region, "key/*")],
                {"StringEquals": {"kms:ViaService": f"dynamodb.{region}.amazonaws.com"}},
            )
            for region in regions(spec)
        ),
        statement(
            "FunctionLogs",
            ["logs:CreateLogStream", "logs:PutLogEvents"],
            [account_arn("logs", region, f"log-group:{log_group}:*") for region in regions(spec)],
        ),
        # X-Ray's PutTraceSegments and PutTelemetryRecords support no resource-level
        # permissions: "*" is the only resource AWS accepts.
        statement("XRayTraces", ["xray:PutTelemetryRecords", "xray:PutTraceSegments"], ["*"]),
        # EC2 Describe* actions support no resource-level permissions: "*" is the only choice.
        statement(
            "DescribeVpcNetwork",
            ["ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"],
            ["*"],
        ),
        # Lambda manages its VPC network interfaces with the function's role; these actions do
        # support resource ARNs, so they are held to this account's interfaces, subnets and
        # security groups in the two regions.
        statement(
            "ManageFunctionNetworkInterfaces",
            [
                "ec2:AssignPrivateIpAddresses",
                "ec2:CreateNetworkInterface",
                "ec2:DeleteNetworkInterface",
                "ec2:UnassignPrivateIpAddresses",
            ],
            [
                account_arn("ec2", region, f"{kind}/*")
                for region in regions(spec)
                for kind in ("network-interface", "subnet", "security-group")
            ],
        ),
    ]


@blueprint
def payment_lambda(spec: Spec, workspace: str) -> Iterator[Node | Output]:
    settings = spec.lambda_
    name = function_name(spec)
    package = build_package()
    yield Node(
        "aws_cloudwatch_log_group",
        "lambda",
        workspace,
        {
            "name": log_group_name(spec),
            "retention_in_days": settings.log_retention_days,
            "kms_key_id": key_ref("logs", "arn"),
            "tags": {"Name": log_group_name(spec)},
        },
    )
    yield Node(
        "aws_lambda_function",
        "payment_processor",
        workspace,
        {
            "function_name": name,
            "description": "Payment API handler: creates and reads payments, answers health",
            "role": role_ref(workspace, "lambda_exec"),
            "runtime": settings.runtime,
            "handler": HANDLER,
            "architectures": [ARCHITECTURE],
            "memory_size": settings.memory_mb,
            "timeout": settings.timeout_s,
            "filename": PACKAGE_FILENAME,
            "source_code_hash": FileDigest(PACKAGE_FILENAME, code_sha256(package)),
            "publish": False,
            "environment": [{"variables": environment_variables(spec, workspace)}],
            "vpc_config": [
                {
                    "subnet_ids": private_subnet_refs(spec, workspace),
                    "security_group_ids": [security_group_ref("lambda")],
                }
            ],
            "tracing_config": [{"mode": "Active"}],
            # The environment encrypted with the region's own key rather than Lambda's.
            "kms_key_arn": key_ref("lambda", "arn"),
            **(
                {"reserved_concurrent_executions": settings.reserved_concurrency}
                if settings.reserved_concurrency is not None
                else {}
            ),
            "tags": {"Name": name},
        },
        # The log group first, so the function's logs land in the managed group; the execution
        # policy first, since a VPC function's create is refused while its role may not manage
        # network interfaces; its region's tables first, which it uses by name.
        depends_on=(
            Ref(LOG_GROUP, "name"),
            iam_ref(workspace, "aws_iam_role_policy.lambda_exec"),
            *table_dependencies(workspace),
        ),
        files={PACKAGE_FILENAME: package},
    )
    yield Output(
        "lambda_function_name", workspace, function_ref("function_name"), "The payment function"
    )
    yield Output("lambda_function_arn", workspace, function_ref("arn"), "ARN of the function")
