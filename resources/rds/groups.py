"""RDS subnet and parameter groups: what a database instance is placed in and configured by."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from botocore import xform_name

from deployer.attributes import Attr, Table
from deployer.aws import delete_when_released, or_none, paginate
from deployer.resource import Context, Resource, resource
from deployer.tagging import is_ours
from resources.rds.common import RDS_TAGS

# A subnet or parameter group stays "in use" for a moment after its instance is gone; AWS
# documents no bound, so wait a few minutes before giving up.
GROUP_RELEASE_TIMEOUT_S = 5 * 60.0
# ModifyDBParameterGroup and ResetDBParameterGroup take at most 20 parameters per call.
MAX_PARAMETERS_PER_CALL = 20
# The provider's default description of both group types.
MANAGED_BY_TERRAFORM = "Managed by Terraform"


class Group(Resource):
    """What RDS's subnet and parameter groups share: named by their `name`, tagged by ARN, and
    created, described and deleted by calls named after the table's `described` shape
    (CreateDBSubnetGroup, DescribeDBSubnetGroups, DeleteDBSubnetGroup); AWS refuses the delete
    while an instance that was just deleted still counts as the group's user."""

    tagging = RDS_TAGS
    tags_on = "arn"

    def _call(self, ctx: Context, verb: str, plural: str = "") -> Callable[..., Any]:
        assert self.table is not None
        return getattr(ctx.client("rds"), f"{verb}_{xform_name(self.table.described)}{plural}")

    def _named(self, id: str) -> dict[str, str]:
        assert self.table is not None and self.table.id_parameter is not None
        return {self.table.id_parameter: id}

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        assert self.table is not None and self.table.id_parameter is not None
        group = self._call(ctx, "create")(
            **self.table.create_parameters(desired),
            Tags=RDS_TAGS.to_api(desired.get("tags") or {}),
        )[self.table.described]
        return str(group[self.table.id_parameter])

    def describe(self, ctx: Context, id: str) -> dict[str, Any] | None:
        assert self.table is not None
        answer = or_none(lambda: self._call(ctx, "describe", "s")(**self._named(id)))
        groups = (answer or {}).get(f"{self.table.described}s") or []
        return dict(groups[0]) if groups else None

    def delete(self, ctx: Context, id: str, live: dict[str, Any] | None) -> None:
        delete_when_released(
            lambda: self._call(ctx, "delete")(**self._named(id)),
            what=f"{self.type} {id}",
            timeout=GROUP_RELEASE_TIMEOUT_S,
        )

    def find(self, ctx: Context, desired: dict[str, Any]) -> str | None:
        live = self.read(ctx, desired["name"])
        return live["id"] if live and is_ours(live["tags"], desired) else None


@resource
class DbSubnetGroup(Group):
    type = "aws_db_subnet_group"
    arn_kind = ("rds", "subgrp")
    table = Table(
        Attr("name", "DBSubnetGroupName", force_new=True),
        Attr("arn", "DBSubnetGroupArn", computed=True),
        # ModifyDBSubnetGroup wants the subnets whatever else changes: the two travel together.
        Attr(
            "description",
            "DBSubnetGroupDescription",
            update=True,
            together="subnets",
            default=MANAGED_BY_TERRAFORM,
        ),
        Attr(
            "subnet_ids",
            "Subnets",
            create="SubnetIds",
            update=True,
            together="subnets",
            from_api=lambda subnets: sorted(s["SubnetIdentifier"] for s in subnets or []),
            to_api=list,
        ),
        Attr("vpc_id", "VpcId", computed=True),
        Attr(
            "supported_network_types",
            "SupportedNetworkTypes",
            computed=True,
            from_api=lambda types: sorted(types or []),
        ),
        service="rds",
        create_call="CreateDBSubnetGroup",
        update_call="ModifyDBSubnetGroup",
        described="DBSubnetGroup",
        id_parameter="DBSubnetGroupName",
    )


