"""Route 53: hosted zones (and their look-up), DNS records and health checks.

Route 53 is a global service: every call goes to us-east-1 whatever the workspace. Creates take a
CallerReference, deterministic per deployment and address, so that a retried or interrupted
create finds what it made. Tags go through ChangeTagsForResource, which names the kind of
resource (`ResourceType`) and takes at most 10 tags a call.

Record names are kept fully qualified with the trailing dot, the form Route 53 returns
(`deployer.domains.absolute`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from typing import Any

from deployer.attributes import Attr, Setter, Table, get_path
from deployer.aws import DeployerError, paginate, poll
from deployer.blocks import first_block
from deployer.domains import absolute
from deployer.errors import AlreadyExists, NotFound, ignore_missing, or_none
from deployer.resource import Context, DataSource, Resource, data_source, resource
from deployer.tagging import Tagging, is_ours
from deployer.waiting import delete_when_released

# Route 53 applies a change to all its authoritative servers "generally within 60 seconds";
# the Terraform provider waits up to 30 minutes for INSYNC.
CHANGE_INSYNC_TIMEOUT = 30 * 60.0
CHANGE_POLL_DELAY = 5.0
# A health check still named by a record being deleted answers HealthCheckInUse for a moment.
HEALTH_CHECK_RELEASE_TIMEOUT = 120.0
# ChangeTagsForResource takes at most 10 tags to add or remove per call.
TAGS_PER_CALL = 10
# Past generations of a CallerReference tried before giving up (each was a deleted resource).
MAX_GENERATIONS = 100

RECORD_TYPES = "A|AAAA|CAA|CNAME|DS|HTTPS|MX|NAPTR|NS|PTR|SOA|SPF|SRV|SSHFP|SVCB|TLSA|TXT"
# Terraform's import id: ZONEID_NAME_TYPE[_SETIDENTIFIER]; names are lower case, types not.
RECORD_ID = re.compile(
    rf"^(?P<zone>[^_]+)_(?P<name>.+?)_(?P<type>{RECORD_TYPES})(?:_(?P<set>.+))?$"
)


def route53_tagging(resource_type: str) -> Tagging:
    """Route 53's tag calls for one kind of resource (`hostedzone`, `healthcheck`)."""
    return Tagging(
        "ResourceId",
        listed="ResourceTagSet.Tags",
        tag_call="change_tags_for_resource",
        tags_param="AddTags",
        untag_call="change_tags_for_resource",
        keys_param="RemoveTagKeys",
        fixed={"ResourceType": resource_type},
        per_call=TAGS_PER_CALL,
    )


def short_id(aws_id: str) -> str:
    """`/hostedzone/Z123` → `Z123`."""
    return aws_id.rsplit("/", 1)[-1]


def unescape(name: str) -> str:
    """Route 53 returns some characters as octal escapes (`\\052` for `*`)."""
    return re.sub(r"\\(\d{3})", lambda m: chr(int(m.group(1), 8)), name)


def zone_name(name: str) -> str:
    """The provider's form of a zone's name: lower case, no trailing dot."""
    return unescape(name).rstrip(".").lower()


def if_set(value: Any) -> Any:
    """An empty string is not sent (None is "not sent")."""
    return value or None


def listed(values: Any) -> list[Any]:
    """Route 53 leaves empty lists out of its answers."""
    return list(values or [])


def text(value: Any) -> str:
    """Route 53 leaves an empty comment out of its answer; the provider reads it as ""."""
    return str(value) if value else ""


