"""The RDS instance driver against moto (resources/rds/instance.py): the primary instance and its
master password, the secondary's read replica (with the backups replication it shares a source
with).

Where moto 5.2 departs from RDS on what these drivers rely on (monitoring and Performance Insights
settings, cross-region replicas, replicas of a source with a managed master password, the
automated-backups replication), the `emulator` package's `install_extensions` (emulator/rds.py)
corrects it, for the sandbox and for these tests alike (the conftest `aws` fixture installs it), so
that the assertions hold for AWS's behaviour rather than moto's.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from deployer.aws import DeployerError
from deployer.model import Json, JsonDecode, Ref
from resources.rds.instance import master_password, modify_parameters
from stack.database import final_snapshot_identifier

DB = "primary:aws_db_instance.main"
REPLICA = "secondary:aws_db_instance.replica"
BACKUPS = "secondary:aws_db_instance_automated_backups_replication.main"
PRIMARY_KEY = "primary:aws_kms_key.rds"
SECONDARY_KEY = "secondary:aws_kms_key.rds"
SECONDARY_REGION = "eu-west-1"
SECRET = "primary:aws_secretsmanager_secret.db_master"
SECRET_VERSION = "primary:aws_secretsmanager_secret_version.db_master"
CREDENTIALS = "ephemeral.aws_secretsmanager_secret_version.db_master"


# --- helpers ---------------------------------------------------------------------------------


def describe_db(client_for: Any, identifier: str, region: str = "us-east-1") -> dict[str, Any]:
    db: dict[str, Any] = client_for("rds", region).describe_db_instances(
        DBInstanceIdentifier=identifier
    )["DBInstances"][0]
    return db


def attribute(deployment: Any, key: str, name: str) -> Any:
    return deployment.entry(key)["attributes"][name]


def capture(deployment: Any, operation: str, region: str = "us-east-1") -> list[dict[str, Any]]:
    """The parameters of every call of an RDS operation from now on."""
    calls: list[dict[str, Any]] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        calls.append(dict(params))

    deployment.clients("rds", region).meta.events.register(
        f"provide-client-params.rds.{operation}", record
    )
    return calls


def fail_once(deployment: Any, operation: str, code: str, message: str, region: str) -> list[int]:
    """Make the next call of `operation` fail as AWS would; returns a list counting the calls."""
    calls = [0]

    def handler(**_: Any) -> None:
        calls[0] += 1
        if calls[0] == 1:
            raise ClientError({"Error": {"Code": code, "Message": message}}, operation)

    deployment.clients("rds", region).meta.events.register(f"before-call.rds.{operation}", handler)
    return calls


def delete_outside(client_for: Any, identifier: str, region: str = "us-east-1") -> None:
    rds_client = client_for("rds", region)
    rds_client.modify_db_instance(
        DBInstanceIdentifier=identifier, DeletionProtection=False, ApplyImmediately=True
    )
    rds_client.delete_db_instance(DBInstanceIdentifier=identifier, SkipFinalSnapshot=True)


def moto_instance(identifier: str, region: str = "us-east-1") -> Any:
    """moto's own record of an instance, to put it in states the API cannot (fault injection)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.rds.models import rds_backends

    return rds_backends[DEFAULT_ACCOUNT_ID][region].databases[identifier]


def moto_password(identifier: str) -> str | None:
    """The master password moto's record of an instance holds (the API never returns it)."""
    password: str | None = moto_instance(identifier).__dict__.get("_master_user_password")
    return password


