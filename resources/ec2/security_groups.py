"""Security groups, the VPC's default group, and rules as resources of their own."""

from __future__ import annotations

from typing import Any, ClassVar

from deployer.attributes import Attr, Table
from deployer.aws import paginate, retry_while
from deployer.batch import BatchRead, Item
from deployer.diff import equivalent
from deployer.errors import DeployerError, error_code, ignore_missing
from deployer.resource import Context, resource
from deployer.waiting import delete_when_released
from resources.ec2.shared import (
    EC2_PROPAGATION_TIMEOUT,
    EC2_TAGS,
    SECURITY_GROUP_RULES,
    SECURITY_GROUPS,
    TAGS,
    Ec2Resource,
    value_filters,
)

# The whole IPv4 internet: the destination of the allow-all egress rule AWS gives a new group.
ANYWHERE_IPV4 = "0.0.0.0/0"

# Lambda ENIs hold a group for up to ~20 min after their function is deleted: Terraform's
# delete timeout (15 min).
SECURITY_GROUP_DELETE_TIMEOUT = 900.0


@resource
class SecurityGroup(Ec2Resource):
    """A group that holds only the rules managed as their own resources.

    AWS gives every new group an allow-all egress rule; create revokes it (as Terraform does),
    and read reports no rules: rules are `aws_vpc_security_group_*_rule` resources.
    """

    type = "aws_security_group"
    arn_kind = ("ec2", "security-group")
    table = Table(
        Attr("arn", "SecurityGroupArn", computed=True),
        Attr("name", "GroupName", force_new=True),
        # Not supported (names are deterministic here): never sent, nor read.
        Attr("name_prefix", create=False, force_new=True),
        # AWS requires one: Terraform's default, for a group that names none.
        Attr("description", "Description", force_new=True, default="Managed by Terraform"),
        Attr("vpc_id", "VpcId", force_new=True),
        Attr("owner_id", "OwnerId", computed=True),
        TAGS,
        service="ec2",
        create_call="CreateSecurityGroup",
        described="SecurityGroup",
        id_parameter="GroupId",
    )
    batched_read = (SECURITY_GROUPS, "group-id")

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        ec2 = ctx.client("ec2")
        group_id: str = ec2.create_security_group(
            **self.table.create_parameters(desired), **self.tag_specifications(desired)
        )["GroupId"]
        try:
            revoke_default_egress(ec2, group_id)
        except Exception:
            ec2.delete_security_group(GroupId=group_id)  # a failed create leaves nothing behind
            raise
        return group_id

    def delete(self, ctx: Context, id: str, live: dict[str, Any] | None) -> None:
        ec2 = ctx.client("ec2")
        delete_when_released(
            lambda: ec2.delete_security_group(GroupId=id),
            what=f"security group {id}",
            timeout=SECURITY_GROUP_DELETE_TIMEOUT,
        )

    def find(self, ctx: Context, desired: dict[str, Any]) -> str | None:
        """A name is unique within its VPC; the group found is finished as create would have.

        A crash between CreateSecurityGroup and the revocation would otherwise leave the
        default allow-all egress rule on an adopted group, and no read would show it.
        """
        ec2 = ctx.client("ec2")
        group_id = self.find_tagged(
            ctx,
            desired,
            value_filters({"vpc-id": desired.get("vpc_id"), "group-name": desired.get("name")}),
        )
        if group_id is not None:
            revoke_default_egress(ec2, group_id)
        return group_id


