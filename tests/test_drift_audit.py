"""Drift as an auditor uses it, end to end: the CLI against the emulator (moto's server).

After a clean apply, one out-of-band change of every security-relevant kind is made through
boto3 (as someone with console access would), then `drift` must name each with what changed and
its severity, `apply` must heal all of them, and `drift` must be clean again; the evidence of
the clean run is signed through KMS and verified, and fails to verify after one byte changes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.test_e2e import client, run

pytestmark = pytest.mark.slow

P, S = "us-east-1", "eu-west-1"
FUNCTION_ROLE = "payments-lambda-exec-dev"
FLOW_LOGS_ROLE = "payments-flow-logs-dev"
BUCKET = "payments-data-us-east-1-dev"
OPEN_TO_ALL = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}


def state_ids(state: Path, workspace: str) -> dict[str, str]:
    resources = json.loads((state / f"{workspace}.tfstate.json").read_text())["resources"]
    return {address: str(entry.get("id")) for address, entry in resources.items()}


def with_statement(document: str, statement: dict[str, Any]) -> str:
    policy = json.loads(document)
    policy["Statement"] = [*policy["Statement"], statement]
    return json.dumps(policy)


def break_everything(endpoint: str, state: Path) -> None:
    """One out-of-band change of each kind the issue names, through boto3 only."""
    ids = state_ids(state, "primary")
    iam = client(endpoint, "iam", P)
    # An inline policy granting * on *, and an attached managed policy, on the function's role.
    iam.put_role_policy(
        RoleName=FUNCTION_ROLE, PolicyName="escalate", PolicyDocument=json.dumps(OPEN_TO_ALL)
    )
    extra = iam.create_policy(
        PolicyName="payments-extra-dev", PolicyDocument=json.dumps(OPEN_TO_ALL)
    )
    iam.attach_role_policy(RoleName=FUNCTION_ROLE, PolicyArn=extra["Policy"]["Arn"])
    # A trust policy that lets another account assume a role.
    trust = iam.get_role(RoleName=FLOW_LOGS_ROLE)["Role"]["AssumeRolePolicyDocument"]
    trust = trust if isinstance(trust, str) else json.dumps(trust)
    iam.update_assume_role_policy(
        RoleName=FLOW_LOGS_ROLE,
        PolicyDocument=with_statement(
            trust,
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::999999999999:root"},
                "Action": "sts:AssumeRole",
            },
        ),
    )
    # Resource policies widened: the bucket's, a key's, the alarm topic's.
    s3 = client(endpoint, "s3", P)
    s3.put_bucket_policy(
        Bucket=BUCKET,
        Policy=with_statement(
            s3.get_bucket_policy(Bucket=BUCKET)["Policy"],
            {
                "Sid": "Anyone",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{BUCKET}/*",
            },
        ),
    )
    kms = client(endpoint, "kms", P)
    dynamodb_key = ids["aws_kms_key.dynamodb"]
    kms.put_key_policy(
        KeyId=dynamodb_key,
        PolicyName="default",
        Policy=with_statement(
            kms.get_key_policy(KeyId=dynamodb_key, PolicyName="default")["Policy"],
            {
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": "kms:Decrypt",
                "Resource": "*",
            },
        ),
    )
    sns = client(endpoint, "sns", P)
    topic = ids["aws_sns_topic.alarms"]
    sns.set_topic_attributes(
        TopicArn=topic,
        AttributeName="Policy",
        AttributeValue=with_statement(
            sns.get_topic_attributes(TopicArn=topic)["Attributes"]["Policy"],
            {"Effect": "Allow", "Principal": "*", "Action": "sns:Subscribe", "Resource": topic},
        ),
    )
    # SSH opened to the world on the function's security group.
    client(endpoint, "ec2", P).authorize_security_group_ingress(
        GroupId=ids["aws_security_group.lambda"],
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
             "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
        ],
    )  # fmt: skip
    # The bucket's key disabled; its public access block relaxed.
    kms.disable_key(KeyId=ids["aws_kms_key.s3"])
    s3.put_public_access_block(
        Bucket=BUCKET,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": False,
            "IgnorePublicAcls": False,
            "BlockPublicPolicy": False,
            "RestrictPublicBuckets": False,
        },
    )
    # Point-in-time recovery off in the secondary only: drift there, and a parity break.
    client(endpoint, "dynamodb", S).update_continuous_backups(
        TableName="payments-transactions-dev",
        PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False},
    )


def findings(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Every finding of a JSON report, flattened: drifted attributes, unmanaged items, parity
    breaks, each with where it is."""
    out: list[dict[str, Any]] = []
    for resource in report["resources"]:
        for change in resource["changes"]:
            out.append({"where": f"{resource['workspace']}:{resource['address']}", **change})
    for item in report["unmanaged"]:
        out.append({"where": f"{item['workspace']}:{item['kind']}", "name": item["id"], **item})
    for parity in report["parity"]:
        out.append({"where": f"parity:{parity['address']}", "name": parity["attribute"], **parity})
    return out


