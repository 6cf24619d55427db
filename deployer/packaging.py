"""Deterministic Lambda deployment packages.

The same sources always give the same zip bytes, hence the same ``CodeSha256``, so the drift
check and ``plan`` can compare the live function's code hash with the local build, and both
regions receive byte-identical code.
"""

from __future__ import annotations

import base64
import hashlib
import io
import zipfile
from pathlib import Path

#: DOS epoch, the earliest timestamp a zip entry can carry.
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
#: Regular file, rw-r--r--.
FILE_MODE = 0o100644
COMPRESSION = zipfile.ZIP_DEFLATED
COMPRESS_LEVEL = 9
_EXCLUDED_DIRS = frozenset({"__pycache__"})


def _source_files(source_dir: Path) -> list[tuple[str, Path]]:
    """``(archive name, path)`` of every ``.py`` file under ``source_dir``, sorted by name."""
    files: list[tuple[str, Path]] = []
    for path in source_dir.rglob("*.py"):
        relative = path.relative_to(source_dir)
        if not path.is_file() or any(part in _EXCLUDED_DIRS for part in relative.parts):
            continue
        files.append((relative.as_posix(), path))
    return sorted(files)


def build_lambda_zip(source_dir: Path) -> bytes:
    """Zip the ``.py`` files under ``source_dir`` reproducibly.

    Entries are sorted, dated 1980-01-01, mode 0644, created by "Unix", deflated at a fixed
    level; ``__pycache__`` is skipped. File mtimes, permissions and the host OS do not matter.
    """
    source_dir = Path(source_dir)
    if not source_dir.is_dir():
        raise NotADirectoryError(f"Lambda source directory not found: {source_dir}")
    files = _source_files(source_dir)
    if not files:
        raise ValueError(f"no .py files under {source_dir}")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=COMPRESSION) as archive:
        for name, path in files:
            info = zipfile.ZipInfo(name, date_time=ZIP_EPOCH)
            info.compress_type = COMPRESSION
            info.create_system = 3  # Unix, so that external_attr holds the mode on any host
            info.external_attr = FILE_MODE << 16
            archive.writestr(info, path.read_bytes(), compresslevel=COMPRESS_LEVEL)
    return buffer.getvalue()


def code_sha256(zip_bytes: bytes) -> str:
    """Base64 of the SHA-256 of ``zip_bytes``: the ``CodeSha256`` that Lambda reports."""
    return base64.b64encode(hashlib.sha256(zip_bytes).digest()).decode("ascii")
