"""Tests for deployer.packaging: reproducible Lambda zips and their CodeSha256."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import shutil
import zipfile
from pathlib import Path

import pytest

from deployer.packaging import build_lambda_zip, code_sha256

LAMBDA_DIR = Path(__file__).resolve().parent.parent / "lambda"


@pytest.fixture
def source(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    (src / "pkg").mkdir(parents=True)
    (src / "handler.py").write_text("def handler(event, context):\n    return {}\n")
    (src / "pkg" / "util.py").write_text("VALUE = 1\n")
    (src / "pkg" / "__init__.py").write_text("")
    (src / "README.txt").write_text("not code\n")
    (src / "__pycache__").mkdir()
    (src / "__pycache__" / "handler.cpython-311.pyc").write_bytes(b"\x00bytecode")
    (src / "pkg" / "__pycache__").mkdir()
    (src / "pkg" / "__pycache__" / "stale.py").write_text("x = 1\n")
    return src


def test_two_builds_are_identical(source: Path) -> None:
    first = build_lambda_zip(source)
    second = build_lambda_zip(source)
    assert first == second
    assert code_sha256(first) == code_sha256(second)


def test_real_lambda_source_is_packaged() -> None:
    data = build_lambda_zip(LAMBDA_DIR)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert "payment_processor.py" in archive.namelist()
        assert (
            archive.read("payment_processor.py")
            == (LAMBDA_DIR / "payment_processor.py").read_bytes()
        )
    assert build_lambda_zip(LAMBDA_DIR) == data


def test_entries_are_sorted_and_normalised(source: Path) -> None:
    with zipfile.ZipFile(io.BytesIO(build_lambda_zip(source))) as archive:
        assert archive.testzip() is None
        infos = archive.infolist()
        names = [info.filename for info in infos]
        assert names == ["handler.py", "pkg/__init__.py", "pkg/util.py"]
        for info in infos:
            assert info.date_time == (1980, 1, 1, 0, 0, 0)
            assert (info.external_attr >> 16) & 0o777 == 0o644
            assert info.compress_type == zipfile.ZIP_DEFLATED
            assert info.create_system == 3


def test_changing_a_file_changes_the_sha(source: Path) -> None:
    before = code_sha256(build_lambda_zip(source))
    (source / "pkg" / "util.py").write_text("VALUE = 2\n")
    assert code_sha256(build_lambda_zip(source)) != before


def test_adding_a_file_changes_the_sha(source: Path) -> None:
    before = code_sha256(build_lambda_zip(source))
    (source / "extra.py").write_text("")
    assert code_sha256(build_lambda_zip(source)) != before


def test_mtime_and_mode_do_not_matter(source: Path, tmp_path: Path) -> None:
    before = build_lambda_zip(source)
    for path in source.rglob("*.py"):
        os.utime(path, (1_700_000_000, 1_700_000_000))
        path.chmod(0o755)
    assert build_lambda_zip(source) == before
    copy = tmp_path / "copy"
    shutil.copytree(source, copy)  # new inodes, new mtimes, another directory name
    assert build_lambda_zip(copy) == before


def test_non_python_files_and_pycache_are_excluded(source: Path) -> None:
    before = build_lambda_zip(source)
    (source / "notes.md").write_text("ignored\n")
    (source / "__pycache__" / "more.pyc").write_bytes(b"\x01")
    assert build_lambda_zip(source) == before


def test_code_sha256_matches_lambda_format(source: Path) -> None:
    data = build_lambda_zip(source)
    expected = base64.b64encode(hashlib.sha256(data).digest()).decode()
    assert code_sha256(data) == expected
    assert len(code_sha256(data)) == 44
    assert code_sha256(b"") == "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="


def test_missing_or_empty_source_dir(tmp_path: Path) -> None:
    with pytest.raises(NotADirectoryError):
        build_lambda_zip(tmp_path / "absent")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError):
        build_lambda_zip(tmp_path / "empty")