def walk(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield f"{path}.{key}", item
            yield from walk(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from walk(item, f"{path}[{index}]")


def test_no_node_carries_a_password(deployment: Any) -> None:
    """Passwords reach nodes only as references to ephemeral values, in write-only attributes."""
    for node in deployment.graph.nodes():
        if node.type.startswith("aws_db_"):
            for path, _ in walk(node.attributes):
                assert "password" not in path or path in (".password_wo", ".password_wo_version")
    primary = deployment.graph.node(DB).attributes
    assert "manage_master_user_password" not in primary  # AWS would refuse the replica
    assert primary["password_wo"] == JsonDecode(Ref(CREDENTIALS, "secret_string"), ("password",))
    assert primary["password_wo_version"] == 1
    replica = deployment.graph.node(REPLICA).attributes
    assert not [name for name in replica if "password" in name]
    # The secret's value is made of the spec's user name and the ephemeral random password.
    value = deployment.graph.node(SECRET_VERSION).attributes["secret_string_wo"]
    assert value == Json(
        {
            "username": "payments_admin",
            "password": Ref(
                "ephemeral.aws_secretsmanager_random_password.db_master", "random_password"
            ),
        }
    )
    credentials = deployment.graph.node(f"primary:{CREDENTIALS}")
    assert credentials.ephemeral and credentials.attributes == {
        "secret_id": Ref("aws_secretsmanager_secret_version.db_master", "secret_id")
    }


def test_the_replica_and_backups_wait_for_a_ready_primary(deployment: Any) -> None:
    for key in (REPLICA, BACKUPS):
        assert (DB, True) in deployment.graph.dependencies(key)


# --- the primary instance --------------------------------------------------------------------


def test_primary_instance_round_trip(deployment: Any, client_for: Any) -> None:
    deployment.apply(DB)
    assert deployment.diff(DB) == {}
    assert deployment.entry(DB)["id"] == "payments-db-dev"
    db = describe_db(client_for, "payments-db-dev")
    rds_key = attribute(deployment, PRIMARY_KEY, "arn")
    assert db["Engine"] == "postgres"
    assert db["EngineVersion"] == "15.7"
    assert db["DBInstanceClass"] == "db.t3.medium"
    assert db["MultiAZ"] is True
    assert db["StorageEncrypted"] is True and db["KmsKeyId"] == rds_key
    assert db["StorageType"] == "gp3" and db["AllocatedStorage"] == 50
    assert db["DeletionProtection"] is True
    assert db["BackupRetentionPeriod"] == 7
    assert sorted(db["EnabledCloudwatchLogsExports"]) == ["postgresql", "upgrade"]
    assert db["IAMDatabaseAuthenticationEnabled"] is True
    assert db["PubliclyAccessible"] is False
    assert db["MasterUsername"] == "payments_admin" and db["DBName"] == "payments"
    assert "MasterUserSecret" not in db
    assert db["DBSubnetGroup"]["DBSubnetGroupName"] == "payments-db-dev"
    assert db["DBParameterGroups"][0]["DBParameterGroupName"] == "payments-db-postgres15-dev"
    assert [g["VpcSecurityGroupId"] for g in db["VpcSecurityGroups"]] == [
        deployment.entry("primary:aws_security_group.db")["id"]
    ]
    assert db["MonitoringInterval"] == 60
    assert db["MonitoringRoleArn"] == attribute(
        deployment, "primary:aws_iam_role.rds_monitoring", "arn"
    )
    assert db["PerformanceInsightsKMSKeyId"] == rds_key
    assert {"Key": "deployer:address", "Value": "aws_db_instance.main"} in db["TagList"]
    live = deployment.read(DB)
    assert live is not None and live["manage_master_user_password"] is False
    assert live["endpoint"] == f"{db['Endpoint']['Address']}:5432"


def master_password_in_secrets_manager(client_for: Any) -> str:
    """The password as Secrets Manager holds it (the test's own read, through boto3)."""
    value = client_for("secretsmanager").get_secret_value(SecretId="payments-db-master-dev")
    document = json.loads(value["SecretString"])
    assert document["username"] == "payments_admin"
    password: str = document["password"]
    return password


def apply_with_events(deployment: Any, *keys: str) -> list[dict[str, Any]]:
    """`deployment.apply`, keeping every progress event the executor emits (what the CLI
    prints)."""
    import networkx as nx

    from deployer.executor import Executor
    from deployer.planner import plan_changes

    wanted: set[str] = set()
    for key in keys:
        wanted |= {key} | nx.ancestors(deployment.graph.dag, key)
    sub = deployment.graph.subgraph(wanted)
    states = deployment.states()
    plan = plan_changes(sub, states, deployment.clients, workspaces=["primary"])
    events: list[dict[str, Any]] = []
    result = Executor(sub, states, deployment.clients, emit=events.append).apply(plan)
    assert result.ok, result.failures
    return events


def test_master_password_comes_from_secrets_manager(deployment: Any, client_for: Any) -> None:
    calls = capture(deployment, "CreateDBInstance")
    deployment.apply(DB)
    password = master_password_in_secrets_manager(client_for)
    assert len(password) == 32
    assert not set(password) & set('/"@ ')
    (call,) = calls
    assert call["MasterUsername"] == "payments_admin"
    sent = call["MasterUserPassword"] == password  # compared apart: no password in a report
    assert sent
    assert "ManageMasterUserPassword" not in call
    # What RDS itself holds.
    held = moto_password("payments-db-dev") == password
    assert held
    assert describe_db(client_for, "payments-db-dev")["MasterUsername"] == "payments_admin"
    secret = client_for("secretsmanager").describe_secret(SecretId="payments-db-master-dev")
    assert secret["KmsKeyId"] == attribute(deployment, PRIMARY_KEY, "arn")


def test_no_password_in_state_plan_events_or_outputs(
    deployment: Any, client_for: Any, tmp_path: Path
) -> None:
    from deployer.cli import outputs_of
    from deployer.planner import plan_to_json, render_plan

    create_plan = deployment.plan(DB)
    assert create_plan.changes[DB].action.value == "create"
    events = apply_with_events(deployment, DB)
    password = master_password_in_secrets_manager(client_for)

    # A later plan that touches the instance again, and one that would create it again.
    deployment.graph.node(DB).attributes["instance_class"] = "db.t3.large"
    update_plan = deployment.plan(DB)
    assert update_plan.changes[DB].action.value == "update"
    delete_outside(client_for, "payments-db-dev")
    recreate_plan = deployment.plan(DB)
    assert recreate_plan.changes[DB].action.value == "create"
    assert "password_wo" in recreate_plan.changes[DB].diffs

    state_files = sorted((tmp_path / "state").iterdir())
    assert state_files
    outputs = outputs_of(deployment.graph, deployment.states())["primary"]
    assert outputs["rds_master_user_secret_arn"] == attribute(deployment, SECRET, "arn")
    shown = [
        *(path.read_text() for path in state_files),
        *(render_plan(plan) for plan in (create_plan, update_plan, recreate_plan)),
        *(json.dumps(plan_to_json(plan)) for plan in (create_plan, update_plan, recreate_plan)),
        json.dumps(events, default=str),
        json.dumps(outputs),
    ]
    assert all(password not in text for text in shown)
    assert "password_wo = (write-only attribute)" in render_plan(recreate_plan)
    assert plan_to_json(recreate_plan)["changes"][0]["attributes"]["password_wo"] == {
        "write_only": True
    }


def test_a_second_apply_leaves_the_password_alone(deployment: Any, client_for: Any) -> None:
    """A new ephemeral password is made on every run, but write-only values are sent only at
    create (or when their version changes): nothing is put or modified again."""
    deployment.apply(DB)
    password = master_password_in_secrets_manager(client_for)
    puts: list[dict[str, Any]] = []
    deployment.clients("secretsmanager", "us-east-1").meta.events.register(
        "provide-client-params.secrets-manager.PutSecretValue",
        lambda params, **_: puts.append(dict(params)),
    )
    modifies = capture(deployment, "ModifyDBInstance")
    deployment.apply(DB)
    assert puts == [] and modifies == []
    unchanged = master_password_in_secrets_manager(client_for) == password
    assert unchanged
    held = moto_password("payments-db-dev") == password
    assert held
    assert deployment.diff(DB) == {} and deployment.diff(SECRET_VERSION) == {}


def test_password_wo_version_change_sends_the_new_password() -> None:
    """With the version last applied known, a raised `password_wo_version` sends the password
    (and only it); without that knowledge nothing is sent."""
    credentials = json.dumps({"username": "payments_admin", "password": "n3w-Pa55word!"})
    desired = {
        "instance_class": "db.t3.medium",
        "password_wo": credentials,
        "password_wo_version": 2,
    }
    live = {"instance_class": "db.t3.medium", "password_wo_version": 1}
    assert modify_parameters(desired, live) == {"MasterUserPassword": "n3w-Pa55word!"}
    assert modify_parameters(desired, {**live, "password_wo_version": 2}) == {}
    assert modify_parameters(desired, {"instance_class": "db.t3.medium"}) == {}


def test_raising_the_password_versions_rotates_the_password(
    deployment: Any, client_for: Any
) -> None:
    deployment.apply(DB)
    old = master_password_in_secrets_manager(client_for)
    deployment.graph.node(SECRET_VERSION).attributes["secret_string_wo_version"] = 2
    deployment.graph.node(DB).attributes["password_wo_version"] = 2
    deployment.apply(DB)
    new = master_password_in_secrets_manager(client_for)
    rotated = new != old  # compared apart, so that a failure does not print the passwords
    assert rotated
    in_step = moto_password("payments-db-dev") == new
    assert in_step


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("short", "5 characters"),
        ("x" * 129, "129 characters"),
        ("has a space!", "refuses"),
        ("slash/slash", "refuses"),
        ('quote"quote', "refuses"),
        ("at@at@at", "refuses"),
        ("tab\ttab\t", "refuses"),
        (json.dumps({"username": "u"}), "without a string `password`"),
        (json.dumps({"password": "tiny"}), "4 characters"),
    ],
)
def test_master_password_rules_are_checked_without_showing_it(value: str, problem: str) -> None:
    with pytest.raises(DeployerError, match=problem) as exc:
        master_password(value, DB)
    assert value not in str(exc.value)


