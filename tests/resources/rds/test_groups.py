"""RDS subnet and parameter groups against moto (resources/rds/groups.py).

moto 5.2 lacks ModifyDBSubnetGroup's and ResetDBParameterGroup's behaviour on AWS; the `emulator`
package's `install_extensions` (emulator/rds.py) corrects it, for the sandbox and for these tests
alike (the conftest `aws` fixture installs it).
"""

from __future__ import annotations

from typing import Any

from botocore.stub import Stubber

from resources.rds.groups import read_parameters
from stack.database import DB_PARAMETERS

SUBNET_GROUP = "primary:aws_db_subnet_group.main"
PARAMETER_GROUP = "primary:aws_db_parameter_group.postgres"


def capture(deployment: Any, operation: str, region: str = "us-east-1") -> list[dict[str, Any]]:
    """The parameters of every call of an RDS operation from now on."""
    calls: list[dict[str, Any]] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        calls.append(dict(params))

    deployment.clients("rds", region).meta.events.register(
        f"provide-client-params.rds.{operation}", record
    )
    return calls


# --- subnet group ----------------------------------------------------------------------------


def test_subnet_group_round_trip(deployment: Any, client_for: Any) -> None:
    deployment.apply(SUBNET_GROUP)
    assert deployment.diff(SUBNET_GROUP) == {}
    group = client_for("rds").describe_db_subnet_groups(DBSubnetGroupName="payments-db-dev")[
        "DBSubnetGroups"
    ][0]
    private = {deployment.entry(f"primary:aws_subnet.private_{suffix}")["id"] for suffix in "abc"}
    assert {s["SubnetIdentifier"] for s in group["Subnets"]} == private
    assert group["VpcId"] == deployment.entry("primary:aws_vpc.main")["id"]
    tags = client_for("rds").list_tags_for_resource(ResourceName=group["DBSubnetGroupArn"])
    assert {"Key": "deployer:address", "Value": "aws_db_subnet_group.main"} in tags["TagList"]


def test_subnet_group_description_and_subnets_update_in_place(
    deployment: Any, client_for: Any
) -> None:
    deployment.apply(SUBNET_GROUP)
    attributes = deployment.graph.node(SUBNET_GROUP).attributes
    attributes["description"] = "two subnets only"
    attributes["subnet_ids"] = attributes["subnet_ids"][:2]
    assert deployment.plan(SUBNET_GROUP).changes[SUBNET_GROUP].action.value == "update"
    deployment.apply(SUBNET_GROUP)
    group = client_for("rds").describe_db_subnet_groups(DBSubnetGroupName="payments-db-dev")[
        "DBSubnetGroups"
    ][0]
    assert group["DBSubnetGroupDescription"] == "two subnets only"
    assert len(group["Subnets"]) == 2
    assert deployment.entry(SUBNET_GROUP)["id"] == "payments-db-dev"
    assert deployment.diff(SUBNET_GROUP) == {}


def test_subnet_group_delete_and_disappear(deployment: Any, client_for: Any) -> None:
    deployment.apply(SUBNET_GROUP)
    driver, ctx = deployment.driver_and_context(SUBNET_GROUP)
    driver.delete(ctx, "payments-db-dev", None)
    assert driver.read(ctx, "payments-db-dev") is None
    driver.delete(ctx, "payments-db-dev", None)
    assert deployment.plan(SUBNET_GROUP).changes[SUBNET_GROUP].action.value == "create"


# --- parameter group -------------------------------------------------------------------------


def test_parameter_group_round_trip(deployment: Any, client_for: Any) -> None:
    deployment.apply(PARAMETER_GROUP)
    assert deployment.diff(PARAMETER_GROUP) == {}
    rds_client = client_for("rds")
    group = rds_client.describe_db_parameter_groups(
        DBParameterGroupName="payments-db-postgres15-dev"
    )["DBParameterGroups"][0]
    assert group["DBParameterGroupFamily"] == "postgres15"
    parameters = {
        p["ParameterName"]: (p["ParameterValue"], p["ApplyMethod"])
        for p in rds_client.describe_db_parameters(
            DBParameterGroupName="payments-db-postgres15-dev", Source="user"
        )["Parameters"]
    }
    assert parameters["rds.force_ssl"] == ("1", "immediate")
    assert parameters == {name: (value, method) for name, value, method in DB_PARAMETERS}


def test_parameter_value_change_updates_in_place(deployment: Any, client_for: Any) -> None:
    deployment.apply(PARAMETER_GROUP)
    blocks = deployment.graph.node(PARAMETER_GROUP).attributes["parameter"]
    slow = next(b for b in blocks if b["name"] == "log_min_duration_statement")
    slow["value"] = "250"
    plan = deployment.plan(PARAMETER_GROUP)
    assert plan.changes[PARAMETER_GROUP].action.value == "update"
    calls = capture(deployment, "ModifyDBParameterGroup")
    deployment.apply(PARAMETER_GROUP)
    assert [p["ParameterName"] for call in calls for p in call["Parameters"]] == [
        "log_min_duration_statement"
    ]
    values = {
        p["ParameterName"]: p["ParameterValue"]
        for p in client_for("rds").describe_db_parameters(
            DBParameterGroupName="payments-db-postgres15-dev", Source="user"
        )["Parameters"]
    }
    assert values["log_min_duration_statement"] == "250"
    assert deployment.entry(PARAMETER_GROUP)["id"] == "payments-db-postgres15-dev"
    assert deployment.diff(PARAMETER_GROUP) == {}


