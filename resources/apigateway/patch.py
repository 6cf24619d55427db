"""API Gateway's updates: JSON-patch operations (`patchOperations`) built from the table's rows.

Every API Gateway update call (`UpdateRestApi`, `UpdateStage`, ...) takes a list of operations
(`{"op": "replace", "path": "/description", "value": "..."}`) rather than parameters. A row
that changes in place says so with `update=Patch("UpdateStage")`: the path is its `field`
(`accessLogSettings` → `/accessLogSettings`) unless the row names another, and the operations
come from the kind of value (a scalar is replaced, a map's keys are added, replaced and removed
one by one, a set's members added and removed). API Gateway takes every value as a string.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from deployer.attributes import Attr, Setter, Table
from deployer.diff import equivalent

Operation = dict[str, str]
# (path, desired API value, live API value) → the operations that change the one into the other.
Operations = Callable[[str, Any, Any], list[Operation]]


def escape(text: str) -> str:
    """JSON Pointer escaping of a path segment, as patch paths need (`/` → `~1`)."""
    return text.replace("~", "~0").replace("/", "~1")


def as_text(value: Any) -> str:
    """A patch value: API Gateway takes strings (`true`, `29000`, `""` to clear); a whole
    float without its `.0` (`50`, as the provider writes a rate limit)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)


def replace(path: str, value: Any) -> Operation:
    return {"op": "replace", "path": path, "value": as_text(value)}


def remove(path: str) -> Operation:
    return {"op": "remove", "path": path}


def replace_value(path: str, want: Any, have: Any) -> list[Operation]:
    """A scalar: replaced by the desired value."""
    return [replace(path, want)]


def map_entries(path: str, want: Any, have: Any, add: str = "add") -> list[Operation]:
    """A map (request parameters, stage variables): each key added (with `add`: stage
    variables are added by `replace`), replaced or removed, its path escaped."""
    want, have = dict(want or {}), dict(have or {})
    operations: list[Operation] = []
    for key, value in sorted(want.items()):
        if key not in have:
            operations.append({**replace(f"{path}/{escape(key)}", value), "op": add})
        elif not equivalent(value, have[key]):
            operations.append(replace(f"{path}/{escape(key)}", value))
    operations += [remove(f"{path}/{escape(key)}") for key in sorted(have) if key not in want]
    return operations


def map_entries_by_replace(path: str, want: Any, have: Any) -> list[Operation]:
    return map_entries(path, want, have, add="replace")


def keyed_members(path: str, want: Any, have: Any) -> list[Operation]:
    """A set whose members are path segments (`/binaryMediaTypes/image~1png`)."""
    wanted, had = set(want or []), set(have or [])
    return [{"op": "add", "path": f"{path}/{escape(m)}"} for m in sorted(wanted - had)] + [
        remove(f"{path}/{escape(m)}") for m in sorted(had - wanted)
    ]


def members(path: str, want: Any, have: Any) -> list[Operation]:
    """A set whose members are the operations' values (`/authorizationScopes`)."""
    wanted, had = set(want or []), set(have or [])
    return [{"op": "add", "path": path, "value": m} for m in sorted(wanted - had)] + [
        {"op": "remove", "path": path, "value": m} for m in sorted(had - wanted)
    ]


def block_fields(path: str, want: Any, have: Any) -> list[Operation]:
    """A nested structure (access log settings, throttle): each desired field that differs is
    replaced under the block's path; no desired block removes the live one."""
    if not want:
        return [remove(path)] if have else []
    have = have or {}
    return [
        replace(f"{path}/{name}", value)
        for name, value in want.items()
        if not equivalent(value, have.get(name))
    ]


@dataclass(frozen=True)
class Patch(Setter):
    """Changed in place by patch operations of `operation` (an API Gateway update call): at
    `path` (the row's field by default), made by `operations` (a replace by default)."""

    parameter: str = "patchOperations"
    path: str | None = None
    operations: Operations = replace_value

    def using(self, operations: Operations, path: str | None = None) -> Patch:
        """The same call, with other operations (and path) for a row of another kind."""
        return Patch(self.operation, path=path, operations=operations)


def path_of(row: Attr) -> str:
    """Where a row lives in the patch document: its own path, else its field's."""
    patch = row.setter
    if isinstance(patch, Patch) and patch.path is not None:
        return patch.path
    if row.field is None:
        raise TypeError(f"{row.name}: a patched row needs a field or a path")
    return "/" + row.field.replace(".", "/")


def api_value(row: Attr, value: Any) -> Any:
    return None if value is None else row.api_value(value)


def patch_requests(
    table: Table,
    desired: Mapping[str, Any],
    live: Mapping[str, Any],
    names: Iterable[str],
) -> dict[str, list[Operation]]:
    """Per update call (an API name), the operations that bring the `names` rows from their
    live values to the desired ones, in the table's order."""
    names = set(names)
    requests: dict[str, list[Operation]] = {}
    for row in table:
        if row.name not in names:
            continue
        patch = row.setter
        if not isinstance(patch, Patch):
            raise NotImplementedError(f"{row.name}: no patch operation changes it")
        operations = patch.operations(
            path_of(row),
            api_value(row, desired.get(row.name)),
            api_value(row, live.get(row.name)),
        )
        if operations:
            requests.setdefault(patch.operation, []).extend(operations)
    return requests