@resource
class HostedZone(Resource):
    """A public hosted zone; id = its id without `/hostedzone/`."""

    type = "aws_route53_zone"
    arn_kind = ("route53", "hostedzone")
    lookup_by = {"name": "name"}
    global_service = True
    tagging = route53_tagging("hostedzone")
    table = Table(
        Attr("name", "HostedZone.Name", create="Name", force_new=True, from_api=zone_name),
        Attr(
            "comment",
            "HostedZone.Config.Comment",
            create="HostedZoneConfig.Comment",
            update=Setter("UpdateHostedZoneComment", "Comment"),
            default="Managed by Terraform",
            from_api=text,
        ),
        Attr(
            "delegation_set_id",
            "DelegationSet.Id",
            create="DelegationSetId",
            force_new=True,
            from_api=lambda value: short_id(value) if value else None,
        ),
        # Private zones (a VPC association) are not made here: the driver sends and reads none.
        Attr("vpc", create=False, force_new=True),
        Attr("zone_id", "HostedZone.Id", computed=True, from_api=short_id),
        Attr(
            "arn",
            "HostedZone.Id",
            computed=True,
            from_api=lambda value: f"arn:aws:route53:::hostedzone/{short_id(value)}",
        ),
        Attr(
            "name_servers",
            "DelegationSet.NameServers",
            computed=True,
            from_api=listed,
        ),
        Attr(
            "primary_name_server",
            "DelegationSet.NameServers",
            computed=True,
            from_api=lambda servers: servers[0] if servers else None,
        ),
        service="route53",
        create_call="CreateHostedZone",
        described="GetHostedZoneResponse",
        id_parameter="Id",
    )

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        r53 = ctx.client("route53")
        request = self.table.create_parameters(desired)
        request.setdefault("HostedZoneConfig", {})["PrivateZone"] = False
        for reference in caller_references(ctx):
            try:
                made = r53.create_hosted_zone(CallerReference=reference, **request)
            except AlreadyExists:
                # The reference made a zone already: adopt it if it still exists.
                existing = zone_with_reference(r53, reference)
                if existing is None:
                    continue
                zone_id = existing
            else:
                zone_id = short_id(made["HostedZone"]["Id"])
                wait_insync(r53, made["ChangeInfo"])
            self.tagging.update(r53, zone_id, desired["tags"], None)
            return zone_id
        raise DeployerError(f"{ctx.node.key}: no unused CallerReference left for the zone")

    def describe(self, ctx: Context, id: str) -> dict[str, Any] | None:
        got: dict[str, Any] | None = or_none(lambda: ctx.client("route53").get_hosted_zone(Id=id))
        return got

    def delete(self, ctx: Context, id: str, live: dict[str, Any] | None) -> None:
        """Only an empty zone is deleted: records someone else added are never thrown away."""
        r53 = ctx.client("route53")
        try:
            zone = r53.get_hosted_zone(Id=id)["HostedZone"]
            apex = absolute(zone["Name"]).lower()
            others = [
                f"{rrs['Name']} {rrs['Type']}"
                for rrs in paginate(
                    r53, "list_resource_record_sets", "ResourceRecordSets", HostedZoneId=id
                )
                if not (rrs["Type"] in ("SOA", "NS") and unescape(rrs["Name"]).lower() == apex)
            ]
        except NotFound:
            return
        if others:
            raise DeployerError(
                f"hosted zone {id} ({zone['Name']}) still holds {len(others)} record(s) "
                f"besides its SOA and NS: {', '.join(others[:5])}; delete them first, the "
                "deployer does not delete records it did not make"
            )
        ignore_missing(lambda: r53.delete_hosted_zone(Id=id))

    def find(self, ctx: Context, desired: dict[str, Any]) -> str | None:
        """A zone an interrupted create made: by our CallerReference, or by its address tag."""
        r53 = ctx.client("route53")
        base = caller_reference_base(ctx)
        for zone in paginate(r53, "list_hosted_zones", "HostedZones"):
            if zone["CallerReference"].startswith(f"{base}-"):
                return short_id(zone["Id"])
        for zone in paginate(r53, "list_hosted_zones", "HostedZones"):
            if zone_name(zone["Name"]) != zone_name(desired["name"]):
                continue
            zone_id = short_id(zone["Id"])
            if is_ours(self.tagging.read(r53, zone_id), desired):
                return zone_id
        return None