def test_parameter_dropped_from_the_node_is_reset(deployment: Any, client_for: Any) -> None:
    deployment.apply(PARAMETER_GROUP)
    attributes = deployment.graph.node(PARAMETER_GROUP).attributes
    attributes["parameter"] = [b for b in attributes["parameter"] if b["name"] != "log_lock_waits"]
    deployment.apply(PARAMETER_GROUP)
    names = {
        p["ParameterName"]
        for p in client_for("rds").describe_db_parameters(
            DBParameterGroupName="payments-db-postgres15-dev", Source="user"
        )["Parameters"]
    }
    assert "log_lock_waits" not in names and "rds.force_ssl" in names
    assert deployment.diff(PARAMETER_GROUP) == {}


def test_parameter_group_family_change_forces_replacement(deployment: Any) -> None:
    deployment.apply(PARAMETER_GROUP)
    deployment.graph.node(PARAMETER_GROUP).attributes["family"] = "postgres16"
    change = deployment.plan(PARAMETER_GROUP).changes[PARAMETER_GROUP]
    assert change.action.value == "replace"
    assert change.forces == ["family"]


def test_a_parameter_set_to_its_default_reads_back_as_set() -> None:
    """AWS does not count a parameter set to its default value as `user`, and reports
    `pending-reboot` for it: the read still reports it as the node set it (no perpetual diff)."""
    import boto3

    client = boto3.client("rds", region_name="us-east-1")
    stub = Stubber(client)
    group = "payments-db-postgres15-dev"
    stub.add_response(
        "describe_db_parameters",
        {"Parameters": [{"ParameterName": "log_connections", "ParameterValue": "1",
                         "ApplyMethod": "immediate", "Source": "user"}]},
        {"DBParameterGroupName": group, "Source": "user"},
    )  # fmt: skip
    stub.add_response(
        "describe_db_parameters",
        {"Parameters": [
            {"ParameterName": "log_connections", "ParameterValue": "1",
             "ApplyMethod": "immediate", "Source": "user"},
            {"ParameterName": "rds.force_ssl", "ParameterValue": "1",
             "ApplyMethod": "pending-reboot", "Source": "engine-default"},
            {"ParameterName": "work_mem", "ParameterValue": "4096",
             "ApplyMethod": "pending-reboot", "Source": "engine-default"},
        ]},
        {"DBParameterGroupName": group},
    )  # fmt: skip
    wanted = {
        "rds.force_ssl": {"name": "rds.force_ssl", "value": "1", "apply_method": "immediate"},
        "log_connections": {"name": "log_connections", "value": "1"},
    }
    with stub:
        blocks = read_parameters(client, group, wanted)
    assert blocks == [
        {"name": "log_connections", "value": "1", "apply_method": "immediate"},
        {"name": "rds.force_ssl", "value": "1", "apply_method": "immediate"},
    ]


def test_subnet_group_default_description_changed_outside_is_put_back(
    deployment: Any, client_for: Any
) -> None:
    """Left unset, the description is the provider's default: changed behind the deployer's
    back, it is planned back as an in-place update."""
    del deployment.graph.node(SUBNET_GROUP).attributes["description"]
    deployment.apply(SUBNET_GROUP)
    rds_client = client_for("rds")
    group = rds_client.describe_db_subnet_groups(DBSubnetGroupName="payments-db-dev")[
        "DBSubnetGroups"
    ][0]
    assert group["DBSubnetGroupDescription"] == "Managed by Terraform"
    rds_client.modify_db_subnet_group(
        DBSubnetGroupName="payments-db-dev",
        DBSubnetGroupDescription="changed by hand",
        SubnetIds=[s["SubnetIdentifier"] for s in group["Subnets"]],
    )
    change = deployment.plan(SUBNET_GROUP).changes[SUBNET_GROUP]
    assert change.action.value == "update" and set(change.diffs) == {"description"}
    deployment.apply(SUBNET_GROUP)
    group = rds_client.describe_db_subnet_groups(DBSubnetGroupName="payments-db-dev")[
        "DBSubnetGroups"
    ][0]
    assert group["DBSubnetGroupDescription"] == "Managed by Terraform"
    assert deployment.diff(SUBNET_GROUP) == {}


def test_parameter_group_without_a_description_gets_the_provider_s(
    deployment: Any, client_for: Any
) -> None:
    """RDS cannot change a parameter group's description, so its default can only be checked at
    create: sent, and read back without a difference."""
    del deployment.graph.node(PARAMETER_GROUP).attributes["description"]
    deployment.apply(PARAMETER_GROUP)
    group = client_for("rds").describe_db_parameter_groups(
        DBParameterGroupName="payments-db-postgres15-dev"
    )["DBParameterGroups"][0]
    assert group["Description"] == "Managed by Terraform"
    assert deployment.diff(PARAMETER_GROUP) == {}
