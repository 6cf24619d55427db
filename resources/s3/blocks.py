"""Terraform's nested blocks of the bucket settings ⇄ the S3 API's structures.

Each setting's table (settings.py) names the document member a block lives in; these functions
are its rows' `to_api` / `from_api`: the block list as the node writes it (`rule`,
`versioning_configuration`) to the API's structure and back, in the shape a read must return
for `read(create(desired)) == desired`. Members left unset are left out (S3 rejects explicit
nulls); what S3 reports for an unset member reads as the provider's value for it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from deployer.blocks import only_block
from deployer.tagging import tag_dict, tag_list


def each(convert: Callable[[dict[str, Any]], dict[str, Any]]) -> Callable[[Any], list[Any]]:
    """A conversion of one block (one rule) applied to a list of them."""

    def convert_all(blocks: Any) -> list[Any]:
        return [convert(block) for block in blocks or []]

    return convert_all


def _compact(values: dict[str, Any]) -> dict[str, Any]:
    """Without the members that are not set (the API rejects explicit nulls)."""
    return {k: v for k, v in values.items() if v is not None}


def _status_to_api(block: dict[str, Any] | None) -> dict[str, str] | None:
    return {"Status": block["status"]} if block else None


def _status_from_api(member: dict[str, Any] | None) -> list[dict[str, Any]] | None:
    return [{"status": member["Status"]}] if member and "Status" in member else None


def _tags_to_api(tags: dict[str, str] | None) -> list[dict[str, str]] | None:
    return tag_list(tags) if tags else None


def _date(value: Any) -> str | None:
    """Terraform writes dates as RFC 3339; boto3 parses them into datetimes."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    return None if value is None else str(value)


def ownership_rule_to_api(rule: dict[str, Any]) -> dict[str, Any]:
    return {"ObjectOwnership": rule["object_ownership"]}


def ownership_rule_from_api(rule: dict[str, Any]) -> dict[str, Any]:
    return {"object_ownership": rule["ObjectOwnership"]}


def versioning_to_api(blocks: list[dict[str, Any]]) -> dict[str, Any] | None:
    block = only_block(blocks)
    if block is None:
        return None
    return _compact({"Status": block["status"], "MFADelete": block.get("mfa_delete")})


def versioning_from_api(member: dict[str, Any] | None) -> list[dict[str, Any]]:
    """No Status: the bucket has never been versioned (Terraform's `Disabled`)."""
    member = member or {}
    return [
        {
            "status": member.get("Status", "Disabled"),
            "mfa_delete": member.get("MFADelete", "Disabled"),
        }
    ]


def encryption_rule_to_api(rule: dict[str, Any]) -> dict[str, Any]:
    default = only_block(rule.get("apply_server_side_encryption_by_default"))
    blocked = rule.get("blocked_encryption_types")
    return _compact(
        {
            "ApplyServerSideEncryptionByDefault": _compact(
                {
                    "SSEAlgorithm": default["sse_algorithm"],
                    "KMSMasterKeyID": default.get("kms_master_key_id") or None,
                }
            )
            if default
            else None,
            "BucketKeyEnabled": rule.get("bucket_key_enabled"),
            "BlockedEncryptionTypes": (
                {"EncryptionType": list(blocked)} if blocked is not None else None
            ),
        }
    )


def encryption_rule_from_api(rule: dict[str, Any]) -> dict[str, Any]:
    default = rule.get("ApplyServerSideEncryptionByDefault")
    return {
        "bucket_key_enabled": bool(rule.get("BucketKeyEnabled", False)),
        "apply_server_side_encryption_by_default": [
            {
                "sse_algorithm": default["SSEAlgorithm"],
                "kms_master_key_id": default.get("KMSMasterKeyID", ""),
            }
        ]
        if default
        else [],
        "blocked_encryption_types": list(
            rule.get("BlockedEncryptionTypes", {}).get("EncryptionType", [])
        ),
    }


