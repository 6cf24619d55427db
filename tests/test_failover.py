"""A region failover rehearsed end to end: the CLI against the emulator (moto's server).

apply → payments written through the handler in us-east-1 → a failover refused while the replica
lags → `failover --to secondary --drill` (killed once mid-way and run again) → the payments read
in eu-west-1, a retried payment not charged twice, `plan` at 0 changes → `failback` → `plan` at
0 changes and `drift` clean; both drill reports kept with their RTO and RPO figures.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from deployer.dns_probe import health_url
from emulator.rds_replicas import REPLICA_LAG_ROUTE
from tests.test_e2e import client, run

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent
CRASH_LAUNCHER = REPO / "tests" / "crash_launcher.py"
P, S = "us-east-1", "eu-west-1"
TRANSACTIONS = "payments-transactions-dev"
# The emulator's modelled ReplicaLag of both databases (whichever is the replica), so that the
# RPO has something to show and the lag limit something to refuse.
REPLICA_LAG_S = 2


def set_replica_lag(endpoint: str, region: str, identifier: str) -> None:
    body = {"region": region, "identifier": identifier, "seconds": REPLICA_LAG_S}
    request = urllib.request.Request(
        endpoint + REPLICA_LAG_ROUTE, data=json.dumps(body).encode(), method="POST"
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        assert answer.status == 200


def cli(
    endpoint: str, state: Path, spec: Path, *args: str, crash_after: str | None = None
) -> subprocess.CompletedProcess[str]:
    """The CLI on this test's spec; with `crash_after` (an operation), killed right after the
    first call of it returns."""
    if crash_after is None:
        return run(endpoint, state, *args, spec=spec)
    launcher = (str(CRASH_LAUNCHER), "--after-call", crash_after, "--")
    return run(endpoint, state, *args, spec=spec, launcher=launcher)


def ok(result: subprocess.CompletedProcess[str], code: int = 0) -> str:
    assert result.returncode == code, result.stdout[-4000:] + result.stderr[-4000:]
    return result.stdout


def api_call(
    endpoint: str,
    state: Path,
    region: str,
    method: str,
    path: str,
    body: Any = None,
    key: str | None = None,
) -> tuple[int, dict[str, Any]]:
    """A request to the region's API through the emulator's data plane (the handler runs)."""
    workspace = "primary" if region == P else "secondary"
    resources = json.loads((state / f"{workspace}.tfstate.json").read_text())["resources"]
    api_id = resources["aws_api_gateway_rest_api.payments"]["id"]
    url = health_url(endpoint, api_id, region, "prod", path)
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json", **({"Idempotency-Key": key} if key else {})}
    # The payment routes take IAM (SigV4) callers, as spec.yaml's `api.auth: iam` says.
    signed = AWSRequest(method=method, url=url, data=data, headers=headers)
    SigV4Auth(Credentials("testing", "testing"), "execute-api", region).add_auth(signed)
    request = urllib.request.Request(url, data=data, method=method, headers=dict(signed.headers))
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def count_items(endpoint: str, region: str) -> int:
    return int(client(endpoint, "dynamodb", region).scan(TableName=TRANSACTIONS)["Count"])


def db(endpoint: str, region: str, identifier: str) -> dict[str, Any]:
    found = client(endpoint, "rds", region).describe_db_instances(DBInstanceIdentifier=identifier)
    return dict(found["DBInstances"][0])


def test_failover_drill_then_failback_keeps_payments_and_state_true(
    fresh_emulator: str, tmp_path: Path
) -> None:
    endpoint, state = fresh_emulator, tmp_path / "state"
    spec = tmp_path / "spec.yaml"
    shutil.copy(REPO / "spec.yaml", spec)
    ok(cli(endpoint, state, spec, "apply", "--auto-approve"))
    set_replica_lag(endpoint, S, "payments-db-replica-dev")

    payments = {}
    for n in range(3):
        status, body = api_call(
            endpoint,
            state,
            P,
            "POST",
            "/payments",
            {"amount": f"1{n}.50", "currency": "EUR", "merchant_id": "m-1"},
            key=f"order-{n}",
        )
        assert status == 201, body
        payments[f"order-{n}"] = body
    assert count_items(endpoint, S) == 3  # global tables: already in eu-west-1

    # Refused, with the reason, while the replica lags more than the spec allows; nothing moves.
    strict = tmp_path / "strict.yaml"
    strict.write_text(spec.read_text().replace("max_replica_lag_s: 60", "max_replica_lag_s: 1"))
    refused = cli(endpoint, state, strict, "failover", "--to", "secondary", "--auto-approve")
    assert refused.returncode == 1 and "replica lag 2 s is above the limit" in refused.stderr, (
        refused.stderr
    )
    assert "writer: primary" in strict.read_text()
    assert "--force proceeds" in refused.stderr  # the way out when the region is really lost
    drill_forced = cli(
        endpoint, state, strict, "failover", "--to", "secondary", "--drill", "--force"
    )
    assert drill_forced.returncode == 1 and "never overrides" in drill_forced.stderr
    assert "lost" not in json.loads((state / "primary.tfstate.json").read_text())

    # --plan says what it would do and does nothing.
    planned = ok(cli(endpoint, state, spec, "failover", "--to", "secondary", "--plan"))
    assert "Promote" in planned or "promotes" in planned
    assert "writer: primary" in spec.read_text()

    # Killed right after the promotion call returned: a rerun resumes and converges.
    report = tmp_path / "drill" / "failover.json"
    crashed = cli(
        endpoint,
        state,
        spec,
        "failover",
        "--to",
        "secondary",
        "--drill",
        "--auto-approve",
        crash_after="PromoteReadReplica",
    )
    assert crashed.returncode == 137, crashed.stdout[-3000:] + crashed.stderr[-3000:]
    assert "writer: secondary" in spec.read_text()  # recorded before the promotion began
    for workspace in ("primary", "secondary"):  # the dead process's locks, as after a kill -9
        ok(cli(endpoint, state, spec, "force-unlock", workspace))
    out = ok(
        cli(
            endpoint,
            state,
            spec,
            "failover",
            "--to",
            "secondary",
            "--drill",
            "--auto-approve",
            "--report",
            str(report),
        )
    )
    assert "resuming" in out
    assert "writer: secondary" in spec.read_text()
    promoted = db(endpoint, S, "payments-db-replica-dev")
    assert not promoted.get("ReadReplicaSourceDBInstanceIdentifier")
    assert promoted["MultiAZ"] is True and promoted["DeletionProtection"] is True
    # The drill's inverted health check is restored.
    checks = client(endpoint, "route53", P).list_health_checks()["HealthChecks"]
    assert not any(c["HealthCheckConfig"].get("Inverted") for c in checks)

    # The payments are readable in eu-west-1; a retry there is answered, not charged again.
    for payment in payments.values():
        status, body = api_call(endpoint, state, S, "GET", f"/payments/{payment['transaction_id']}")
        assert status == 200 and body["amount"] == payment["amount"], body
    status, body = api_call(
        endpoint,
        state,
        S,
        "POST",
        "/payments",
        {"amount": "10.50", "currency": "EUR", "merchant_id": "m-1"},
        key="order-0",
    )
    assert status == 200 and body["transaction_id"] == payments["order-0"]["transaction_id"]
    assert count_items(endpoint, S) == 3

    again = ok(cli(endpoint, state, spec, "failover", "--to", "secondary", "--auto-approve"))
    assert "is the writer already" in again  # a second failover does nothing

    planned_after = cli(endpoint, state, spec, "plan", "--detailed-exitcode")
    ok(planned_after)
    assert "marked lost" in planned_after.stderr
    listed = json.loads(ok(cli(endpoint, state, spec, "state", "list", "--json")))
    assert {r["workspace"] for r in listed if r["lost_since"]} == {"primary"}

    back_report = tmp_path / "drill" / "failback.json"
    ok(cli(endpoint, state, spec, "failback", "--auto-approve", "--report", str(back_report)))
    assert "writer: primary" in spec.read_text()
    primary = db(endpoint, P, "payments-db-dev")
    assert not primary.get("ReadReplicaSourceDBInstanceIdentifier") and primary["MultiAZ"]
    replica = db(endpoint, S, "payments-db-replica-dev")
    assert replica["ReadReplicaSourceDBInstanceIdentifier"].endswith(":db:payments-db-dev")
    ok(cli(endpoint, state, spec, "plan", "--detailed-exitcode"))
    ok(cli(endpoint, state, spec, "drift"))

    assert json.loads(report.read_text())["resumed_from"]  # the killed run's start
    for path in (report, back_report):
        doc = json.loads(path.read_text())
        assert doc["result"] == "ok", doc["checks"]
        assert doc["rto_seconds"] > 0
        assert doc["rpo"]["dynamodb_replication_lag_seconds"] > 0
        # The failover's replica lagged 2 s; the failback's new replica is modelled at 0 s.
        expected_lag = REPLICA_LAG_S if path == report else 0
        assert doc["rpo"]["rds_replica_lag_seconds"] == expected_lag
        assert all(
            step["api_calls"]["read"] + step["api_calls"]["write"] >= 0 for step in doc["steps"]
        )
        assert path.with_suffix(".md").is_file() and path.with_suffix(".svg").is_file()
        print(
            f"{doc['kind']}: RTO {doc['rto_seconds']:.3f} s, RPO {doc['rpo']}, "
            f"{len(doc['steps'])} steps"
        )
