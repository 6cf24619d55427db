"""The latency model of the benchmark: seconds per API call, provisioning delay per resource.

All figures are model seconds (real AWS seconds); the benchmark multiplies them by `--scale`.
Sources and the reasoning behind each figure are in benchmarks/README.md.
"""

from __future__ import annotations

from typing import Any

READ = ("Describe", "Get", "List", "Head", "Lookup", "Search")

# Per-call latency by operation kind (seconds): control-plane round trips as seen from a client
# in the same continent.
READ_LATENCY = 0.080
CREATE_LATENCY = 0.250
WRITE_LATENCY = 0.150  # Put/Update/Modify/Tag/Attach/Associate/Authorize/Enable/Set/...
DELETE_LATENCY = 0.150

# Operations notably slower than their kind (seconds).
SLOW_CALLS: dict[str, float] = {
    "CreateDBInstance": 0.600,
    "CreateDBInstanceReadReplica": 0.600,
    "CreateFunction": 0.500,  # uploads the zip
    "CreateKey": 0.300,
    "CreateBucket": 0.300,
    "ChangeResourceRecordSets": 0.300,
    "CreateHostedZone": 0.400,
    "RequestCertificate": 0.300,
}


def call_latency(service: str, operation: str) -> float:
    """Modelled seconds for one call of `operation` (botocore's operation name)."""
    if operation in SLOW_CALLS:
        return SLOW_CALLS[operation]
    if operation.startswith(READ):
        return READ_LATENCY
    if operation.startswith("Create") or operation.startswith("Request"):
        return CREATE_LATENCY
    if operation.startswith("Delete"):
        return DELETE_LATENCY
    return WRITE_LATENCY


# Provisioning delay (seconds from create returning to ready) per Terraform type.
PROVISIONING_DELAY: dict[str, float] = {
    "aws_db_instance": 12 * 60,  # a Multi-AZ encrypted PostgreSQL instance: ~10-15 min
    "aws_nat_gateway": 2 * 60,  # pending → available: ~1-3 min
    "aws_acm_certificate_validation": 3 * 60,  # DNS validation: ~1-5 min once the record exists
    "aws_dynamodb_table": 20,  # CREATING → ACTIVE, on-demand with streams: ~10-30 s
    # Replica CREATING → ACTIVE: minutes for a near-empty table (AWS gives no figure; the
    # replica copies every item first, so it grows with the table).
    "aws_dynamodb_table_replica": 3 * 60,
    "aws_lambda_function": 45,  # Pending → Active in a VPC (Hyperplane ENIs): ~10-90 s
    "aws_vpc_endpoint": 60,  # gateway endpoint pending → available: ~30-90 s
    "aws_api_gateway_domain_name": 30,  # regional custom domain: AVAILABLE within a minute
    "aws_db_instance_automated_backups_replication": 5 * 60,  # Pending → Replicating
}
READ_REPLICA_DELAY = 20 * 60  # cross-region encrypted read replica: ~15-30 min


def provisioning_delay(node: Any) -> float:
    if node.type == "aws_db_instance" and node.attributes.get("replicate_source_db"):
        return READ_REPLICA_DELAY
    return PROVISIONING_DELAY.get(node.type, 0.0)
