"""Helpers the API Gateway driver tests share, as fixtures."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest


@pytest.fixture
def live_id() -> Callable[[Any, str], str]:
    """The `id` attribute state holds for a node: what references to it resolve to."""

    def live_id(deployment: Any, key: str) -> str:
        return str(deployment.entry(key)["attributes"]["id"])

    return live_id


@pytest.fixture
def answer_not_found() -> Callable[[Any, str], None]:
    """Answer an operation as AWS does for something already gone (moto 5.2 crashes with an
    internal KeyError/AttributeError on these not-found paths instead of a NotFoundException).
    The answer is AWS's error response, which botocore raises as it would AWS's own."""

    def answer_not_found(client: Any, operation: str) -> None:
        def gone(**_: Any) -> tuple[Any, dict[str, Any]]:
            error = {"Code": "NotFoundException", "Message": "Invalid identifier specified"}
            return SimpleNamespace(status_code=404, headers={}), {"Error": error}

        client.meta.events.register(f"before-call.api-gateway.{operation}", gone)

    return answer_not_found
