"""Attribute tables: requests built from rows (nested paths, other calls, groups) and updates
carried out through the table's calls against the emulator."""

from __future__ import annotations

import json
from typing import Any

from deployer.attributes import NO_DEFAULT, Attr, Block, Setter, Table

DB = Table(
    Attr("identifier", "DBInstanceIdentifier", force_new=True),
    Attr(
        "instance_class", "DBInstanceClass", update=True, also={"CreateDBInstanceReadReplica": True}
    ),
    Attr("port", "Endpoint.Port", create="Port", update="DBPortNumber", to_api=int),
    Attr("monitoring_interval", "MonitoringInterval", update=True, together="monitoring"),
    Attr("monitoring_role_arn", "MonitoringRoleArn", update=True, together="monitoring"),
    Attr("arn", "DBInstanceArn", computed=True),
    Attr("deletion_protection", "DeletionProtection", update=True, default=False),
    service="rds",
    create_call="CreateDBInstance",
    update_call="ModifyDBInstance",
    other_calls=("CreateDBInstanceReadReplica",),
    described="DBInstance",
    id_parameter="DBInstanceIdentifier",
)


def test_requests_per_call() -> None:
    desired = {"identifier": "db", "instance_class": "db.t3.medium", "port": "5432", "arn": "x"}
    assert DB.create_parameters(desired) == {
        "DBInstanceIdentifier": "db",
        "DBInstanceClass": "db.t3.medium",
        "Port": 5432,
    }
    assert DB.parameters("CreateDBInstanceReadReplica", desired) == {
        "DBInstanceClass": "db.t3.medium"
    }
    assert DB.update_parameters(desired, {"port"}) == {"DBPortNumber": 5432}


def test_a_group_travels_together() -> None:
    desired = {"monitoring_interval": 60, "monitoring_role_arn": "arn:role"}
    assert DB.update_parameters(desired, {"monitoring_interval"}) == {
        "MonitoringInterval": 60,
        "MonitoringRoleArn": "arn:role",
    }


def test_reads_nested_fields_and_fills_defaults() -> None:
    described = {"DBInstanceIdentifier": "db", "Endpoint": {"Port": 5432}, "DBInstanceArn": "a"}
    live = DB.read(described)
    assert live["port"] == 5432 and live["arn"] == "a" and live["deletion_protection"] is None
    assert DB.with_defaults({"identifier": "db"})["deletion_protection"] is False
    assert DB.rows["port"].default is NO_DEFAULT


def test_unsent_names_what_no_call_changes() -> None:
    assert DB.unsent({"instance_class", "identifier", "something"}) == {"identifier", "something"}


KEY = Table(
    Attr("description", "Description", update=Setter("UpdateKeyDescription", "Description")),
    Attr(
        "policy",
        create="Policy",
        update=Setter("PutKeyPolicy", "Policy", fixed={"PolicyName": "default"}),
    ),
    service="kms",
    create_call="CreateKey",
    described="KeyMetadata",
    id_parameter="KeyId",
)


def test_setters_change_attributes_with_their_own_calls(clients: Any) -> None:
    kms = clients("kms", "us-east-1")
    key = kms.create_key(**KEY.create_parameters({"description": "before"}))["KeyMetadata"]
    account = key["Arn"].split(":")[4]
    policy = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                    "Action": "kms:*",
                    "Resource": "*",
                }
            ],
        }
    )
    KEY.apply_update(
        kms, key["KeyId"], {"description": "after", "policy": policy}, {"description", "policy"}
    )
    assert kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]["Description"] == "after"
    stored = kms.get_key_policy(KeyId=key["KeyId"], PolicyName="default")["Policy"]
    assert json.loads(stored) == json.loads(policy)


QUOTA = Block(
    Attr("limit", "limit", to_api=int),
    Attr("offset", "offset", default=0),
    Attr("period", "period"),
    Attr("period_spelt_otherwise", "periodName", create="Period.Name"),
)
STAGES = Block(Attr("api_id", "apiId"), Attr("stage", "stage"), many=True)


def test_a_block_is_sent_as_one_structure_with_its_defaults() -> None:
    sent = QUOTA.to_api([{"limit": "100", "period": "DAY", "period_spelt_otherwise": "day"}])
    assert sent == {"limit": 100, "offset": 0, "period": "DAY", "Period": {"Name": "day"}}
    assert QUOTA.to_api([]) is None and QUOTA.to_api(None) is None


def test_a_block_is_read_back_in_terraform_shape() -> None:
    assert QUOTA.from_api({"limit": 100, "period": "DAY", "periodName": "day"}) == [
        {"limit": 100, "offset": None, "period": "DAY", "period_spelt_otherwise": "day"}
    ]
    assert QUOTA.from_api(None) == [] and QUOTA.from_api({}) == []


def test_blocks_of_a_set_are_a_list_of_structures() -> None:
    blocks = [{"api_id": "a1", "stage": "prod"}, {"api_id": "a2", "stage": "dev"}]
    assert STAGES.to_api(blocks) == [
        {"apiId": "a1", "stage": "prod"},
        {"apiId": "a2", "stage": "dev"},
    ]
    assert STAGES.from_api(STAGES.to_api(blocks)) == blocks