def _lifecycle_filter_to_api(block: dict[str, Any]) -> dict[str, Any]:
    """S3 takes exactly one predicate: a prefix, a tag, a size bound, or several under And."""
    both = only_block(block.get("and"))
    if both is not None:
        return {
            "And": _compact(
                {
                    "Prefix": both.get("prefix"),
                    "Tags": _tags_to_api(both.get("tags")),
                    "ObjectSizeGreaterThan": both.get("object_size_greater_than"),
                    "ObjectSizeLessThan": both.get("object_size_less_than"),
                }
            )
        }
    tag = only_block(block.get("tag"))
    if tag is not None:
        return {"Tag": {"Key": tag["key"], "Value": tag["value"]}}
    for name, member in (
        ("object_size_greater_than", "ObjectSizeGreaterThan"),
        ("object_size_less_than", "ObjectSizeLessThan"),
    ):
        if block.get(name) is not None:
            return {member: int(block[name])}
    return {"Prefix": block.get("prefix") or ""}


def _lifecycle_filter_from_api(member: dict[str, Any]) -> dict[str, Any]:
    block: dict[str, Any] = {
        # No predicate at all is the whole bucket, the same as an empty prefix.
        "prefix": member.get("Prefix", ""),
        "object_size_greater_than": member.get("ObjectSizeGreaterThan"),
        "object_size_less_than": member.get("ObjectSizeLessThan"),
    }
    if "Tag" in member:
        block["tag"] = [{"key": member["Tag"]["Key"], "value": member["Tag"]["Value"]}]
    if "And" in member:
        both = member["And"]
        block["and"] = [
            _compact(
                {
                    "prefix": both.get("Prefix"),
                    "tags": tag_dict(both.get("Tags")) or None,
                    "object_size_greater_than": both.get("ObjectSizeGreaterThan"),
                    "object_size_less_than": both.get("ObjectSizeLessThan"),
                }
            )
        ]
    return _compact(block)


def lifecycle_rule_to_api(rule: dict[str, Any]) -> dict[str, Any]:
    filter_block = only_block(rule.get("filter"))
    expiration = only_block(rule.get("expiration"))
    noncurrent_expiration = only_block(rule.get("noncurrent_version_expiration"))
    abort = only_block(rule.get("abort_incomplete_multipart_upload"))
    return _compact(
        {
            "ID": rule["id"],
            "Status": rule["status"],
            "Filter": _lifecycle_filter_to_api(filter_block) if filter_block is not None else None,
            "Prefix": rule.get("prefix") if filter_block is None else None,
            "Expiration": _compact(
                {
                    "Date": expiration.get("date"),
                    "Days": expiration.get("days"),
                    "ExpiredObjectDeleteMarker": expiration.get("expired_object_delete_marker"),
                }
            )
            if expiration
            else None,
            "Transitions": [
                _compact(
                    {
                        "Date": t.get("date"),
                        "Days": t.get("days"),
                        "StorageClass": t["storage_class"],
                    }
                )
                for t in rule["transition"]
            ]
            if rule.get("transition")
            else None,
            "NoncurrentVersionExpiration": _compact(
                {
                    "NoncurrentDays": noncurrent_expiration["noncurrent_days"],
                    "NewerNoncurrentVersions": noncurrent_expiration.get(
                        "newer_noncurrent_versions"
                    ),
                }
            )
            if noncurrent_expiration
            else None,
            "NoncurrentVersionTransitions": [
                _compact(
                    {
                        "NoncurrentDays": t["noncurrent_days"],
                        "StorageClass": t["storage_class"],
                        "NewerNoncurrentVersions": t.get("newer_noncurrent_versions"),
                    }
                )
                for t in rule["noncurrent_version_transition"]
            ]
            if rule.get("noncurrent_version_transition")
            else None,
            "AbortIncompleteMultipartUpload": (
                {"DaysAfterInitiation": abort["days_after_initiation"]} if abort else None
            ),
        }
    )