@data_source
class HostedZoneLookup(DataSource):
    """An existing zone, by its id or by its name (and whether it is private)."""

    type = "aws_route53_zone"
    global_service = True

    def read(self, ctx: Context, desired: dict[str, Any]) -> dict[str, Any] | None:
        r53 = ctx.client("route53")
        zone_id = desired.get("zone_id")
        if not zone_id and desired.get("name"):
            wanted = zone_name(desired["name"])
            private = bool(desired.get("private_zone"))
            for zone in paginate(r53, "list_hosted_zones", "HostedZones"):
                config = zone.get("Config", {})
                if zone_name(zone["Name"]) == wanted and config.get("PrivateZone") == private:
                    zone_id = short_id(zone["Id"])
                    break
        if not zone_id:
            return None
        got = or_none(lambda: r53.get_hosted_zone(Id=zone_id))
        if got is None:
            return None
        zone = got["HostedZone"]
        return {
            "id": zone_id,
            **HostedZone.table.read(got),
            "caller_reference": zone["CallerReference"],
            "private_zone": zone.get("Config", {}).get("PrivateZone", False),
            "resource_record_set_count": zone.get("ResourceRecordSetCount"),
            "tags": HostedZone.tagging.read(r53, zone_id),
        }


# ChangeResourceRecordSets takes the record set inside its change batch.
RECORD_SET = "ChangeBatch.Changes.ResourceRecordSet"


def record_field(name: str, field: str, **row: Any) -> Attr:
    """A row of the record set: read from its field, sent as the same field of the change
    batch's record set."""
    return Attr(name, field, create=f"{RECORD_SET}.{field}", **row)


def alias_to_api(blocks: Any) -> dict[str, Any] | None:
    alias = first_block(blocks)
    if not alias:
        return None
    return {
        "HostedZoneId": alias["zone_id"],
        "DNSName": alias["name"],
        "EvaluateTargetHealth": bool(alias["evaluate_target_health"]),
    }


def alias_from_api(alias: Any) -> list[dict[str, Any]]:
    if not alias:
        return []
    return [
        {
            "name": alias["DNSName"].rstrip(".").lower(),
            "zone_id": alias["HostedZoneId"],
            "evaluate_target_health": alias["EvaluateTargetHealth"],
        }
    ]


def policy_block(key: str, to_api: Any = None) -> dict[str, Any]:
    """A routing policy's single-key block (`failover_routing_policy { type = ... }`) and the
    one field of the record set it stands for."""

    def send(blocks: Any) -> Any:
        value = first_block(blocks).get(key)
        return None if value is None else (to_api(value) if to_api else value)

    def read(value: Any) -> list[dict[str, Any]]:
        return [] if value is None or value == "" else [{key: value}]

    return {"to_api": send, "from_api": read}


# The geolocation block's keys and GeoLocation's, both ways.
GEOLOCATION_KEYS = {
    "continent": "ContinentCode",
    "country": "CountryCode",
    "subdivision": "SubdivisionCode",
}


def geolocation_to_api(blocks: Any) -> dict[str, str] | None:
    if not blocks:
        return None
    block = first_block(blocks)
    return {api: block[key] for key, api in GEOLOCATION_KEYS.items() if block.get(key)}


def geolocation_from_api(location: Any) -> list[dict[str, Any]]:
    if not location:
        return []
    return [{key: location.get(api) for key, api in GEOLOCATION_KEYS.items()}]


