"""Every driver and every node agree with the Terraform AWS provider 6.47 schema."""

from __future__ import annotations

from typing import Any

import botocore.session
from botocore import xform_name

from deployer.attributes import Attr, Setter, Table
from deployer.drift import ArnKinds
from deployer.graph import build_graph
from deployer.model import Json
from deployer.policy_check import policy_documents
from deployer.resource import Resource, registered_data_sources, registered_resources
from deployer.schema import block_schema, resource_schema, validate_attributes
from deployer.tagging import Tagging


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


def test_every_taggable_type_the_stack_deploys_says_what_its_arn_is(spec: Any) -> None:
    """Drift names a tagged resource no state holds by the type whose driver declares its
    ARN's kind; a type that cannot (its ARN is another type's) says why."""
    drivers = registered_resources()
    deployed = sorted({node.type for node in build_graph(spec).nodes() if node.stored})
    silent = [
        t
        for t in deployed
        if drivers[t].taggable and drivers[t].arn_kind is None and not drivers[t].no_arn_kind
    ]
    assert silent == []
    assert [t for t, d in drivers.items() if d.arn_kind and d.no_arn_kind] == []
    services = set(botocore.session.get_session().get_available_services())
    kinds = {t: d.arn_kind for t, d in drivers.items() if d.arn_kind is not None}
    assert {t: kind for t, kind in kinds.items() if kind[0] not in services} == {}
    assert [t for t, kind in kinds.items() if drivers[t].service not in (None, kind[0])] == []
    ArnKinds(drivers)  # no two types declare the same kind


def test_every_policy_document_is_in_an_attribute_its_driver_declares(spec: Any) -> None:
    """`policy_attributes` (what the least-privilege check and a reader rely on) misses no
    policy the stack writes, and names only attributes of the type."""
    drivers = registered_resources()
    found = {
        (node.type, path.split(".")[0].split("[")[0])
        for node in build_graph(spec).nodes()
        if node.stored
        for path, _ in policy_documents(node)
    }
    declared = {(t, name) for t, d in drivers.items() for name in d.policy_attributes}
    assert found and sorted(found - declared) == []
    for tf_type, driver in drivers.items():
        schema = block_schema(tf_type)
        names = set(schema["attributes"]) | set(schema.get("block_types", {}))
        assert driver.policy_attributes <= names, tf_type
        if driver.key_policy:
            assert "policy" in driver.policy_attributes, tf_type


def test_policies_are_json_documents_not_pasted_strings(spec: Any) -> None:
    for node in build_graph(spec).nodes():
        for name in ("policy", "assume_role_policy"):
            value = node.attributes.get(name)
            if value is not None:
                assert isinstance(value, Json), f"{node.key}.{name}"


def has_path(shape: Any, path: str) -> bool:
    """Whether a botocore shape has the member at a dotted path (through lists, and through
    maps whose keys are an enumeration, such as SQS's queue attribute names)."""
    for step in path.split("."):
        while shape.type_name == "list":
            shape = shape.member
        if shape.type_name == "map" and shape.key.enum:
            if step not in shape.key.enum:
                return False
            shape = shape.value
            continue
        if shape.type_name != "structure" or step not in shape.members:
            return False
        shape = shape.members[step]
    return True


def operation_input(model: Any, operation: str) -> Any:
    return model.operation_model(operation).input_shape


def table_problems(tf_type: str, table: Table) -> list[str]:
    """What is wrong with a driver's attribute table, against the schema and botocore."""
    schema = block_schema(tf_type)
    attributes, blocks = schema["attributes"], schema.get("block_types", {})
    model = botocore.session.get_session().get_service_model(table.service)
    calls = [table.create_call, *([table.update_call] if table.update_call else [])]
    calls += list(table.other_calls)
    inputs = {call: operation_input(model, call) for call in calls}
    described = model.shape_for(table.described)
    problems: list[str] = []
    update_input = inputs.get(table.update_call or "")
    if table.id_parameter and update_input and not has_path(update_input, table.id_parameter):
        problems.append(f"{tf_type}: {table.update_call} has no {table.id_parameter}")
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
        if row.removed_in_place and not row.force_new:
            problems.append(f"{where}: removed in place, but a change would not replace it")
        if row.removed_in_place and (spec is None or not spec.get("optional")):
            problems.append(f"{where}: removed in place, but not an optional argument")
        for call, shape in inputs.items():
            parameter = row.parameter_for(call, table)
            if parameter and not has_path(shape, parameter):
                problems.append(f"{where}: {call} has no {parameter}")
        if row.setter is not None:
            setter = row.setter
            shape = operation_input(model, setter.operation)
            for parameter in (
                setter.parameter,
                setter.id_parameter or table.id_parameter or "",
                *setter.fixed,
            ):
                if not has_path(shape, parameter):
                    problems.append(f"{where}: {setter.operation} has no {parameter}")
        if row.field and not has_path(described, row.field):
            problems.append(f"{where}: {table.described} has no {row.field}")
    return problems


