"""KMS: custom rotation periods (EnableKeyRotation's RotationPeriodInDays, 2024).

moto 5.2 accepts the parameter but drops it and never reports RotationPeriodInDays; AWS keeps
it (90-2560 days, default 365) and returns it from GetKeyRotationStatus.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_ROTATION_PERIOD_ATTR = "_deployer_rotation_period_in_days"
DEFAULT_ROTATION_PERIOD_DAYS = 365


def _kms_enable_key_rotation(self: Any) -> str:
    import json

    from moto.kms.exceptions import ValidationException

    key_id = self._get_param("KeyId")
    period = self._get_param("RotationPeriodInDays") or DEFAULT_ROTATION_PERIOD_DAYS
    if not 90 <= int(period) <= 2560:
        raise ValidationException(
            f"1 validation error detected: Value '{period}' at 'rotationPeriodInDays' failed "
            "to satisfy constraint: Member must have value between 90 and 2560"
        )
    self._validate_cmk_id(key_id)
    self.kms_backend.enable_key_rotation(key_id)
    key = self.kms_backend.keys[self.kms_backend.get_key_id(key_id)]
    setattr(key, _ROTATION_PERIOD_ATTR, int(period))
    return json.dumps(None)


def _kms_get_key_rotation_status(self: Any) -> str:
    import json

    key_id = self._get_param("KeyId")
    self._validate_cmk_id(key_id)
    key = self.kms_backend.keys[self.kms_backend.get_key_id(key_id)]
    body: dict[str, Any] = {"KeyId": key.id, "KeyRotationEnabled": key.key_rotation_status}
    if key.key_rotation_status:
        body["RotationPeriodInDays"] = getattr(
            key, _ROTATION_PERIOD_ATTR, DEFAULT_ROTATION_PERIOD_DAYS
        )
    return json.dumps(body)


def _install_rotation_periods() -> None:
    """KmsResponse's EnableKeyRotation and GetKeyRotationStatus, with the rotation period."""
    from moto.kms.responses import KmsResponse

    setattr(KmsResponse, "enable_key_rotation", _kms_enable_key_rotation)  # noqa: B010
    setattr(KmsResponse, "get_key_rotation_status", _kms_get_key_rotation_status)  # noqa: B010


# Installed once per process by `install_extensions` (plain assignments, not `_patch`es).
KMS_EXTENSIONS: tuple[Callable[[], None], ...] = (_install_rotation_periods,)
