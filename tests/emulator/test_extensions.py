"""`install_extensions`: every service's extensions and corrections, installed once per process."""

from __future__ import annotations

from emulator import install_extensions


def test_install_extensions_is_idempotent() -> None:
    from moto.rds.models import RDSBackend
    from moto.rds.responses import RDSResponse

    install_extensions()
    describe = RDSBackend.describe_db_instance_automated_backups
    start = RDSResponse.start_db_instance_automated_backups_replication  # type: ignore[attr-defined]
    install_extensions()
    assert RDSBackend.describe_db_instance_automated_backups is describe
    assert RDSResponse.start_db_instance_automated_backups_replication is start  # type: ignore[attr-defined]