def tagging_problems(tf_type: str, service: str, tagging: Tagging) -> list[str]:
    """What is wrong with a driver's tag calls, against botocore's model."""
    model = botocore.session.get_session().get_service_model(service)
    operations = {xform_name(name): name for name in model.operation_names}
    problems: list[str] = []
    calls = [
        (tagging.list_call, []),
        (tagging.tag_call, [tagging.tags_param]),
        (tagging.untag_call, [tagging.keys_param]),
    ]
    for method, parameters in calls:
        if method is None:
            continue
        if method not in operations:
            problems.append(f"{tf_type}: {service} has no {method}")
            continue
        shape = operation_input(model, operations[method])
        for parameter in (tagging.resource, *tagging.fixed, *parameters):
            if not has_path(shape, parameter):
                problems.append(f"{tf_type}: {operations[method]} has no {parameter}")
    return problems


def test_every_attribute_table_agrees_with_the_schema_and_the_api() -> None:
    """Each row names a provider attribute; every settable one changes in place or forces a
    replacement; every API name a row uses exists in botocore's model of the call."""
    tables = {t: d.table for t, d in registered_resources().items() if d.table is not None}
    assert "aws_kms_key" in tables
    problems = [p for tf_type, table in tables.items() for p in table_problems(tf_type, table)]
    assert problems == []


def test_a_removal_made_in_place_is_the_drivers_own_update() -> None:
    """No call of a table sends a removal (`removed_in_place`): the driver's `update` makes it,
    and the planner plans it as an update, not a replacement, while a new value replaces."""
    drivers = {t: d for t, d in registered_resources().items() if d.removed_in_place}
    assert "aws_db_instance" in drivers
    for tf_type, driver in drivers.items():
        assert type(driver).update is not Resource.update, tf_type
        assert driver.removed_in_place <= driver.force_new, tf_type
        for name in driver.removed_in_place:
            removal = driver.differences({}, {name: "x"})
            assert removal == {name: ("x", None)}, tf_type
            assert driver.replacing(removal) == [], tf_type
            assert driver.replacing({name: ("x", "y")}) == [name], tf_type
            assert driver.replacing({name: (None, "y")}) == [name], tf_type
            assert driver.differences({}, {name: None}) == {}, tf_type


def test_every_drivers_tag_calls_exist() -> None:
    problems = [
        problem
        for tf_type, driver in registered_resources().items()
        if driver.tagging is not None
        for problem in tagging_problems(tf_type, driver.service or "", driver.tagging)
    ]
    assert problems == []


def test_the_table_check_catches_what_it_should() -> None:
    wrong = Table(
        Attr("is_enabled", "IsEnabled", update=True),
        Attr("key_usage", create="Usage", force_new=True, update=True),
        Attr("description", "Description"),
        Attr("enabled_flag", "Enabled"),
        Attr("policy", create=False, update=Setter("PutKeyPolicy", "Document")),
        Attr("multi_region", "Origin.Region", force_new=True),
        service="kms",
        create_call="CreateKey",
        described="KeyMetadata",
        id_parameter="KeyId",
    )
    assert table_problems("aws_kms_key", wrong) == [
        "aws_kms_key.is_enabled: CreateKey has no IsEnabled",
        "aws_kms_key.is_enabled: KeyMetadata has no IsEnabled",
        "aws_kms_key.key_usage: both updatable and forcing a replacement",
        "aws_kms_key.key_usage: CreateKey has no Usage",
        "aws_kms_key.description: neither updatable nor forcing a replacement",
        "aws_kms_key.enabled_flag: not in the provider schema",
        "aws_kms_key.policy: PutKeyPolicy has no Document",
        "aws_kms_key.multi_region: CreateKey has no Origin.Region",
        "aws_kms_key.multi_region: KeyMetadata has no Origin.Region",
    ]


def test_the_tagging_check_catches_what_it_should() -> None:
    wrong = Tagging("KeyArn", list_call="list_key_tags", keys_param="Keys", key="TagKey")
    assert tagging_problems("aws_kms_key", "kms", wrong) == [
        "aws_kms_key: kms has no list_key_tags",
        "aws_kms_key: TagResource has no KeyArn",
        "aws_kms_key: UntagResource has no KeyArn",
        "aws_kms_key: UntagResource has no Keys",
    ]
