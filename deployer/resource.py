"""The resource protocol every driver implements, and the registries that find drivers.

Contracts (after Terraform's provider and Pulumi's dynamic providers):

- `create` makes the resource and returns its id, in the form the Terraform AWS provider uses
  as import id, so that `read(id)` needs nothing else. A failed create leaves nothing behind.
- `read` maps the live resource back to the node's Terraform attribute names; it returns None
  when the resource is gone, never raises for "not found".
- `update` changes the updatable attributes in place; attributes listed in `force_new` are
  never passed to it (the planner replaces instead).
- `delete` is idempotent: deleting what is already gone succeeds.
- `find` looks for a resource an interrupted create may have made (by deterministic name or
  identity tags) so that it is adopted, never duplicated.
- `wait_ready` returns when dependents that need readiness may proceed.
- `check_delete` says, without changing anything, why a delete must not happen (a database
  with deletion protection, a bucket holding data) unless the user allowed it (`ctx.options`).

Drivers are stateless; the engine hands each call a `Context` with clients for its region.
"""

from __future__ import annotations

import functools
import importlib
import json
import pkgutil
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from deployer.attributes import Table
from deployer.aws import Clients
from deployer.batch import BatchRead, Describe, Item, ReadBatch
from deployer.diff import diff_attributes
from deployer.tagging import Tagging

if TYPE_CHECKING:
    from deployer.arns import Arn, Claim
    from deployer.model import Node, Output
    from deployer.spec import Spec
    from deployer.unmanaged import Managed, UnmanagedItem

# Where IAM (a global service) and other global APIs are called.
GLOBAL_REGION = "us-east-1"

# The key of a live read under which a driver keeps what the items of its values stand for,
# item → words (an extra inline policy's actions and resources, a rule's protocol, ports and
# source), for `Resource.describe_value`. Not a Terraform attribute: no node sets it, so
# nothing compares it, and the export never writes it; state keeps it with the live read.
DETAILS = "deployer:details"


@dataclass
class Context:
    """What a driver call may use: clients for the node's region and the node itself."""

    clients: Clients
    region: str
    node: Node
    # What the user allowed for this run: `force` (empty buckets before deleting them),
    # `disable_deletion_protection`, `no_recovery_window` (delete secrets at once).
    options: dict[str, Any] = field(default_factory=dict)
    # The answers of this refresh's batched describe calls; None outside a refresh.
    batch: ReadBatch | None = None
    # Where a driver's words to the user go, `(node key, text)`: the executor's progress.
    notes: Callable[[str, str], None] | None = None

    def client(self, service: str, region: str | None = None) -> Any:
        return self.clients(service, region or self.region)

    def notify(self, text: str) -> None:
        """Tell the user something the driver did that they did not ask for in so many words
        (a deleted secret restored and adopted), where the run said (`notes`), if anywhere."""
        if self.notes is not None:
            self.notes(self.node.key, text)

    def describe(self, describe: Describe, by: str, value: str) -> list[Item]:
        """What `describe` reports for one value: from the refresh's batch when it was
        prefetched, else from its own call."""
        answer = self.prefetched(describe, by, value)
        if answer is not None:
            return answer
        return describe.fetch(self.client(describe.service), by, [value])[value]

    def prefetched(self, describe: Describe, by: str, value: str) -> list[Item] | None:
        """The refresh's batched answer for `value`; None outside a refresh, or where the
        batched call failed. For a read whose batch lists a whole account (IAM's
        authorization details): alone, it asks for its one resource by other calls."""
        if self.batch is None:
            return None
        return self.batch.answer(describe, self.region, by, value)

    def describe_one(self, describe: Describe, by: str, value: str) -> Item | None:
        """The one item `value` names (an id), or None when it does not exist."""
        items = self.describe(describe, by, value)
        return items[0] if items else None

    @property
    def tags(self) -> dict[str, str]:
        tags: dict[str, str] = self.node.attributes.get("tags") or {}
        return tags


@dataclass(frozen=True)
class DeletionProtection:
    """A type's deletion protection: the table's attribute that holds it, and what a refusal
    calls the resource ("database", "table")."""

    attribute: str
    noun: str


def _empty(value: Any) -> bool:
    """No value, as Terraform sees an attribute removed (null, or an empty string or list)."""
    return value is None or value == "" or value == [] or value == {}