@resource
class DefaultSecurityGroup(Ec2Resource):
    """The VPC's own `default` group, adopted and kept without rules; id = `sg-...`.

    Every VPC comes with it, admitting all traffic from its members and letting everything
    out, and whatever is launched without a group lands in it. Nothing here uses it, so it is
    emptied (CIS AWS Foundations 5.4): nothing can fall back on an open group. As Terraform's
    `aws_default_security_group`, create adopts it and delete only lets go of it (AWS deletes
    it with its VPC). Only the empty rule set is supported: rules are their own resources.
    """

    type = "aws_default_security_group"
    no_arn_kind = "its ARN is any security group's: aws_security_group names it"
    table = Table(
        Attr("arn", "SecurityGroupArn", computed=True),
        Attr("name", "GroupName", computed=True),
        Attr("description", "Description", computed=True),
        Attr("vpc_id", "VpcId", create=False, force_new=True),
        Attr("owner_id", "OwnerId", computed=True),
        # The group's rules (read by the driver), revoked when any appear.
        Attr("ingress", create=False, update=True),
        Attr("egress", create=False, update=True),
        TAGS,
        service="ec2",
        # AWS makes the group with its VPC; nothing here creates it.
        create_call="CreateVpc",
        described="SecurityGroup",
        id_parameter="GroupId",
    )
    batched_read = (SECURITY_GROUPS, "group-id")

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        refuse_inline_rules(desired)
        ec2 = ctx.client("ec2")
        group_id = self.find(ctx, desired)
        if group_id is None:
            raise DeployerError(f"VPC {desired['vpc_id']} has no default security group")
        revoke_all_rules(ec2, group_id)
        EC2_TAGS.update(ec2, group_id, desired.get("tags"), {})
        return group_id

    def batch_reads(self, id: str, recorded: dict[str, Any]) -> list[BatchRead]:
        return [
            BatchRead(SECURITY_GROUPS, "group-id", id),
            BatchRead(SECURITY_GROUP_RULES, "group-id", id),
        ]

    def read(self, ctx: Context, id: str) -> dict[str, Any] | None:
        live = super().read(ctx, id)
        if live is None:
            return None
        rules = ctx.describe(SECURITY_GROUP_RULES, "group-id", id)
        return {
            **live,
            "ingress": [inline_rule(r, id) for r in rules if not r.get("IsEgress")],
            "egress": [inline_rule(r, id) for r in rules if r.get("IsEgress")],
        }

    def update(self, ctx: Context, id: str, desired: dict[str, Any], live: dict[str, Any]) -> None:
        refuse_inline_rules(desired)
        if live.get("ingress") or live.get("egress"):
            revoke_all_rules(ctx.client("ec2"), id)
        self.apply_changes(ctx, id, desired, live, self.changed(desired, live) - RULE_SETS)

    def delete(self, ctx: Context, id: str, live: dict[str, Any] | None) -> None:
        """Nothing to do: AWS refuses to delete a default group, and deletes it with the VPC."""

    def find(self, ctx: Context, desired: dict[str, Any]) -> str | None:
        """Every VPC has exactly one group named `default`."""
        if not desired.get("vpc_id"):
            return None
        ec2 = ctx.client("ec2")
        groups = ec2.describe_security_groups(
            Filters=value_filters({"vpc-id": desired["vpc_id"], "group-name": "default"})
        )["SecurityGroups"]
        return str(groups[0]["GroupId"]) if groups else None


RULE_SETS = frozenset({"ingress", "egress"})

# A rule changes in place with ModifySecurityGroupRules, which takes it in the shape it is
# described in (`CidrIpv4`, `ReferencedGroupId`, ...), inside a list of rules.
MODIFY_RULES = "ModifySecurityGroupRules"
IN_MODIFY = "SecurityGroupRules.SecurityGroupRule"


def modified(parameter: str) -> dict[str, str]:
    return {MODIFY_RULES: f"{IN_MODIFY}.{parameter}"}


def rule_table(authorize: str) -> Table:
    """The rule types' table; `authorize` (their create call) takes the rule as an
    `IpPermissions` item, built from the modify call's request (`ip_permission`), so only the
    group is a create parameter of its own."""
    return Table(
        Attr("security_group_rule_id", "SecurityGroupRuleId", computed=True),
        Attr("arn", computed=True),
        Attr("security_group_id", "GroupId", force_new=True, also={MODIFY_RULES: "GroupId"}),
        Attr("ip_protocol", "IpProtocol", create=False, update=True, also=modified("IpProtocol")),
        Attr(
            "from_port",
            "FromPort",
            create=False,
            update=True,
            also=modified("FromPort"),
            to_api=int,
        ),
        Attr("to_port", "ToPort", create=False, update=True, also=modified("ToPort"), to_api=int),
        Attr("cidr_ipv4", "CidrIpv4", create=False, update=True, also=modified("CidrIpv4")),
        Attr("cidr_ipv6", "CidrIpv6", create=False, update=True, also=modified("CidrIpv6")),
        Attr(
            "prefix_list_id",
            "PrefixListId",
            create=False,
            update=True,
            also=modified("PrefixListId"),
        ),
        Attr(
            "referenced_security_group_id",
            "ReferencedGroupInfo.GroupId",
            create=False,
            update=True,
            also=modified("ReferencedGroupId"),
        ),
        Attr("description", "Description", create=False, update=True, also=modified("Description")),
        TAGS,
        service="ec2",
        create_call=authorize,
        described="SecurityGroupRule",
        other_calls=(MODIFY_RULES,),
    )


