"""What every EC2 driver shares: the batched describe calls, the tag calls, finding what an
interrupted create made, ARNs, and the base class that reads the tables.

EC2 reports tags inside each description (there is no tag listing per resource), takes them at
create time as `TagSpecifications`, and changes them with CreateTags / DeleteTags.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore import xform_name

from deployer.attributes import Attr
from deployer.aws import paginate, poll
from deployer.batch import Describe, Item, item_key
from deployer.resource import Context, Resource
from deployer.tagging import ADDRESS_TAG, IDENTITY_KEYS, Tagging

# A new resource id not yet visible to another EC2 API (eventual consistency): Terraform's
# `ec2PropagationTimeout`.
EC2_PROPAGATION_TIMEOUT = 120.0

EC2_TAGS = Tagging(
    "Resources",
    list_call=None,
    tag_call="create_tags",
    untag_call="delete_tags",
    keys_param="Tags",
    resource_as_list=True,
    untag_with_pairs=True,
)

#: The `tags` row of every taggable EC2 type: read from the description; set at create time
#: with `TagSpecifications` and afterwards by `EC2_TAGS` (so no create or update parameter).
TAGS = Attr("tags", "Tags", create=False, update=True, from_api=EC2_TAGS.from_api)


def attribute_value(value: Any) -> dict[str, bool]:
    """EC2's boolean attribute form: `ModifyVpcAttribute(EnableDnsSupport={"Value": True})`."""
    return {"Value": bool(value)}


def empty_as_none(value: Any) -> Any:
    """EC2 reports some absent ids as "" (an address without an instance): None for Terraform."""
    return value or None


def as_list(value: Any) -> list[Any]:
    return list(value or [])


# --- Batched describes: a refresh reads every resource of a kind with one call per region ----

VPCS = Describe("ec2", "describe_vpcs", "Vpcs", {"vpc-id": item_key("VpcId")})
SUBNETS = Describe("ec2", "describe_subnets", "Subnets", {"subnet-id": item_key("SubnetId")})
INTERNET_GATEWAYS = Describe(
    "ec2",
    "describe_internet_gateways",
    "InternetGateways",
    {"internet-gateway-id": item_key("InternetGatewayId")},
)
ADDRESSES = Describe(
    "ec2", "describe_addresses", "Addresses", {"allocation-id": item_key("AllocationId")}
)
NAT_GATEWAYS = Describe(
    "ec2",
    "describe_nat_gateways",
    "NatGateways",
    {"nat-gateway-id": item_key("NatGatewayId")},
    # The one EC2 describe whose parameter is `Filter`, not `Filters`.
    request=lambda by, values: {"Filter": [{"Name": by, "Values": values}]},
)
ASSOCIATION_ID = "association.route-table-association-id"
ROUTE_TABLES = Describe(
    "ec2",
    "describe_route_tables",
    "RouteTables",
    {
        "route-table-id": item_key("RouteTableId"),
        "vpc-id": item_key("VpcId"),
        ASSOCIATION_ID: lambda table: [
            str(a["RouteTableAssociationId"])
            for a in table.get("Associations", [])
            if a.get("RouteTableAssociationId")
        ],
    },
)
VPC_ENDPOINTS = Describe(
    "ec2", "describe_vpc_endpoints", "VpcEndpoints", {"vpc-endpoint-id": item_key("VpcEndpointId")}
)
SECURITY_GROUPS = Describe(
    "ec2",
    "describe_security_groups",
    "SecurityGroups",
    {"group-id": item_key("GroupId"), "vpc-id": item_key("VpcId")},
)
# Rules by id (the rule resources), and every rule of a group by group (the default group,
# which has no rule resources of its own).
SECURITY_GROUP_RULES = Describe(
    "ec2",
    "describe_security_group_rules",
    "SecurityGroupRules",
    {"security-group-rule-id": item_key("SecurityGroupRuleId"), "group-id": item_key("GroupId")},
)
ACLS = Describe("ec2", "describe_network_acls", "NetworkAcls", {"vpc-id": item_key("VpcId")})
FLOW_LOGS = Describe(
    "ec2", "describe_flow_logs", "FlowLogs", {"flow-log-id": item_key("FlowLogId")}
)


