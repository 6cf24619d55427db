"""KMS (emulator/kms.py): EnableKeyRotation's custom rotation period, kept and reported."""

from __future__ import annotations

import boto3


def test_kms_rotation_period_is_kept_and_reported(aws: None) -> None:
    kms = boto3.client("kms", region_name="us-east-1")
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    assert "RotationPeriodInDays" not in kms.get_key_rotation_status(KeyId=key_id)
    kms.enable_key_rotation(KeyId=key_id, RotationPeriodInDays=180)
    status = kms.get_key_rotation_status(KeyId=key_id)
    assert (status["KeyRotationEnabled"], status["RotationPeriodInDays"]) == (True, 180)
    kms.enable_key_rotation(KeyId=key_id)
    assert kms.get_key_rotation_status(KeyId=key_id)["RotationPeriodInDays"] == 365
    kms.disable_key_rotation(KeyId=key_id)
    assert "RotationPeriodInDays" not in kms.get_key_rotation_status(KeyId=key_id)
