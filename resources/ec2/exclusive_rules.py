"""The whole rule set of a security group: provider 6's `aws_vpc_security_group_rules_exclusive`.

A rule opened on a managed group behind the deployer's back (ingress from anywhere, say) is
drift of this resource's `ingress_rule_ids` or `egress_rule_ids`, described by what the rule
opens (`rule_words`), and apply revokes it. Its read costs no call of its own in a refresh: the
group and its rules come from the batched DescribeSecurityGroups and DescribeSecurityGroupRules
by `group-id` that the groups and the default group already make.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

from deployer.attributes import Attr, Setter, Table
from deployer.batch import BatchRead, Item
from deployer.errors import ignore_missing
from deployer.resource import DETAILS, Context, Resource, describe_items, resource
from resources.ec2.shared import SECURITY_GROUP_RULES, SECURITY_GROUPS, rule_details

RULE_SETS = {"ingress_rule_ids": False, "egress_rule_ids": True}  # attribute → is egress


@resource
class SecurityGroupRulesExclusive(Resource):
    """id = the group's id (Terraform's import id). Create and update revoke every rule of the
    group that the sets do not name; destroy revokes nothing (it only stops the reconciliation,
    as Terraform's does). A named rule that does not exist cannot be made from its id alone
    (AuthorizeSecurityGroupIngress wants the whole rule): its own rule resource makes it, and
    the set, which refers to it, follows its new id."""

    type = "aws_vpc_security_group_rules_exclusive"
    taggable = False
    table = Table(
        Attr("security_group_id", "GroupId", force_new=True),
        Attr(
            "ingress_rule_ids",
            update=Setter("RevokeSecurityGroupIngress", "SecurityGroupRuleIds"),
        ),
        Attr(
            "egress_rule_ids",
            update=Setter("RevokeSecurityGroupEgress", "SecurityGroupRuleIds"),
        ),
        service="ec2",
        # The set is kept by revoking what it does not name (`reconcile`).
        create_call="RevokeSecurityGroupIngress",
        other_calls=("RevokeSecurityGroupEgress",),
        described="SecurityGroupRule",
        id_parameter="GroupId",
    )

    def batch_reads(self, id: str, recorded: dict[str, Any]) -> list[BatchRead]:
        return [
            BatchRead(SECURITY_GROUPS, "group-id", id),
            BatchRead(SECURITY_GROUP_RULES, "group-id", id),
        ]

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        group_id = str(desired["security_group_id"])
        self.reconcile(ctx, group_id, desired)
        return group_id

    def read(self, ctx: Context, id: str) -> dict[str, Any] | None:
        if ctx.describe_one(SECURITY_GROUPS, "group-id", id) is None:
            return None
        rules = ctx.describe(SECURITY_GROUP_RULES, "group-id", id)
        live: dict[str, Any] = {"id": id, "security_group_id": id}
        for attribute, egress in RULE_SETS.items():
            live[attribute] = sorted(
                str(r["SecurityGroupRuleId"]) for r in rules if bool(r.get("IsEgress")) == egress
            )
        live[DETAILS] = {str(r["SecurityGroupRuleId"]): rule_words(r) for r in rules}
        return live

    def update(self, ctx: Context, id: str, desired: dict[str, Any], live: dict[str, Any]) -> None:
        self.reconcile(ctx, id, desired)

    def delete(self, ctx: Context, id: str, live: dict[str, Any] | None) -> None:
        """Nothing: the rules stay on the group; only their reconciliation stops."""

    def reconcile(self, ctx: Context, group_id: str, desired: dict[str, Any]) -> None:
        """Revoke the group's rules that the sets do not name, read afresh (not from a
        refresh's batch, which may be older than the plan)."""
        fresh = Context(ctx.clients, ctx.region, ctx.node, ctx.options)
        live = self.read(fresh, group_id) or {}
        ec2 = ctx.client("ec2")
        for attribute, egress in RULE_SETS.items():
            wanted = {str(rule) for rule in desired.get(attribute) or []}
            extra = sorted(set(live.get(attribute) or []) - wanted)
            if not extra:
                continue
            revoke = (
                ec2.revoke_security_group_egress if egress else ec2.revoke_security_group_ingress
            )
            ignore_missing(partial(revoke, GroupId=group_id, SecurityGroupRuleIds=extra))

    def describe_value(
        self, attribute: str, value: Any, live: Mapping[str, Any] | None = None
    ) -> str:
        if attribute in RULE_SETS:
            return describe_items(value, live)
        return super().describe_value(attribute, value, live)


def rule_words(rule: Item) -> str:
    """What a described rule opens, in a line: `ingress tcp port 22 from 0.0.0.0/0`,
    `egress all traffic to sg-0abc`, with its description where it has one."""
    details = rule_details(dict(rule))
    protocol, ports = details["protocol"], details["ports"]
    if protocol == "all":
        what = "all traffic"
    elif ports.startswith("type "):  # ICMP
        what = f"{protocol} {ports}"
    elif ports == "all":
        what = f"all {protocol}" if protocol.startswith("icmp") else f"{protocol} all ports"
    else:
        what = f"{protocol} {'ports' if '-' in ports else 'port'} {ports}"
    egress = "destination" in details
    peer = details.get("destination" if egress else "source") or "?"
    words = f"{'egress' if egress else 'ingress'} {what} {'to' if egress else 'from'} {peer}"
    return f"{words} ({details['description']})" if "description" in details else words