class Ec2Resource(Resource):
    """An EC2 driver: tags as EC2 keeps them, the describe its read starts with (`batched_read`),
    and what AWS's create calls leave to calls of their own.

    EC2 creates have no idempotency that survives a crash (and moto honours none), so every
    taggable type finds an interrupted create by its identity tags before creating again.
    """

    tagging = EC2_TAGS

    @property
    def ec2_type(self) -> str:
        """EC2's name for the resource type, in ARNs and `TagSpecifications` alike."""
        assert self.arn_kind is not None, f"{self.type} declares no EC2 resource type"
        return self.arn_kind[1]

    def describe(self, ctx: Context, id: str) -> Item | None:
        assert self.batched_read is not None
        describe, by = self.batched_read
        return ctx.describe_one(describe, by, id)

    def tag_specifications(self, desired: dict[str, Any]) -> dict[str, Any]:
        """`TagSpecifications=` for a create call, so the resource is never seen untagged."""
        tags: dict[str, str] = desired.get("tags") or {}
        if not tags:
            return {}
        return {
            "TagSpecifications": [{"ResourceType": self.ec2_type, "Tags": EC2_TAGS.to_api(tags)}]
        }

    def create_call(self, ctx: Context, desired: dict[str, Any], **extra: Any) -> str:
        """The table's create call with the tags as `TagSpecifications`; the new id. EC2 answers
        with the new resource's description under its shape's name (`Vpc`), whose id field is
        named as the table's id parameter (`VpcId`)."""
        assert self.table is not None
        answer = getattr(ctx.client("ec2"), xform_name(self.table.create_call))(
            **self.table.create_parameters(desired), **extra, **self.tag_specifications(desired)
        )
        return str(answer[self.table.described][self.table.id_parameter])

    def arn(self, ctx: Context, owner: str, id: str) -> str:
        partition = ctx.clients.session.get_partition_for_region(ctx.region)
        return f"arn:{partition}:ec2:{ctx.region}:{owner}:{self.ec2_type}/{id}"

    def set_after_create(
        self, ctx: Context, id: str, desired: dict[str, Any], created: dict[str, Any]
    ) -> None:
        """Set what the create call cannot take (the table's setters), where the desired value
        differs from what AWS gives a new resource (`created`, by attribute)."""
        self.apply_changes(ctx, id, desired, created, self.changed(desired, created) & set(created))

    def settle(
        self,
        ctx: Context,
        id: str,
        desired: dict[str, Any],
        *,
        created: dict[str, Any],
        timeout: float,
        undo: Callable[[], Any],
    ) -> None:
        """Wait until the new resource is `available`, then set what its create call could not
        take (`set_after_create`); on failure `undo` the create, so that it leaves nothing."""
        assert self.batched_read is not None
        describe, by = self.batched_read
        ec2 = ctx.client("ec2")
        try:
            poll(
                lambda: (describe.fetch_one(ec2, by, id) or {}).get("State") == "available" or None,
                what=f"{self.ec2_type} {id} to become available",
                timeout=timeout,
                delay=2.0,
            )
            self.set_after_create(ctx, id, desired, created)
        except Exception:
            undo()
            raise

    def find(self, ctx: Context, desired: dict[str, Any]) -> str | None:
        return self.find_tagged(ctx, desired)

    def find_tagged(
        self,
        ctx: Context,
        desired: dict[str, Any],
        filters: list[dict[str, Any]] | None = None,
        keep: Callable[[Item], bool] = lambda item: True,
    ) -> str | None:
        """The resource an interrupted create made, by its identity tags (address, workspace,
        project, environment), so that two environments in one account never adopt each
        other's; `filters` narrow the search. The read's describe call, filtered by tag on
        the server: one call, however many resources the account has."""
        tags: dict[str, str] = desired.get("tags") or {}
        if ADDRESS_TAG not in tags:
            return None
        assert self.batched_read is not None and self.table is not None
        describe, _ = self.batched_read
        by_tags = [
            {"Name": f"tag:{key}", "Values": [tags[key]]} for key in IDENTITY_KEYS if key in tags
        ]
        found = paginate(
            ctx.client("ec2"), describe.operation, describe.items, Filters=by_tags + (filters or [])
        )
        for item in found:
            if keep(item):
                # EC2 names an id alike in its calls and its descriptions (`VpcId`).
                return str(item[self.table.id_parameter])
        return None


def value_filters(values: dict[str, Any]) -> list[dict[str, Any]]:
    """`Filters=` narrowing a search to the known values (absent ones do not narrow)."""
    return [{"Name": name, "Values": [value]} for name, value in values.items() if value]


def raise_unsuccessful(ec2: Any, items: list[dict[str, Any]] | None, operation: str) -> None:
    """EC2 batch calls report failures per item in the body: raise the first as the client
    would have raised it (typed: `except NotFound` catches a missing flow log)."""
    for item in items or []:
        error = item.get("Error", {})
        code = error.get("Code", "Unknown")
        raise ec2.exceptions.from_code(code)(
            {"Error": {"Code": code, "Message": error.get("Message", "")}}, operation
        )


def rule_details(rule: dict[str, Any]) -> dict[str, str]:
    """What a rule DescribeSecurityGroupRules reported opens: its protocol, ports (an ICMP
    rule's type and code), source (ingress) or destination (egress) (a CIDR, a prefix list or
    a security group), the group it belongs to, and its description where it has one. Drift's
    findings show these (the VPC scan's unmanaged rules, an owned rule set's extra rules)."""
    protocol = str(rule.get("IpProtocol", ""))
    low, high = rule.get("FromPort"), rule.get("ToPort")
    if protocol == "-1":
        protocol, ports = "all", "all"
    elif protocol in ("icmp", "icmpv6", "1", "58"):
        ports = "all" if low in (None, -1) else f"type {low} code {high}"
    elif low is None or (low, high) in ((0, 65535), (-1, -1)):
        ports = "all"
    elif low == high:
        ports = str(low)
    else:
        ports = f"{low}-{high}"
    peer = (
        rule.get("CidrIpv4")
        or rule.get("CidrIpv6")
        or rule.get("PrefixListId")
        or (rule.get("ReferencedGroupInfo") or {}).get("GroupId")
        or ""
    )
    details = {
        "protocol": protocol,
        "ports": ports,
        "destination" if rule.get("IsEgress") else "source": str(peer),
        "group": str(rule.get("GroupId", "")),
    }
    if rule.get("Description"):
        details["description"] = str(rule["Description"])
    return details