@resource
class Record(Resource):
    """One record set; id = Terraform's `ZONEID_NAME_TYPE[_SETIDENTIFIER]`.

    An update replaces the set in one atomic batch (DELETE then CREATE), which also covers a
    change of routing policy: the whole set is sent, not the changed rows alone."""

    type = "aws_route53_record"
    global_service = True
    taggable = False
    table = Table(
        # The zone, name, type and set identifier make up the id: a change is a new record.
        Attr("zone_id", create="HostedZoneId", force_new=True),
        record_field(
            "name",
            "Name",
            force_new=True,
            from_api=lambda name: unescape(name).lower(),
            to_api=absolute,
        ),
        record_field("type", "Type", force_new=True),
        record_field("set_identifier", "SetIdentifier", force_new=True, to_api=if_set),
        record_field("ttl", "TTL", update=True, to_api=int),
        record_field(
            "records",
            "ResourceRecords",
            update=True,
            from_api=lambda records: [r["Value"] for r in records or []],
            to_api=lambda values: [{"Value": v} for v in sorted(values)] or None,
        ),
        record_field(
            "alias", "AliasTarget", update=True, from_api=alias_from_api, to_api=alias_to_api
        ),
        record_field("failover_routing_policy", "Failover", update=True, **policy_block("type")),
        record_field(
            "weighted_routing_policy", "Weight", update=True, **policy_block("weight", int)
        ),
        record_field("latency_routing_policy", "Region", update=True, **policy_block("region")),
        record_field(
            "geolocation_routing_policy",
            "GeoLocation",
            update=True,
            from_api=geolocation_from_api,
            to_api=geolocation_to_api,
        ),
        record_field(
            "multivalue_answer_routing_policy", "MultiValueAnswer", update=True, to_api=bool
        ),
        record_field("health_check_id", "HealthCheckId", update=True, to_api=if_set),
        Attr("fqdn", "Name", computed=True, from_api=zone_name),
        # Whether create may overwrite an existing record: a behaviour, not a property of it.
        Attr("allow_overwrite", create=False, write_only=True),
        service="route53",
        create_call="ChangeResourceRecordSets",
        update_call="ChangeResourceRecordSets",
        described="ResourceRecordSet",
        id_parameter="HostedZoneId",
    )

    def record_set(self, desired: dict[str, Any]) -> dict[str, Any]:
        """The node's attributes as a ResourceRecordSet."""
        record_set: dict[str, Any] = get_path(self.table.create_parameters(desired), RECORD_SET)
        return record_set

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        r53 = ctx.client("route53")
        action = "UPSERT" if desired.get("allow_overwrite") else "CREATE"
        change(r53, desired["zone_id"], [(action, self.record_set(desired))], ctx.node.key)
        return record_id(desired)

    def describe(self, ctx: Context, id: str) -> dict[str, Any] | None:
        """The record set as Route 53 lists it (None when it, or its zone, is gone)."""
        zone_id, name, rtype, set_identifier = parse_record_id(id)
        r53 = ctx.client("route53")
        return or_none(lambda: find_record_set(r53, zone_id, name, rtype, set_identifier))

    def read(self, ctx: Context, id: str) -> dict[str, Any] | None:
        live = super().read(ctx, id)
        return None if live is None else {**live, "zone_id": parse_record_id(id)[0]}

    def update(self, ctx: Context, id: str, desired: dict[str, Any], live: dict[str, Any]) -> None:
        r53 = ctx.client("route53")
        zone_id = parse_record_id(id)[0]
        current = self.describe(ctx, id)
        changes = [("DELETE", current)] if current is not None else []
        change(r53, zone_id, [*changes, ("CREATE", self.record_set(desired))], ctx.node.key)

    def delete(self, ctx: Context, id: str, live: dict[str, Any] | None) -> None:
        current = self.describe(ctx, id)
        if current is not None:
            zone_id = parse_record_id(id)[0]
            change(ctx.client("route53"), zone_id, [("DELETE", current)], ctx.node.key)

    def find(self, ctx: Context, desired: dict[str, Any]) -> str | None:
        return record_id(desired) if self.describe(ctx, record_id(desired)) else None


def empty_as_unset(values: Any) -> list[Any] | None:
    """An empty list is not sent (a cleared list is reset: `HealthCheck.update`)."""
    return list(values) or None


def config_field(name: str, field: str, **row: Any) -> Attr:
    """A HealthCheckConfig setting: read from and created in HealthCheckConfig, changed by
    UpdateHealthCheck's parameter of the same name (unless it forces a replacement)."""
    if not row.get("force_new"):
        row.setdefault("update", field)
    return Attr(name, f"HealthCheckConfig.{field}", **row)


