"""What API Gateway's drivers share: how a resource is named in calls, read, patched, tagged.

API Gateway names most resources by a path of ids (a method by its API, resource and HTTP
method): the driver's id joins them with `/` as the provider's import id does, and
`id_parameters` says which API parameter each part is, so that every call of the driver (get,
update, delete) names the resource the same way. Its descriptions carry the tags; updates are
patch operations (resources/apigateway/patch.py). The API returns neither ARNs nor invoke URLs:
they are built from the region's partition (`deployer.arns`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar

from botocore import xform_name

from deployer.arns import dns_suffix, partition
from deployer.attributes import Attr, Block, Setter
from deployer.errors import ignore_missing, or_none
from deployer.resource import Context, Resource
from deployer.tagging import Tagging
from resources.apigateway.patch import Patch, patch_requests

SERVICE = "apigateway"

# Tags by ARN, as a map; every description reports them, so reads need no tag listing.
TAGGING = Tagging(
    "resourceArn",
    list_call=None,
    tags_param="tags",
    keys_param="tagKeys",
    as_map=True,
)
# The tags as the create calls take them and the descriptions report them; changed afterwards
# by the tag calls of `TAGGING` (by ARN).
TAGS = Attr(
    "tags",
    "tags",
    update=Setter("TagResource", "tags", id_parameter="resourceArn"),
    from_api=TAGGING.from_api,
    to_api=dict,
)


def text(value: Any) -> str:
    """An optional string as Terraform shows it when unset: ""."""
    return "" if value is None else str(value)


def unset_if_empty(value: Any) -> Any:
    """Not sent when empty ("", [], {}), as the provider sends no zero value."""
    return value if value not in ("", [], {}) else None


def sorted_list(value: Any) -> list[Any]:
    """A set the API reports as a list in its own order."""
    return sorted(value or [])


def as_dict(value: Any) -> dict[str, Any]:
    return dict(value or {})


def timestamp(value: Any) -> str:
    """API Gateway dates (datetimes from botocore) as the RFC 3339 strings Terraform shows."""
    if isinstance(value, datetime):
        return value.isoformat()
    return text(value)


def rest_api_arn(region: str, api: str) -> str:
    return f"arn:{partition(region)}:apigateway:{region}::/restapis/{api}"


def resource_arn(region: str, path: str) -> str:
    """`arn:aws:apigateway:us-east-1::/usageplans/abc` for the path `usageplans/abc`."""
    return f"arn:{partition(region)}:apigateway:{region}::/{path}"


def invoke_url(region: str, api: str, stage: str) -> str:
    return f"https://{api}.execute-api.{region}.{dns_suffix(region)}/{stage}"


def execution_arn(ctx: Context, api: str) -> str:
    """The prefix of the ARNs that callers (`execute-api:Invoke`) and Lambda permissions name."""
    account = ctx.client("sts").get_caller_identity()["Account"]
    return f"arn:{partition(ctx.region)}:execute-api:{ctx.region}:{account}:{api}"


class ApiGatewayDriver(Resource):
    """A driver whose resource is named by `id_parameters` (the parts of its id, in order),
    described by `describe_call`, deleted by `delete_call` and patched by its table's rows.

    Drivers override what their API does otherwise; `attribute_id` is Terraform's `id`
    attribute where it differs from the import id (`agm-api-resource-GET` for a method)."""

    id_parameters: ClassVar[tuple[str, ...]]
    describe_call: ClassVar[str]
    delete_call: ClassVar[str]
    # Taggable drivers declare `tagging = TAGGING`: tags are by ARN.
    tags_on = "arn"

    def keys(self, id: str) -> dict[str, str]:
        """The parameters naming the resource in its calls, from its id."""
        parts = id.split("/", len(self.id_parameters) - 1)
        return dict(zip(self.id_parameters, parts, strict=True))

    def make_id(self, request: Mapping[str, Any]) -> str:
        """The id of what a request (the create call's parameters, and the ids AWS assigned)
        names."""
        return "/".join(str(request[parameter]) for parameter in self.id_parameters)

    def attribute_id(self, id: str, described: Mapping[str, Any]) -> str:
        return id

    def call(self, ctx: Context, operation: str, id: str, **params: Any) -> Any:
        """`operation` (an API name) on the resource `id` names."""
        client = ctx.client(SERVICE)
        return getattr(client, xform_name(operation))(**self.keys(id), **params)

    def describe(self, ctx: Context, id: str) -> dict[str, Any] | None:
        described: dict[str, Any] | None = or_none(lambda: self.call(ctx, self.describe_call, id))
        return described

    def read(self, ctx: Context, id: str) -> dict[str, Any] | None:
        described = self.describe(ctx, id)
        return None if described is None else self.live(ctx, id, described)

    def live(self, ctx: Context, id: str, described: Mapping[str, Any]) -> dict[str, Any]:
        """The table's attributes (the tags among them), and those that are parts of the id
        (the API, the stage) from the id. Drivers add what the description does not say."""
        assert self.table is not None
        keys = self.keys(id)
        return {
            **{
                row.name: keys[row.parameter]
                for row in self.table
                if row.field is None and row.parameter in keys
            },
            **self.table.read(described),
            "id": self.attribute_id(id, described),
        }

    def apply_changes(
        self,
        ctx: Context,
        id: str,
        desired: dict[str, Any],
        live: dict[str, Any],
        names: set[str],
    ) -> None:
        """The changed rows as patch operations of their update calls, then the tags."""
        assert self.table is not None
        for operation, operations in patch_requests(
            self.table, desired, live, names - {"tags"}
        ).items():
            self.call(ctx, operation, id, patchOperations=operations)
        if "tags" in names:
            self.update_tags(ctx, id, desired, live)

    def patch_after_create(self, ctx: Context, id: str, desired: dict[str, Any]) -> None:
        """Set what the create call cannot take (a stage's access logging): the rows the
        table patches but does not create, as an update from nothing."""
        assert self.table is not None
        names = {
            row.name
            for row in self.table
            if row.create is False
            and isinstance(row.setter, Patch)
            and desired.get(row.name) is not None
        }
        if names:
            self.apply_changes(ctx, id, desired, {}, names)

    def delete(self, ctx: Context, id: str, live: dict[str, Any] | None) -> None:
        ignore_missing(lambda: self.call(ctx, self.delete_call, id))


# Rate limits (`ThrottleSettings`): a usage plan's, and the account's (reported, not set).
THROTTLE = Block(
    Attr("burst_limit", "burstLimit", to_api=int),
    Attr("rate_limit", "rateLimit", to_api=float),
)
