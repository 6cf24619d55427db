"""A driver's attribute table: each Terraform attribute, where AWS keeps it, and how it changes.

One row per attribute says it all once: the API field it is read from (and sent as, at create
and update, unless the row names another parameter or says it is not sent), whether a change is
made in place or forces a replacement, the provider's default, whether AWS computes it or never
reports it, and how to normalise the API's value. Generic code reads the table: the create and
update parameters, the read, the diff (a default counts as desired when the node leaves the
attribute unset, so a key disabled behind our back is a change), drift, the export and the
"unchecked" accounting. A driver whose API is odd overrides a method; it does not restate a row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final


class _NoDefault:
    def __repr__(self) -> str:
        return "NO_DEFAULT"


#: The provider has no default for the attribute: unset means "not managed".
NO_DEFAULT: Final = _NoDefault()


@dataclass(frozen=True)
class Attr:
    """One Terraform attribute of a resource type."""

    name: str
    # The field of the API's description the read takes it from; None: not read (write-only,
    # or read by the driver's own code).
    field: str | None = None
    # The create call's parameter: the field's name by default, another name, or False (not sent).
    create: str | bool = True
    # Changed in place: False (not updatable here), True (the generic update sends `field`), or
    # the name of the update call's parameter. `force_new` attributes are replaced instead.
    update: str | bool = False
    force_new: bool = False
    default: Any = NO_DEFAULT
    # AWS assigns it (an ARN, an id): never sent, never compared with the spec.
    computed: bool = False
    # Sent, never reported back (Terraform keeps it in state only).
    write_only: bool = False
    # API value → Terraform value (read) and back (create, update).
    from_api: Callable[[Any], Any] | None = None
    to_api: Callable[[Any], Any] | None = None

    @property
    def create_parameter(self) -> str | None:
        if self.computed or self.create is False:
            return None
        return self.create if isinstance(self.create, str) else self.field

    @property
    def update_parameter(self) -> str | None:
        if self.computed or self.update is False:
            return None
        return self.update if isinstance(self.update, str) else self.field

    def api_value(self, value: Any) -> Any:
        return self.to_api(value) if self.to_api is not None else value


class Table:
    """The rows of one resource type, by attribute name, and the API calls they belong to:
    `service`, the operation that creates (its input members are the create parameters), the
    one that updates in place if a single call does, and the shape `field`s are read from.
    A registry-wide test checks every row against the provider schema and botocore's model."""

    def __init__(
        self,
        *rows: Attr,
        service: str,
        create_call: str,
        described: str,
        update_call: str | None = None,
    ) -> None:
        self.service, self.create_call, self.described = service, create_call, described
        self.update_call = update_call
        self.rows: dict[str, Attr] = {row.name: row for row in rows}
        if len(self.rows) != len(rows):
            raise ValueError("an attribute appears twice in the table")

    def __iter__(self) -> Iterator[Attr]:
        return iter(self.rows.values())

    def names(self, predicate: Callable[[Attr], bool]) -> frozenset[str]:
        return frozenset(name for name, row in self.rows.items() if predicate(row))

    @property
    def force_new(self) -> frozenset[str]:
        return self.names(lambda row: row.force_new)

    @property
    def write_only(self) -> frozenset[str]:
        return self.names(lambda row: row.write_only)

    @property
    def computed(self) -> frozenset[str]:
        return self.names(lambda row: row.computed)

    @property
    def defaults(self) -> dict[str, Any]:
        return {n: r.default for n, r in self.rows.items() if r.default is not NO_DEFAULT}

    def with_defaults(self, desired: Mapping[str, Any]) -> dict[str, Any]:
        """`desired` plus the provider's default of every attribute it leaves unset."""
        filled = dict(desired)
        for name, default in self.defaults.items():
            if filled.get(name) is None:
                filled[name] = default
        return filled

    def create_parameters(self, desired: Mapping[str, Any]) -> dict[str, Any]:
        """The create call's parameters for the attributes `desired` sets."""
        return {
            parameter: row.api_value(desired[name])
            for name, row in self.rows.items()
            if (parameter := row.create_parameter) and desired.get(name) is not None
        }

    def read(self, described: Mapping[str, Any]) -> dict[str, Any]:
        """Terraform attributes from the API's description (the rows that name a field)."""
        values: dict[str, Any] = {}
        for name, row in self.rows.items():
            if row.field is None or row.write_only:
                continue
            value = described.get(row.field)
            values[name] = row.from_api(value) if row.from_api is not None else value
        return values