class SecurityGroupRule(Ec2Resource):
    """One rule of a group, id = `sgr-...`; everything but the group changes in place."""

    # Whether this driver manages egress (True) or ingress (False) rules.
    is_egress: ClassVar[bool]
    table: ClassVar[Table]
    no_arn_kind = "a rule's ARN (security-group-rule) does not say ingress or egress"
    batched_read = (SECURITY_GROUP_RULES, "security-group-rule-id")

    @property
    def ec2_type(self) -> str:
        return "security-group-rule"

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        ec2 = ctx.client("ec2")
        authorize = (
            ec2.authorize_security_group_egress
            if self.is_egress
            else ec2.authorize_security_group_ingress
        )
        result = authorize(
            GroupId=desired["security_group_id"],
            IpPermissions=[ip_permission(self.rule_request(desired))],
            **self.tag_specifications(desired),
        )
        return str(result["SecurityGroupRules"][0]["SecurityGroupRuleId"])

    def describe(self, ctx: Context, id: str) -> Item | None:
        rule = super().describe(ctx, id)
        return rule if rule is not None and bool(rule.get("IsEgress")) == self.is_egress else None

    def read(self, ctx: Context, id: str) -> dict[str, Any] | None:
        rule = self.describe(ctx, id)
        if rule is None:
            return None
        owner = rule.get("GroupOwnerId")
        return {
            "id": id,
            **self.rule_attributes(rule),
            "arn": self.arn(ctx, owner, id) if owner else None,
        }

    def update(self, ctx: Context, id: str, desired: dict[str, Any], live: dict[str, Any]) -> None:
        changed = self.changed(desired, live)
        if changed - {"tags"}:
            request = self.table.parameters(MODIFY_RULES, desired)
            # One rule: the table writes its fields at their path, AWS takes a list of rules.
            request["SecurityGroupRules"] = [
                {"SecurityGroupRuleId": id, "SecurityGroupRule": self.rule_request(desired)}
            ]
            ctx.client("ec2").modify_security_group_rules(**request)
        self.apply_changes(ctx, id, desired, live, changed & {"tags"})

    def delete(self, ctx: Context, id: str, live: dict[str, Any] | None) -> None:
        ec2 = ctx.client("ec2")
        current = live if live and live.get("security_group_id") else self.read(ctx, id)
        if current is None:
            return
        revoke = (
            ec2.revoke_security_group_egress
            if self.is_egress
            else ec2.revoke_security_group_ingress
        )
        ignore_missing(
            lambda: revoke(GroupId=current["security_group_id"], SecurityGroupRuleIds=[id])
        )

    def find(self, ctx: Context, desired: dict[str, Any]) -> str | None:
        """AWS refuses a duplicate rule, so the rule with the same permission is ours."""
        if not desired.get("security_group_id"):
            return None
        ec2 = ctx.client("ec2")
        matched = self.table.names(lambda row: MODIFY_RULES in row.also) - {"description"}
        wanted = {k: v for k, v in desired.items() if k in matched and v is not None}
        rules = paginate(
            ec2,
            "describe_security_group_rules",
            "SecurityGroupRules",
            Filters=[{"Name": "group-id", "Values": [desired["security_group_id"]]}],
        )
        for rule in rules:
            if bool(rule.get("IsEgress")) != self.is_egress:
                continue
            have = self.rule_attributes(rule)
            if all(equivalent(v, have.get(k)) for k, v in wanted.items()):
                return str(rule["SecurityGroupRuleId"])
        return None

    def rule_request(self, desired: dict[str, Any]) -> dict[str, Any]:
        """The rule as ModifySecurityGroupRules' `SecurityGroupRule` takes it."""
        request: dict[str, Any] = self.table.parameters(MODIFY_RULES, desired)
        return dict(request.get("SecurityGroupRules", {}).get("SecurityGroupRule", {}))

    def rule_attributes(self, rule: Item) -> dict[str, Any]:
        """A described rule in the table's attributes; no ports for all traffic (AWS says -1,
        Terraform leaves them unset)."""
        attributes = self.table.read(rule)
        if attributes["ip_protocol"] == "-1":
            attributes.update(from_port=None, to_port=None)
        return attributes