def test_master_password_takes_the_field_or_the_plain_value() -> None:
    assert master_password(json.dumps({"password": "Secret-123456"}), DB) == "Secret-123456"
    assert master_password("Secret-123456", DB) == "Secret-123456"
    assert master_password("12345678", DB) == "12345678"  # JSON, but not a document


@pytest.mark.parametrize(
    ("name", "value", "reported", "sent"),
    [
        ("instance_class", "db.t3.large", "DBInstanceClass", {"DBInstanceClass"}),
        ("backup_retention_period", 14, "BackupRetentionPeriod", {"BackupRetentionPeriod"}),
        ("multi_az", False, "MultiAZ", {"MultiAZ"}),
        ("deletion_protection", False, "DeletionProtection", {"DeletionProtection"}),
        ("iam_database_authentication_enabled", False, "IAMDatabaseAuthenticationEnabled",
         {"EnableIAMDatabaseAuthentication"}),
        # AWS wants the role whenever the interval is not 0.
        ("monitoring_interval", 30, "MonitoringInterval",
         {"MonitoringInterval", "MonitoringRoleArn"}),
        ("enabled_cloudwatch_logs_exports", ["postgresql"], "EnabledCloudwatchLogsExports",
         {"CloudwatchLogsExportConfiguration"}),
    ],
)  # fmt: skip
def test_instance_updates_in_place(
    deployment: Any, client_for: Any, name: str, value: Any, reported: str, sent: set[str]
) -> None:
    """Only the changed attribute is sent, applied at once, and the instance keeps its id."""
    deployment.apply(DB)
    deployment.graph.node(DB).attributes[name] = value
    change = deployment.plan(DB).changes[DB]
    assert change.action.value == "update" and set(change.diffs) == {name}
    calls = capture(deployment, "ModifyDBInstance")
    deployment.apply(DB)
    assert describe_db(client_for, "payments-db-dev")[reported] == value
    assert deployment.entry(DB)["id"] == "payments-db-dev"
    assert deployment.diff(DB) == {}
    (call,) = calls
    assert set(call) - {"DBInstanceIdentifier", "ApplyImmediately"} == sent
    assert call["ApplyImmediately"] is True


