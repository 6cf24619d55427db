"""Patch operations from table rows, in the forms API Gateway's reference documents
(PATCH operations: https://docs.aws.amazon.com/apigateway/latest/api/patch-operations.html)."""

from __future__ import annotations

import pytest

from deployer.attributes import Attr, Setter, Table
from resources.apigateway.patch import (
    Patch,
    as_text,
    block_fields,
    keyed_members,
    map_entries,
    members,
    patch_requests,
)

STAGE = Patch("UpdateStage")
TABLE = Table(
    Attr("stage_name", "stageName", force_new=True),
    Attr("description", "description", update=STAGE),
    Attr("xray_tracing_enabled", "tracingEnabled", update=STAGE),
    Attr("variables", "variables", update=STAGE.using(map_entries)),
    Attr("client_certificate_id", create=False, update=STAGE.using(block_fields, "/cert")),
    Attr("tags", "tags", update=Setter("TagResource", "tags")),
    service="apigateway",
    create_call="CreateStage",
    described="Stage",
    id_parameter="stageName",
)


def test_values_are_strings_as_api_gateway_takes_them() -> None:
    assert [as_text(v) for v in (True, False, 29000, 50.0, 20.5, None)] == [
        "true",
        "false",
        "29000",
        "50",
        "20.5",
        "",
    ]


def test_each_changed_row_is_patched_at_its_field_in_table_order() -> None:
    desired = {"xray_tracing_enabled": True, "description": "new", "variables": {"a": "1"}}
    live = {"xray_tracing_enabled": False, "description": "old", "variables": {}}
    requests = patch_requests(TABLE, desired, live, {"variables", "xray_tracing_enabled"})
    assert requests == {
        "UpdateStage": [
            {"op": "replace", "path": "/tracingEnabled", "value": "true"},
            {"op": "add", "path": "/variables/a", "value": "1"},
        ]
    }


def test_a_row_without_a_patch_cannot_be_patched() -> None:
    with pytest.raises(NotImplementedError, match="tags"):
        patch_requests(TABLE, {"tags": {"a": "b"}}, {}, {"tags"})
    with pytest.raises(NotImplementedError, match="stage_name"):
        patch_requests(TABLE, {"stage_name": "x"}, {}, {"stage_name"})


def test_a_map_changes_key_by_key_with_escaped_paths() -> None:
    want = {"method.request.path/id": "true", "kept": "1", "changed": "new"}
    have = {"kept": "1", "changed": "old", "gone": "x"}
    assert map_entries("/requestParameters", want, have) == [
        {"op": "replace", "path": "/requestParameters/changed", "value": "new"},
        {"op": "add", "path": "/requestParameters/method.request.path~1id", "value": "true"},
        {"op": "remove", "path": "/requestParameters/gone"},
    ]


def test_set_members_are_added_and_removed() -> None:
    # Binary media types are path segments; authorization scopes are values.
    assert keyed_members("/binaryMediaTypes", ["image/png", "kept"], ["kept", "a/b"]) == [
        {"op": "add", "path": "/binaryMediaTypes/image~1png"},
        {"op": "remove", "path": "/binaryMediaTypes/a~1b"},
    ]
    assert members("/authorizationScopes", ["read"], ["write"]) == [
        {"op": "add", "path": "/authorizationScopes", "value": "read"},
        {"op": "remove", "path": "/authorizationScopes", "value": "write"},
    ]


def test_a_block_replaces_what_differs_and_is_removed_when_unset() -> None:
    have = {"destinationArn": "arn:1", "format": "f"}
    assert block_fields("/accessLogSettings", {"destinationArn": "arn:1", "format": "g"}, have) == [
        {"op": "replace", "path": "/accessLogSettings/format", "value": "g"}
    ]
    assert block_fields("/accessLogSettings", None, have) == [
        {"op": "remove", "path": "/accessLogSettings"}
    ]
    assert block_fields("/accessLogSettings", None, None) == []


def test_a_row_may_name_its_own_path() -> None:
    requests = patch_requests(
        TABLE, {"client_certificate_id": {"id": "c1"}}, {}, {"client_certificate_id"}
    )
    assert requests == {"UpdateStage": [{"op": "replace", "path": "/cert/id", "value": "c1"}]}
