"""Terraform's plan JSON (deployer/plan_json.py) as its consumers read it: a deny-delete policy
on data-holding types, checkov's `terraform_plan` framework, and the export's addresses."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from deployer import cli
from deployer.graph import build_graph
from deployer.spec import load_spec
from export.terraform import Exporter
from tests.conftest import REPO, Deployment

CHECKOV = REPO / ".venv-checkov" / "bin" / "checkov"
DATA_HOLDING = frozenset({"aws_dynamodb_table", "aws_db_instance", "aws_s3_bucket"})


def deny_data_loss(plan: dict[str, Any]) -> list[str]:
    """A policy as a team writes one over `terraform show -json`: no plan may delete (or
    replace) a resource that holds data."""
    return [
        f"{change['address']}: {'/'.join(change['change']['actions'])} of a data-holding "
        f"{change['type']}"
        for change in plan["resource_changes"]
        if change["type"] in DATA_HOLDING
        and change["mode"] == "managed"
        and "delete" in change["change"]["actions"]
    ]


@pytest.fixture(autouse=True)
def _fast_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEPLOYER_WAIT_SCALE", "0.01")


def plan_json(spec: Path, state_dir: Path, capsys: Any, *args: str) -> dict[str, Any]:
    code = cli.main(["--spec", str(spec), "--state-dir", str(state_dir), "plan", "--json", *args])
    out = capsys.readouterr()
    assert code == 0, out.err
    document: dict[str, Any] = json.loads(out.out)
    return document


def test_one_workspace_is_the_export_in_that_terraform_workspace(
    aws: None, tmp_path: Path, capsys: Any
) -> None:
    spec = load_spec(REPO / "spec.yaml")
    exporter = Exporter(build_graph(spec), spec)
    plan = plan_json(REPO / "spec.yaml", tmp_path / "state", capsys, "--region", "primary")
    assert plan["format_version"] == "1.2"
    assert plan["configuration"]["provider_config"]["aws"]["expressions"]["region"] == {
        "constant_value": spec.region("primary")
    }
    wanted = {
        f"{n.address}[0]" if exporter.is_conditional(n.address) else n.address
        for n in exporter.graph.nodes("primary")
        if n.stored
    }
    changes = plan["resource_changes"]
    assert {c["address"] for c in changes if c["mode"] == "managed"} == wanted
    assert {tuple(c["change"]["actions"]) for c in changes if c["mode"] == "managed"} == {
        ("create",)
    }
    planned = {r["address"] for r in plan["planned_values"]["root_module"]["resources"]}
    assert planned == wanted
    # The database password is write-only: null and sensitive, never a value.
    (db,) = [c for c in changes if c["address"].startswith("aws_db_instance.main")]
    assert db["change"]["after"]["password_wo"] is None
    assert db["change"]["after_sensitive"]["password_wo"] is True


def test_both_workspaces_are_one_module_each_with_its_region(
    aws: None, tmp_path: Path, capsys: Any
) -> None:
    spec = load_spec(REPO / "spec.yaml")
    plan = plan_json(REPO / "spec.yaml", tmp_path / "state", capsys)
    providers = plan["configuration"]["provider_config"]
    assert {k: v["expressions"]["region"]["constant_value"] for k, v in providers.items()} == {
        f"module.{ws}:aws": spec.region(ws) for ws in ("primary", "secondary")
    }
    modules = plan["planned_values"]["root_module"]["child_modules"]
    by_module = {m["address"]: {r["address"] for r in m["resources"]} for m in modules}
    graph = build_graph(spec)
    for ws in ("primary", "secondary"):
        stored = {n.address for n in graph.nodes(ws) if n.stored}
        assert {
            re.sub(r"\[0\]$", "", a.removeprefix(f"module.{ws}."))
            for a in by_module[f"module.{ws}"]
        } == stored


def test_the_deny_delete_policy_fires_on_a_plan_that_replaces_the_table(
    deployment: Deployment, tmp_path: Path, capsys: Any
) -> None:
    deployment.apply("primary:aws_dynamodb_table.transactions")
    spec_file = tmp_path / "spec.yaml"
    shutil.copy(REPO / "spec.yaml", spec_file)
    state_dir = deployment.state_dir
    unchanged = plan_json(spec_file, state_dir, capsys, "--region", "primary")
    assert deny_data_loss(unchanged) == []  # creates and no-ops only
    # A new name is a new table (TableName forces replacement), as Terraform would say.
    spec_file.write_text(
        spec_file.read_text().replace("environment_suffix: dev", "environment_suffix: qa")
    )
    renamed = plan_json(spec_file, state_dir, capsys, "--region", "primary")
    # The primary's only (the secondary holds its replica): `[0]` of a counted block.
    (table,) = [
        c
        for c in renamed["resource_changes"]
        if c["address"] == "aws_dynamodb_table.transactions[0]"
    ]
    assert table["change"]["actions"] == ["delete", "create"]
    assert ["name"] in table["change"]["replace_paths"]
    assert (
        "aws_dynamodb_table.transactions[0]: delete/create of a data-holding aws_dynamodb_table"
        in (deny_data_loss(renamed))
    )


def checkov(target: Path, framework: str, *where: str) -> dict[str, set[str]]:
    """checkov as a user runs it: check ids by resource (type.name), passed, failed or skipped."""
    if not CHECKOV.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but {CHECKOV} is missing (scripts/security-scan.sh makes it)")
        pytest.skip(f"no {CHECKOV}: run scripts/security-scan.sh once to install checkov")
    done = subprocess.run(
        [str(CHECKOV), *where, str(target), "--framework", framework, "-o", "json",
         "--skip-download"],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    report = json.loads(done.stdout)
    found: dict[str, set[str]] = {}
    for outcome in ("passed_checks", "failed_checks", "skipped_checks"):
        for check in report["results"].get(outcome, []):
            resource = re.sub(r"\[\d+\]", "", check["resource"].split("module.primary.")[-1])
            found.setdefault(resource, set()).add(f"{check['check_id']}:{outcome}")
    return found


# Checks that cannot run alike: the plan has no `lifecycle` (CKV_AWS_233, create before destroy),
# and checkov's HCL parser does not evaluate the inline policies' `jsonencode` with references,
# which the plan holds as the JSON document (so the policy-document checks run on it only).
PLAN_CANNOT_SAY = {"CKV_AWS_233"}
HCL_CANNOT_READ = {"aws_iam_role_policy"}


def test_checkov_runs_the_same_checks_on_the_plan_as_on_the_export(
    aws: None, tmp_path: Path, capsys: Any
) -> None:
    plan = plan_json(REPO / "spec.yaml", tmp_path / "state", capsys, "--region", "primary")
    (tmp_path / "plan.json").write_text(json.dumps(plan))
    assert (
        cli.main(["--spec", str(REPO / "spec.yaml"), "export-hcl", "--out", str(tmp_path / "tf")])
        == 0
    )
    on_plan = checkov(tmp_path / "plan.json", "terraform_plan", "-f")
    on_hcl = checkov(tmp_path / "tf", "terraform", "-d")
    assert on_plan, "checkov found no resource in the plan"
    for resource, results in sorted(on_plan.items()):
        if resource.split(".")[0] in HCL_CANNOT_READ:
            continue
        ids = {r.split(":")[0] for r in results}
        hcl_ids = {r.split(":")[0] for r in on_hcl.get(resource, set())} - PLAN_CANNOT_SAY
        assert ids == hcl_ids, resource
        # What fails on the plan is what the export skips with a reason (the accepted findings).
        failed = {r.split(":")[0] for r in results if r.endswith("failed_checks")}
        skipped = {r.split(":")[0] for r in on_hcl[resource] if r.endswith("skipped_checks")}
        assert failed <= skipped | {"CKV_AWS_144"}, resource