@resource
class SecurityGroupIngressRule(SecurityGroupRule):
    type = "aws_vpc_security_group_ingress_rule"
    is_egress = False
    table = rule_table("AuthorizeSecurityGroupIngress")


@resource
class SecurityGroupEgressRule(SecurityGroupRule):
    type = "aws_vpc_security_group_egress_rule"
    is_egress = True
    table = rule_table("AuthorizeSecurityGroupEgress")


# ---------------------------------------------------------------------------------------------
# Helpers


def revoke_default_egress(ec2: Any, group_id: str) -> None:
    """Revoke the allow-all egress AWS adds to a new group, so only managed rules remain.

    By permission rather than by rule id, as Terraform does: it needs no read that might lag
    the create. A group just created may be invisible for a moment (eventual consistency).
    """

    def revoke() -> None:
        try:
            ec2.revoke_security_group_egress(
                GroupId=group_id,
                IpPermissions=[{"IpProtocol": "-1", "IpRanges": [{"CidrIp": ANYWHERE_IPV4}]}],
            )
        except Exception as exc:
            if error_code(exc) != "InvalidPermission.NotFound":
                raise

    retry_while(
        revoke,
        retryable=lambda exc: error_code(exc) == "InvalidGroup.NotFound",
        timeout=EC2_PROPAGATION_TIMEOUT,
    )


def ip_permission(rule: dict[str, Any]) -> dict[str, Any]:
    """A rule as ModifySecurityGroupRules takes it (`rule_request`) → the `IpPermissions` item
    AuthorizeSecurityGroupIngress/Egress take: the source in a list of its kind, with the
    description beside it."""
    permission: dict[str, Any] = {
        k: rule[k] for k in ("IpProtocol", "FromPort", "ToPort") if k in rule
    }
    described = {"Description": rule["Description"]} if rule.get("Description") else {}
    if rule.get("CidrIpv4"):
        permission["IpRanges"] = [{"CidrIp": rule["CidrIpv4"], **described}]
    if rule.get("CidrIpv6"):
        permission["Ipv6Ranges"] = [{"CidrIpv6": rule["CidrIpv6"], **described}]
    if rule.get("PrefixListId"):
        permission["PrefixListIds"] = [{"PrefixListId": rule["PrefixListId"], **described}]
    if rule.get("ReferencedGroupId"):
        permission["UserIdGroupPairs"] = [{"GroupId": rule["ReferencedGroupId"], **described}]
    return permission


def inline_rule(rule: dict[str, Any], group_id: str) -> dict[str, Any]:
    """A described rule as one `ingress`/`egress` item of a (default) security group."""
    referenced = (rule.get("ReferencedGroupInfo") or {}).get("GroupId")
    return {
        "protocol": rule.get("IpProtocol"),
        "from_port": rule.get("FromPort"),
        "to_port": rule.get("ToPort"),
        "cidr_blocks": [rule["CidrIpv4"]] if rule.get("CidrIpv4") else [],
        "ipv6_cidr_blocks": [rule["CidrIpv6"]] if rule.get("CidrIpv6") else [],
        "prefix_list_ids": [rule["PrefixListId"]] if rule.get("PrefixListId") else [],
        "security_groups": [referenced] if referenced and referenced != group_id else [],
        "self": referenced == group_id,
        "description": rule.get("Description") or "",
    }


def refuse_inline_rules(desired: dict[str, Any]) -> None:
    if desired.get("ingress") or desired.get("egress"):
        raise DeployerError(
            "aws_default_security_group: only an empty rule set is supported (rules are "
            "aws_vpc_security_group_*_rule resources)"
        )


def revoke_all_rules(ec2: Any, group_id: str) -> None:
    """Revoke every rule of a group, by rule id."""
    rules = list(
        paginate(
            ec2,
            "describe_security_group_rules",
            "SecurityGroupRules",
            Filters=[{"Name": "group-id", "Values": [group_id]}],
        )
    )
    for egress, revoke in (
        (False, ec2.revoke_security_group_ingress),
        (True, ec2.revoke_security_group_egress),
    ):
        ids = [r["SecurityGroupRuleId"] for r in rules if bool(r.get("IsEgress")) == egress]
        if ids:
            revoke(GroupId=group_id, SecurityGroupRuleIds=ids)
