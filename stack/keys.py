"""The keys: one customer-managed KMS key per purpose and region, with rotation, policy and alias.

Every other component encrypts with one of these (`key_ref("s3")`, ...): a key per purpose keeps
each service's grants to its own data, and a key per region keeps replicas encrypted with a key
of their own region.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from deployer.model import Json, Node, Ref
from deployer.resource import blueprint
from deployer.spec import Spec
from stack.account import account_arn, root_principal

# The file of the Terraform export that holds this component's blocks.
TERRAFORM_FILE = "kms.tf"

# What each key encrypts. `logs` also serves the alarm topic and the flow logs.
KEY_PURPOSES: dict[str, str] = {
    "s3": "S3 payment objects and their replicas",
    "rds": "RDS storage, snapshots and replicated backups",
    "dynamodb": "DynamoDB transaction and idempotency tables",
    "logs": "CloudWatch Logs, VPC flow logs and the alarm SNS topic",
    # Lambda decrypts them through a grant it makes at CreateFunction: no key policy statement.
    "lambda": "the payment Lambda's environment variables",
}

ENCRYPT_DECRYPT = [
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncrypt*",
    "kms:GenerateDataKey*",
    "kms:DescribeKey",
]


def key_ref(purpose: str, attribute: str = "arn") -> Ref:
    return Ref(f"aws_kms_key.{purpose}", attribute)


def alias_name(spec: Spec, purpose: str) -> str:
    return f"alias/{spec.name(purpose)}"


def key_policy(purpose: str, region: str) -> Json:
    """The account administers the key; the AWS services that use it may encrypt with it."""
    statements: list[dict[str, Any]] = [
        {
            "Sid": "AccountAdministration",
            "Effect": "Allow",
            "Principal": {"AWS": root_principal()},
            "Action": "kms:*",
            "Resource": "*",
        }
    ]
    if purpose == "logs":
        statements.append(
            {
                "Sid": "CloudWatchLogs",
                "Effect": "Allow",
                "Principal": {"Service": f"logs.{region}.amazonaws.com"},
                "Action": ENCRYPT_DECRYPT,
                "Resource": "*",
                "Condition": {
                    "ArnLike": {
                        "kms:EncryptionContext:aws:logs:arn": account_arn("logs", region, "*")
                    }
                },
            }
        )
        statements.append(
            {
                "Sid": "CloudWatchAlarmsToSns",
                "Effect": "Allow",
                "Principal": {"Service": "cloudwatch.amazonaws.com"},
                "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                "Resource": "*",
            }
        )
    return Json({"Version": "2012-10-17", "Statement": statements})


@blueprint
def kms_keys(spec: Spec, workspace: str) -> Iterator[Node]:
    region = spec.region(workspace)
    for purpose, what in KEY_PURPOSES.items():
        yield Node(
            "aws_kms_key",
            purpose,
            workspace,
            {
                "description": f"{spec.name(purpose)}: {what}",
                "key_usage": "ENCRYPT_DECRYPT",
                "customer_master_key_spec": "SYMMETRIC_DEFAULT",
                "enable_key_rotation": True,
                "rotation_period_in_days": spec.kms.rotation_period_days,
                "deletion_window_in_days": spec.kms.deletion_window_days,
                "multi_region": False,
                "policy": key_policy(purpose, region),
                "tags": {"Name": spec.name(purpose)},
            },
        )
        yield Node(
            "aws_kms_alias",
            purpose,
            workspace,
            {"name": alias_name(spec, purpose), "target_key_id": key_ref(purpose, "key_id")},
        )
