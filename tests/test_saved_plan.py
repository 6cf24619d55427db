"""`plan -out FILE`, `show FILE` and `apply FILE` (deployer/saved_plan.py), through the CLI
in-process against moto: a reviewed plan is applied exactly, a stale one refused unchanged."""

from __future__ import annotations

import json
import shutil
import stat
from pathlib import Path
from typing import Any

import boto3
import pytest

from deployer import cli
from deployer.graph import build_graph
from deployer.spec import load_spec
from tests.conftest import REPO, Deployment


@pytest.fixture(autouse=True)
def _fast_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEPLOYER_WAIT_SCALE", "0.01")


@pytest.fixture
def spec_file(tmp_path: Path) -> Path:
    """A copy of spec.yaml the test may change, as a user edits theirs between plan and apply."""
    path = tmp_path / "spec.yaml"
    shutil.copy(REPO / "spec.yaml", path)
    return path


def run(spec: Path, state_dir: Path, capsys: Any, *args: str) -> tuple[int, str, str]:
    code = cli.main(["--spec", str(spec), "--state-dir", str(state_dir), *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def state_bytes(state_dir: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(state_dir.glob("*.tfstate.json"))}


def test_apply_file_applies_exactly_the_reviewed_plan_unasked(
    aws: None, spec_file: Path, tmp_path: Path, capsys: Any
) -> None:
    state_dir, plan_file = tmp_path / "state", tmp_path / "primary.plan"
    code, printed, err = run(
        spec_file, state_dir, capsys, "plan", "--region", "primary", "-out", str(plan_file)
    )
    assert code == 0, err
    assert f"Saved the plan to {plan_file}" in err
    assert stat.S_IMODE(plan_file.stat().st_mode) == 0o600
    saved = json.loads(plan_file.read_text())
    planned = {c["address"] for c in saved["changes"] if c["action"] == "create"}
    assert planned and saved["workspaces"] == ["primary"]

    # `show FILE` renders the saved plan as `plan` rendered it when it was made.
    code, shown, _ = run(spec_file, state_dir, capsys, "show", str(plan_file))
    assert code == 0
    assert shown.split("\n\n", 1)[1] == printed

    # No terminal and no --auto-approve: apply FILE does not ask.
    code, out, err = run(spec_file, state_dir, capsys, "apply", str(plan_file))
    assert code == 0, err
    assert "Apply complete!" in out
    state = json.loads((state_dir / "primary.tfstate.json").read_text())
    assert set(state["resources"]) == planned
    assert not (state_dir / "secondary.tfstate.json").exists()
    code, _, err = run(
        spec_file, state_dir, capsys, "plan", "--region", "primary", "--detailed-exitcode"
    )
    assert code == 0, err

    # Planned again against the live database, the plan file holds no secret.
    again = tmp_path / "again.plan"
    assert (
        run(spec_file, state_dir, capsys, "plan", "--region", "primary", "--out", str(again))[0]
        == 0
    )
    secrets = boto3.client("secretsmanager", region_name="us-east-1")
    values = [
        secrets.get_secret_value(SecretId=s["ARN"])["SecretString"]
        for s in secrets.list_secrets()["SecretList"]
    ]
    password = json.loads(values[0])["password"]
    code, shown_json, _ = run(spec_file, state_dir, capsys, "show", "-json", str(again))
    for text in (again.read_text(), shown_json):
        assert password not in text
    # An applied plan is stale: the state it was made from moved on.
    code, _, err = run(spec_file, state_dir, capsys, "apply", str(plan_file))
    assert code == 1
    assert "stale" in err and "state of workspace primary changed" in err


def test_a_spec_changed_since_the_plan_is_refused_before_any_call(
    aws: None, spec_file: Path, tmp_path: Path, capsys: Any
) -> None:
    state_dir, plan_file = tmp_path / "state", tmp_path / "p.plan"
    assert (
        run(spec_file, state_dir, capsys, "plan", "--region", "primary", "-out", str(plan_file))[0]
        == 0
    )
    spec_file.write_text(spec_file.read_text().replace("memory_mb: 256", "memory_mb: 512"))
    code, _, err = run(
        spec_file,
        state_dir,
        capsys,
        "--endpoint-url",
        "http://127.0.0.1:9",
        "apply",
        str(plan_file),
    )  # an endpoint nobody answers: the refusal comes first
    assert code == 1
    assert f"the spec {spec_file} changed" in err and "Run `deployer plan -out" in err
    assert state_bytes(state_dir) == {}


def test_a_state_changed_since_the_plan_is_refused(
    deployment: Deployment, spec_file: Path, capsys: Any, tmp_path: Path
) -> None:
    state_dir, plan_file = deployment.state_dir, tmp_path / "p.plan"
    assert (
        run(spec_file, state_dir, capsys, "plan", "--region", "primary", "-out", str(plan_file))[0]
        == 0
    )
    deployment.apply("primary:aws_s3_bucket.payments")  # another apply meanwhile
    before = state_bytes(state_dir)
    code, _, err = run(spec_file, state_dir, capsys, "apply", str(plan_file))
    assert code == 1
    assert "state of workspace primary changed" in err
    assert state_bytes(state_dir) == before


def test_a_live_resource_changed_since_the_plan_is_refused(
    deployment: Deployment, spec_file: Path, capsys: Any, tmp_path: Path
) -> None:
    deployment.apply("primary:aws_s3_bucket.payments")
    state_dir, plan_file = deployment.state_dir, tmp_path / "p.plan"
    assert (
        run(spec_file, state_dir, capsys, "plan", "--region", "primary", "-out", str(plan_file))[0]
        == 0
    )
    bucket = deployment.entry("primary:aws_s3_bucket.payments")["id"]
    s3 = boto3.client("s3", region_name="us-east-1")
    tags = s3.get_bucket_tagging(Bucket=bucket)["TagSet"]
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [*tags, {"Key": "x", "Value": "y"}]})
    before = state_bytes(state_dir)
    code, _, err = run(spec_file, state_dir, capsys, "apply", str(plan_file))
    assert code == 1
    assert "aws_s3_bucket.payments (primary): no-op then, update now" in err
    assert "(the live aws_s3_bucket.payments (primary) changed: tags)" in err
    assert state_bytes(state_dir) == before
    # Put back as it was, the plan is current again: only the planned changes, none other.
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": tags})
    code, _, err = run(spec_file, state_dir, capsys, "apply", str(plan_file))
    assert code == 0, err