@resource
class DbParameterGroup(Group):
    """Parameters are read back as Terraform does: every parameter AWS reports as set by the
    user, plus those the node names even where AWS reports them at their default (setting a
    parameter to its default value does not make it "user" on AWS). They change through calls
    of their own (ModifyDBParameterGroup, ResetDBParameterGroup, 20 at a time): `update`."""

    type = "aws_db_parameter_group"
    arn_kind = ("rds", "pg")
    table = Table(
        Attr("name", "DBParameterGroupName", force_new=True),
        Attr("arn", "DBParameterGroupArn", computed=True),
        # RDS has no call that changes a parameter group's family or description.
        Attr("family", "DBParameterGroupFamily", force_new=True),
        Attr("description", "Description", force_new=True, default=MANAGED_BY_TERRAFORM),
        Attr("parameter", create=False, update=True),
        service="rds",
        create_call="CreateDBParameterGroup",
        described="DBParameterGroup",
        id_parameter="DBParameterGroupName",
    )

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        rds = ctx.client("rds")
        name = super().create(ctx, desired)
        try:
            set_parameters(rds, name, desired.get("parameter") or [])
        except Exception:
            # A group without its parameters must not be left behind for the next run to adopt.
            rds.delete_db_parameter_group(DBParameterGroupName=name)
            raise
        return name

    def read(self, ctx: Context, id: str) -> dict[str, Any] | None:
        live = super().read(ctx, id)
        if live is None:
            return None
        wanted = {p["name"]: p for p in ctx.node.attributes.get("parameter") or []}
        return {**live, "parameter": read_parameters(ctx.client("rds"), id, wanted)}

    def update(self, ctx: Context, id: str, desired: dict[str, Any], live: dict[str, Any]) -> None:
        changed = self.changed(desired, live)
        if "parameter" in changed:
            update_parameters(ctx.client("rds"), id, desired, live)
        self.apply_changes(ctx, id, desired, live, changed - {"parameter"})


# ---------------------------------------------------------------------------------------------
# Parameters
# ---------------------------------------------------------------------------------------------


def update_parameters(rds: Any, group: str, desired: dict[str, Any], live: dict[str, Any]) -> None:
    """Set the parameters whose value or apply method differ, reset those the node dropped."""
    have = {p["name"]: p for p in live.get("parameter") or []}
    want = {p["name"]: p for p in desired.get("parameter") or []}
    changed = [
        p
        for name, p in want.items()
        if name not in have
        or str(p["value"]) != str(have[name]["value"])
        or _apply_method(p) != have[name].get("apply_method")
    ]
    set_parameters(rds, group, changed)
    removed = [p for name, p in have.items() if name not in want]
    for chunk in chunks(removed, MAX_PARAMETERS_PER_CALL):
        rds.reset_db_parameter_group(
            DBParameterGroupName=group,
            Parameters=[
                {"ParameterName": p["name"], "ApplyMethod": _apply_method(p)} for p in chunk
            ],
        )


def set_parameters(rds: Any, group: str, parameters: list[dict[str, Any]]) -> None:
    for chunk in chunks(parameters, MAX_PARAMETERS_PER_CALL):
        rds.modify_db_parameter_group(
            DBParameterGroupName=group,
            Parameters=[
                {
                    "ParameterName": p["name"],
                    "ParameterValue": str(p["value"]),
                    "ApplyMethod": _apply_method(p),
                }
                for p in chunk
            ],
        )


def read_parameters(
    rds: Any, group: str, wanted: dict[str, dict[str, Any]]
) -> list[dict[str, Any]]:
    """User-set parameters, plus the wanted ones AWS reports at their default.

    For a parameter AWS considers unmodified the apply method means nothing (AWS reports
    `pending-reboot` for them all), so the wanted one is reported.
    """
    found = {
        p["ParameterName"]: parameter_block(p)
        for p in paginate(
            rds, "describe_db_parameters", "Parameters", DBParameterGroupName=group, Source="user"
        )
    }
    if set(wanted) - set(found):
        for p in paginate(rds, "describe_db_parameters", "Parameters", DBParameterGroupName=group):
            name = p["ParameterName"]
            if name in wanted and name not in found and "ParameterValue" in p:
                found[name] = {**parameter_block(p), "apply_method": _apply_method(wanted[name])}
    return [found[name] for name in sorted(found)]


def parameter_block(parameter: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": parameter["ParameterName"],
        "value": parameter.get("ParameterValue"),
        "apply_method": parameter.get("ApplyMethod", "immediate"),
    }


def _apply_method(parameter: dict[str, Any]) -> str:
    """Terraform's default apply method."""
    return str(parameter.get("apply_method") or "immediate")


def chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
