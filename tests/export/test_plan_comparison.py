"""The deployer's plan JSON against the real Terraform's (1.11, provider 5.100 from the mirror).

After `deployer apply` into the sandbox and a Terraform takeover of the exported configuration
(as tests/export/test_takeover.py does), the same spec change is planned twice: by
`terraform plan -out` + `terraform show -json` on the export of the changed spec, in each
Terraform workspace, and by `deployer plan --region WS --json`. Both list the same managed
addresses with the same actions.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from deployer import sandbox
from deployer.model import WORKSPACES
from export.targets import PROVIDER_5
from tests.export.test_takeover import REPO, Sandbox, provider_mirror, terraform_cli

pytestmark = pytest.mark.slow

#: The change: a function setting (an update in both workspaces), the database's name (forces
#: the primary database's replacement) and its backup retention (an update of the primary
#: database, a replacement of the secondary's backup replication).
CHANGES = {
    "memory_mb: 256": "memory_mb: 512",
    "database_name: payments": "database_name: ledger",
    "backup_retention_days: 7": "backup_retention_days: 14",
}


@dataclass
class SpecSandbox(Sandbox):
    spec: Path = REPO / "spec.yaml"

    def deployer(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, **sandbox.SANDBOX_CREDENTIALS, "DEPLOYER_WAIT_SCALE": "0.01"}
        return subprocess.run(
            [
                *(sys.executable, "-m", "deployer", "--spec", str(self.spec)),
                *("--state-dir", str(self.state_dir), "--endpoint-url", self.endpoint, *args),
            ],
            capture_output=True,
            text=True,
            env=env,
            cwd=REPO,
            timeout=900,
        )

    def export(self, *extra: str) -> None:
        done = self.deployer(
            "export-hcl", "--out", str(self.folder), "--provider-version", "5",
            "--sandbox-override", *extra,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr


def actions(plan: dict[str, Any]) -> dict[str, list[str]]:
    return {
        c["address"]: c["change"]["actions"]
        for c in plan["resource_changes"]
        if c["mode"] == "managed"
    }


def test_terraform_and_the_deployer_plan_the_same_changes(emulator: str, tmp_path: Path) -> None:
    mirror, terraform = provider_mirror(), terraform_cli()
    spec = tmp_path / "spec.yaml"
    shutil.copy(REPO / "spec.yaml", spec)
    box = SpecSandbox(emulator, tmp_path / "state", tmp_path / "tf", terraform, spec)
    applied = box.deployer("apply", "--auto-approve")
    assert applied.returncode == 0, applied.stdout[-3000:] + applied.stderr[-3000:]
    box.export("--with-imports")
    box.tf("init", "-input=false", f"-plugin-dir={mirror}")
    for ws in WORKSPACES:  # the takeover: Terraform adopts what the deployer made
        box.tf("workspace", "new", ws)
        box.tf("apply", "-input=false", "-auto-approve")

    text = spec.read_text()
    for old, new in CHANGES.items():
        assert old in text, old
        text = text.replace(old, new)
    spec.write_text(text)
    (box.folder / "imports.tf").unlink()  # adopted: the changed export needs no import
    box.export()

    for ws in WORKSPACES:
        box.tf("workspace", "select", ws)
        box.tf("plan", "-input=false", f"-out={ws}.tfplan")
        theirs = actions(json.loads(box.tf("show", "-json", f"{ws}.tfplan").stdout))
        planned = box.deployer("plan", "--region", ws, "--json")
        assert planned.returncode == 0, planned.stderr[-3000:]
        # What provider 5 cannot express (provider 6's exclusive rule sets) is not exported for
        # it: the deployer plans it, Terraform on this machine's provider 5 cannot.
        ours = {
            address: act
            for address, act in actions(json.loads(planned.stdout)).items()
            if address.split(".", 1)[0] not in PROVIDER_5.lacks
        }
        assert ours == theirs, {
            a: (ours.get(a), theirs.get(a))
            for a in sorted(ours.keys() | theirs.keys())
            if ours.get(a) != theirs.get(a)
        }
        changed = {a: act for a, act in ours.items() if act != ["no-op"]}
        print(ws, json.dumps(changed, sort_keys=True))
        assert changed.get("aws_lambda_function.payment_processor") == ["update"], changed
        if ws == "primary":
            assert changed["aws_db_instance.main[0]"] in (
                ["delete", "create"],
                ["create", "delete"],
            )