def test_log_exports_change_enables_and_disables_types(deployment: Any) -> None:
    deployment.apply(DB)
    deployment.graph.node(DB).attributes["enabled_cloudwatch_logs_exports"] = ["postgresql"]
    calls = capture(deployment, "ModifyDBInstance")
    deployment.apply(DB)
    assert calls[0]["CloudwatchLogsExportConfiguration"] == {
        "EnableLogTypes": [],
        "DisableLogTypes": ["upgrade"],
    }


@pytest.mark.parametrize("name", ["db_name", "kms_key_id", "identifier", "username"])
def test_instance_replacement_attributes(deployment: Any, name: str) -> None:
    deployment.apply(DB)
    deployment.graph.node(DB).attributes[name] = "something_else"
    change = deployment.plan(DB).changes[DB]
    assert change.action.value == "replace"
    assert change.forces == [name]


def test_delete_switches_deletion_protection_off_and_keeps_a_final_snapshot(
    deployment: Any, client_for: Any, spec: Any
) -> None:
    deployment.apply(DB)
    assert describe_db(client_for, "payments-db-dev")["DeletionProtection"] is True
    driver, ctx = deployment.driver_and_context(DB)
    ctx.options["disable_deletion_protection"] = True  # as destroy's flag
    calls = capture(deployment, "DeleteDBInstance")
    driver.delete(ctx, "payments-db-dev", deployment.read(DB))
    with pytest.raises(ClientError, match="DBInstanceNotFound"):
        describe_db(client_for, "payments-db-dev")
    assert calls == [
        {
            "DBInstanceIdentifier": "payments-db-dev",
            "FinalDBSnapshotIdentifier": final_snapshot_identifier(spec),
            "DeleteAutomatedBackups": False,
        }
    ]
    snapshots = client_for("rds").describe_db_snapshots(
        DBSnapshotIdentifier=final_snapshot_identifier(spec)
    )["DBSnapshots"]
    assert [s["DBInstanceIdentifier"] for s in snapshots] == ["payments-db-dev"]
    assert driver.read(ctx, "payments-db-dev") is None
    driver.delete(ctx, "payments-db-dev", None)  # idempotent


