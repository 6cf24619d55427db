#!/usr/bin/env python3
"""Show each of DESIGN.md's ten requirements by reading the deployed environment with boto3.

Usage (after `deployer apply`, e.g. into the sandbox):
    python scripts/show_requirements.py [--endpoint-url URL] [--spec spec.yaml]

Reads AWS (or the emulator) only, never the state file; prints one line of evidence per
requirement and exits 1 if any requirement is not met.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from deployer import sandbox
from deployer.domains import absolute
from deployer.spec import Spec, load_spec
from stack.api import api_name
from stack.bucket import bucket_name
from stack.database import db_identifier
from stack.dns import api_domain_name
from stack.function import function_name
from stack.keys import alias_name
from stack.roles import ROLES, role_name


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint-url", default=os.environ.get("AWS_ENDPOINT_URL"))
    parser.add_argument("--spec", type=Path, default=Path("spec.yaml"))
    parser.add_argument("--state-dir", type=Path, default=Path(".deployer"))
    args = parser.parse_args()
    endpoint = args.endpoint_url or sandbox.running_endpoint(args.state_dir)
    if endpoint and ("127.0.0.1" in endpoint or "localhost" in endpoint):
        for name, value in sandbox.SANDBOX_CREDENTIALS.items():
            os.environ.setdefault(name, value)
    spec = load_spec(args.spec)

    def client(service: str, workspace: str = "primary") -> Any:
        return boto3.client(service, region_name=spec.region(workspace), endpoint_url=endpoint)

    failures = 0
    for number, (title, check) in enumerate(CHECKS, start=1):
        try:
            evidence = check(spec, client)
            ok = True
        except AssertionError as exc:
            evidence, ok = str(exc), False
        failures += not ok
        print(f"{'ok ' if ok else 'FAIL'} {number:2}. {title}: {evidence}")
    return 1 if failures else 0


Client = Callable[..., Any]


def providers(spec: Spec, client: Client) -> str:
    regions = []
    for ws in ("primary", "secondary"):
        vpcs = client("ec2", ws).describe_vpcs(
            Filters=[{"Name": "tag:Project", "Values": [spec.project]}]
        )["Vpcs"]
        assert vpcs, f"no VPC of the project in {spec.region(ws)}"
        regions.append(spec.region(ws))
    return f"resources in {' and '.join(regions)}"


def workspaces(spec: Spec, client: Client) -> str:
    found = {}
    for ws in ("primary", "secondary"):
        vpcs = client("ec2", ws).describe_vpcs(Filters=[{"Name": "tag:Workspace", "Values": [ws]}])[
            "Vpcs"
        ]
        assert len(vpcs) == 1, f"expected one VPC tagged Workspace={ws} in {spec.region(ws)}"
        found[ws] = vpcs[0]["VpcId"]
    return ", ".join(f"{ws}: {vpc} in {spec.region(ws)}" for ws, vpc in found.items())


def s3_replication(spec: Spec, client: Client) -> str:
    source, target = bucket_name(spec, "primary"), bucket_name(spec, "secondary")
    s3 = client("s3")
    for bucket in (source, target):
        status = s3.get_bucket_versioning(Bucket=bucket).get("Status")
        assert status == "Enabled", f"versioning on {bucket} is {status}"
    rules = s3.get_bucket_replication(Bucket=source)["ReplicationConfiguration"]["Rules"]
    destination = rules[0]["Destination"]
    assert destination["Bucket"] == f"arn:aws:s3:::{target}", destination
    key = destination["EncryptionConfiguration"]["ReplicaKmsKeyID"]
    return f"{source} → {target} (both versioned; replicas encrypted with {key})"


def rds(spec: Spec, client: Client) -> str:
    db = client("rds").describe_db_instances(DBInstanceIdentifier=db_identifier(spec))[
        "DBInstances"
    ][0]
    assert db["Engine"] == "postgres" and db["DBInstanceClass"] == "db.t3.medium", db["Engine"]
    assert db["StorageEncrypted"], "storage not encrypted"
    backups = client("rds", "secondary").describe_db_instance_automated_backups()[
        "DBInstanceAutomatedBackups"
    ]
    replicated = [b for b in backups if b.get("DBInstanceArn") == db["DBInstanceArn"]]
    assert replicated and replicated[0].get("KmsKeyId"), "no encrypted backup replication"
    return (
        f"{db['DBInstanceIdentifier']} postgres {db['EngineVersion']} {db['DBInstanceClass']}, "
        f"encrypted, backups replicated to {spec.region('secondary')} with its own key"
    )


def lambdas(spec: Spec, client: Client) -> str:
    env = {}
    for ws in ("primary", "secondary"):
        fn = client("lambda", ws).get_function(FunctionName=function_name(spec))
        env[ws] = fn["Configuration"]["Environment"]["Variables"]
        assert env[ws]["DEPLOY_REGION"] == spec.region(ws), env[ws]
    assert env["primary"].keys() == env["secondary"].keys(), "different variables"
    differing = sorted(k for k in env["primary"] if env["primary"][k] != env["secondary"][k])
    return f"same function in both regions; region-specific variables: {', '.join(differing)}"


def api_gateway(spec: Spec, client: Client) -> str:
    names = []
    for ws in ("primary", "secondary"):
        apis = client("apigateway", ws).get_rest_apis()["items"]
        api = [a for a in apis if a["name"] == api_name(spec)]
        assert api, f"no REST API in {spec.region(ws)}"
        names.append(f"{api[0]['id']} ({spec.region(ws)})")
    return "REST APIs " + ", ".join(names)


def route53(spec: Spec, client: Client) -> str:
    r53 = client("route53")
    zones = r53.list_hosted_zones_by_name(DNSName=spec.dns.domain)["HostedZones"]
    zone = next(z for z in zones if z["Name"].rstrip(".") == spec.dns.domain)
    name = absolute(api_domain_name(spec))
    records = [
        r
        for r in r53.list_resource_record_sets(HostedZoneId=zone["Id"])["ResourceRecordSets"]
        if r["Name"] == name
    ]
    failover = sorted(r.get("Failover", "") for r in records)
    assert failover == ["PRIMARY", "SECONDARY"], failover
    assert all(r.get("HealthCheckId") for r in records), "a record without a health check"
    return f"{name} PRIMARY + SECONDARY, each with a health check"


def iam(spec: Spec, client: Client) -> str:
    names = [r["RoleName"] for r in client("iam").list_roles()["Roles"]]
    counts = {name: names.count(name) for name in (role_name(spec, role) for role in ROLES)}
    assert all(count == 1 for count in counts.values()), counts
    return f"{len(counts)} roles, each once (IAM is global; the secondary looks them up)"


def alarms(spec: Spec, client: Client) -> str:
    found = client("cloudwatch", "secondary").describe_alarms()["MetricAlarms"]
    lag = [a for a in found if a["MetricName"] == "ReplicaLag"]
    assert lag, "no ReplicaLag alarm in the secondary"
    total = len(found) + len(client("cloudwatch").describe_alarms()["MetricAlarms"])
    return f"ReplicaLag alarm {lag[0]['AlarmName']} (> {lag[0]['Threshold']:.0f}s); {total} alarms"


def kms(spec: Spec, client: Client) -> str:
    counts = []
    for ws in ("primary", "secondary"):
        kms_client = client("kms", ws)
        aliases = [
            a["AliasName"]
            for a in kms_client.list_aliases()["Aliases"]
            if a["AliasName"].startswith(f"alias/{spec.project}-")
        ]
        for alias in aliases:
            key = kms_client.describe_key(KeyId=alias)["KeyMetadata"]["KeyId"]
            assert kms_client.get_key_rotation_status(KeyId=key)["KeyRotationEnabled"], alias
        for purpose in ("s3", "rds"):
            assert alias_name(spec, purpose) in aliases, f"no {purpose} key in {spec.region(ws)}"
        counts.append(f"{len(aliases)} in {spec.region(ws)}")
    return "keys with rotation on: " + ", ".join(counts)


CHECKS: list[tuple[str, Callable[[Spec, Client], str]]] = [
    ("Providers for both regions", providers),
    ("Workspaces primary and secondary", workspaces),
    ("S3 versioning and cross-region replication", s3_replication),
    ("RDS PostgreSQL db.t3.medium, encrypted, backups replicated", rds),
    ("Identical Lambdas with region-specific variables", lambdas),
    ("API Gateway REST APIs in both regions", api_gateway),
    ("Route 53 health checks and failover routing", route53),
    ("IAM roles in us-east-1 only", iam),
    ("CloudWatch alarm on RDS replication lag", alarms),
    ("KMS keys per region for S3 and RDS", kms),
]


if __name__ == "__main__":
    sys.exit(main())
