"""The settings' block conversions (resources/s3/blocks.py), independent of moto's gaps."""

from __future__ import annotations

SECONDARY_NAME = "payments-data-eu-west-1-dev"


def test_replication_rule_maps_back_to_the_same_blocks() -> None:
    """The read mapping returns every block the node writes (independent of moto's gaps)."""
    from resources.s3.blocks import replication_rule_from_api, replication_rule_to_api

    rule = {
        "id": "replicate-all-to-eu-west-1",
        "priority": 1,
        "status": "Enabled",
        "filter": [{"prefix": ""}],
        "delete_marker_replication": [{"status": "Enabled"}],
        "source_selection_criteria": [{"sse_kms_encrypted_objects": [{"status": "Enabled"}]}],
        "destination": [
            {
                "bucket": f"arn:aws:s3:::{SECONDARY_NAME}",
                "storage_class": "STANDARD",
                "encryption_configuration": [
                    {"replica_kms_key_id": "arn:aws:kms:eu-west-1:111122223333:key/k"}
                ],
            }
        ],
    }
    api = replication_rule_to_api(rule)
    assert api["SourceSelectionCriteria"] == {"SseKmsEncryptedObjects": {"Status": "Enabled"}}
    assert api["DeleteMarkerReplication"] == {"Status": "Enabled"}
    assert replication_rule_from_api(api) == rule