def test_delete_waits_out_deletion_protection_still_taking_effect(
    deployment: Any, client_for: Any
) -> None:
    deployment.apply(DB)
    calls = fail_once(
        deployment,
        "DeleteDBInstance",
        "InvalidParameterCombination",
        "Cannot delete protected DB Instance, please disable deletion protection and try again.",
        "us-east-1",
    )
    driver, ctx = deployment.driver_and_context(DB)
    ctx.options["disable_deletion_protection"] = True  # as destroy's flag
    driver.delete(ctx, "payments-db-dev", None)
    assert calls[0] == 2
    assert client_for("rds").describe_db_instances()["DBInstances"] == []


def test_instance_deleted_outside_is_recreated(deployment: Any, client_for: Any) -> None:
    deployment.apply(DB)
    delete_outside(client_for, "payments-db-dev")
    change = deployment.plan(DB).changes[DB]
    assert change.action.value == "create"
    deployment.apply(DB)
    assert describe_db(client_for, "payments-db-dev")["DBInstanceStatus"] == "available"


def test_interrupted_create_adopts_the_tagged_instance(deployment: Any, client_for: Any) -> None:
    deployment.apply(DB)
    entry = deployment.entry(DB)
    deployment.states()["primary"].record(
        "aws_db_instance.main",
        {"type": "aws_db_instance", "status": "creating", "applied": entry["applied"]},
    )
    calls = capture(deployment, "CreateDBInstance")
    deployment.apply(DB)
    assert calls == []
    assert deployment.entry(DB)["id"] == "payments-db-dev"
    assert len(client_for("rds").describe_db_instances()["DBInstances"]) == 1


def test_an_untagged_instance_of_the_same_name_is_not_adopted(
    deployment: Any, client_for: Any
) -> None:
    deployment.apply(DB)
    driver, ctx = deployment.driver_and_context(DB)
    client_for("rds").remove_tags_from_resource(
        ResourceName=attribute(deployment, DB, "arn"), TagKeys=["deployer:address"]
    )
    assert driver.find(ctx, deployment.desired(DB)) is None


def test_create_retries_a_monitoring_role_iam_has_not_propagated(deployment: Any) -> None:
    calls = fail_once(
        deployment,
        "CreateDBInstance",
        "InvalidParameterValue",
        "IAM role ARN value is invalid or does not include the required permissions for: "
        "ENHANCED_MONITORING",
        "us-east-1",
    )
    deployment.apply(DB)
    assert calls[0] == 2
    assert deployment.diff(DB) == {}


def test_wait_ready_waits_out_a_modification(deployment: Any) -> None:
    deployment.apply(DB)
    driver, ctx = deployment.driver_and_context(DB)
    instance = moto_instance("payments-db-dev")
    instance.status = "modifying"
    timer = threading.Timer(0.5, lambda: setattr(instance, "status", "available"))
    timer.start()
    try:
        driver.wait_ready(ctx, "payments-db-dev")
    finally:
        timer.cancel()
    assert instance.status == "available"


def test_wait_ready_fails_at_once_on_a_state_that_needs_a_person(deployment: Any) -> None:
    deployment.apply(DB)
    driver, ctx = deployment.driver_and_context(DB)
    moto_instance("payments-db-dev").status = "incompatible-parameters"
    with pytest.raises(DeployerError, match="incompatible-parameters"):
        driver.wait_ready(ctx, "payments-db-dev")


# --- the secondary: read replica and backups replication -------------------------------------


