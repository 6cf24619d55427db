"""The tables: the transactions table and the idempotency-key table, per region.

The Lambda handler (`lambda/payment_processor.py`) finds the tables through the environment
variables TRANSACTIONS_TABLE and IDEMPOTENCY_TABLE and relies on their key names: transactions
by `transaction_id` (and by merchant through the `by_merchant` index), idempotency records by
`idempotency_key`, expired by TTL on `expires_at`. Both tables are pay-per-request, encrypted
with the region's `dynamodb` key, with point-in-time recovery and deletion protection.
"""

from __future__ import annotations

from collections.abc import Iterator

from deployer.model import Interp, Node, Output, Ref
from deployer.resource import blueprint
from deployer.spec import Spec
from stack.account import account_arn
from stack.keys import key_ref

# The file of the Terraform export that holds this component's blocks.
TERRAFORM_FILE = "dynamodb.tf"

TABLES = ("transactions", "idempotency")

# Key and TTL attribute names the payment handler uses.
TRANSACTION_KEY = "transaction_id"
IDEMPOTENCY_KEY = "idempotency_key"
IDEMPOTENCY_EXPIRY_ATTRIBUTE = "expires_at"
MERCHANT_INDEX = "by_merchant"

# What the payment handler does with its tables: the Lambda role's grant and the DynamoDB
# endpoint's policy. TransactWriteItems is authorised per item: PutItem, UpdateItem and
# ConditionCheckItem; queries by merchant go through the table's index.
HANDLER_ACTIONS: tuple[str, ...] = (
    "dynamodb:ConditionCheckItem",
    "dynamodb:DescribeTable",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:Query",
    "dynamodb:UpdateItem",
)


def table_name(spec: Spec, table: str) -> str:
    """The same name in both regions: the Lambda finds its own region's table by name."""
    return spec.name(table)


def table_ref(table: str, attribute: str) -> Ref:
    """A reference to one of the tables, for the Lambda's environment and IAM policies."""
    return Ref(f"aws_dynamodb_table.{table}", attribute)


def table_arns(spec: Spec, region: str) -> list[Interp]:
    """The region's tables and their indexes by ARN (names are known before they exist)."""
    return [
        account_arn("dynamodb", region, f"table/{table_name(spec, table)}{part}")
        for table in TABLES
        for part in ("", "/index/*")
    ]


@blueprint
def dynamodb_tables(spec: Spec, workspace: str) -> Iterator[Node | Output]:
    settings = spec.dynamodb
    encryption = [{"enabled": True, "kms_key_arn": key_ref("dynamodb", "arn")}]
    recovery = [{"enabled": settings.point_in_time_recovery}]
    transactions = table_name(spec, "transactions")
    yield Node(
        "aws_dynamodb_table",
        "transactions",
        workspace,
        {
            "name": transactions,
            "billing_mode": "PAY_PER_REQUEST",
            "hash_key": TRANSACTION_KEY,
            "attribute": [
                {"name": TRANSACTION_KEY, "type": "S"},
                {"name": "merchant_id", "type": "S"},
                {"name": "created_at", "type": "S"},
            ],
            "global_secondary_index": [
                {
                    "name": MERCHANT_INDEX,
                    "key_schema": [
                        {"attribute_name": "merchant_id", "key_type": "HASH"},
                        {"attribute_name": "created_at", "key_type": "RANGE"},
                    ],
                    "projection_type": "ALL",
                }
            ],
            "server_side_encryption": encryption,
            "point_in_time_recovery": recovery,
            "stream_enabled": True,
            "stream_view_type": settings.stream_view_type,
            "deletion_protection_enabled": True,
            "tags": {"Name": transactions},
        },
    )
    idempotency = table_name(spec, "idempotency")
    yield Node(
        "aws_dynamodb_table",
        "idempotency",
        workspace,
        {
            "name": idempotency,
            "billing_mode": "PAY_PER_REQUEST",
            "hash_key": IDEMPOTENCY_KEY,
            "attribute": [{"name": IDEMPOTENCY_KEY, "type": "S"}],
            "server_side_encryption": encryption,
            "point_in_time_recovery": recovery,
            "ttl": [{"attribute_name": IDEMPOTENCY_EXPIRY_ATTRIBUTE, "enabled": True}],
            # Nothing consumes changes to idempotency records.
            "stream_enabled": False,
            "deletion_protection_enabled": True,
            "tags": {"Name": idempotency},
        },
    )
    for table in TABLES:
        yield Output(
            f"dynamodb_{table}_table_name",
            workspace,
            table_ref(table, "name"),
            f"Name of the {table} table",
        )
        yield Output(
            f"dynamodb_{table}_table_arn",
            workspace,
            table_ref(table, "arn"),
            f"ARN of the {table} table",
        )
    yield Output(
        "dynamodb_transactions_stream_arn",
        workspace,
        table_ref("transactions", "stream_arn"),
        "ARN of the transactions table's change stream",
    )