def lifecycle_rule_from_api(rule: dict[str, Any]) -> dict[str, Any]:
    expiration = rule.get("Expiration")
    noncurrent_expiration = rule.get("NoncurrentVersionExpiration")
    abort = rule.get("AbortIncompleteMultipartUpload")
    return _compact(
        {
            "id": rule.get("ID", ""),
            "status": rule["Status"],
            "prefix": rule.get("Prefix"),
            "filter": [_lifecycle_filter_from_api(rule["Filter"])] if "Filter" in rule else None,
            "expiration": [
                _compact(
                    {
                        "date": _date(expiration.get("Date")),
                        "days": expiration.get("Days"),
                        "expired_object_delete_marker": expiration.get("ExpiredObjectDeleteMarker"),
                    }
                )
            ]
            if expiration
            else None,
            "transition": [
                _compact(
                    {
                        "date": _date(t.get("Date")),
                        "days": t.get("Days"),
                        "storage_class": t["StorageClass"],
                    }
                )
                for t in rule["Transitions"]
            ]
            if rule.get("Transitions")
            else None,
            "noncurrent_version_expiration": [
                _compact(
                    {
                        "noncurrent_days": noncurrent_expiration.get("NoncurrentDays"),
                        "newer_noncurrent_versions": noncurrent_expiration.get(
                            "NewerNoncurrentVersions"
                        ),
                    }
                )
            ]
            if noncurrent_expiration
            else None,
            "noncurrent_version_transition": [
                _compact(
                    {
                        "noncurrent_days": t.get("NoncurrentDays"),
                        "storage_class": t["StorageClass"],
                        "newer_noncurrent_versions": t.get("NewerNoncurrentVersions"),
                    }
                )
                for t in rule["NoncurrentVersionTransitions"]
            ]
            if rule.get("NoncurrentVersionTransitions")
            else None,
            "abort_incomplete_multipart_upload": [
                {"days_after_initiation": abort["DaysAfterInitiation"]}
            ]
            if abort
            else None,
        }
    )


def _replication_filter_to_api(block: dict[str, Any]) -> dict[str, Any]:
    both = only_block(block.get("and"))
    if both is not None:
        return {
            "And": _compact({"Prefix": both.get("prefix"), "Tags": _tags_to_api(both.get("tags"))})
        }
    tag = only_block(block.get("tag"))
    if tag is not None:
        return {"Tag": {"Key": tag["key"], "Value": tag["value"]}}
    return {"Prefix": block.get("prefix") or ""}


def _replication_filter_from_api(member: dict[str, Any]) -> dict[str, Any]:
    block: dict[str, Any] = {"prefix": member.get("Prefix", "")}
    if "Tag" in member:
        block["tag"] = [{"key": member["Tag"]["Key"], "value": member["Tag"]["Value"]}]
    if "And" in member:
        both = member["And"]
        block["and"] = [
            _compact({"prefix": both.get("Prefix"), "tags": tag_dict(both.get("Tags")) or None})
        ]
    return block


def _destination_to_api(block: dict[str, Any]) -> dict[str, Any]:
    translation = only_block(block.get("access_control_translation"))
    encryption = only_block(block.get("encryption_configuration"))
    metrics = only_block(block.get("metrics"))
    threshold = only_block(metrics.get("event_threshold")) if metrics else None
    replication_time = only_block(block.get("replication_time"))
    return _compact(
        {
            "Bucket": block["bucket"],
            "Account": block.get("account"),
            "StorageClass": block.get("storage_class"),
            "AccessControlTranslation": ({"Owner": translation["owner"]} if translation else None),
            "EncryptionConfiguration": (
                {"ReplicaKmsKeyID": encryption["replica_kms_key_id"]} if encryption else None
            ),
            "Metrics": _compact(
                {
                    "Status": metrics["status"],
                    "EventThreshold": {"Minutes": threshold["minutes"]} if threshold else None,
                }
            )
            if metrics
            else None,
            "ReplicationTime": {
                "Status": replication_time["status"],
                "Time": {"Minutes": replication_time["time"][0]["minutes"]},
            }
            if replication_time
            else None,
        }
    )