def finding(all_findings: list[dict[str, Any]], where: str, name: str = "") -> dict[str, Any]:
    matches = [f for f in all_findings if f["where"] == where and f["name"].startswith(name)]
    assert matches, f"no finding {where} {name}: {[(f['where'], f['name']) for f in all_findings]}"
    return matches[0]


def test_every_kind_of_out_of_band_change_is_found_described_ranked_and_healed(
    fresh_emulator: str, tmp_path: Path
) -> None:
    endpoint, state = fresh_emulator, tmp_path / "state"
    applied = run(endpoint, state, "apply", "--auto-approve")
    assert applied.returncode == 0, applied.stderr[-3000:]

    clean = run(endpoint, state, "drift", "--format", "json")
    assert clean.returncode == 0, clean.stdout[-3000:] + clean.stderr[-2000:]
    clean_report = json.loads(clean.stdout)
    reads_per_resource = clean_report["api_calls"] / clean_report["summary"]["resources"]
    print(
        f"clean drift: {clean_report['api_calls']} read calls, "
        f"{clean_report['summary']['resources']} resources, {reads_per_resource:.2f} per resource"
    )

    break_everything(endpoint, state)
    drifted = run(endpoint, state, "drift", "--format", "json")
    assert drifted.returncode == 2, drifted.stderr[-3000:]
    found = findings(json.loads(drifted.stdout))

    # (where, attribute, words its description must contain); every one is high.
    expected = [
        ("aws_iam_role_policies_exclusive.lambda_exec", "policy_names", ["escalate", "*"]),
        ("aws_iam_role_policy_attachments_exclusive.lambda_exec", "policy_arns", ["extra"]),
        ("aws_iam_role.flow_logs", "assume_role_policy", ["999999999999"]),
        ("aws_s3_bucket_policy.payments", "policy", ["s3:GetObject"]),
        ("aws_kms_key.dynamodb", "policy", ["kms:Decrypt"]),
        ("aws_sns_topic.alarms", "policy", ["sns:Subscribe"]),
        ("aws_vpc_security_group_rules_exclusive.lambda", "ingress_rule_ids", ["0.0.0.0/0"]),
        ("aws_kms_key.s3", "is_enabled", ["disabled"]),
        ("aws_s3_bucket_public_access_block.payments", "block_public_policy", []),
    ]
    expected = [(f"primary:{where}", name, words) for where, name, words in expected]
    expected += [
        # The replica spells it as a bool ("turned off"), its table as a block ("disabled").
        ("secondary:aws_dynamodb_table_replica.transactions", "point_in_time_recovery", ["off"]),
        ("parity:aws_dynamodb_table.transactions", "point_in_time_recovery", ["disabled"]),
        # Relaxed in the primary only: the parity break is told from the weaker side.
        ("parity:aws_s3_bucket_public_access_block.payments", "block_public_policy", ["off"]),
    ]
    for where, name, words in expected:
        item = finding(found, where, name)
        assert item["severity"] == "high", item
        assert item["description"], item
        for word in words:
            assert word in item["description"], (word, item)

    # A gate on high findings fails; the text report says the same things.
    gate = run(endpoint, state, "drift", "--fail-on", "high")
    assert gate.returncode == 2
    assert "escalate" in gate.stdout and "high" in gate.stdout

    # The plan puts back exactly what changed: in-place updates, nothing replaced (the other
    # region's flow log looks up the role whose trust policy is put back, and keeps it).
    plan = run(endpoint, state, "plan", "--detailed-exitcode")
    assert plan.returncode == 2
    assert "must be replaced" not in plan.stdout and "0 to add, 10 to change" in plan.stdout
    # What the updates remove, in words a reviewer reads without the console.
    assert "# removes escalate: Allow * on *" in plan.stdout
    assert "ingress tcp port 22 from 0.0.0.0/0" in plan.stdout

    healed = run(endpoint, state, "apply", "--auto-approve")
    assert healed.returncode == 0, healed.stderr[-3000:]
    after = run(endpoint, state, "drift", "--format", "json")
    assert after.returncode == 0, after.stdout[-4000:]
    iam = client(endpoint, "iam", P)
    assert "escalate" not in iam.list_role_policies(RoleName=FUNCTION_ROLE)["PolicyNames"]

    # Evidence of the clean run, signed with an asymmetric key, verified, then tampered with.
    key = client(endpoint, "kms", P).create_key(
        KeyUsage="SIGN_VERIFY", KeySpec="ECC_NIST_P256", Description="drift evidence"
    )["KeyMetadata"]["KeyId"]
    evidence = tmp_path / "evidence"
    written = run(endpoint, state, "drift", "--evidence", str(evidence), "--sign-key", key)
    assert written.returncode == 0, written.stderr[-3000:]
    assert run(endpoint, state, "verify-evidence", str(evidence)).returncode == 0
    report = evidence / "report.json"
    data = bytearray(report.read_bytes())
    data[len(data) // 2] ^= 0x01
    report.write_bytes(bytes(data))
    tampered = run(endpoint, state, "verify-evidence", str(evidence))
    assert tampered.returncode == 1
    assert report.name in tampered.stdout + tampered.stderr
