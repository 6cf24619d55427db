"""State files: atomic, secret-free records and per-workspace locks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from deployer.state import LockedError, State, StateError, force_unlock, workspace_lock


def test_record_is_written_at_once_and_reloads(tmp_path: Path) -> None:
    state = State.load(tmp_path, "primary")
    state.record("aws_vpc.main", {"type": "aws_vpc", "status": "created", "id": "vpc-1"})
    again = State.load(tmp_path, "primary")
    assert again.get("aws_vpc.main") == {"type": "aws_vpc", "status": "created", "id": "vpc-1"}
    assert again.serial == 1
    state.forget("aws_vpc.main")
    assert State.load(tmp_path, "primary").addresses() == []


def test_no_temporary_file_is_left_behind(tmp_path: Path) -> None:
    state = State.load(tmp_path, "primary")
    for i in range(5):
        state.record(f"aws_subnet.s{i}", {"type": "aws_subnet", "id": f"subnet-{i}"})
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "primary.tfstate.json",
        "primary.tfstate.json.backup",
    ]


def test_corrupt_state_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    (tmp_path / "primary.tfstate.json").write_text('{"version": 1, "resou')
    with pytest.raises(StateError, match="unreadable or corrupt"):
        State.load(tmp_path, "primary")


def test_newer_state_format_is_refused(tmp_path: Path) -> None:
    doc = {"version": 99, "workspace": "primary", "resources": {}}
    (tmp_path / "primary.tfstate.json").write_text(json.dumps(doc))
    with pytest.raises(StateError, match="newer than this deployer"):
        State.load(tmp_path, "primary")


def test_second_lock_on_a_workspace_fails_naming_the_holder(tmp_path: Path) -> None:
    with workspace_lock(tmp_path, "primary", "apply"):
        with (
            pytest.raises(LockedError, match=rf"locked by pid {os.getpid()} .*\(apply\) since"),
            workspace_lock(tmp_path, "primary", "apply"),
        ):
            pass
        with workspace_lock(tmp_path, "secondary", "apply"):
            pass  # another workspace is independent
    with workspace_lock(tmp_path, "primary", "apply"):
        pass  # released


def test_stale_lock_of_a_dead_process_is_reported_and_can_be_released(tmp_path: Path) -> None:
    code = (
        "import os, sys; from pathlib import Path; from deployer.state import workspace_lock\n"
        "cm = workspace_lock(Path(sys.argv[1]), 'primary', 'apply'); cm.__enter__(); os._exit(0)"
    )
    subprocess.run([sys.executable, "-c", code, str(tmp_path)], check=True)
    with (
        pytest.raises(LockedError, match=r"no longer running.*force-unlock primary"),
        workspace_lock(tmp_path, "primary", "apply"),
    ):
        pass
    assert force_unlock(tmp_path, "primary")
    with workspace_lock(tmp_path, "primary", "apply"):
        pass


def test_secrets_never_reach_the_state_file(tmp_path: Path) -> None:
    state = State.load(tmp_path, "primary")
    state.record(
        "aws_db_instance.main",
        {
            "type": "aws_db_instance",
            "applied": {"password": "hunter2", "manage_master_user_password": True},
            "attributes": {"master_user_secret": [{"secret_arn": "arn:secret"}]},
        },
    )
    text = (tmp_path / "primary.tfstate.json").read_text()
    assert "hunter2" not in text
    assert "manage_master_user_password" in text and "arn:secret" in text


def test_the_state_file_exists_at_every_instant_of_a_save(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A kill at any point of a save leaves a state file (old or new), never none."""
    import deployer.backends as backends_module

    state = State.load(tmp_path, "primary")
    state.record("aws_vpc.main", {"type": "aws_vpc", "id": "vpc-1"})
    path = tmp_path / "primary.tfstate.json"
    seen: list[bool] = []
    real_replace = os.replace

    def replace(src: str, dst: str | Path) -> None:
        seen.append(path.exists())
        real_replace(src, dst)
        seen.append(path.exists())

    monkeypatch.setattr(backends_module.os, "replace", replace)
    state.record("aws_vpc.main", {"type": "aws_vpc", "id": "vpc-2"})
    assert seen and all(seen)
    backup = json.loads((tmp_path / "primary.tfstate.json.backup").read_text())
    assert backup["resources"]["aws_vpc.main"]["id"] == "vpc-1"
    assert json.loads(path.read_text())["resources"]["aws_vpc.main"]["id"] == "vpc-2"
