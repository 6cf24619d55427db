"""The severity rules and the policy differ, on values (no AWS): each rule both ways, so that
a rule that matched everything, or nothing, would fail here."""

from __future__ import annotations

import json
from typing import Any

import pytest

from deployer.drift.describe import describe_change
from deployer.drift.policy_diff import diff_policies
from deployer.drift.severity import HIGH, LOW, MEDIUM, of_change, of_parity, of_unmanaged
from deployer.resource import DETAILS, resource_driver

BUCKET = "arn:aws:s3:::payments-data-us-east-1-dev"
READER = {
    "Effect": "Allow",
    "Principal": {"AWS": "arn:aws:iam::111111111111:role/reader"},
    "Action": ["s3:GetObject", "s3:ListBucket"],
    "Resource": [BUCKET, f"{BUCKET}/*"],
}
TLS_ONLY = {
    "Effect": "Deny",
    "Principal": "*",
    "Action": "s3:*",
    "Resource": f"{BUCKET}/*",
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
}


def policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


@pytest.mark.parametrize(
    ("after", "severity"),
    [
        # Wider: a wildcard action, a wildcard resource, a new principal, anyone.
        (policy(READER, TLS_ONLY, {**READER, "Action": "s3:*"}), HIGH),
        (policy(READER, TLS_ONLY, {**READER, "Resource": "*"}), HIGH),
        (policy(READER, TLS_ONLY, {**READER, "Principal": {"AWS": "arn:aws:iam::2:root"}}), HIGH),
        (policy(READER, TLS_ONLY, {**READER, "Principal": "*"}), HIGH),
        # Weaker: the Deny gone.
        (policy(READER), HIGH),
        # Narrower or the same: one action fewer; a condition more; a Deny more.
        (policy({**READER, "Action": "s3:GetObject"}, TLS_ONLY), MEDIUM),
        (policy({**READER, "Condition": {"Bool": {"aws:SecureTransport": "true"}}}, TLS_ONLY),
         MEDIUM),
        (policy(READER, TLS_ONLY, {**TLS_ONLY, "Action": "s3:DeleteObject", "Condition": {}}),
         MEDIUM),
    ],
)  # fmt: skip
def test_policy_changes_are_high_only_when_they_widen_access(after: str, severity: str) -> None:
    before = policy(READER, TLS_ONLY)
    assert of_change("aws_s3_bucket_policy", "policy", before, after) == severity


def test_the_policy_differ_names_what_each_statement_grants() -> None:
    before = policy(READER, TLS_ONLY)
    after = policy({**READER, "Sid": "Read", "Principal": "*"})
    diff = diff_policies(before, after)
    assert diff is not None
    [gained] = diff.gained
    assert (gained.effect, gained.principals, gained.actions) == (
        "Allow", ("*",), ("s3:GetObject", "s3:ListBucket"),
    )  # fmt: skip
    assert {s.effect for s in diff.lost} == {"Allow", "Deny"}
    words = describe_change(None, "aws_s3_bucket_policy", "policy", before, after)
    assert words.count("statement added") == 1 and words.count("statement removed") == 2
    for fact in ("to *", "s3:ListBucket", f"{BUCKET}/*", "aws:SecureTransport=false", "Sid Read"):
        assert fact in words
    # Rewritten in another form (single values, order): no statement gained or lost.
    same = json.loads(before)
    same["Statement"].reverse()
    same["Statement"][0]["Action"] = ["s3:*"]  # the Deny, now first
    assert diff_policies(before, json.dumps(same)) == diff_policies(before, before)
    assert not diff_policies(before, json.dumps(same)).gained  # type: ignore[union-attr]
    # Not policies: compared as plain values.
    assert diff_policies("a", "b") is None


def test_extra_members_of_exclusive_sets() -> None:
    """An extra inline or attached policy widens access whatever it is; an extra ingress rule
    is high when the driver's words for it name a source open to the world."""
    for tf_type, name in (
        ("aws_iam_role_policies_exclusive", "policy_names"),
        ("aws_iam_role_policy_attachments_exclusive", "policy_arns"),
    ):
        assert of_change(tf_type, name, ["a"], ["a", "b"]) == HIGH
        assert of_change(tf_type, name, ["a", "b"], ["a"]) == MEDIUM
    rules = "aws_vpc_security_group_rules_exclusive"
    words = {"sgr-1": "ingress tcp 22 from 0.0.0.0/0", "sgr-2": "ingress tcp 5432 from sg-9",
             "sgr-3": "ingress all from ::/0"}  # fmt: skip
    assert of_change(rules, "ingress_rule_ids", [], ["sgr-1"], words) == HIGH
    assert of_change(rules, "ingress_rule_ids", [], ["sgr-3"], words) == HIGH
    assert of_change(rules, "ingress_rule_ids", [], ["sgr-2"], words) == MEDIUM
    assert of_change(rules, "ingress_rule_ids", ["sgr-1"], [], words) == MEDIUM
    # A set of another type is only configuration.
    assert of_change("aws_lambda_function", "layers", ["a"], ["a", "b"]) == MEDIUM


