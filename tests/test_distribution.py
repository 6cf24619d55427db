"""What a production `pip install .` gets: the wheel ships the `emulator` package, not moto.

The wheel is built offline from a copy of the work tree (the build writes `build/` and the
egg-info beside its sources), with the venv's own build backend, and its METADATA read as pip
reads it: a requirement applies to a plain install when its marker holds without any extra.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from email.message import Message
from email.parser import Parser
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parent.parent
# Not sources: version control, virtualenvs, caches, build products, sandbox state.
NOT_COPIED = shutil.ignore_patterns(
    ".git", ".venv*", "__pycache__", ".*_cache", "build", "dist", "*.egg-info", ".deployer"
)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("distribution")
    source = root / "source"
    shutil.copytree(REPO, source, ignore=NOT_COPIED)
    built = subprocess.run(
        [
            *(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"),
            *("--wheel-dir", str(root / "wheels"), str(source)),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "PIP_NO_INDEX": "1"},  # offline: nothing is fetched
        timeout=300,
    )
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    (path,) = (root / "wheels").glob("deployer-*.whl")
    return path


def metadata(wheel: Path) -> Message:
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        return Parser().parsestr(archive.read(name).decode())


def installed(meta: Message, extras: frozenset[str] = frozenset()) -> set[str]:
    """The distributions `pip install 'deployer[extras]'` pulls, following deployer[...] itself.

    "" stands for the plain install: requirements without a marker, or whose marker holds there.
    """
    wanted: set[str] = {"", *extras}
    pulled: set[str] = set()
    seen: set[str] = set()
    while wanted - seen:
        extra = (wanted - seen).pop()
        seen.add(extra)
        for line in meta.get_all("Requires-Dist") or []:
            requirement = Requirement(line)
            if requirement.marker is not None and not requirement.marker.evaluate({"extra": extra}):
                continue
            if canonicalize_name(requirement.name) == "deployer":
                wanted |= requirement.extras
            else:
                pulled.add(canonicalize_name(requirement.name))
    return pulled


def test_a_production_install_does_not_pull_moto(wheel: Path) -> None:
    meta = metadata(wheel)
    assert {"boto3", "botocore"} <= installed(meta)
    assert "moto" not in installed(meta)
    assert "moto" in installed(meta, frozenset({"sandbox"}))
    assert "moto" in installed(meta, frozenset({"dev"}))  # the tests need it
    moto_lines = [
        line
        for line in meta.get_all("Requires-Dist") or []
        if canonicalize_name(Requirement(line).name) == "moto"
    ]
    assert moto_lines == ['moto[server]==5.2.1; extra == "sandbox"']
    assert "sandbox" in (meta.get_all("Provides-Extra") or [])


def test_the_wheel_ships_the_emulator_package(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    service_modules = ("rds", "s3", "dynamodb", "ec2", "awslambda", "apigateway", "kms")
    for module in ("__init__", "__main__", "patching", "server", *service_modules):
        assert f"emulator/{module}.py" in names
    assert "deployer/emulator.py" not in names
    assert not [n for n in names if n.startswith("tests/")]


def test_the_wheel_ships_the_drivers_and_the_stack(wheel: Path) -> None:
    """`deployer.resource` loads both packages by name at run time: a wheel without either
    would install and then find no driver or no blueprint."""
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    for package in ("resources", "stack"):
        modules = sorted(p.name for p in (REPO / package).glob("*.py"))
        assert modules and all(f"{package}/{module}" in names for module in modules), package


def test_importing_the_emulator_needs_no_moto() -> None:
    """A production install has the package but not moto: importing it must not fail or patch."""
    probe = (
        "import os, sys\n"
        "sys.modules['moto'] = None  # as if not installed: importing it raises ImportError\n"
        "before = dict(os.environ)\n"
        "import emulator\n"
        "assert dict(os.environ) == before, 'importing emulator changed the environment'\n"
        "print(sorted(emulator.__all__))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPO, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "install_extensions" in result.stdout
