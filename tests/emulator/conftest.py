"""The emulator's tests run moto in-process (``mock_aws``) with every extension installed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from moto import mock_aws

from emulator import install_extensions


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto in-process with the emulator's extensions (this folder's own: no IAM policy filter)."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    install_extensions()
    with mock_aws():
        yield