@resource
class HealthCheck(Resource):
    """A health check; id = its id. UpdateHealthCheck takes each setting at its top level, and
    resets the settings it lists in `ResetElements` to their defaults."""

    type = "aws_route53_health_check"
    arn_kind = ("route53", "healthcheck")
    global_service = True
    tagging = route53_tagging("healthcheck")
    table = Table(
        # UpdateHealthCheck cannot change the type, interval, latency measurement and routing
        # control; the reference name is part of the CallerReference, not of the check.
        config_field("type", "Type", force_new=True),
        config_field("request_interval", "RequestInterval", force_new=True, to_api=int),
        config_field(
            "measure_latency", "MeasureLatency", force_new=True, default=False, from_api=bool
        ),
        config_field("routing_control_arn", "RoutingControlArn", force_new=True),
        Attr("reference_name", create=False, force_new=True),
        config_field("ip_address", "IPAddress"),
        config_field("port", "Port", to_api=int),
        config_field("resource_path", "ResourcePath"),
        config_field("fqdn", "FullyQualifiedDomainName"),
        config_field("search_string", "SearchString"),
        config_field("failure_threshold", "FailureThreshold", to_api=int),
        config_field("invert_healthcheck", "Inverted"),
        config_field("disabled", "Disabled", default=False, from_api=bool),
        config_field("enable_sni", "EnableSNI"),
        config_field("child_health_threshold", "HealthThreshold", to_api=int),
        config_field(
            "child_healthchecks", "ChildHealthChecks", from_api=listed, to_api=empty_as_unset
        ),
        config_field("regions", "Regions", from_api=listed, to_api=empty_as_unset),
        config_field("insufficient_data_health_status", "InsufficientDataHealthStatus"),
        # AWS takes the alarm's name only with its region.
        config_field("cloudwatch_alarm_name", "AlarmIdentifier.Name", together="alarm"),
        config_field("cloudwatch_alarm_region", "AlarmIdentifier.Region", together="alarm"),
        Attr(
            "arn",
            "Id",
            computed=True,
            from_api=lambda check_id: f"arn:aws:route53:::healthcheck/{check_id}",
        ),
        service="route53",
        create_call="CreateHealthCheck",
        update_call="UpdateHealthCheck",
        described="HealthCheck",
        id_parameter="HealthCheckId",
    )

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        """Idempotent by CallerReference: a retried request returns the check it made."""
        r53 = ctx.client("route53")
        request = self.table.create_parameters(desired)
        for reference in caller_references(ctx):
            try:
                made = r53.create_health_check(CallerReference=reference, **request)
            except AlreadyExists:
                # Same reference, other settings: adopt it (update follows); if it was
                # deleted, AWS still remembers the reference, so move to the next one.
                existing = health_check_with_reference(r53, reference)
                if existing is None:
                    continue
                check_id = existing
            else:
                check_id = made["HealthCheck"]["Id"]
            self.tagging.update(r53, check_id, desired["tags"], None)
            return check_id
        raise DeployerError(f"{ctx.node.key}: no unused CallerReference left for the check")

    def describe(self, ctx: Context, id: str) -> dict[str, Any] | None:
        got = or_none(lambda: ctx.client("route53").get_health_check(HealthCheckId=id))
        return None if got is None else dict(got["HealthCheck"])

    def update(self, ctx: Context, id: str, desired: dict[str, Any], live: dict[str, Any]) -> None:
        r53 = ctx.client("route53")
        changed = self.changed(desired, live) - {"tags"}
        if changed:
            request = self.table.update_parameters(desired, changed)
            reset = self.cleared(r53, desired, live)
            if reset:
                request["ResetElements"] = reset
            # With the current version, Route 53 refuses (HealthCheckVersionMismatch) rather
            # than overwrite a change someone makes between this read and the update.
            version = r53.get_health_check(HealthCheckId=id)["HealthCheck"]["HealthCheckVersion"]
            r53.update_health_check(HealthCheckId=id, HealthCheckVersion=version, **request)
        self.update_tags(ctx, id, desired, live)

    def cleared(self, r53: Any, desired: dict[str, Any], live: dict[str, Any]) -> list[str]:
        """The settings the node no longer sets but the check still has, that UpdateHealthCheck
        can reset (those its model lists as resettable): leaving them out would keep them."""
        resettable = set(r53.meta.service_model.shape_for("ResettableElementName").enum)
        reset: list[str] = []
        for name, row in self.table.rows.items():
            parameter = row.update_parameter
            if parameter is None or parameter not in resettable:
                continue
            if desired.get(name) in (None, []) and live.get(name) not in (None, []):
                reset.append(parameter)
        return sorted(reset)

    def delete(self, ctx: Context, id: str, live: dict[str, Any] | None) -> None:
        r53 = ctx.client("route53")
        # A record being deleted may still name the check (HealthCheckInUse) for a moment.
        delete_when_released(
            lambda: r53.delete_health_check(HealthCheckId=id),
            what=f"health check {id}",
            timeout=HEALTH_CHECK_RELEASE_TIMEOUT,
        )

    def find(self, ctx: Context, desired: dict[str, Any]) -> str | None:
        r53 = ctx.client("route53")
        base = caller_reference_base(ctx)
        for check in paginate(r53, "list_health_checks", "HealthChecks"):
            if check["CallerReference"].startswith(f"{base}-"):
                return str(check["Id"])
        return None


