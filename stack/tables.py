"""The tables: the transactions table and the idempotency-key table, one global table each.

The Lambda handler (`lambda/payment_processor.py`) finds the tables through the environment
variables TRANSACTIONS_TABLE and IDEMPOTENCY_TABLE and relies on their key names: transactions
by `transaction_id` (and by merchant through the `by_merchant` index), idempotency records by
`idempotency_key`, expired by TTL on `expires_at`. Both tables are pay-per-request, encrypted
with the region's `dynamodb` key, with point-in-time recovery and deletion protection.

The primary declares the tables; the secondary declares each one's replica
(`aws_dynamodb_table_replica`, DynamoDB global tables version 2019.11.21), so that a payment or
an idempotency key written in one region is readable in the other after the replication lag.
DynamoDB keeps the replica's keys, indexes, stream and TTL equal to the table's; the replica has
its own key (the secondary's `dynamodb` key), point-in-time recovery, deletion protection and
tags. Each region's function still uses its own region's table, by the same name.
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
    """A reference to one of the primary's tables (from the secondary: `workspace="primary"`
    on the Ref), for its outputs and the replicas' `global_table_arn`."""
    return Ref(f"aws_dynamodb_table.{table}", attribute)


def replica_ref(table: str, attribute: str) -> Ref:
    """A reference to one of the secondary's replicas."""
    return Ref(f"aws_dynamodb_table_replica.{table}", attribute)


def table_dependencies(workspace: str) -> tuple[Ref, ...]:
    """What a user of the tables by name waits for: in the secondary, the replicas (the name
    is a literal there, `table_name_in`, so no reference orders the function after them)."""
    if workspace == "primary":
        return ()
    return tuple(replica_ref(table, "arn") for table in TABLES)


def table_name_in(spec: Spec, workspace: str, table: str) -> Ref | str:
    """The name the workspace's function, alarms and dashboard use for a table: a reference to
    the primary's table there; in the secondary, the replica's table has the same name, which
    the replica resource does not expose (the provider has no such attribute)."""
    return table_ref(table, "name") if workspace == "primary" else table_name(spec, table)


def table_arns(spec: Spec, region: str) -> list[Interp]:
    """The region's tables and their indexes by ARN (names are known before they exist)."""
    return [
        account_arn("dynamodb", region, f"table/{table_name(spec, table)}{part}")
        for table in TABLES
        for part in ("", "/index/*")
    ]


@blueprint
def dynamodb_tables(spec: Spec, workspace: str) -> Iterator[Node | Output]:
    if workspace == "primary":
        yield from _tables(spec, workspace)
    else:
        yield from _replicas(spec, workspace)


def _tables(spec: Spec, workspace: str) -> Iterator[Node | Output]:
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
            # Nothing consumes it, but a table with replicas keeps a stream: AWS refuses to
            # disable it ("Disabling Stream is not allowed for a Global Table replica"), and
            # CloudFormation's AWS::DynamoDB::GlobalTable requires a StreamSpecification with
            # more than one replica. The view type is the spec's, as the transactions table's.
            "stream_enabled": True,
            "stream_view_type": settings.stream_view_type,
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
        "ARN of the transactions table's change stream (the primary's table)",
    )


def _replicas(spec: Spec, workspace: str) -> Iterator[Node | Output]:
    """Each table's replica in this region, made through the primary's table (its ARN)."""
    settings = spec.dynamodb
    for table in TABLES:
        yield Node(
            "aws_dynamodb_table_replica",
            table,
            workspace,
            {
                # Ready: AWS refuses ReplicaUpdates while the main table is still CREATING.
                "global_table_arn": Ref(
                    f"aws_dynamodb_table.{table}", "arn", workspace="primary", ready=True
                ),
                # Keys are regional: the replica is encrypted with this region's key.
                "kms_key_arn": key_ref("dynamodb", "arn"),
                "point_in_time_recovery": settings.point_in_time_recovery,
                "deletion_protection_enabled": True,
                "tags": {"Name": table_name(spec, table)},
            },
        )
        yield Output(
            f"dynamodb_{table}_table_name",
            workspace,
            table_name(spec, table),
            f"Name of the {table} table's replica in this region",
        )
        yield Output(
            f"dynamodb_{table}_table_arn",
            workspace,
            replica_ref(table, "arn"),
            f"ARN of the {table} table's replica in this region",
        )