def test_replica_and_backups_replication_round_trip(deployment: Any, client_for: Any) -> None:
    deployment.apply(REPLICA, BACKUPS)
    assert deployment.diff(REPLICA) == {}
    assert deployment.diff(BACKUPS) == {}
    primary_arn = attribute(deployment, DB, "arn")
    secondary_key = attribute(deployment, SECONDARY_KEY, "arn")
    replica = describe_db(client_for, "payments-db-replica-dev", SECONDARY_REGION)
    assert replica["DBInstanceArn"].startswith("arn:aws:rds:eu-west-1:")
    assert replica["ReadReplicaSourceDBInstanceIdentifier"] == primary_arn
    assert replica["StorageEncrypted"] is True and replica["KmsKeyId"] == secondary_key
    assert replica["DBInstanceClass"] == "db.t3.medium"
    assert replica["MultiAZ"] is False
    assert replica["DBSubnetGroup"]["DBSubnetGroupArn"].startswith("arn:aws:rds:eu-west-1:")
    assert [g["VpcSecurityGroupId"] for g in replica["VpcSecurityGroups"]] == [
        deployment.entry("secondary:aws_security_group.db")["id"]
    ]
    assert replica["MonitoringRoleArn"] == attribute(
        deployment, "primary:aws_iam_role.rds_monitoring", "arn"
    )
    assert replica["DeletionProtection"] is True
    primary = describe_db(client_for, "payments-db-dev")
    assert replica["DBInstanceArn"] in primary["ReadReplicaDBInstanceIdentifiers"]

    backup_arn = deployment.entry(BACKUPS)["id"]
    assert backup_arn.startswith("arn:aws:rds:eu-west-1:") and ":auto-backup:" in backup_arn
    (backup,) = client_for("rds", SECONDARY_REGION).describe_db_instance_automated_backups(
        DBInstanceAutomatedBackupsArn=backup_arn
    )["DBInstanceAutomatedBackups"]
    assert backup["Status"] == "replicating"
    assert backup["DBInstanceArn"] == primary_arn
    assert backup["KmsKeyId"] == secondary_key
    assert backup["BackupRetentionPeriod"] == 7
    assert primary["DBInstanceAutomatedBackupsReplications"] == [
        {"DBInstanceAutomatedBackupsArn": backup_arn}
    ]


def test_replica_create_names_the_source_region(deployment: Any) -> None:
    calls = capture(deployment, "CreateDBInstanceReadReplica", SECONDARY_REGION)
    deployment.apply(REPLICA)
    (call,) = calls
    assert call["SourceDBInstanceIdentifier"] == attribute(deployment, DB, "arn")
    assert call["SourceRegion"] == "us-east-1"
    assert call["KmsKeyId"] == attribute(deployment, SECONDARY_KEY, "arn")
    assert not {"MasterUsername", "DBName", "Engine", "StorageEncrypted"} & set(call)


def test_replica_of_the_primary_is_possible_as_its_password_is_its_own(
    deployment: Any, client_for: Any
) -> None:
    """AWS refuses a replica of a source whose master password Secrets Manager manages (the
    emulator does too): the primary's own password, kept in a secret of ours, allows it."""
    deployment.apply(REPLICA)
    primary = describe_db(client_for, "payments-db-dev")
    assert "MasterUserSecret" not in primary
    replica = describe_db(client_for, "payments-db-replica-dev", SECONDARY_REGION)
    assert replica["DBInstanceStatus"] == "available"
    assert replica["MasterUsername"] == "payments_admin"


def test_a_managed_master_password_would_make_the_replica_impossible(deployment: Any) -> None:
    """Why the primary does not use manage_master_user_password (AWS's refusal, emulated)."""
    attributes = deployment.graph.node(DB).attributes
    del attributes["password_wo"], attributes["password_wo_version"]
    attributes["manage_master_user_password"] = True
    deployment.apply(DB)
    with pytest.raises(AssertionError, match="ManageMasterUserPassword is enabled"):
        deployment.apply(REPLICA)
    rds_secondary = deployment.clients("rds", SECONDARY_REGION)
    assert rds_secondary.describe_db_instances()["DBInstances"] == []


def test_replica_update_in_place(deployment: Any, client_for: Any) -> None:
    deployment.apply(REPLICA)
    deployment.graph.node(REPLICA).attributes["instance_class"] = "db.t3.large"
    deployment.apply(REPLICA)
    replica = describe_db(client_for, "payments-db-replica-dev", SECONDARY_REGION)
    assert replica["DBInstanceClass"] == "db.t3.large"
    assert deployment.diff(REPLICA) == {}


