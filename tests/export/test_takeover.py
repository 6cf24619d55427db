"""Terraform takes over what `deployer apply` deployed: the real Terraform and provider 5.100.

After `deployer apply` into the sandbox and `export-hcl --with-imports --provider-version 5`,
each workspace's `terraform plan` imports everything, replaces and destroys nothing, and creates
only what cannot be imported; applying that plan leaves every live resource as it was (the
database password included); then Terraform and the deployer both find nothing to do. Last,
the deployer's plan JSON against Terraform's: the same spec change planned by `terraform plan
-out` + `terraform show -json` on the changed export and by `deployer plan --region WS --json`
lists the same managed addresses with the same actions (it shares the takeover, the slow part).
"""

from __future__ import annotations

import base64
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit
from urllib.request import Request, urlopen

import boto3
import botocore.session
import pytest

from deployer import sandbox
from deployer.aws import is_read_operation
from deployer.model import WORKSPACES
from export.sandbox import ENDPOINT_SERVICES
from export.targets import PROVIDER_5

REPO = Path(__file__).resolve().parents[2]
REGIONS = {"primary": "us-east-1", "secondary": "eu-west-1"}
#: What Terraform creates although the environment exists: no AWS object stands behind it.
NOT_IMPORTABLE = {"aws_acm_certificate_validation"}
pytestmark = pytest.mark.slow


