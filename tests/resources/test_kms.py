from __future__ import annotations

import json
from typing import Any

import pytest

KEY = "primary:aws_kms_key.s3"
ALIAS = "primary:aws_kms_alias.s3"


def test_key_round_trip(deployment: Any, client_for: Any) -> None:
    deployment.apply(KEY)
    live = deployment.read(KEY)
    assert live is not None
    assert deployment.diff(KEY) == {}
    assert live["enable_key_rotation"] is True
    assert live["rotation_period_in_days"] == 365
    kms = client_for("kms")
    assert kms.get_key_rotation_status(KeyId=live["key_id"])["KeyRotationEnabled"] is True
    policy = json.loads(kms.get_key_policy(KeyId=live["key_id"], PolicyName="default")["Policy"])
    account = client_for("sts").get_caller_identity()["Account"]
    assert policy["Statement"][0]["Principal"]["AWS"] == f"arn:aws:iam::{account}:root"
    tags = {
        t["TagKey"]: t["TagValue"] for t in kms.list_resource_tags(KeyId=live["key_id"])["Tags"]
    }
    assert tags["deployer:address"] == "aws_kms_key.s3"
    assert tags["Workspace"] == "primary"


def test_alias_points_at_its_key(deployment: Any, client_for: Any) -> None:
    deployment.apply(ALIAS)
    key_id = deployment.entry(KEY)["id"]
    aliases = client_for("kms").list_aliases(KeyId=key_id)["Aliases"]
    assert [a["AliasName"] for a in aliases] == ["alias/payments-s3-dev"]
    assert deployment.diff(ALIAS) == {}


def test_secondary_key_lives_in_the_secondary_region(deployment: Any, client_for: Any) -> None:
    deployment.apply("secondary:aws_kms_key.rds")
    key_id = deployment.entry("secondary:aws_kms_key.rds")["id"]
    assert client_for("kms", "eu-west-1").describe_key(KeyId=key_id)["KeyMetadata"]["Enabled"]


@pytest.mark.parametrize(
    ("attribute", "value"),
    [
        ("description", "changed description"),
        ("enable_key_rotation", False),
        ("rotation_period_in_days", 180),
    ],
)
def test_key_updates_in_place(deployment: Any, attribute: str, value: Any) -> None:
    deployment.apply(KEY)
    key_id = deployment.entry(KEY)["id"]
    deployment.graph.node(KEY).attributes[attribute] = value
    plan = deployment.plan(KEY)
    assert plan.changes[KEY].action.value == "update"
    deployment.apply(KEY)
    live = deployment.read(KEY)
    assert live is not None and live[attribute] == value
    assert deployment.entry(KEY)["id"] == key_id


def test_key_tag_update(deployment: Any) -> None:
    deployment.apply(KEY)
    tags = deployment.graph.node(KEY).attributes["tags"]
    tags["Owner"] = "someone-else"
    deployment.apply(KEY)
    live = deployment.read(KEY)
    assert live is not None and live["tags"]["Owner"] == "someone-else"


def test_key_usage_change_forces_replacement(deployment: Any) -> None:
    deployment.apply(KEY)
    deployment.graph.node(KEY).attributes["key_usage"] = "SIGN_VERIFY"
    plan = deployment.plan(KEY)
    assert plan.changes[KEY].action.value == "replace"
    assert plan.changes[KEY].forces == ["key_usage"]


def test_deleted_key_reads_as_gone(deployment: Any) -> None:
    deployment.apply(KEY)
    driver, ctx = deployment.driver_and_context(KEY)
    key_id = deployment.entry(KEY)["id"]
    driver.delete(ctx, key_id, None)
    assert driver.read(ctx, key_id) is None
    driver.delete(ctx, key_id, None)  # idempotent
    assert driver.read(ctx, "00000000-0000-0000-0000-000000000000") is None


def test_key_scheduled_for_deletion_outside_is_recreated(deployment: Any, client_for: Any) -> None:
    deployment.apply(KEY)
    old = deployment.entry(KEY)["id"]
    client_for("kms").schedule_key_deletion(KeyId=old, PendingWindowInDays=7)
    plan = deployment.plan(KEY)
    assert plan.changes[KEY].action.value == "create"
    deployment.apply(KEY)
    assert deployment.entry(KEY)["id"] != old