def test_replica_delete_and_disappear(deployment: Any, client_for: Any) -> None:
    deployment.apply(REPLICA)
    driver, ctx = deployment.driver_and_context(REPLICA)
    ctx.options["disable_deletion_protection"] = True  # as destroy's flag
    calls = capture(deployment, "DeleteDBInstance", SECONDARY_REGION)
    driver.delete(ctx, "payments-db-replica-dev", None)
    assert calls[0]["SkipFinalSnapshot"] is True
    assert driver.read(ctx, "payments-db-replica-dev") is None
    assert describe_db(client_for, "payments-db-dev")["ReadReplicaDBInstanceIdentifiers"] == []
    driver.delete(ctx, "payments-db-replica-dev", None)
    assert deployment.plan(REPLICA).changes[REPLICA].action.value == "create"


def test_delete_refuses_while_deletion_protection_is_on(deployment: Any, client_for: Any) -> None:
    deployment.apply(DB)
    driver, ctx = deployment.driver_and_context(DB)
    assert "deletion protection" in (driver.check_delete(ctx, "payments-db-dev") or "")
    with pytest.raises(DeployerError, match="--disable-deletion-protection"):
        driver.delete(ctx, "payments-db-dev", None)
    db = client_for("rds").describe_db_instances(DBInstanceIdentifier="payments-db-dev")
    assert db["DBInstances"][0]["DeletionProtection"] is True


def test_an_availability_zone_the_spec_sets_converges(deployment: Any, client_for: Any) -> None:
    """The zone is sent at create and read back, and a change replaces the instance (the
    provider's ForceNew): a spec that sets it plans nothing once applied."""
    attributes = deployment.graph.node(DB).attributes
    attributes["multi_az"] = False  # AWS places a Multi-AZ instance itself
    attributes["availability_zone"] = "us-east-1b"
    deployment.apply(DB)
    assert describe_db(client_for, "payments-db-dev")["AvailabilityZone"] == "us-east-1b"
    assert deployment.diff(DB) == {}
    assert deployment.plan(DB).changes[DB].action.value == "no-op"
    attributes["availability_zone"] = "us-east-1c"
    change = deployment.plan(DB).changes[DB]
    assert change.action.value == "replace" and change.forces == ["availability_zone"]


def test_a_default_changed_outside_is_planned_back_and_healed(
    deployment: Any, client_for: Any
) -> None:
    """Left unset, `copy_tags_to_snapshot` is the provider's default (false): switched on
    behind the deployer's back, it is planned back as an in-place update."""
    del deployment.graph.node(DB).attributes["copy_tags_to_snapshot"]
    deployment.apply(DB)
    assert describe_db(client_for, "payments-db-dev")["CopyTagsToSnapshot"] is False
    client_for("rds").modify_db_instance(
        DBInstanceIdentifier="payments-db-dev", CopyTagsToSnapshot=True, ApplyImmediately=True
    )
    change = deployment.plan(DB).changes[DB]
    assert change.action.value == "update" and set(change.diffs) == {"copy_tags_to_snapshot"}
    calls = capture(deployment, "ModifyDBInstance")
    deployment.apply(DB)
    assert [call.get("CopyTagsToSnapshot") for call in calls] == [False]
    assert describe_db(client_for, "payments-db-dev")["CopyTagsToSnapshot"] is False
    assert deployment.diff(DB) == {}


def test_replica_create_sends_what_the_node_sets_for_it(deployment: Any) -> None:
    """What the node sets for the replica is sent, under CreateDBInstanceReadReplica's names."""
    calls = capture(deployment, "CreateDBInstanceReadReplica", SECONDARY_REGION)
    deployment.apply(REPLICA)
    (call,) = calls
    replica = deployment.graph.node(REPLICA).attributes
    assert call["DBInstanceIdentifier"] == replica["identifier"]
    assert call["DBInstanceClass"] == replica["instance_class"]
    assert call["VpcSecurityGroupIds"] == [
        deployment.entry("secondary:aws_security_group.db")["id"]
    ]
    assert call["EnableIAMDatabaseAuthentication"] is True
    assert call["EnablePerformanceInsights"] is True
    assert call["MonitoringInterval"] == 60