def _destination_from_api(member: dict[str, Any]) -> dict[str, Any]:
    translation = member.get("AccessControlTranslation")
    encryption = member.get("EncryptionConfiguration")
    metrics = member.get("Metrics")
    replication_time = member.get("ReplicationTime")
    return _compact(
        {
            "bucket": member["Bucket"],
            "account": member.get("Account"),
            "storage_class": member.get("StorageClass"),
            "access_control_translation": (
                [{"owner": translation["Owner"]}] if translation else None
            ),
            "encryption_configuration": (
                [{"replica_kms_key_id": encryption["ReplicaKmsKeyID"]}]
                if encryption and encryption.get("ReplicaKmsKeyID")
                else None
            ),
            "metrics": [
                _compact(
                    {
                        "status": metrics["Status"],
                        "event_threshold": (
                            [{"minutes": metrics["EventThreshold"]["Minutes"]}]
                            if metrics.get("EventThreshold")
                            else None
                        ),
                    }
                )
            ]
            if metrics
            else None,
            "replication_time": [
                {
                    "status": replication_time["Status"],
                    "time": [{"minutes": replication_time.get("Time", {}).get("Minutes")}],
                }
            ]
            if replication_time
            else None,
        }
    )


def replication_rule_to_api(rule: dict[str, Any]) -> dict[str, Any]:
    filter_block = only_block(rule.get("filter"))
    criteria = only_block(rule.get("source_selection_criteria"))
    delete_markers = only_block(rule.get("delete_marker_replication"))
    if delete_markers is None and filter_block is not None:
        # With a Filter (the current schema) S3 requires DeleteMarkerReplication.
        delete_markers = {"status": "Disabled"}
    return _compact(
        {
            "ID": rule.get("id"),
            "Priority": rule.get("priority"),
            "Status": rule["status"],
            "Filter": _replication_filter_to_api(filter_block)
            if filter_block is not None
            else None,
            "Prefix": rule.get("prefix") if filter_block is None else None,
            "DeleteMarkerReplication": _status_to_api(delete_markers),
            "SourceSelectionCriteria": _compact(
                {
                    "SseKmsEncryptedObjects": _status_to_api(
                        only_block(criteria.get("sse_kms_encrypted_objects"))
                    ),
                    "ReplicaModifications": _status_to_api(
                        only_block(criteria.get("replica_modifications"))
                    ),
                }
            )
            if criteria
            else None,
            "ExistingObjectReplication": _status_to_api(
                only_block(rule.get("existing_object_replication"))
            ),
            "Destination": _destination_to_api(rule["destination"][0]),
        }
    )


def replication_rule_from_api(rule: dict[str, Any]) -> dict[str, Any]:
    criteria = rule.get("SourceSelectionCriteria")
    return _compact(
        {
            "id": rule.get("ID", ""),
            "priority": rule.get("Priority"),
            "status": rule["Status"],
            "prefix": rule.get("Prefix"),
            "filter": [_replication_filter_from_api(rule["Filter"])] if "Filter" in rule else None,
            "delete_marker_replication": _status_from_api(rule.get("DeleteMarkerReplication")),
            "source_selection_criteria": [
                _compact(
                    {
                        "sse_kms_encrypted_objects": _status_from_api(
                            criteria.get("SseKmsEncryptedObjects")
                        ),
                        "replica_modifications": _status_from_api(
                            criteria.get("ReplicaModifications")
                        ),
                    }
                )
            ]
            if criteria
            else None,
            "existing_object_replication": _status_from_api(rule.get("ExistingObjectReplication")),
            "destination": [_destination_from_api(rule["Destination"])],
        }
    )