@pytest.mark.parametrize(
    ("content", "args", "complaint"),
    [
        (None, (), "no such plan file"),
        ("{", (), "not a deployer plan file (not JSON"),
        ('{"format_version": "1.2"}', (), "not a deployer plan file"),
        ('{"format": "deployer-saved-plan", "format_version": 99}', (), "newer than this"),
        ("{}", ("--region", "primary"), "--region cannot be given with a saved plan"),
    ],
)
def test_what_is_not_an_applicable_plan_is_refused(
    spec_file: Path,
    tmp_path: Path,
    capsys: Any,
    content: str | None,
    args: tuple[str, ...],
    complaint: str,
) -> None:
    plan_file = tmp_path / "p.plan"
    if content is not None:
        plan_file.write_text(content)
    code, _, err = run(
        spec_file, tmp_path / "state", capsys, "--endpoint-url", "http://127.0.0.1:9",
        "apply", str(plan_file), *args,
    )  # fmt: skip
    assert code == 1
    assert complaint in err
    assert not (tmp_path / "state").exists()


def test_show_refuses_what_is_not_a_plan(tmp_path: Path, spec_file: Path, capsys: Any) -> None:
    (tmp_path / "state.json").write_text(json.dumps({"version": 1, "resources": {}}))
    code, _, err = run(spec_file, tmp_path, capsys, "show", str(tmp_path / "state.json"))
    assert code == 1 and "not a deployer plan file" in err


def test_both_workspaces_are_saved_with_each_state_digest(
    aws: None, spec_file: Path, tmp_path: Path, capsys: Any
) -> None:
    plan_file = tmp_path / "p.plan"
    code, _, err = run(spec_file, tmp_path / "state", capsys, "plan", "-out", str(plan_file))
    assert code == 0, err
    saved = json.loads(plan_file.read_text())
    graph = build_graph(load_spec(spec_file))
    managed = {n.key for n in graph.nodes() if n.stored}
    assert {c["key"] for c in saved["changes"] if c["mode"] == "managed"} == managed
    assert set(saved["states"]) == {"primary", "secondary"}
