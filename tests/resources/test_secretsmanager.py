"""Secrets Manager drivers against moto: the master credentials' secret, the version that puts
its value (write-only), and the ephemeral version that reads it back at apply time."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore.exceptions import ClientError

from deployer.aws import DeployerError
from deployer.model import Json, Node, Output, Ref
from deployer.resource import driver_for
from resources.secretsmanager import (
    RandomPassword,
    SecretVersionValue,
    parse_version_id,
    version_id_of,
)
from stack.database_secret import DB_MASTER_PASSWORD_EXCLUDED, secretsmanager

SECRET = "primary:aws_secretsmanager_secret.db_master"
VERSION = "primary:aws_secretsmanager_secret_version.db_master"
CREDENTIALS = "primary:ephemeral.aws_secretsmanager_secret_version.db_master"
PASSWORD = "primary:ephemeral.aws_secretsmanager_random_password.db_master"
# What RDS for PostgreSQL refuses in a master password.
RDS_FORBIDDEN = set('/"@ ')
RDS_KEY = "primary:aws_kms_key.rds"
NAME = "payments-db-master-dev"


def capture(deployment: Any, operation: str) -> list[dict[str, Any]]:
    """The parameters of every call of a Secrets Manager operation from now on."""
    calls: list[dict[str, Any]] = []
    deployment.clients("secretsmanager", "us-east-1").meta.events.register(
        f"provide-client-params.secrets-manager.{operation}",
        lambda params, **_: calls.append(dict(params)),
    )
    return calls


def stored_password(client_for: Any) -> str:
    document = json.loads(
        client_for("secretsmanager").get_secret_value(SecretId=NAME)["SecretString"]
    )
    password: str = document["password"]
    return password


def version_stages(client_for: Any) -> dict[str, list[str]]:
    stages: dict[str, list[str]] = client_for("secretsmanager").describe_secret(SecretId=NAME)[
        "VersionIdsToStages"
    ]
    return stages


# --- blueprint -------------------------------------------------------------------------------


def test_blueprint_is_primary_only(spec: Any) -> None:
    items = list(secretsmanager(spec, "primary"))
    nodes = {n.key: n for n in items if isinstance(n, Node)}
    assert set(nodes) == {PASSWORD, SECRET, VERSION, CREDENTIALS}
    assert nodes[PASSWORD].ephemeral and not nodes[PASSWORD].stored
    assert isinstance(driver_for(nodes[PASSWORD]), RandomPassword)
    assert list(secretsmanager(spec, "secondary")) == []
    secret = nodes[SECRET].attributes
    assert secret["name"] == NAME
    assert secret["kms_key_id"] == Ref("aws_kms_key.rds", "arn")
    assert secret["recovery_window_in_days"] == 7
    version = nodes[VERSION].attributes
    assert version["secret_id"] == Ref("aws_secretsmanager_secret.db_master", "id")
    assert version["secret_string_wo"] == Json(
        {
            "username": "payments_admin",
            "password": Ref(
                "ephemeral.aws_secretsmanager_random_password.db_master", "random_password"
            ),
        }
    )
    assert version["secret_string_wo_version"] == 1
    assert nodes[CREDENTIALS].ephemeral
    assert isinstance(driver_for(nodes[CREDENTIALS]), SecretVersionValue)
    (output,) = [o for o in items if isinstance(o, Output)]
    assert output.value == Ref("aws_secretsmanager_secret.db_master", "arn")


def test_version_ids() -> None:
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:payments-db-master-dev-AbCdEf"
    assert parse_version_id(version_id_of(arn, "v-1")) == (arn, "v-1")
    for bad in ("no-separator", "|v-1", f"{arn}|"):
        with pytest.raises(DeployerError):
            parse_version_id(bad)


# --- the secret ------------------------------------------------------------------------------


def test_secret_round_trip(deployment: Any, client_for: Any) -> None:
    deployment.apply(SECRET)
    assert deployment.diff(SECRET) == {}
    entry = deployment.entry(SECRET)
    secret = client_for("secretsmanager").describe_secret(SecretId=NAME)
    assert entry["id"] == secret["ARN"]
    assert secret["KmsKeyId"] == deployment.entry(RDS_KEY)["attributes"]["arn"]
    assert secret["Description"].startswith("payments-db-dev: master user credentials")
    tags = {t["Key"]: t["Value"] for t in secret["Tags"]}
    assert tags["deployer:address"] == "aws_secretsmanager_secret.db_master"
    assert tags["Name"] == NAME
    assert "recovery_window_in_days" not in (deployment.read(SECRET) or {})


def test_secret_updates_in_place(deployment: Any, client_for: Any) -> None:
    deployment.apply(SECRET)
    arn = deployment.entry(SECRET)["id"]
    other_key = client_for("kms").create_key()["KeyMetadata"]["Arn"]
    attributes = deployment.graph.node(SECRET).attributes
    attributes["description"] = "rotated by hand"
    attributes["kms_key_id"] = other_key
    attributes["tags"] = {k: v for k, v in attributes["tags"].items() if k != "Name"} | {
        "Team": "pay"
    }
    change = deployment.plan(SECRET).changes[SECRET]
    assert change.action.value == "update"
    assert set(change.diffs) == {"description", "kms_key_id", "tags"}
    deployment.apply(SECRET)
    secret = client_for("secretsmanager").describe_secret(SecretId=NAME)
    assert secret["Description"] == "rotated by hand"
    assert secret["KmsKeyId"] == other_key
    tags = {t["Key"]: t["Value"] for t in secret["Tags"]}
    assert tags["Team"] == "pay" and "Name" not in tags
    assert deployment.entry(SECRET)["id"] == arn
    assert deployment.diff(SECRET) == {}


def test_secret_name_change_forces_replacement(deployment: Any) -> None:
    deployment.apply(SECRET)
    deployment.graph.node(SECRET).attributes["name"] = "payments-db-other-dev"
    change = deployment.plan(SECRET).changes[SECRET]
    assert change.action.value == "replace" and change.forces == ["name"]


def test_secret_delete_keeps_a_recovery_window(deployment: Any, client_for: Any) -> None:
    deployment.apply(SECRET)
    arn = deployment.entry(SECRET)["id"]
    driver, ctx = deployment.driver_and_context(SECRET)
    calls = capture(deployment, "DeleteSecret")
    driver.delete(ctx, arn, deployment.read(SECRET))
    assert calls == [{"SecretId": arn, "RecoveryWindowInDays": 7}]
    assert client_for("secretsmanager").describe_secret(SecretId=arn)["DeletedDate"]
    assert driver.read(ctx, arn) is None
    driver.delete(ctx, arn, None)  # idempotent
    assert len(calls) == 1


def test_secret_delete_without_recovery(deployment: Any, client_for: Any) -> None:
    deployment.apply(SECRET)
    arn = deployment.entry(SECRET)["id"]
    deployment.graph.node(SECRET).attributes["recovery_window_in_days"] = 0
    driver, ctx = deployment.driver_and_context(SECRET)
    calls = capture(deployment, "DeleteSecret")
    driver.delete(ctx, arn, None)
    assert calls == [{"SecretId": arn, "ForceDeleteWithoutRecovery": True}]
    with pytest.raises(ClientError, match="ResourceNotFoundException"):
        client_for("secretsmanager").describe_secret(SecretId=arn)
    driver.delete(ctx, arn, None)


def test_our_secret_scheduled_for_deletion_is_restored_and_adopted(
    deployment: Any, client_for: Any
) -> None:
    """Destroy then apply again (a test environment's loop): the secret the destroy scheduled
    for deletion is ours by its identity tags, so the next create restores it, and says so."""
    deployment.apply(SECRET)
    arn = deployment.entry(SECRET)["id"]
    sm = client_for("secretsmanager")
    sm.delete_secret(SecretId=arn, RecoveryWindowInDays=7)
    assert deployment.plan(SECRET).changes[SECRET].action.value == "create"
    driver, ctx = deployment.driver_and_context(SECRET)
    notes: list[tuple[str, str]] = []
    ctx.notes = lambda key, text: notes.append((key, text))
    assert driver.create(ctx, deployment.desired(SECRET)) == arn
    assert "DeletedDate" not in sm.describe_secret(SecretId=arn)
    assert notes and notes[0][0] == SECRET
    assert "scheduled for deletion" in notes[0][1] and "restored it and adopted it" in notes[0][1]
    deployment.apply(SECRET)
    assert deployment.entry(SECRET)["id"] == arn
    assert deployment.diff(SECRET) == {}
    assert len(sm.list_secrets()["SecretList"]) == 1


def test_a_foreign_secret_scheduled_for_deletion_is_explained_not_restored(
    deployment: Any, client_for: Any
) -> None:
    deployment.apply(SECRET)
    arn = deployment.entry(SECRET)["id"]
    sm = client_for("secretsmanager")
    sm.untag_resource(SecretId=arn, TagKeys=["deployer:address"])  # not ours any more
    sm.delete_secret(SecretId=arn, RecoveryWindowInDays=7)
    driver, ctx = deployment.driver_and_context(SECRET)
    with pytest.raises(DeployerError, match=r"scheduled for deletion .*restore-secret") as exc:
        driver.create(ctx, deployment.desired(SECRET))
    assert arn in str(exc.value)
    assert sm.describe_secret(SecretId=arn)["DeletedDate"]


def test_destroy_without_recovery_window_deletes_at_once(deployment: Any, client_for: Any) -> None:
    deployment.apply(SECRET)
    arn = deployment.entry(SECRET)["id"]
    driver, ctx = deployment.driver_and_context(SECRET)
    notes: list[tuple[str, str]] = []
    ctx.options["no_recovery_window"] = True
    ctx.notes = lambda key, text: notes.append((key, text))
    driver.delete(ctx, arn, None)
    with pytest.raises(ClientError, match="ResourceNotFoundException"):
        client_for("secretsmanager").describe_secret(SecretId=arn)
    assert notes == [(SECRET, "secret deleted at once, without a recovery window")]


def test_secret_deleted_outside_is_recreated(deployment: Any, client_for: Any) -> None:
    deployment.apply(SECRET)
    arn = deployment.entry(SECRET)["id"]
    client_for("secretsmanager").delete_secret(SecretId=arn, ForceDeleteWithoutRecovery=True)
    assert deployment.plan(SECRET).changes[SECRET].action.value == "create"
    deployment.apply(SECRET)
    assert deployment.diff(SECRET) == {}


def test_interrupted_secret_create_is_adopted(deployment: Any, client_for: Any) -> None:
    deployment.apply(SECRET)
    entry = deployment.entry(SECRET)
    deployment.states()["primary"].record(
        "aws_secretsmanager_secret.db_master",
        {"type": "aws_secretsmanager_secret", "status": "creating", "applied": entry["applied"]},
    )
    calls = capture(deployment, "CreateSecret")
    deployment.apply(SECRET)
    assert calls == []
    assert deployment.entry(SECRET)["id"] == entry["id"]


def test_an_untagged_secret_of_the_same_name_is_not_adopted(
    deployment: Any, client_for: Any
) -> None:
    deployment.apply(SECRET)
    driver, ctx = deployment.driver_and_context(SECRET)
    client_for("secretsmanager").untag_resource(SecretId=NAME, TagKeys=["deployer:address"])
    assert driver.find(ctx, deployment.desired(SECRET)) is None


# --- the version that puts the value ---------------------------------------------------------


def test_version_round_trip_without_the_value_in_state(
    deployment: Any, client_for: Any, tmp_path: Path
) -> None:
    calls = capture(deployment, "PutSecretValue")
    deployment.apply(VERSION)
    assert deployment.diff(VERSION) == {}
    secret_arn = deployment.entry(SECRET)["id"]
    value = client_for("secretsmanager").get_secret_value(SecretId=NAME)
    entry = deployment.entry(VERSION)
    assert entry["id"] == f"{secret_arn}|{value['VersionId']}"
    assert value["VersionStages"] == ["AWSCURRENT"]
    (call,) = calls
    assert call["SecretId"] == secret_arn and call["ClientRequestToken"]
    document = json.loads(value["SecretString"])
    assert set(document) == {"username", "password"}
    assert document["username"] == "payments_admin" and len(document["password"]) == 32
    live = deployment.read(VERSION)
    assert live == {
        "id": entry["id"],
        "arn": secret_arn,
        "secret_id": secret_arn,
        "version_id": value["VersionId"],
        "version_stages": ["AWSCURRENT"],
    }
    assert entry["applied"] == {"secret_id": secret_arn, "secret_string_wo_version": 1}
    state_text = "".join(p.read_text() for p in (tmp_path / "state").iterdir())
    leaked = document["password"] in state_text  # not compared in an assert: no value in reports
    assert not leaked


def test_version_made_old_by_later_values_is_still_there(deployment: Any, client_for: Any) -> None:
    """Values put outside take the labels away (deprecated), but the version still exists: the
    deployer does not put a new password over them."""
    deployment.apply(VERSION)
    version_id = parse_version_id(deployment.entry(VERSION)["id"])[1]
    sm = client_for("secretsmanager")
    sm.put_secret_value(SecretId=NAME, SecretString='{"username": "x", "password": "one"}')
    sm.put_secret_value(SecretId=NAME, SecretString='{"username": "x", "password": "two"}')
    live = deployment.read(VERSION)
    assert live is not None and live["version_stages"] == []
    assert deployment.plan(VERSION).changes[VERSION].action.value == "no-op"
    assert version_stages(client_for)[version_id] == []


def test_version_delete_leaves_the_current_label(deployment: Any, client_for: Any) -> None:
    deployment.apply(VERSION)
    id = deployment.entry(VERSION)["id"]
    version_id = parse_version_id(id)[1]
    driver, ctx = deployment.driver_and_context(VERSION)
    calls = capture(deployment, "UpdateSecretVersionStage")
    driver.delete(ctx, id, None)
    assert calls == []  # AWSCURRENT cannot be removed, only moved
    assert version_stages(client_for)[version_id] == ["AWSCURRENT"]
    # Once another value is current, delete takes AWSPREVIOUS away: the version is deprecated.
    client_for("secretsmanager").put_secret_value(SecretId=NAME, SecretString="{}")
    assert version_stages(client_for)[version_id] == ["AWSPREVIOUS"]
    driver.delete(ctx, id, None)
    assert calls == [
        {
            "SecretId": parse_version_id(id)[0],
            "VersionStage": "AWSPREVIOUS",
            "RemoveFromVersionId": version_id,
        }
    ]
    assert version_stages(client_for)[version_id] == []


def test_version_delete_after_the_secret_is_gone(deployment: Any, client_for: Any) -> None:
    deployment.apply(VERSION)
    id = deployment.entry(VERSION)["id"]
    driver, ctx = deployment.driver_and_context(VERSION)
    client_for("secretsmanager").delete_secret(SecretId=NAME, RecoveryWindowInDays=7)
    assert driver.read(ctx, id) is None
    driver.delete(ctx, id, None)
    client_for("secretsmanager").delete_secret(SecretId=NAME, ForceDeleteWithoutRecovery=True)
    driver.delete(ctx, id, None)
    assert driver.read(ctx, id) is None


def test_version_of_a_secret_deleted_outside_is_made_again(
    deployment: Any, client_for: Any
) -> None:
    deployment.apply(VERSION)
    client_for("secretsmanager").delete_secret(SecretId=NAME, ForceDeleteWithoutRecovery=True)
    plan = deployment.plan(VERSION)
    assert plan.changes[SECRET].action.value == "create"
    assert plan.changes[VERSION].action.value == "create"
    deployment.apply(VERSION)
    assert len(stored_password(client_for)) == 32
    assert deployment.diff(VERSION) == {}


def test_version_secret_id_change_forces_replacement(deployment: Any) -> None:
    deployment.apply(VERSION)
    deployment.graph.node(VERSION).attributes["secret_id"] = "arn:aws:secretsmanager:other"
    change = deployment.plan(VERSION).changes[VERSION]
    assert change.action.value == "replace" and change.forces == ["secret_id"]


def test_version_create_needs_a_value(deployment: Any) -> None:
    deployment.apply(SECRET)
    driver, ctx = deployment.driver_and_context(VERSION)
    secret_arn = deployment.entry(SECRET)["id"]
    with pytest.raises(DeployerError, match="no value"):
        driver.create(ctx, {"secret_id": secret_arn, "secret_string_wo_version": 1})


def test_the_version_number_is_not_compared_with_aws(deployment: Any) -> None:
    """AWS does not know `secret_string_wo_version`: its absence from a read is no drift."""
    deployment.apply(VERSION)
    live = deployment.read(VERSION)
    assert live is not None and "secret_string_wo_version" not in live
    assert deployment.plan(VERSION).changes[VERSION].action.value == "no-op"


def test_plan_shows_the_value_as_write_only(deployment: Any) -> None:
    from deployer.planner import plan_to_json, render_plan

    plan = deployment.plan(VERSION)
    assert plan.changes[VERSION].action.value == "create"
    assert "secret_string_wo = (write-only attribute)" in render_plan(plan)
    (change,) = [
        c for c in plan_to_json(plan)["changes"] if c["address"].endswith("version.db_master")
    ]
    assert change["attributes"]["secret_string_wo"] == {"write_only": True}


# --- the ephemeral version that reads the value back -----------------------------------------


def test_credentials_are_read_back_at_apply_only(deployment: Any, client_for: Any) -> None:
    deployment.apply(VERSION)
    node = deployment.graph.node(CREDENTIALS)
    driver, ctx = deployment.driver_and_context(CREDENTIALS)
    secret_arn = deployment.entry(SECRET)["id"]
    opened = driver.read(ctx, {"secret_id": secret_arn})
    value = client_for("secretsmanager").get_secret_value(SecretId=NAME)
    assert opened is not None
    same = opened["secret_string"] == value["SecretString"]
    assert same
    assert opened["secret_id"] == secret_arn
    assert opened["arn"] == secret_arn
    assert opened["version_id"] == value["VersionId"]
    assert opened["version_stages"] == ["AWSCURRENT"]
    assert node.ephemeral and not node.stored
    assert (
        "ephemeral.aws_secretsmanager_secret_version.db_master"
        not in deployment.states()["primary"].addresses()
    )


def test_credentials_of_a_given_version_or_stage(deployment: Any, client_for: Any) -> None:
    deployment.apply(VERSION)
    driver, ctx = deployment.driver_and_context(CREDENTIALS)
    first = parse_version_id(deployment.entry(VERSION)["id"])[1]
    client_for("secretsmanager").put_secret_value(SecretId=NAME, SecretString='{"password": "p"}')
    by_id = driver.read(ctx, {"secret_id": NAME, "version_id": first})
    by_stage = driver.read(ctx, {"secret_id": NAME, "version_stage": "AWSPREVIOUS"})
    current = driver.read(ctx, {"secret_id": NAME})
    assert by_id is not None and by_stage is not None and current is not None
    assert by_id["version_id"] == by_stage["version_id"] == first
    assert current["secret_string"] == '{"password": "p"}'


def test_credentials_of_a_missing_or_deleted_secret_are_none(
    deployment: Any, client_for: Any
) -> None:
    deployment.apply(VERSION)
    driver, ctx = deployment.driver_and_context(CREDENTIALS)
    assert driver.read(ctx, {"secret_id": "no-such-secret"}) is None
    client_for("secretsmanager").delete_secret(SecretId=NAME, RecoveryWindowInDays=7)
    assert driver.read(ctx, {"secret_id": NAME}) is None


# --- the ephemeral random password ------------------------------------------------------------


def test_the_excluded_characters_cover_what_rds_refuses() -> None:
    assert set(DB_MASTER_PASSWORD_EXCLUDED) >= RDS_FORBIDDEN


def test_random_password_asks_secrets_manager_each_time_it_is_opened(
    deployment: Any, client_for: Any
) -> None:
    calls = capture(deployment, "GetRandomPassword")
    node = deployment.graph.node(PASSWORD)
    driver, ctx = deployment.driver_and_context(PASSWORD)
    results = [driver.read(ctx, dict(node.attributes)) for _ in range(20)]
    passwords = [r["random_password"] for r in results if r is not None]
    assert len(set(passwords)) == 20
    for password in passwords:
        assert len(password) == 32
        assert not set(password) & set(DB_MASTER_PASSWORD_EXCLUDED)
    assert calls[0] == {
        "PasswordLength": 32,
        "ExcludeCharacters": DB_MASTER_PASSWORD_EXCLUDED,
        "RequireEachIncludedType": True,
    }


def test_the_password_is_opened_at_apply_only_and_never_stored(
    deployment: Any, tmp_path: Path, client_for: Any
) -> None:
    plan = deployment.plan(VERSION)
    change = plan.changes[PASSWORD]
    assert change.action.value == "read" and change.live is None  # not opened while planning
    deployment.apply(VERSION)
    password = stored_password(client_for)
    for state in deployment.states().values():
        assert not [a for a in state.addresses() if a.startswith("ephemeral.")]
    text = "".join(p.read_text() for p in (tmp_path / "state").iterdir())
    assert password not in text and "random_password" not in text


def test_version_stages_move_to_the_version_in_place(deployment: Any, client_for: Any) -> None:
    """A label the node names moves to its version from the one holding it, without a new
    version; AWS hands AWSPREVIOUS to the version AWSCURRENT left."""
    deployment.apply(VERSION)
    id = deployment.entry(VERSION)["id"]
    version_id = parse_version_id(id)[1]
    sm = client_for("secretsmanager")
    newer = sm.put_secret_value(SecretId=NAME, SecretString="{}")["VersionId"]
    assert version_stages(client_for)[version_id] == ["AWSPREVIOUS"]
    deployment.graph.node(VERSION).attributes["version_stages"] = ["AWSCURRENT"]
    change = deployment.plan(VERSION).changes[VERSION]
    assert change.action.value == "update" and set(change.diffs) == {"version_stages"}
    deployment.apply(VERSION)
    stages = version_stages(client_for)
    assert stages[version_id] == ["AWSCURRENT"] and stages[newer] == ["AWSPREVIOUS"]
    assert deployment.entry(VERSION)["id"] == id
    assert deployment.diff(VERSION) == {}


@pytest.mark.parametrize("driver", [RandomPassword, SecretVersionValue])
def test_the_ephemeral_readers_tables_name_what_the_api_has(driver: Any) -> None:
    """Their tables are outside the registry's check (no vendored schema for ephemeral
    resources): every parameter and field they name exists in botocore's model."""
    model = botocore.session.get_session().get_service_model("secretsmanager")
    table = driver.table
    parameters = model.operation_model(table.create_call).input_shape.members
    fields = model.shape_for(table.described).members
    assert [
        r.name for r in table if r.create_parameter and r.create_parameter not in parameters
    ] == []
    assert [r.name for r in table if r.field and r.field not in fields] == []