@pytest.mark.parametrize(
    ("tf_type", "name", "expected", "actual", "severity"),
    [
        ("aws_kms_key", "is_enabled", True, False, HIGH),
        ("aws_kms_key", "is_enabled", False, True, MEDIUM),
        ("aws_kms_key", "enable_key_rotation", True, False, HIGH),
        ("aws_s3_bucket_public_access_block", "restrict_public_buckets", True, False, HIGH),
        ("aws_db_instance", "deletion_protection", True, False, HIGH),
        ("aws_dynamodb_table", "deletion_protection_enabled", True, False, HIGH),
        ("aws_db_instance", "backup_retention_period", 7, 0, HIGH),
        ("aws_db_instance", "backup_retention_period", 7, 3, MEDIUM),
        ("aws_db_instance", "storage_encrypted", True, False, HIGH),
        ("aws_dynamodb_table", "point_in_time_recovery[0].enabled", True, False, HIGH),
        ("aws_dynamodb_table", "server_side_encryption[0].enabled", True, False, HIGH),
        ("aws_dynamodb_table", "server_side_encryption[0].kms_key_arn", "arn:k", None, HIGH),
        ("aws_s3_bucket_versioning", "versioning_configuration[0].status", "Enabled",
         "Suspended", HIGH),
        ("aws_cloudwatch_log_group", "kms_key_id", "arn:k", None, HIGH),
        ("aws_cloudwatch_log_group", "kms_key_id", "arn:k", "arn:other", MEDIUM),
        ("aws_db_instance", "enabled_cloudwatch_logs_exports", ["postgresql", "upgrade"],
         ["postgresql"], HIGH),
        ("aws_db_instance", "enabled_cloudwatch_logs_exports", ["postgresql"],
         ["postgresql", "upgrade"], MEDIUM),
        ("aws_lambda_function", "tracing_config[0].mode", "Active", "PassThrough", HIGH),
        ("aws_lambda_function", "memory_size", 256, 512, MEDIUM),
        ("aws_db_instance", "instance_class", "db.t3.medium", "db.t3.large", MEDIUM),
        ("aws_lambda_function", "tags.Owner", "a", "b", LOW),
        ("aws_lambda_function", "tags.Extra", None, "1", LOW),
        ("aws_security_group", "description", "a", "b", LOW),
        ("aws_cloudwatch_metric_alarm", "alarm_description", "a", "b", LOW),
        ("aws_lambda_function", "environment[0].variables.LOG_LEVEL", "INFO", "DEBUG", MEDIUM),
    ],
)  # fmt: skip
def test_attribute_rules(
    tf_type: str, name: str, expected: Any, actual: Any, severity: str
) -> None:
    assert of_change(tf_type, name, expected, actual) == severity


def test_parity_breaks_and_unmanaged_items() -> None:
    # The weaker region's value rated as drift from the other's: off in either region is high.
    assert of_parity("aws_dynamodb_table", "point_in_time_recovery[0].enabled", True, False) == HIGH
    assert of_parity("aws_dynamodb_table", "point_in_time_recovery[0].enabled", False, True) == HIGH
    assert of_parity("aws_lambda_function", "memory_size", 256, 512) == MEDIUM
    assert of_parity("aws_lambda_function", "tags (keys)", ["a"], ["a", "b"]) == LOW
    ingress = "aws_vpc_security_group_ingress_rule"
    assert of_unmanaged(ingress, {"source": "0.0.0.0/0"}) == HIGH
    assert of_unmanaged(ingress, {"source": "::/0"}) == HIGH
    assert of_unmanaged(ingress, {"source": "10.0.0.0/8"}) == MEDIUM
    assert of_unmanaged("aws_vpc_security_group_egress_rule", {"destination": "0.0.0.0/0"}) == (
        MEDIUM
    )
    assert of_unmanaged("aws_subnet", {"cidr": "0.0.0.0/0"}) == MEDIUM


def test_descriptions_use_the_drivers_words() -> None:
    """A set's members are described by the driver (`describe_value`), with what its read
    kept about each (`live[DETAILS]`)."""
    driver = resource_driver("aws_kms_key")
    live = {DETAILS: {"b": "what b is"}}
    text = describe_change(driver, "aws_kms_key", "x", ["a"], ["a", "b"], live)
    assert text.startswith("x: added ") and driver.describe_value("x", ["b"], live) in text
    assert "removed" in describe_change(driver, "aws_kms_key", "x", ["a", "b"], ["a"], live)
    assert describe_change(driver, "aws_kms_key", "is_enabled", True, False) != describe_change(
        driver, "aws_kms_key", "is_enabled", False, True
    )
    assert "was 365" in describe_change(driver, "aws_kms_key", "rotation_period_in_days", 365, None)