# ---------------------------------------------------------------------------------------------
# Finders, status functions and waiters
# ---------------------------------------------------------------------------------------------


def health_check_with_reference(r53: Any, reference: str) -> str | None:
    for check in paginate(r53, "list_health_checks", "HealthChecks"):
        if check["CallerReference"] == reference:
            return str(check["Id"])
    return None


def zone_with_reference(r53: Any, reference: str) -> str | None:
    for zone in paginate(r53, "list_hosted_zones", "HostedZones"):
        if zone["CallerReference"] == reference:
            return short_id(zone["Id"])
    return None


def caller_reference_base(ctx: Context) -> str:
    """Deterministic per deployment and address, so a retried create finds what it made."""
    tags = ctx.tags
    identity = "/".join((tags.get("Project", ""), tags.get("Environment", ""), ctx.node.key))
    return "deployer-" + hashlib.sha256(identity.encode()).hexdigest()[:24]


def caller_references(ctx: Context) -> Iterator[str]:
    """The reference of each generation: AWS refuses one that named a since deleted resource."""
    base = caller_reference_base(ctx)
    for generation in range(MAX_GENERATIONS):
        yield f"{base}-{generation}"


def record_id(desired: dict[str, Any]) -> str:
    """Terraform's import id: `ZONEID_NAME_TYPE` plus `_SETIDENTIFIER` for routed records."""
    parts = [desired["zone_id"], str(desired["name"]).rstrip(".").lower(), desired["type"]]
    if desired.get("set_identifier"):
        parts.append(desired["set_identifier"])
    return "_".join(parts)


def parse_record_id(id: str) -> tuple[str, str, str, str | None]:
    match = RECORD_ID.match(id)
    if match is None:
        raise DeployerError(f"{id!r} is not a Route 53 record id (ZONEID_NAME_TYPE[_SETID])")
    return match["zone"], absolute(match["name"]), match["type"], match["set"]


def find_record_set(
    r53: Any, zone_id: str, name: str, rtype: str, set_identifier: str | None
) -> dict[str, Any] | None:
    """The record set as Route 53 returns it: listing starts at its name and type."""
    wanted = absolute(name).lower()
    params: dict[str, Any] = {
        "HostedZoneId": zone_id,
        "StartRecordName": wanted,
        "StartRecordType": rtype,
    }
    if set_identifier:
        params["StartRecordIdentifier"] = set_identifier
    for rrs in paginate(r53, "list_resource_record_sets", "ResourceRecordSets", **params):
        if unescape(rrs["Name"]).lower() != wanted or rrs["Type"] != rtype:
            break
        if rrs.get("SetIdentifier") == set_identifier:
            return dict(rrs)
    return None


def change(r53: Any, zone_id: str, changes: list[tuple[str, dict[str, Any]]], comment: str) -> None:
    """One atomic change batch, waited on until every Route 53 server has it."""
    made = r53.change_resource_record_sets(
        HostedZoneId=zone_id,
        ChangeBatch={
            "Comment": f"deployer: {comment}"[:256],
            "Changes": [{"Action": action, "ResourceRecordSet": rrs} for action, rrs in changes],
        },
    )
    wait_insync(r53, made["ChangeInfo"])


def wait_insync(r53: Any, change_info: dict[str, Any]) -> None:
    change_id = change_info["Id"]

    def in_sync() -> bool | None:
        status = r53.get_change(Id=change_id)["ChangeInfo"]["Status"]
        return True if status == "INSYNC" else None

    if change_info.get("Status") != "INSYNC":
        poll(
            in_sync,
            what=f"Route 53 change {change_id} to reach every server",
            timeout=CHANGE_INSYNC_TIMEOUT,
            delay=CHANGE_POLL_DELAY,
        )
