"""DynamoDB: UpdateTable's stream changes and attribute definitions, TagResource on a key the
table already has (``DYNAMODB_CORRECTIONS``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from emulator.patching import _patch

# --- DynamoDB: a stream is disabled, then enabled anew ----------------------------------------
# AWS (UpdateTable, StreamSpecification): "You receive a ValidationException if you try to enable
# a stream on a table that already has a stream, or if you try to disable a stream on a table
# that doesn't have a stream." Once disabled, a stream can be enabled again, with any view type
# (a new stream: new label and ARN); that is how the view type of a table's stream changes.
# moto refuses every enable once the table ever had a stream (ResourceInUseException, so a
# disabled stream never comes back), accepts disabling a stream that is not there, and
# re-enables the stream when a disable names a view type.


def _streams_disable_then_enable(_original: Any) -> Any:
    def update_table_streams(self: Any, table: Any, stream_specification: dict[str, Any]) -> None:
        from moto.dynamodb.exceptions import MockValidationException

        enabled = bool((table.stream_specification or {}).get("StreamEnabled"))
        if stream_specification.get("StreamEnabled"):
            if enabled:
                raise MockValidationException(
                    f"Table already has an enabled stream: TableName: {table.name}"
                )
            table.set_stream_specification(dict(stream_specification))
        else:
            if not enabled:
                raise MockValidationException(
                    f"Table has no enabled stream to disable: TableName: {table.name}"
                )
            table.set_stream_specification({"StreamEnabled": False})

    return update_table_streams


def _install_dynamodb_streams() -> None:
    from moto.dynamodb.models import DynamoDBBackend

    _patch(
        DynamoDBBackend,
        "update_table_streams",
        "disable-then-enable",
        _streams_disable_then_enable,
    )


# --- DynamoDB: UpdateTable's AttributeDefinitions -----------------------------------------------
# A table's AttributeDefinitions are those of the attributes its key schema and its indexes' key
# schemas use. UpdateTable's AttributeDefinitions add to (or restate) them, and "if you are
# adding a new global secondary index to the table, AttributeDefinitions must include the key
# element(s) of the new index" (AWS UpdateTable); once an index is deleted, the definitions only
# its keys used are gone. moto replaces the table's definitions by the request's (losing the
# table's own key definitions when the request leaves them out), never drops a deleted index's,
# and creates an index whose keys the request does not define.


def _attribute_definitions_merged(original: Any) -> Any:
    def update_table(
        self: Any,
        name: str,
        attr_definitions: list[dict[str, str]] | None,
        global_index: list[dict[str, Any]] | None,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        from moto.dynamodb.exceptions import MockValidationException

        requested = {a["AttributeName"]: dict(a) for a in attr_definitions or []}
        for update in global_index or []:
            keys = [k["AttributeName"] for k in (update.get("Create") or {}).get("KeySchema", [])]
            missing = [k for k in keys if k not in requested]
            if missing:
                raise MockValidationException(
                    "One or more parameter values were invalid: Some index key attributes are "
                    f"not defined in AttributeDefinitions. Keys: [{', '.join(missing)}], "
                    f"AttributeDefinitions: [{', '.join(requested)}]"
                )
        defined = {a["AttributeName"]: a for a in self.get_table(name).attr}
        table = original(self, name, attr_definitions, global_index, *args, **kwargs)
        defined.update(requested)
        used = {k["AttributeName"] for k in table.schema}
        for index in [*table.global_indexes, *table.indexes]:
            used |= {k["AttributeName"] for k in index.schema}
        table.attr = [a for attribute, a in defined.items() if attribute in used]
        return table

    return update_table


def _install_dynamodb_attribute_definitions() -> None:
    from moto.dynamodb.models import DynamoDBBackend

    _patch(DynamoDBBackend, "update_table", "merged-definitions", _attribute_definitions_merged)


# --- DynamoDB: TagResource replaces the value of a key the table already has --------------------
# On AWS a resource has one value per tag key: tagging with a key it already has overwrites that
# value. moto appends, so ListTagsOfResource then lists the key twice, old value and new.


def _tags_overwritten(_original: Any) -> Any:
    def tag_resource(self: Any, table_arn: str, tags: list[dict[str, str]]) -> None:
        for table in self.tables.values():
            if table.table_arn != table_arn:
                continue
            values = {t["Key"]: t["Value"] for t in table.tags}
            values.update({t["Key"]: t["Value"] for t in tags})
            table.tags = [{"Key": key, "Value": value} for key, value in values.items()]

    return tag_resource


def _install_dynamodb_tags() -> None:
    from moto.dynamodb.models import DynamoDBBackend

    _patch(DynamoDBBackend, "tag_resource", "overwrites", _tags_overwritten)


DYNAMODB_CORRECTIONS: tuple[Callable[[], None], ...] = (
    _install_dynamodb_streams,
    _install_dynamodb_attribute_definitions,
    _install_dynamodb_tags,
)
