"""Every driver and every node agree with the Terraform AWS provider 6.47 schema."""

from __future__ import annotations

from typing import Any

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
