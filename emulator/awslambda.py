"""Lambda: a function's KMSKeyArn (the key of its environment variables) is kept and reported
(``LAMBDA_CORRECTIONS``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from emulator.patching import _patch

# --- Lambda: the customer-managed key of a function's environment ------------------------------
# AWS keeps CreateFunction's and UpdateFunctionConfiguration's KMSKeyArn and reports it in the
# function's configuration (absent while Lambda's own key is used; an empty KMSKeyArn goes back
# to it). moto accepts the parameter and drops it.


def _lambda_kms_on_create(original: Any) -> Any:
    def __init__(self: Any, account_id: str, spec: dict[str, Any], *args: Any, **kw: Any) -> None:
        original(self, account_id, spec, *args, **kw)
        self.kms_key_arn = spec.get("KMSKeyArn") or None

    return __init__


def _lambda_kms_on_update(original: Any) -> Any:
    def update_configuration(self: Any, config_updates: dict[str, Any]) -> dict[str, Any]:
        if "KMSKeyArn" in config_updates:
            self.kms_key_arn = config_updates["KMSKeyArn"] or None
        result: dict[str, Any] = original(self, config_updates)
        return result

    return update_configuration


def _lambda_kms_reported(original: Any) -> Any:
    def get_configuration(self: Any, *args: Any, **kw: Any) -> dict[str, Any]:
        config: dict[str, Any] = original(self, *args, **kw)
        if getattr(self, "kms_key_arn", None):
            config["KMSKeyArn"] = self.kms_key_arn
        return config

    return get_configuration


def _install_lambda_kms_key() -> None:
    from moto.awslambda.models import LambdaFunction

    _patch(LambdaFunction, "__init__", "kms-key", _lambda_kms_on_create)
    _patch(LambdaFunction, "update_configuration", "kms-key", _lambda_kms_on_update)
    _patch(LambdaFunction, "get_configuration", "kms-key", _lambda_kms_reported)


LAMBDA_CORRECTIONS: tuple[Callable[[], None], ...] = (_install_lambda_kms_key,)