def test_interrupted_create_adopts_the_tagged_key(deployment: Any, client_for: Any) -> None:
    deployment.apply(KEY)
    entry = deployment.entry(KEY)
    made = entry["id"]
    state = deployment.states()["primary"]
    state.record(
        "aws_kms_key.s3", {"type": "aws_kms_key", "status": "creating", "applied": entry["applied"]}
    )
    deployment.apply(KEY)
    assert deployment.entry(KEY)["id"] == made
    keys = client_for("kms").list_keys()["Keys"]
    assert len(keys) == 1


def test_a_key_disabled_out_of_band_is_a_change_back_to_enabled(
    deployment: Any, client_for: Any
) -> None:
    """The spec leaves `is_enabled` to the provider's default (true): the table's default makes
    it compared, so a disabled key plans an in-place update and apply enables it again."""
    assert "is_enabled" not in deployment.graph.node(KEY).attributes
    deployment.apply(KEY)
    kms = client_for("kms")
    key_id = deployment.entry(KEY)["id"]
    kms.disable_key(KeyId=key_id)
    plan = deployment.plan(KEY)
    change = plan.changes[KEY]
    assert change.action.value == "update"
    assert change.diffs == {"is_enabled": (False, True)}
    deployment.apply(KEY)
    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["Enabled"] is True
    assert deployment.diff(KEY) == {}


def test_a_key_made_disabled_is_created_disabled(deployment: Any, client_for: Any) -> None:
    deployment.graph.node(KEY).attributes["is_enabled"] = False
    deployment.apply(KEY)
    meta = client_for("kms").describe_key(KeyId=deployment.entry(KEY)["id"])["KeyMetadata"]
    assert meta["Enabled"] is False
    assert deployment.diff(KEY) == {}


def test_an_alias_retargeted_out_of_band_is_pointed_back(deployment: Any, client_for: Any) -> None:
    deployment.apply(ALIAS, "primary:aws_kms_key.rds")
    key_id = deployment.entry(KEY)["id"]
    other = deployment.entry("primary:aws_kms_key.rds")["id"]
    kms = client_for("kms")
    kms.update_alias(AliasName="alias/payments-s3-dev", TargetKeyId=other)
    change = deployment.plan(ALIAS).changes[ALIAS]
    assert change.action.value == "update"
    assert change.diffs["target_key_id"] == (other, key_id)
    deployment.apply(ALIAS)
    aliases = kms.list_aliases(KeyId=key_id)["Aliases"]
    assert [a["AliasName"] for a in aliases] == ["alias/payments-s3-dev"]


def test_a_widened_key_policy_is_drift_and_apply_restores_it(
    deployment: Any, client_for: Any
) -> None:
    """The key policy is compared as a document: another account allowed to decrypt, added
    behind our back, is drift of `policy`; apply puts the declared policy back."""
    from deployer.diff import canonical_json
    from deployer.drift import DRIFTED, IN_SYNC, detect_drift

    deployment.apply(KEY)
    key_id = deployment.entry(KEY)["id"]
    kms = client_for("kms")

    def policy() -> dict[str, Any]:
        return dict(json.loads(kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"]))

    def drift_of() -> Any:
        report = detect_drift(
            deployment.graph, deployment.states(), deployment.clients, ["primary"]
        )
        return next(r for r in report.resources if r.key == KEY)

    declared = policy()
    other = {
        "Sid": "OtherAccountDecrypts",
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::999999999999:root"},
        "Action": "kms:Decrypt",
        "Resource": "*",
    }
    widened = {**declared, "Statement": [*declared["Statement"], other]}
    kms.put_key_policy(KeyId=key_id, PolicyName="default", Policy=json.dumps(widened))

    result = drift_of()
    assert result.status == DRIFTED
    assert [c.name for c in result.changes] == ["policy"]
    deployment.apply(KEY)
    assert canonical_json(policy()) == canonical_json(declared)
    assert drift_of().status == IN_SYNC
