"""A driver's attribute table: each Terraform attribute, where AWS keeps it, and how it changes.

One row per attribute says it all once: the API field it is read from (and sent as, at create
and update, unless the row names another parameter or says it is not sent), whether a change is
made in place or forces a replacement, the provider's default, whether AWS computes it or never
reports it, and how to normalise the API's value. Generic code reads the table: the create and
update parameters, the read, the diff (a default counts as desired when the node leaves the
attribute unset, so a key disabled behind our back is a change), drift, the export and the
"unchecked" accounting. A driver whose API is odd overrides a method; it does not restate a row.

Fields and parameters are dotted paths where the API nests them (`Endpoint.Port`,
`SSESpecification.KMSMasterKeyId`). A registry-wide test checks every row against the provider
schema and botocore's service model (tests/test_registry.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any, Final

from botocore import xform_name


class _NoDefault:
    def __repr__(self) -> str:
        return "NO_DEFAULT"


#: The provider has no default for the attribute: unset means "not managed".
NO_DEFAULT: Final = _NoDefault()


def get_path(document: Any, path: str) -> Any:
    """The value at a dotted path of a nested answer (None where a step is missing)."""
    current = document
    for step in path.split("."):
        if not isinstance(current, Mapping):
            return None
        current = current.get(step)
    return current


def set_path(document: dict[str, Any], path: str, value: Any) -> None:
    """Set the value at a dotted path of a nested request, making the dicts on the way."""
    *parents, last = path.split(".")
    current = document
    for step in parents:
        current = current.setdefault(step, {})
    current[last] = value


@dataclass(frozen=True)
class Setter:
    """A call of its own that changes one attribute in place (`PutKeyPolicy`'s `Policy`),
    named as in the API reference, with whatever constant parameters it also needs."""

    operation: str
    parameter: str
    fixed: Mapping[str, Any] = dataclass_field(default_factory=dict)
    # The parameter naming the resource, where it is not the table's `id_parameter`.
    id_parameter: str | None = None


@dataclass(frozen=True)
class Attr:
    """One Terraform attribute of a resource type."""

    name: str
    # The field of the API's description the read takes it from; None: not read by the table
    # (write-only, or read by the driver's own code).
    field: str | None = None
    # The create call's parameter: the field's name by default, another name, or False (not sent).
    create: str | bool = True
    # Changed in place: False (not updatable here), True (the table's update call sends the
    # create parameter), the name of the update call's parameter, or a `Setter` (a call of its
    # own). `force_new` attributes are replaced instead.
    update: str | bool | Setter = False
    force_new: bool = False
    # With `force_new`: leaving it unset while AWS reports a value is a change (Terraform's
    # null), made in place by the driver's own `update` (a read replica whose source is removed
    # is promoted); setting or changing a value still replaces.
    removed_in_place: bool = False
    default: Any = NO_DEFAULT
    # AWS assigns it (an ARN, an id): never sent, never compared with the spec.
    computed: bool = False
    # Sent, never reported back (Terraform keeps it in state only).
    write_only: bool = False
    # API value → Terraform value (read) and back (create, update).
    from_api: Callable[[Any], Any] | None = None
    to_api: Callable[[Any], Any] | None = None
    # Other write calls of the table that take it (`CreateDBInstanceReadReplica`): the
    # parameter, or True for the create parameter's name.
    also: Mapping[str, str | bool] = dataclass_field(default_factory=dict)
    # Rows of one group are sent together when any of them changes (AWS takes a monitoring
    # interval only with its role).
    together: str | None = None

    @property
    def parameter(self) -> str | None:
        """The name write calls take it by: the create parameter's, else the field's."""
        return self.create if isinstance(self.create, str) else self.field

    @property
    def create_parameter(self) -> str | None:
        if self.computed or self.create is False:
            return None
        return self.parameter

    @property
    def update_parameter(self) -> str | None:
        """The parameter of the table's update call (None: not sent by it)."""
        if self.computed or self.update is False or isinstance(self.update, Setter):
            return None
        if isinstance(self.update, str):
            return self.update
        return self.parameter

    @property
    def setter(self) -> Setter | None:
        return self.update if isinstance(self.update, Setter) else None

    @property
    def updatable(self) -> bool:
        return self.update is not False and not self.computed

    def parameter_for(self, operation: str, table: Table) -> str | None:
        """The parameter `operation` (an API name) takes this attribute as, if any."""
        if operation == table.create_call:
            return self.create_parameter
        if operation == table.update_call:
            return self.update_parameter
        extra = self.also.get(operation)
        if extra is None or extra is False or self.computed:
            return None
        return extra if isinstance(extra, str) else self.parameter

    def api_value(self, value: Any) -> Any:
        return self.to_api(value) if self.to_api is not None else value

    def read_value(self, described: Mapping[str, Any]) -> Any:
        assert self.field is not None
        value = get_path(described, self.field)
        return self.from_api(value) if self.from_api is not None else value


class Table:
    """The rows of one resource type, by attribute name, and the API calls they belong to:
    `service`, the operation that creates (its input members are the create parameters), the
    one that updates in place if a single call does, other write calls rows may name in `also`,
    the shape `field`s are read from and the parameter that names the resource in updates."""

    def __init__(
        self,
        *rows: Attr,
        service: str,
        create_call: str,
        described: str,
        update_call: str | None = None,
        other_calls: Iterable[str] = (),
        id_parameter: str | None = None,
    ) -> None:
        self.service, self.create_call, self.described = service, create_call, described
        self.update_call = update_call
        self.other_calls = tuple(other_calls)
        self.id_parameter = id_parameter
        self.rows: dict[str, Attr] = {row.name: row for row in rows}
        if len(self.rows) != len(rows):
            raise ValueError("an attribute appears twice in the table")
        for row in rows:
            unknown = set(row.also) - set(self.other_calls)
            if unknown:
                raise ValueError(f"{row.name}: {sorted(unknown)} not among the table's calls")

    def __iter__(self) -> Iterator[Attr]:
        return iter(self.rows.values())

    def __contains__(self, name: object) -> bool:
        return name in self.rows

    def names(self, predicate: Callable[[Attr], bool]) -> frozenset[str]:
        return frozenset(name for name, row in self.rows.items() if predicate(row))

    @property
    def force_new(self) -> frozenset[str]:
        return self.names(lambda row: row.force_new)

    @property
    def removed_in_place(self) -> frozenset[str]:
        return self.names(lambda row: row.removed_in_place)

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

    def parameters(
        self, operation: str, desired: Mapping[str, Any], names: Iterable[str] | None = None
    ) -> dict[str, Any]:
        """`operation`'s parameters (an API name) for the attributes `desired` sets, or only
        for `names`."""
        wanted = set(self.rows) if names is None else set(names)
        request: dict[str, Any] = {}
        for name, row in self.rows.items():
            if name not in wanted or desired.get(name) is None:
                continue
            parameter = row.parameter_for(operation, self)
            value = row.api_value(desired[name]) if parameter else None
            if parameter and value is not None:  # `to_api` gives None for "not sent"
                set_path(request, parameter, value)
        return request

    def create_parameters(self, desired: Mapping[str, Any]) -> dict[str, Any]:
        """The create call's parameters for the attributes `desired` sets."""
        return self.parameters(self.create_call, desired)

    def read(self, described: Mapping[str, Any]) -> dict[str, Any]:
        """Terraform attributes from the API's description (the rows that name a field)."""
        return {
            name: row.read_value(described)
            for name, row in self.rows.items()
            if row.field is not None and not row.write_only
        }

    def in_groups(self, names: Iterable[str]) -> set[str]:
        """`names` with every row that must travel with one of them (`together`)."""
        names = set(names)
        groups = {self.rows[n].together for n in names if n in self.rows} - {None}
        return names | {n for n, row in self.rows.items() if row.together in groups}

    def update_parameters(
        self, desired: Mapping[str, Any], changed: Iterable[str]
    ) -> dict[str, Any]:
        """The table's update call's parameters for the `changed` attributes (and their groups)."""
        if self.update_call is None:
            return {}
        return self.parameters(self.update_call, desired, self.in_groups(changed))

    def apply_update(
        self, client: Any, id: str, desired: Mapping[str, Any], changed: Iterable[str]
    ) -> None:
        """Change the `changed` attributes in place: one update call for the rows it takes,
        then each `Setter` row's own call. Rows the table cannot send are the driver's."""
        changed = set(changed)
        request = self.update_parameters(desired, changed)
        setters = [
            (name, row, row.setter)
            for name in sorted(changed)
            if (row := self.rows.get(name)) is not None and row.setter is not None
        ]
        if not request and not setters:
            return
        if self.id_parameter is None:
            raise TypeError(f"{self.described}: the table names no id parameter for updates")
        if request and self.update_call is not None:
            getattr(client, xform_name(self.update_call))(**{self.id_parameter: id}, **request)
        for name, row, setter in setters:
            assert setter is not None
            getattr(client, xform_name(setter.operation))(
                **{setter.id_parameter or self.id_parameter: id},
                **setter.fixed,
                **{setter.parameter: row.api_value(desired.get(name))},
            )

    def unsent(self, changed: Iterable[str]) -> set[str]:
        """Of `changed`, the attributes no call of the table changes (the driver's own code,
        tags, or attributes that force a replacement)."""
        sent = {
            name
            for name, row in self.rows.items()
            if row.setter is not None or (row.update_parameter and self.update_call)
        }
        return set(changed) - sent


class Block:
    """A nested block's arguments as rows of their own, for the row whose value the block is.

    Terraform writes a block as a list of dicts (of one, where `max_items = 1`); the API takes
    one structure (a list of them with `many`). Each inner row names the structure's field it is
    read from and sent as (`create`, where the write spells it otherwise), its normalisation and
    the provider's default, as the table's rows do: its `to_api` and `from_api` are the outer
    row's, so a block's fields are written once for create, read and update."""

    def __init__(self, *rows: Attr, many: bool = False) -> None:
        self.rows = rows
        self.many = many

    def to_api(self, blocks: list[Mapping[str, Any]] | None) -> Any:
        """The API's structure(s) for Terraform's blocks; None for no block."""
        if not blocks:
            return None
        items = [self._item_to_api(block) for block in blocks]
        return items if self.many else items[0]

    def _item_to_api(self, block: Mapping[str, Any]) -> dict[str, Any]:
        request: dict[str, Any] = {}
        for row in self.rows:
            value = block.get(row.name)
            if value is None and row.default is not NO_DEFAULT:
                value = row.default
            parameter = row.create_parameter
            value = row.api_value(value) if value is not None and parameter else None
            if parameter and value is not None:
                set_path(request, parameter, value)
        return request

    def from_api(self, value: Any) -> list[dict[str, Any]]:
        """Terraform's blocks from the API's structure(s); [] where the API reports none."""
        if not value:
            return []
        items = value if self.many else [value]
        return [
            {row.name: row.read_value(item) for row in self.rows if row.field is not None}
            for item in items
        ]
