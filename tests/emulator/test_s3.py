"""S3 (emulator/s3.py): GetBucketReplication returns the configuration as it was put."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from emulator import install_extensions

PRIMARY = "us-east-1"
SECONDARY = "eu-west-1"


def _error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    response: Any = exc.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def test_s3_corrections_patch_each_method_once() -> None:
    from moto.s3.models import S3Backend
    from moto.s3.responses import S3Response

    from emulator.s3 import S3_CORRECTIONS

    install_extensions()
    methods = [
        (S3Response, "get_bucket_replication"),
        (S3Backend, "put_bucket_replication"),
    ]
    before = [getattr(owner, name) for owner, name in methods]
    for correct in S3_CORRECTIONS:
        correct()
    install_extensions()
    assert [getattr(owner, name) for owner, name in methods] == before


def _versioned_buckets(s3: Any, *names: str) -> None:
    for name in names:
        s3.create_bucket(Bucket=name)
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})


REPLICATION_ROLE = "arn:aws:iam::123456789012:role/s3-replication"


def test_bucket_replication_reads_back_as_put(aws: None) -> None:
    s3 = boto3.client("s3", region_name=PRIMARY)
    _versioned_buckets(s3, "source", "destination")
    destination = "arn:aws:s3:::destination"
    config = {
        "Role": REPLICATION_ROLE,
        "Rules": [
            {
                "ID": "everything",
                "Priority": 1,
                "Status": "Enabled",
                "Filter": {"Prefix": ""},
                "DeleteMarkerReplication": {"Status": "Enabled"},
                "SourceSelectionCriteria": {
                    "SseKmsEncryptedObjects": {"Status": "Enabled"},
                    "ReplicaModifications": {"Status": "Disabled"},
                },
                "ExistingObjectReplication": {"Status": "Enabled"},
                "Destination": {
                    "Bucket": destination,
                    "Account": "123456789012",
                    "StorageClass": "STANDARD_IA",
                    "AccessControlTranslation": {"Owner": "Destination"},
                    "EncryptionConfiguration": {
                        "ReplicaKmsKeyID": f"arn:aws:kms:{SECONDARY}:123456789012:key/k"
                    },
                    "Metrics": {"Status": "Enabled", "EventThreshold": {"Minutes": 15}},
                    "ReplicationTime": {"Status": "Enabled", "Time": {"Minutes": 15}},
                },
            },
            {
                "ID": "one-tag",
                "Priority": 2,
                "Status": "Disabled",
                "Filter": {"And": {"Prefix": "logs/", "Tags": [{"Key": "k", "Value": "v"}]}},
                "DeleteMarkerReplication": {"Status": "Disabled"},
                "Destination": {"Bucket": destination},
            },
            {
                "ID": "two-tags",
                "Priority": 3,
                "Status": "Enabled",
                "Filter": {
                    "And": {
                        "Prefix": "audit/",
                        "Tags": [{"Key": "k", "Value": "v"}, {"Key": "l", "Value": "w"}],
                    }
                },
                "DeleteMarkerReplication": {"Status": "Disabled"},
                "Destination": {"Bucket": destination},
            },
            {
                "ID": "tagged",
                "Priority": 4,
                "Status": "Enabled",
                "Filter": {"Tag": {"Key": "replicate", "Value": "yes"}},
                "DeleteMarkerReplication": {"Status": "Disabled"},
                "Destination": {"Bucket": destination, "StorageClass": "GLACIER"},
            },
        ],
    }
    s3.put_bucket_replication(Bucket="source", ReplicationConfiguration=config)
    assert s3.get_bucket_replication(Bucket="source")["ReplicationConfiguration"] == config

    # Replaced as a whole by the next put.
    smaller = {"Role": REPLICATION_ROLE, "Rules": config["Rules"][1:2]}
    s3.put_bucket_replication(Bucket="source", ReplicationConfiguration=smaller)
    assert s3.get_bucket_replication(Bucket="source")["ReplicationConfiguration"] == smaller


def test_v1_bucket_replication_rule_reads_back_as_put(aws: None) -> None:
    """A V1 rule (Prefix, no Filter) comes back without Filter, priority or delete markers."""
    s3 = boto3.client("s3", region_name=PRIMARY)
    _versioned_buckets(s3, "source", "destination")
    rule = {
        "Prefix": "data/",
        "Status": "Enabled",
        "Destination": {"Bucket": "arn:aws:s3:::destination"},
    }
    s3.put_bucket_replication(
        Bucket="source", ReplicationConfiguration={"Role": REPLICATION_ROLE, "Rules": [rule]}
    )
    (read,) = s3.get_bucket_replication(Bucket="source")["ReplicationConfiguration"]["Rules"]
    assert read.pop("ID")  # S3 names a rule put without an ID
    assert read == rule


def test_bucket_replication_not_found(aws: None) -> None:
    s3 = boto3.client("s3", region_name=PRIMARY)
    _versioned_buckets(s3, "source")
    with pytest.raises(ClientError) as exc:
        s3.get_bucket_replication(Bucket="source")
    assert _error(exc) == ("ReplicationConfigurationNotFoundError", 404)
