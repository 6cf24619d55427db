"""Every driver and every node agree with the Terraform AWS provider 6.47 schema."""

from __future__ import annotations

from typing import Any

import botocore.session

from deployer.attributes import Attr, Table
from deployer.graph import build_graph
from deployer.model import Json
from deployer.resource import registered_data_sources, registered_resources
from deployer.schema import block_schema, resource_schema, validate_attributes


def test_every_node_uses_only_schema_attributes(spec: Any) -> None:
    problems: list[str] = []
    for node in build_graph(spec).nodes():
        if not node.type.startswith("aws_") or node.ephemeral:
            continue  # other providers' types; ephemeral schemas are not in the vendored file
        for problem in validate_attributes(node.type, node.attributes, data=node.data):
            problems.append(f"{node.key}: {problem}")
    assert problems == []


def test_validation_catches_a_misspelt_attribute(spec: Any) -> None:
    node = next(n for n in build_graph(spec).nodes() if n.type == "aws_kms_key")
    broken = {**node.attributes, "enable_key_rotations": True}
    assert any("enable_key_rotations" in p for p in validate_attributes(node.type, broken))


def test_every_driver_type_and_its_metadata_exist_in_the_schema() -> None:
    for tf_type, driver in registered_resources().items():
        attributes = block_schema(tf_type)["attributes"]
        blocks = block_schema(tf_type).get("block_types", {})
        for name in driver.force_new | driver.write_only:
            assert name in attributes or name in blocks, f"{tf_type}.{name}"
        if driver.taggable:
            assert "tags" in attributes, f"{tf_type} is not taggable in Terraform"
    for tf_type in registered_data_sources():
        assert resource_schema(tf_type, data=True)


def test_policies_are_json_documents_not_pasted_strings(spec: Any) -> None:
    for node in build_graph(spec).nodes():
        for name in ("policy", "assume_role_policy"):
            value = node.attributes.get(name)
            if value is not None:
                assert isinstance(value, Json), f"{node.key}.{name}"


def table_problems(tf_type: str, table: Table) -> list[str]:
    """What is wrong with a driver's attribute table, against the schema and botocore."""
    schema = block_schema(tf_type)
    attributes, blocks = schema["attributes"], schema.get("block_types", {})
    model = botocore.session.get_session().get_service_model(table.service)
    create_input = model.operation_model(table.create_call).input_shape.members
    update_input = (
        model.operation_model(table.update_call).input_shape.members if table.update_call else {}
    )
    described = model.shape_for(table.described).members
    problems: list[str] = []
    for row in table:
        where = f"{tf_type}.{row.name}"
        spec = attributes.get(row.name)
        if spec is None and row.name not in blocks:
            problems.append(f"{where}: not in the provider schema")
            continue
        settable = row.name in blocks or bool(spec.get("optional") or spec.get("required"))
        managed = settable and not row.computed and not row.write_only
        if managed and not row.force_new and row.update is False:
            problems.append(f"{where}: neither updatable nor forcing a replacement")
        if row.force_new and row.update is not False:
            problems.append(f"{where}: both updatable and forcing a replacement")
        if row.create_parameter and row.create_parameter not in create_input:
            problems.append(f"{where}: {table.create_call} has no {row.create_parameter}")
        parameter = row.update_parameter
        if table.update_call and parameter and parameter not in update_input:
            problems.append(f"{where}: {table.update_call} has no {parameter}")
        if row.field and row.field not in described:
            problems.append(f"{where}: {table.described} has no {row.field}")
    return problems


def test_every_attribute_table_agrees_with_the_schema_and_the_api() -> None:
    """Each row names a provider attribute; every settable one changes in place or forces a
    replacement; every API name a row uses exists in botocore's model of the call."""
    tables = {t: d.table for t, d in registered_resources().items() if d.table is not None}
    assert "aws_kms_key" in tables
    problems = [p for tf_type, table in tables.items() for p in table_problems(tf_type, table)]
    assert problems == []


def test_the_table_check_catches_what_it_should() -> None:
    wrong = Table(
        Attr("is_enabled", "IsEnabled", update=True),
        Attr("key_usage", create="Usage", force_new=True, update=True),
        Attr("description", "Description"),
        Attr("enabled_flag", "Enabled"),
        service="kms",
        create_call="CreateKey",
        described="KeyMetadata",
    )
    assert table_problems("aws_kms_key", wrong) == [
        "aws_kms_key.is_enabled: CreateKey has no IsEnabled",
        "aws_kms_key.is_enabled: KeyMetadata has no IsEnabled",
        "aws_kms_key.key_usage: both updatable and forcing a replacement",
        "aws_kms_key.key_usage: CreateKey has no Usage",
        "aws_kms_key.description: neither updatable nor forcing a replacement",
        "aws_kms_key.enabled_flag: not in the provider schema",
    ]
