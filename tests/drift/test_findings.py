"""Every drift finding says what it is and how serious: out-of-band changes made with boto3
against moto (in-process), then what drift reports about them; the CLI's `--fail-on`.

Descriptions are checked for the facts they must carry (read back from AWS where AWS has
them: a rule's protocol, ports and source), not for their exact wording.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from deployer.drift import (
    DRIFTED,
    IN_SYNC,
    MISSING,
    DriftReport,
    ResourceDrift,
    detect_drift,
    render_json,
    render_markdown,
    render_table,
)

REPO = Path(__file__).resolve().parent.parent.parent
P, S = "us-east-1", "eu-west-1"
BOTH = ["primary", "secondary"]
KEY = "primary:aws_kms_key.s3"


def drift(deployment: Any, workspaces: list[str] = BOTH) -> DriftReport:
    return detect_drift(deployment.graph, deployment.states(), deployment.clients, workspaces)


def result(report: DriftReport, key: str) -> ResourceDrift:
    return next(r for r in report.resources if r.key == key)


def entry_id(deployment: Any, key: str) -> str:
    return str(deployment.entry(key)["id"])


def validate(doc: dict[str, Any]) -> None:
    """Against the JSON Schema of docs/drift.md."""
    jsonschema = pytest.importorskip("jsonschema")
    text = (REPO / "docs" / "drift.md").read_text()
    block = text.split("The same as a JSON Schema", 1)[1].split("```json\n", 1)[1]
    jsonschema.validate(doc, json.loads(block.split("\n```", 1)[0]))


def test_a_disabled_key_is_high_and_says_so(deployment: Any) -> None:
    deployment.apply(KEY)
    deployment.clients("kms", P).disable_key(KeyId=entry_id(deployment, KEY))
    report = drift(deployment, ["primary"])
    found = result(report, KEY)
    assert found.status == DRIFTED and found.severity == "high"
    [change] = found.changes
    assert (change.name, change.expected, change.actual) == ("is_enabled", True, False)
    assert change.severity == "high"
    assert "key" in change.description and "disabled" in change.description
    summary = json.loads(render_json(report))["summary"]
    assert (summary["high"], summary["medium"], summary["low"]) == (1, 0, 0)
    # Shown in every format.
    doc = json.loads(render_json(report))
    validate(doc)
    [doc_change] = next(r for r in doc["resources"] if r["address"] == "aws_kms_key.s3")["changes"]
    assert doc_change["description"] == change.description and doc_change["severity"] == "high"
    assert change.description in render_markdown(report)
    assert f"[high] {change.description}" in render_table(report, colour=False)

    # Enabled again (apply heals it): nothing to report.
    deployment.apply(KEY)
    healed = drift(deployment, ["primary"])
    assert result(healed, KEY).status == IN_SYNC and not list(healed.severities())


def test_a_relaxed_public_access_block_is_high(deployment: Any) -> None:
    key = "primary:aws_s3_bucket_public_access_block.payments"
    deployment.apply(key)
    bucket = entry_id(deployment, key)
    s3 = deployment.clients("s3", P)
    settings = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    s3.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={**settings, "BlockPublicPolicy": False},
    )
    found = result(drift(deployment, ["primary"]), key)
    assert found.status == DRIFTED
    [change] = found.changes
    assert (change.name, change.actual, change.severity) == ("block_public_policy", False, "high")
    assert "block_public_policy" in change.description and "off" in change.description


def test_a_widened_bucket_policy_names_the_statement_it_gained(deployment: Any) -> None:
    key = "primary:aws_s3_bucket_policy.payments"
    deployment.apply(key)
    bucket = entry_id(deployment, key)
    s3 = deployment.clients("s3", P)
    policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    public = {
        "Sid": "Anyone",
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{bucket}/*",
    }
    s3.put_bucket_policy(
        Bucket=bucket, Policy=json.dumps({**policy, "Statement": [*policy["Statement"], public]})
    )
    [change] = result(drift(deployment, ["primary"]), key).changes
    assert change.severity == "high"
    assert "statement added" in change.description and "removed" not in change.description
    for fact in ("Allow", "s3:GetObject", f"arn:aws:s3:::{bucket}/*", "to *"):
        assert fact in change.description

    # The TLS-only Deny turned around (it now denies only what uses TLS): the old Deny is
    # lost, and no remaining statement denies what it denied.
    narrower = [
        {**s, "Condition": {"Bool": {"aws:SecureTransport": "true"}}}
        if s["Effect"] == "Deny"
        else s
        for s in policy["Statement"]
    ]
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({**policy, "Statement": narrower}))
    [change] = result(drift(deployment, ["primary"]), key).changes
    assert change.severity == "high"
    assert "statement removed: Deny" in change.description
    assert "aws:SecureTransport" in change.description


def test_an_opened_ingress_rule_says_what_it_opens(deployment: Any) -> None:
    deployment.apply("primary:aws_vpc_security_group_ingress_rule.db_postgres_from_lambda")
    group = entry_id(deployment, "primary:aws_security_group.db")
    ec2 = deployment.clients("ec2", P)
    ec2.authorize_security_group_ingress(
        GroupId=group,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
             "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
            {"IpProtocol": "tcp", "FromPort": 5000, "ToPort": 5100,
             "IpRanges": [{"CidrIp": "10.0.0.0/8"}]},
        ],
    )  # fmt: skip
    rules = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [group]}])[
        "SecurityGroupRules"
    ]
    added = {
        r["SecurityGroupRuleId"]: r
        for r in rules
        if r.get("CidrIpv4") in ("0.0.0.0/0", "10.0.0.0/8")
    }
    assert len(added) == 2

    report = drift(deployment, ["primary"])
    found = {u.id: u for u in report.unmanaged if u.id in added}
    assert set(found) == set(added)
    for rule_id, rule in added.items():
        item = found[rule_id]
        assert item.kind == "aws_vpc_security_group_ingress_rule"
        low, high = rule["FromPort"], rule["ToPort"]
        assert item.details["protocol"] == rule["IpProtocol"]
        assert item.details["ports"] == (str(low) if low == high else f"{low}-{high}")
        assert item.details["source"] == rule["CidrIpv4"]
        assert item.details["group"] == group
        for fact in item.details.values():
            assert fact in item.description
        world = rule["CidrIpv4"] == "0.0.0.0/0"
        assert item.severity == ("high" if world else "medium")

    doc = json.loads(render_json(report))
    validate(doc)
    opened = next(u for u in doc["unmanaged"] if u["details"].get("source") == "0.0.0.0/0")
    assert opened["severity"] == "high" and opened["details"]["ports"] == "22"
    markdown = render_markdown(report)
    assert "| high |" in markdown and "source 0.0.0.0/0" in markdown


def test_backups_off_in_one_region_is_high_drift_and_a_high_parity_break(
    deployment: Any,
) -> None:
    table, replica = "aws_dynamodb_table.transactions", "aws_dynamodb_table_replica.transactions"
    deployment.apply(f"primary:{table}", f"secondary:{replica}")
    name = entry_id(deployment, f"primary:{table}")
    deployment.clients("dynamodb", S).update_continuous_backups(
        TableName=name,
        PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False},
    )
    report = drift(deployment)
    found = result(report, f"secondary:{replica}")
    [change] = found.changes
    assert change.name == "point_in_time_recovery" and change.actual is False
    assert change.severity == "high" and found.severity == "high"
    assert "point_in_time_recovery" in change.description and "off" in change.description
    # The replica stands for its table in region parity.
    [parity] = [p for p in report.parity if p.address == table]
    assert (parity.primary, parity.secondary) == (True, False)
    assert parity.severity == "high"
    assert "secondary" in parity.description and "disabled" in parity.description
    doc = json.loads(render_json(report))
    validate(doc)
    assert doc["summary"]["high"] == 2  # the drifted attribute and the parity break


def test_a_tag_change_is_low_and_a_capacity_change_medium(deployment: Any) -> None:
    function = "primary:aws_lambda_function.payment_processor"
    deployment.apply(function)
    arn = deployment.entry(function)["attributes"].get("arn") or deployment.read(function)["arn"]
    lam = deployment.clients("lambda", P)
    lam.tag_resource(Resource=arn, Tags={"Owner": "someone"})
    report = drift(deployment, ["primary"])
    [tag] = result(report, function).changes
    owner = deployment.entry(function)["applied"]["tags"]["Owner"]
    assert (tag.name, tag.expected, tag.actual) == ("tags.Owner", owner, "someone")
    assert tag.severity == "low"
    assert owner in tag.description and "someone" in tag.description
    assert result(report, function).severity == "low"

    memory = lam.get_function_configuration(FunctionName=arn)["MemorySize"]
    lam.update_function_configuration(FunctionName=arn, MemorySize=memory * 2)
    report = drift(deployment, ["primary"])
    changes = {c.name: c for c in result(report, function).changes}
    assert changes["memory_size"].severity == "medium"
    assert str(memory) in changes["memory_size"].description
    assert str(memory * 2) in changes["memory_size"].description
    assert result(report, function).severity == "medium"  # the worst of its findings


def test_a_missing_resource_is_high(deployment: Any) -> None:
    key = "primary:aws_cloudwatch_log_group.flow_logs"
    deployment.apply(key)
    deployment.clients("logs", P).delete_log_group(logGroupName=entry_id(deployment, key))
    report = drift(deployment, ["primary"])
    found = result(report, key)
    assert found.status == MISSING and found.severity == "high"
    assert list(report.severities()).count("high") == 1


def cli(deployment: Any, *args: str) -> int:
    from deployer.cli import main

    return main(
        [
            "--spec",
            str(REPO / "spec.yaml"),
            "--state-dir",
            str(deployment.state_dir),
            "drift",
            "--region",
            "primary",
            "--format",
            "json",
            *args,
        ]
    )


def test_fail_on_exits_2_only_at_or_above_the_level(
    deployment: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    deployment.apply(KEY)
    key_id = entry_id(deployment, KEY)
    kms = deployment.clients("kms", P)
    kms.tag_resource(KeyId=key_id, Tags=[{"TagKey": "Owner", "TagValue": "someone"}])

    # A low finding only: drift, but not at or above high or medium.
    assert cli(deployment) == 2
    doc = json.loads(capsys.readouterr().out)
    assert doc["summary"]["low"] >= 1 and doc["summary"]["high"] == 0
    assert cli(deployment, "--fail-on", "high") == 0
    assert cli(deployment, "--fail-on", "medium") == 0
    assert cli(deployment, "--fail-on", "low") == 2

    kms.disable_key(KeyId=key_id)
    assert cli(deployment, "--fail-on", "high") == 2
    capsys.readouterr()

    with pytest.raises(SystemExit) as exited:
        cli(deployment, "--fail-on", "critical")
    assert exited.value.code == 2
    assert "invalid choice: 'critical'" in capsys.readouterr().err