class Resource:
    """A driver for one Terraform resource type."""

    type: ClassVar[str]
    # Attributes whose change cannot be made in place: the planner replaces the resource.
    force_new: ClassVar[frozenset[str]] = frozenset()
    # Of those, the ones whose removal (the node leaves it unset, AWS reports a value) the
    # driver's `update` makes in place: `differences` and `replacing`.
    removed_in_place: ClassVar[frozenset[str]] = frozenset()
    # The engine adds the identity tags (project, suffix, workspace, address) to its `tags`.
    taggable: ClassVar[bool] = True
    # Global services (IAM, Route 53) are called in GLOBAL_REGION whatever the workspace.
    global_service: ClassVar[bool] = False
    # Attributes set at create time and not compared afterwards (write-only on AWS's side).
    write_only: ClassVar[frozenset[str]] = frozenset()
    # Replacing it loses data (a database, a table): apply refuses unless `--allow-replace`.
    replace_needs_consent: ClassVar[bool] = False
    # Something keeps using it until switched to its replacement (a stage its deployment, a
    # domain its certificate), so AWS refuses to delete it first: a replacement creates the new
    # one, keeps the old one as deposed in state and deletes it once its dependents moved on
    # (the executor); the Terraform export says `lifecycle { create_before_destroy = true }`.
    create_before_destroy: ClassVar[bool] = False
    # Rough seconds from create to ready on AWS: the scheduler starts long chains first.
    expected_seconds: ClassVar[float] = 1.0
    # Read again once ready: some attributes (a database's endpoint) appear only then.
    refresh_after_ready: ClassVar[bool] = False
    # How the other workspace finds this resource in the Terraform export, where workspaces
    # share no state: the data source of the same type, its look-up argument → our attribute.
    lookup_by: ClassVar[dict[str, str]] = {}
    # Data-source attribute names that differ from the resource's (`arn` → `db_instance_arn`).
    lookup_renames: ClassVar[dict[str, str]] = {}
    # The batchable describe call `read` starts with, and the filter its id goes in: a refresh
    # makes that call once for all resources of the type in a region (see deployer/batch.py).
    batched_read: ClassVar[tuple[Describe, str] | None] = None
    # Whether Terraform's provider can import the type (`import` blocks in the export); where
    # it cannot, Terraform creates it on takeover (say why that is safe in the driver).
    importable: ClassVar[bool] = True
    # An attribute of references that Terraform keeps in state only (a deployment's
    # `triggers`): an import cannot read it, so the export writes its references as
    # `lifecycle { replace_triggered_by }`, which replaces on the same changes.
    state_only_triggers: ClassVar[str | None] = None
    # Attributes a Terraform import reads differently from the configuration although AWS
    # holds what the configuration means (a write-only value the import reads back in clear):
    # the export says `lifecycle { ignore_changes = [...] }`, so a takeover replaces nothing.
    import_ignores: ClassVar[frozenset[str]] = frozenset()
    # Attributes another resource type manages (a table's `replica` blocks, which
    # `aws_dynamodb_table_replica` makes): the export says `ignore_changes` for them too, as
    # the provider documents for such pairs, so Terraform does not undo the other resource.
    managed_elsewhere: ClassVar[frozenset[str]] = frozenset()
    # The attribute table (deployer/attributes.py): where each attribute lives in the API and
    # how it changes. Its `force_new` and `write_only` rows join the sets above.
    table: ClassVar[Table | None] = None
    # How the service lists, sets and removes tags (deployer/tagging.py), and which attribute
    # names the resource in those calls (`id`, or `arn` where the service tags by ARN).
    tagging: ClassVar[Tagging | None] = None
    tags_on: ClassVar[str] = "id"
    # What the resource's ARN says it is, `(service, resource type)` as in
    # `arn:aws:ec2:…:vpc/vpc-1` → ("ec2", "vpc"); ("s3", "") where the ARN has no type. Drift
    # names an unmanaged tagged resource by it (no two types declare the same kind; where
    # ARNs are odd, `arn_claim` says more).
    arn_kind: ClassVar[tuple[str, str] | None] = None
    # Why a taggable type declares no `arn_kind` (its ARN's kind is another type's, or does
    # not tell which of two types it is): the registry test asks for one or the other.
    no_arn_kind: ClassVar[str] = ""
    # The type that stands for this one in the other workspace (a global table's replica for
    # its table): region parity compares the two, through `as_counterpart`.
    counterpart_of: ClassVar[str | None] = None
    # Attributes that hold IAM-style policy documents (the least-privilege check reads them);
    # `key_policy`: the `policy` is a KMS key policy, where the account root's `kms:*` is
    # AWS's own default.
    policy_attributes: ClassVar[frozenset[str]] = frozenset()
    key_policy: ClassVar[bool] = False
    # A read right after a write must find the resource this many times in a row before it is
    # believed (services whose reads come from replicas that lag the write).
    consistent_reads: ClassVar[int] = 1
    # The resource's deletion protection, where it has one (a database's `deletion_protection`):
    # while it is on, `check_delete` refuses unless the user allowed switching it off.
    deletion_protection: ClassVar[DeletionProtection | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        table = cls.__dict__.get("table")
        if table is not None:
            cls.force_new = cls.force_new | table.force_new
            cls.removed_in_place = cls.removed_in_place | table.removed_in_place
            cls.write_only = cls.write_only | table.write_only

    @property
    def service(self) -> str | None:
        return self.table.service if self.table is not None else None

    def with_defaults(self, desired: dict[str, Any]) -> dict[str, Any]:
        """The desired attributes plus the provider's defaults of those the node leaves unset:
        what the planner, the executor and drift compare with the live read."""
        return self.table.with_defaults(desired) if self.table is not None else desired

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        raise NotImplementedError

    def describe(self, ctx: Context, id: str) -> dict[str, Any] | None:
        """The API's description of the resource (the shape the table's `field`s are read
        from), None when it is gone. Drivers that use the generic `read` define it."""
        raise NotImplementedError(f"{self.type} has no describe")

    def read(self, ctx: Context, id: str) -> dict[str, Any] | None:
        """The table's attributes from `describe`, and the tags from the tag listing."""
        if self.table is None:
            raise NotImplementedError(f"{self.type} has no read")
        described = self.describe(ctx, id)
        if described is None:
            return None
        live = {"id": id, **self.table.read(described)}
        if self.tagging is not None and self.tagging.list_call is not None:
            live["tags"] = self.tagging.read(
                ctx.client(self.table.service), self.tag_target(id, live)
            )
        return live

    def update(self, ctx: Context, id: str, desired: dict[str, Any], live: dict[str, Any]) -> None:
        """Whatever changed, through the table's update call and setters and the tag calls. A
        driver with attributes no call of its table changes handles those and passes the rest
        to `apply_changes`."""
        if self.table is None:
            raise NotImplementedError(f"{self.type} cannot be updated in place")
        self.apply_changes(ctx, id, desired, live, self.changed(desired, live))

    def differences(
        self, desired: dict[str, Any], live: dict[str, Any]
    ) -> dict[str, tuple[Any, Any]]:
        """attribute → (live, desired) for what the planner and the executor change: what
        differs, plus the `removed_in_place` attributes the node leaves unset while AWS reports
        a value (desired None, as Terraform plans a null)."""
        diffs = diff_attributes(desired, live)
        for name in self.removed_in_place:
            if desired.get(name) is None and not _empty(live.get(name)):
                diffs[name] = (live[name], None)
        return diffs

    def replacing(self, diffs: dict[str, tuple[Any, Any]]) -> list[str]:
        """The changed attributes that force a replacement: the `force_new` ones, except the
        removal of a `removed_in_place` one."""
        return sorted(
            name
            for name, (_, want) in diffs.items()
            if name in self.force_new and not (name in self.removed_in_place and _empty(want))
        )

    def changed(self, desired: dict[str, Any], live: dict[str, Any]) -> set[str]:
        """The managed attributes whose live value differs from the desired one."""
        return set(diff_attributes(desired, live, self.write_only))

    def apply_changes(
        self,
        ctx: Context,
        id: str,
        desired: dict[str, Any],
        live: dict[str, Any],
        names: set[str],
    ) -> None:
        """Change `names` in place with the table's calls (and the tags with the tag calls)."""
        assert self.table is not None
        tags = {"tags"} if self.tagging is not None else set()
        left = self.table.unsent(names - tags)
        if left:
            raise NotImplementedError(f"{self.type}: no call changes {', '.join(sorted(left))}")
        self.table.apply_update(ctx.client(self.table.service), id, desired, names - tags)
        if names & tags:
            self.update_tags(ctx, id, desired, live)

    def tag_target(self, id: str, live: dict[str, Any]) -> str:
        """What names the resource in its tag calls (its id, or the attribute `tags_on`)."""
        return id if self.tags_on == "id" else str(live[self.tags_on])

    def update_tags(
        self, ctx: Context, id: str, desired: dict[str, Any], live: dict[str, Any]
    ) -> None:
        if self.tagging is None or "tags" not in desired:
            return
        client = ctx.client(self.service or "")
        self.tagging.update(client, self.tag_target(id, live), desired["tags"], live.get("tags"))

    def delete(self, ctx: Context, id: str, live: dict[str, Any] | None) -> None:
        raise NotImplementedError

    def find(self, ctx: Context, desired: dict[str, Any]) -> str | None:
        return None

    def wait_ready(self, ctx: Context, id: str) -> None:
        return None

    def as_counterpart(self, attributes: dict[str, Any]) -> dict[str, Any]:
        """Attributes in the shape of `counterpart_of`'s (region parity compares them)."""
        return attributes

    def import_id(self, id: str, recorded: dict[str, Any]) -> str:
        """The id Terraform's import of this type asks for, from our id and the attributes
        state recorded; the same as our id unless the provider's import documentation says
        otherwise."""
        return id

    def batch_reads(self, id: str, recorded: dict[str, Any]) -> list[BatchRead]:
        """The batchable describe calls `read(id)` will make; `recorded` is what state last
        read. Override when `read` makes more than `batched_read`."""
        if self.batched_read is None:
            return []
        describe, by = self.batched_read
        return [BatchRead(describe, by, id)]

    def check_delete(self, ctx: Context, id: str) -> str | None:
        """Why this resource must not be deleted now (data, protection), or None. Read-only:
        destroy asks every resource first, so that a refusal leaves everything in place.

        By default: the `deletion_protection` the description reports, unless the user allowed
        switching it off for this run (`destroy --disable-deletion-protection`)."""
        protection = self.deletion_protection
        if protection is None or ctx.options.get("disable_deletion_protection"):
            return None
        assert self.table is not None, f"{self.type}: deletion protection needs a table"
        described = self.describe(ctx, id)
        if described is None or not self.table.rows[protection.attribute].read_value(described):
            return None
        return (
            f"{protection.noun} {id} has deletion protection on: destroy with "
            "--disable-deletion-protection to switch it off"
        )

    def describe_value(
        self, attribute: str, value: Any, live: Mapping[str, Any] | None = None
    ) -> str:
        """A reader's words for a value of `attribute` (a drift finding's expected or actual
        value, a plan's before or after), without knowing the service: by default the value
        itself, compactly. A driver whose values name things (an exclusive resource's policy
        names or rule ids) overrides it to say what each named item is, from what its read
        kept under `live[DETAILS]`; pass the items to describe (a finding's extra ones, say)
        and the live read they came from."""
        return render_value(value)

    def unmanaged(self, ctx: Context, id: str, managed: Managed) -> Iterable[UnmanagedItem]:
        """What lives inside this resource that no state entry manages (the subnets, groups,
        rules and routes of a VPC): drift asks every managed resource it could read."""
        return ()

    def arn_claim(self, arn: Arn) -> Claim | None:
        """What `arn` is to this type beyond its plain `arn_kind`, for drift's discovery of
        tagged resources: `Claim.OWN` where the type's ARNs are odd (an API Gateway stage's
        `/restapis/<id>/stages/<name>` reads as a REST API's), `Claim.DERIVED` for what AWS
        makes on behalf of the type's resources and tags like them (a database's automated
        snapshots). Drift asks every driver before it looks the ARN's kind up among the
        declared `arn_kind`s; None (the default) leaves the ARN to that look-up."""
        return None

    def region_of(self, clients: Clients, region: str, arn: Arn) -> str | None:
        """The region the resource `arn` names lives in, where the ARN names none although
        the type is regional (an S3 bucket); None otherwise. `region` is where the ARN was
        listed: its endpoint is asked. Drift reports such a resource in its own region only,
        as some endpoints list it in every region."""
        return None


def render_value(value: Any) -> str:
    """A value in a line: strings as they are, lists item by item, the rest as JSON."""
    if value is None:
        return "(none)"
    if isinstance(value, str):
        return value
    if isinstance(value, list | tuple):
        return ", ".join(render_value(item) for item in value) if value else "(none)"
    return json.dumps(value, sort_keys=True, default=str)


def describe_items(value: Any, live: Mapping[str, Any] | None) -> str:
    """`item: what it is; item: ...` for a list of names whose details the live read kept
    (`live[DETAILS]`); an item it has no words for is shown alone."""
    items = value if isinstance(value, list | tuple) else [] if value is None else [value]
    if not items:
        return "(none)"
    details: Mapping[str, str] = (live or {}).get(DETAILS) or {}
    return "; ".join(f"{item}: {details[item]}" if item in details else str(item) for item in items)


class DataSource:
    """A driver for one Terraform data source: a read-only look-up."""

    type: ClassVar[str]
    global_service: ClassVar[bool] = False

    def read(self, ctx: Context, desired: dict[str, Any]) -> dict[str, Any] | None:
        raise NotImplementedError


class EphemeralResource(DataSource):
    """A driver for a Terraform ephemeral resource: `read` opens it, at apply time only."""


_RESOURCES: dict[str, Resource] = {}
_EPHEMERALS: dict[str, EphemeralResource] = {}
_DATA_SOURCES: dict[str, DataSource] = {}
Blueprint = Callable[["Spec", str], Iterable["Node | Output"]]
_BLUEPRINTS: list[Blueprint] = []


def resource(cls: type[Resource]) -> type[Resource]:
    """Register a driver under its Terraform type."""
    if cls.type in _RESOURCES:
        raise ValueError(f"two drivers for {cls.type}")
    _RESOURCES[cls.type] = cls()
    return cls


def data_source(cls: type[DataSource]) -> type[DataSource]:
    if cls.type in _DATA_SOURCES:
        raise ValueError(f"two data sources for {cls.type}")
    _DATA_SOURCES[cls.type] = cls()
    return cls


def ephemeral(cls: type[EphemeralResource]) -> type[EphemeralResource]:
    if cls.type in _EPHEMERALS:
        raise ValueError(f"two ephemeral drivers for {cls.type}")
    _EPHEMERALS[cls.type] = cls()
    return cls


def blueprint(fn: Blueprint) -> Blueprint:
    """Register a function that turns the spec into one service's nodes for a workspace."""
    _BLUEPRINTS.append(fn)
    return fn


@functools.cache
def load_drivers() -> tuple[str, ...]:
    """Import every module of the `resources` package (once) so their decorators run; the
    modules' names. By name, not by `import`: the engine depends on no driver."""
    return _import_package("resources")


@functools.cache
def load_stack() -> tuple[str, ...]:
    """Import every module of the `stack` package (once), so that its blueprints and the
    permissions its components declare are registered; the modules' names."""
    return _import_package("stack")


def _import_package(name: str) -> tuple[str, ...]:
    """Every module of the package, subpackages' modules included (a service whose drivers
    are a package of modules: `resources.ec2.routing`)."""
    package = importlib.import_module(name)
    modules = sorted(
        (info.name for info in pkgutil.walk_packages(package.__path__, f"{name}.")),
    )
    for module in modules:
        importlib.import_module(module)
    return tuple(modules)


def driver_for(node: Node) -> Resource | DataSource:
    load_drivers()
    table: dict[str, Any] = (
        _EPHEMERALS if node.ephemeral else _DATA_SOURCES if node.data else _RESOURCES
    )
    try:
        driver: Resource | DataSource = table[node.type]
    except KeyError:
        kind = (
            "ephemeral resource"
            if node.ephemeral
            else ("data source" if node.data else "resource type")
        )
        raise KeyError(f"no driver for {kind} {node.type} ({node.key})") from None
    return driver


def resource_driver(tf_type: str) -> Resource:
    load_drivers()
    return _RESOURCES[tf_type]


def registered_resources() -> dict[str, Resource]:
    load_drivers()
    return dict(_RESOURCES)


def registered_data_sources() -> dict[str, DataSource]:
    load_drivers()
    return dict(_DATA_SOURCES)


def registered_ephemerals() -> dict[str, EphemeralResource]:
    load_drivers()
    return dict(_EPHEMERALS)


def blueprints() -> list[Blueprint]:
    load_drivers()
    load_stack()
    return list(_BLUEPRINTS)