def skip_or_fail(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but {reason}")
    pytest.skip(reason)


def provider_mirror() -> Path:
    """The offline mirror of hashicorp/aws 5.100 (the `registry.terraform.io` parent)."""
    script = REPO / "scripts" / "vendor_schema.py"
    loaded = importlib.util.spec_from_file_location("vendor_schema", script)
    assert loaded is not None and loaded.loader is not None
    module = importlib.util.module_from_spec(loaded)
    loaded.loader.exec_module(module)
    found: Path | None = module.find_mirror()
    if found is None:
        skip_or_fail("no filesystem mirror of hashicorp/aws 5.100 on this machine")
    assert found is not None
    return found


def terraform_cli() -> str:
    path = shutil.which("terraform")
    if path is None:
        skip_or_fail("no terraform CLI on the PATH")
    assert path is not None
    answer = subprocess.run([path, "version", "-json"], capture_output=True, text=True, check=True)
    version = tuple(int(n) for n in json.loads(answer.stdout)["terraform_version"].split(".")[:2])
    if version < (1, 11):
        skip_or_fail(f"terraform {version} is older than 1.11 (write-only arguments)")
    return path


@dataclass
class Sandbox:
    endpoint: str
    state_dir: Path
    folder: Path
    terraform: str
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

    def tf(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TF_"))},
            "TF_CLI_CONFIG_FILE": os.devnull,  # no installation rule but -plugin-dir's
            "TF_IN_AUTOMATION": "1",
            "CHECKPOINT_DISABLE": "1",
        }
        done = subprocess.run(
            [self.terraform, *args, "-no-color"],
            capture_output=True,
            text=True,
            env=env,
            cwd=self.folder,
            timeout=900,
        )
        if check and done.returncode != 0:
            pytest.fail(f"terraform {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done

    def client(self, service: str, workspace: str) -> Any:
        return boto3.client(
            service,
            region_name=REGIONS[workspace],
            endpoint_url=self.endpoint,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def recorder(self, action: str) -> bytes:
        method = "GET" if action == "download-recording" else "POST"
        url = f"{self.endpoint}/moto-api/recorder/{action}"
        with urlopen(Request(url, method=method), timeout=30) as answer:
            return bytes(answer.read())


@pytest.fixture(scope="module")
def taken_over(emulator: str, tmp_path_factory: pytest.TempPathFactory) -> Sandbox:
    """Both workspaces applied by the deployer, exported for provider 5 with import blocks and
    the sandbox override, and `terraform init` done from the mirror."""
    mirror, terraform = provider_mirror(), terraform_cli()
    root = tmp_path_factory.mktemp("takeover")
    box = Sandbox(emulator, root / "state", root / "tf", terraform)
    applied = box.deployer("apply", "--auto-approve")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    exported = box.deployer(
        "export-hcl",
        "--out",
        str(box.folder),
        "--with-imports",
        "--provider-version",
        "5",
        "--sandbox-override",
    )
    assert exported.returncode == 0, exported.stdout + exported.stderr
    box.tf("init", "-input=false", f"-plugin-dir={mirror}")
    return box


def test_the_export_validates_in_every_workspace(taken_over: Sandbox) -> None:
    taken_over.tf("fmt", "-check", "-diff")  # imports.tf and the override included
    taken_over.tf("validate")  # the default workspace, as right after `terraform init`
    for ws in WORKSPACES:
        taken_over.tf("workspace", "new", ws)
        taken_over.tf("validate")


def planned_changes(box: Sandbox, workspace: str) -> dict[str, Any]:
    box.tf("workspace", "select", workspace)
    box.tf("plan", "-input=false", f"-out={workspace}.tfplan")
    shown = box.tf("show", "-json", f"{workspace}.tfplan")
    return dict(json.loads(shown.stdout))


def test_terraform_takes_over_without_changing_anything(taken_over: Sandbox) -> None:
    box = taken_over
    for ws in WORKSPACES:
        if ws not in box.tf("workspace", "list").stdout:
            box.tf("workspace", "new", ws)
    before = {ws: live_snapshot(box, ws) for ws in WORKSPACES}

    for ws in WORKSPACES:
        plan = planned_changes(box, ws)
        changes = plan["resource_changes"]
        actions = {c["address"]: c["change"]["actions"] for c in changes}
        imported = [c["address"] for c in changes if c["change"].get("importing")]
        assert imported, f"{ws}: nothing to import"
        assert not [a for a, act in actions.items() if "delete" in act], f"{ws}: {actions}"
        created = {c["type"] for c in changes if c["change"]["actions"] == ["create"]}
        assert created <= NOT_IMPORTABLE, f"{ws} would create {created - NOT_IMPORTABLE}"
        # Every managed resource is adopted, none left to be created anew.
        assert {c["type"] for c in changes if c["address"] not in imported} <= NOT_IMPORTABLE

    box.recorder("reset-recording")
    box.recorder("start-recording")
    try:
        for ws in WORKSPACES:
            box.tf("workspace", "select", ws)
            box.tf("apply", "-input=false", f"{ws}.tfplan")
    finally:
        box.recorder("stop-recording")
    writes = write_calls(box.recorder("download-recording"))

    after = {ws: live_snapshot(box, ws) for ws in WORKSPACES}
    assert after == before, "terraform apply changed a live resource"
    # What Terraform wrote re-sends what is there (the exported README says why): same code,
    # same record, the instance modified to the settings it has.
    assert set(writes) <= {
        "lambda:UpdateFunctionCode",
        "route53:ChangeResourceRecordSets",
        "rds:ModifyDBInstance",
    }, writes

    for ws in WORKSPACES:
        box.tf("workspace", "select", ws)
        replanned = box.tf("plan", "-input=false", "-detailed-exitcode", check=False)
        assert replanned.returncode == 0, replanned.stdout + replanned.stderr
    plan = box.deployer("plan", "--detailed-exitcode")
    assert plan.returncode == 0, plan.stdout + plan.stderr
    drift = box.deployer("drift")
    assert drift.returncode == 0, drift.stdout + drift.stderr


#: The change: a function setting (an update in both workspaces), the database's name (forces
#: the primary database's replacement) and its backup retention (an update of the primary
#: database, a replacement of the secondary's backup replication).
CHANGES = {
    "memory_mb: 256": "memory_mb: 512",
    "database_name: payments": "database_name: ledger",
    "backup_retention_days: 7": "backup_retention_days: 14",
}


def managed_actions(plan: dict[str, Any]) -> dict[str, list[str]]:
    return {
        c["address"]: c["change"]["actions"]
        for c in plan["resource_changes"]
        if c["mode"] == "managed"
    }


def test_terraform_and_the_deployer_plan_the_same_changes(
    taken_over: Sandbox, tmp_path: Path
) -> None:
    """Runs after the takeover (the module's order; alone, it takes over first): it re-exports
    the shared folder from a changed spec."""
    box = taken_over
    for ws in WORKSPACES:
        if ws not in box.tf("workspace", "list").stdout:
            box.tf("workspace", "new", ws)
        box.tf("workspace", "select", ws)
        if not box.tf("state", "list").stdout.strip():
            box.tf("apply", "-input=false", "-auto-approve")
    spec = tmp_path / "spec.yaml"
    text = box.spec.read_text()
    for old, new in CHANGES.items():
        assert old in text, old
        text = text.replace(old, new)
    spec.write_text(text)
    changed_box = replace(box, spec=spec)
    (box.folder / "imports.tf").unlink()  # adopted: the changed export needs no import
    exported = changed_box.deployer(
        "export-hcl", "--out", str(box.folder), "--provider-version", "5", "--sandbox-override"
    )
    assert exported.returncode == 0, exported.stdout + exported.stderr

    for ws in WORKSPACES:
        theirs = managed_actions(planned_changes(box, ws))
        planned = changed_box.deployer("plan", "--region", ws, "--json")
        assert planned.returncode == 0, planned.stderr[-3000:]
        # What provider 5 cannot express (provider 6's exclusive rule sets) is not exported
        # for it: the deployer plans it, Terraform with provider 5 cannot.
        ours = {
            address: act
            for address, act in managed_actions(json.loads(planned.stdout)).items()
            if address.split(".", 1)[0] not in PROVIDER_5.lacks
        }
        assert ours == theirs, {
            a: (ours.get(a), theirs.get(a))
            for a in sorted(ours.keys() | theirs.keys())
            if ours.get(a) != theirs.get(a)
        }
        changed = {a: act for a, act in ours.items() if act != ["no-op"]}
        assert changed.get("aws_lambda_function.payment_processor") == ["update"], changed
        if ws == "primary":
            assert changed["aws_db_instance.main[0]"] in (
                ["delete", "create"],
                ["create", "delete"],
            )
        else:
            assert changed["aws_db_instance_automated_backups_replication.main[0]"] in (
                ["delete", "create"],
                ["create", "delete"],
            )


def live_snapshot(box: Sandbox, workspace: str) -> dict[str, Any]:
    """What a takeover must not touch, as the emulator reports it: the database password and its
    versions, the function's code and versions, the DNS records, the database settings."""
    snapshot: dict[str, Any] = {}
    secrets = box.client("secretsmanager", workspace)
    for listed in secrets.list_secrets()["SecretList"]:
        arn = listed["ARN"]
        versions = secrets.list_secret_version_ids(SecretId=arn)["Versions"]
        snapshot[f"secret {listed['Name']}"] = (
            sorted(v["VersionId"] for v in versions),
            secrets.get_secret_value(SecretId=arn)["SecretString"],
        )
    functions = box.client("lambda", workspace)
    for function in functions.list_functions()["Functions"]:
        name = function["FunctionName"]
        snapshot[f"function {name}"] = (
            function["CodeSha256"],
            [
                v["Version"]
                for v in functions.list_versions_by_function(FunctionName=name)["Versions"]
            ],
        )
    route53 = box.client("route53", workspace)
    for zone in route53.list_hosted_zones()["HostedZones"]:
        records = route53.list_resource_record_sets(HostedZoneId=zone["Id"])["ResourceRecordSets"]
        snapshot[f"zone {zone['Name']}"] = records
    for instance in box.client("rds", workspace).describe_db_instances()["DBInstances"]:
        instance.pop("LatestRestorableTime", None)
        snapshot[f"db {instance['DBInstanceIdentifier']}"] = instance
    return snapshot


def write_calls(recording: bytes) -> list[str]:
    """`service:Operation` of every call in moto's recording that is not a read."""
    writes = []
    for line in recording.decode().splitlines():
        if line.strip():
            service, operation = operation_of(json.loads(line))
            if not is_read_operation(operation):
                writes.append(f"{service}:{operation}")
    return writes


SIGNING_NAMES = {"monitoring": "cloudwatch"}


def operation_of(request: dict[str, Any]) -> tuple[str, str]:
    """The botocore service and operation a recorded HTTP request called: the query protocol's
    `Action`, the JSON protocol's target, else the REST route that matches in the service model."""
    headers = {k.lower(): v for k, v in request["headers"].items()}
    scope = re.search(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/", headers.get("authorization", ""))
    service = SIGNING_NAMES.get(scope.group(1), scope.group(1)) if scope else "unsigned"
    assert service in ENDPOINT_SERVICES or service == "unsigned", service
    body = request.get("body") or ""
    if request.get("body_encoded"):
        body = base64.b64decode(body).decode("utf-8", "replace")
    if "x-amz-target" in headers:
        return service, str(headers["x-amz-target"]).rsplit(".", 1)[-1]
    if "form-urlencoded" in headers.get("content-type", ""):
        return service, dict(parse_qsl(body)).get("Action", "?")
    return service, rest_operation(service, request["method"], request["url"])


def rest_operation(service: str, method: str, url: str) -> str:
    """The operation of `service`'s model whose HTTP method and URI template match, the most
    specific one (most literal text, most query keys) winning."""
    parts = urlsplit(url)
    path = parts.path.rstrip("/")
    query = {k for k, _ in parse_qsl(parts.query, keep_blank_values=True)}
    model = botocore.session.get_session().get_service_model(service)
    best: tuple[tuple[int, int], str] | None = None
    for name in model.operation_names:
        http = model.operation_model(name).http
        if http.get("method") != method:
            continue
        template, _, wanted_query = str(http["requestUri"]).partition("?")
        wanted = {pair.split("=", 1)[0] for pair in wanted_query.split("&") if pair}
        pattern = re.sub(r"\\\{[^}]+\\\+\\\}", ".+", re.escape(template.rstrip("/")))
        pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", pattern)
        if wanted <= query and re.fullmatch(pattern, path):
            score = (len(re.sub(r"\{[^}]+\}", "", template)), len(wanted))
            if best is None or score > best[0]:
                best = (score, name)
    return best[1] if best else f"{method} {path}"
