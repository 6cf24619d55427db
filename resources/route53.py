"""Route 53: hosted zones (and their look-up), DNS records and health checks.

Route 53 is a global service: every call goes to us-east-1 whatever the workspace. Creates take a
CallerReference, deterministic per deployment and address, so that a retried or interrupted
create finds what it made.

Record names are kept fully qualified with the trailing dot, the form Route 53 returns
(`deployer.domains.absolute`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from typing import Any

from deployer.aws import (
    DeployerError,
    error_code,
    is_not_found,
    paginate,
    poll,
    retry_while,
    tag_changes,
    tag_dict,
    tag_list,
    user_tags,
)
from deployer.diff import diff_attributes
from deployer.domains import absolute
from deployer.graph import ADDRESS_TAG
from deployer.resource import Context, DataSource, Resource, data_source, resource

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


@resource
class HostedZone(Resource):
    type = "aws_route53_zone"
    arn_kind = ("route53", "hostedzone")
    lookup_by = {"name": "name"}
    global_service = True
    force_new = frozenset({"name", "delegation_set_id", "vpc"})

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        r53 = ctx.client("route53")
        for reference in caller_references(ctx):
            try:
                made = r53.create_hosted_zone(
                    Name=desired["name"],
                    CallerReference=reference,
                    HostedZoneConfig={
                        "Comment": desired.get("comment") or "",
                        "PrivateZone": False,
                    },
                )
            except Exception as exc:
                if error_code(exc) != "HostedZoneAlreadyExists":
                    raise
                # The reference made a zone already: adopt it if it still exists.
                existing = zone_with_reference(r53, reference)
                if existing is None:
                    continue
                zone_id = existing
            else:
                zone_id = short_id(made["HostedZone"]["Id"])
                wait_insync(r53, made["ChangeInfo"])
            set_tags(r53, "hostedzone", zone_id, desired["tags"], None)
            return zone_id
        raise DeployerError(f"{ctx.node.key}: no unused CallerReference left for the zone")

    def read(self, ctx: Context, id: str) -> dict[str, Any] | None:
        r53 = ctx.client("route53")
        try:
            got = r53.get_hosted_zone(Id=id)
        except Exception as exc:
            if is_not_found(exc):
                return None
            raise
        return {**zone_attributes(got), "tags": list_tags(r53, "hostedzone", id)}

    def update(self, ctx: Context, id: str, desired: dict[str, Any], live: dict[str, Any]) -> None:
        r53 = ctx.client("route53")
        if (desired.get("comment") or "") != (live.get("comment") or ""):
            r53.update_hosted_zone_comment(Id=id, Comment=desired.get("comment") or "")
        set_tags(r53, "hostedzone", id, desired["tags"], live.get("tags"))

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
            if others:
                raise DeployerError(
                    f"hosted zone {id} ({zone['Name']}) still holds {len(others)} record(s) "
                    f"besides its SOA and NS: {', '.join(others[:5])}; delete them first, the "
                    "deployer does not delete records it did not make"
                )
            r53.delete_hosted_zone(Id=id)
        except Exception as exc:
            if not is_not_found(exc):
                raise

    def find(self, ctx: Context, desired: dict[str, Any]) -> str | None:
        """A zone an interrupted create made: by our CallerReference, or by its address tag."""
        r53 = ctx.client("route53")
        base = caller_reference_base(ctx)
        for zone in paginate(r53, "list_hosted_zones", "HostedZones"):
            if zone["CallerReference"].startswith(f"{base}-"):
                return short_id(zone["Id"])
        for zone in paginate(r53, "list_hosted_zones", "HostedZones"):
            if absolute(zone["Name"]).lower() != absolute(desired["name"]).lower():
                continue
            zone_id = short_id(zone["Id"])
            if list_tags(r53, "hostedzone", zone_id).get(ADDRESS_TAG) == ctx.node.address:
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
            wanted = absolute(desired["name"]).lower()
            private = bool(desired.get("private_zone"))
            for zone in paginate(r53, "list_hosted_zones", "HostedZones"):
                config = zone.get("Config", {})
                if (
                    absolute(zone["Name"]).lower() == wanted
                    and config.get("PrivateZone") == private
                ):
                    zone_id = short_id(zone["Id"])
                    break
        if not zone_id:
            return None
        try:
            got = r53.get_hosted_zone(Id=zone_id)
        except Exception as exc:
            if is_not_found(exc):
                return None
            raise
        zone = got["HostedZone"]
        return {
            **zone_attributes(got),
            "caller_reference": zone["CallerReference"],
            "private_zone": zone.get("Config", {}).get("PrivateZone", False),
            "resource_record_set_count": zone.get("ResourceRecordSetCount"),
            "tags": list_tags(r53, "hostedzone", zone_id),
        }


@resource
class Record(Resource):
    type = "aws_route53_record"
    global_service = True
    taggable = False
    # The name, type and set identifier make up the id; a change is a new record.
    force_new = frozenset({"zone_id", "name", "type", "set_identifier"})
    # Whether create may overwrite an existing record: a behaviour, not a property of it.
    write_only = frozenset({"allow_overwrite"})

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        r53 = ctx.client("route53")
        action = "UPSERT" if desired.get("allow_overwrite") else "CREATE"
        change(r53, desired["zone_id"], [(action, record_set(desired))], ctx.node.key)
        return record_id(desired)

    def read(self, ctx: Context, id: str) -> dict[str, Any] | None:
        zone_id, name, rtype, set_identifier = parse_record_id(id)
        try:
            rrs = find_record_set(ctx.client("route53"), zone_id, name, rtype, set_identifier)
        except Exception as exc:
            if is_not_found(exc):  # the zone itself is gone
                return None
            raise
        return None if rrs is None else {"id": id, **record_attributes(zone_id, rrs)}

    def update(self, ctx: Context, id: str, desired: dict[str, Any], live: dict[str, Any]) -> None:
        """Delete and create in one batch, which also covers a change of routing policy."""
        r53 = ctx.client("route53")
        zone_id, name, rtype, set_identifier = parse_record_id(id)
        current = find_record_set(r53, zone_id, name, rtype, set_identifier)
        changes = [("DELETE", current)] if current is not None else []
        change(r53, zone_id, [*changes, ("CREATE", record_set(desired))], ctx.node.key)

    def delete(self, ctx: Context, id: str, live: dict[str, Any] | None) -> None:
        r53 = ctx.client("route53")
        zone_id, name, rtype, set_identifier = parse_record_id(id)
        try:
            current = find_record_set(r53, zone_id, name, rtype, set_identifier)
        except Exception as exc:
            if is_not_found(exc):
                return
            raise
        if current is not None:
            change(r53, zone_id, [("DELETE", current)], ctx.node.key)

    def find(self, ctx: Context, desired: dict[str, Any]) -> str | None:
        return record_id(desired) if self.read(ctx, record_id(desired)) else None


@resource
class HealthCheck(Resource):
    type = "aws_route53_health_check"
    arn_kind = ("route53", "healthcheck")
    global_service = True
    # UpdateHealthCheck cannot change these.
    force_new = frozenset(
        {"type", "request_interval", "measure_latency", "reference_name", "routing_control_arn"}
    )

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        """Idempotent by CallerReference: a retried request returns the check it made."""
        r53 = ctx.client("route53")
        for reference in caller_references(ctx):
            try:
                made = r53.create_health_check(
                    CallerReference=reference, HealthCheckConfig=health_check_config(desired)
                )["HealthCheck"]
            except Exception as exc:
                if error_code(exc) != "HealthCheckAlreadyExists":
                    raise
                # Same reference, other settings: adopt it (update follows); if it was
                # deleted, AWS still remembers the reference, so move to the next one.
                existing = health_check_with_reference(r53, reference)
                if existing is None:
                    continue
                check_id = existing
            else:
                check_id = made["Id"]
            set_tags(r53, "healthcheck", check_id, desired["tags"], None)
            return check_id
        raise DeployerError(f"{ctx.node.key}: no unused CallerReference left for the check")

    def read(self, ctx: Context, id: str) -> dict[str, Any] | None:
        r53 = ctx.client("route53")
        try:
            check = r53.get_health_check(HealthCheckId=id)["HealthCheck"]
        except Exception as exc:
            if is_not_found(exc):
                return None
            raise
        return {
            "id": check["Id"],
            "arn": f"arn:aws:route53:::healthcheck/{check['Id']}",
            **health_check_attributes(check["HealthCheckConfig"]),
            "tags": list_tags(r53, "healthcheck", id),
        }

    def update(self, ctx: Context, id: str, desired: dict[str, Any], live: dict[str, Any]) -> None:
        r53 = ctx.client("route53")
        if set(diff_attributes(desired, live)) - {"tags"}:
            config = health_check_config(desired)
            params = {
                key: config[key] for key in UPDATABLE_CONFIG if key in config and key != "Type"
            }
            reset = [
                element
                for attribute, element in RESETTABLE.items()
                if desired.get(attribute) in (None, []) and live.get(attribute) not in (None, [])
            ]
            if reset:
                params["ResetElements"] = reset
            # With the current version, Route 53 refuses (HealthCheckVersionMismatch) rather
            # than overwrite a change someone makes between this read and the update.
            version = r53.get_health_check(HealthCheckId=id)["HealthCheck"]["HealthCheckVersion"]
            r53.update_health_check(HealthCheckId=id, HealthCheckVersion=version, **params)
        set_tags(r53, "healthcheck", id, desired["tags"], live.get("tags"))

    def delete(self, ctx: Context, id: str, live: dict[str, Any] | None) -> None:
        r53 = ctx.client("route53")

        def remove() -> None:
            try:
                r53.delete_health_check(HealthCheckId=id)
            except Exception as exc:
                if not is_not_found(exc):
                    raise

        retry_while(
            remove,
            retryable=lambda exc: error_code(exc) == "HealthCheckInUse",
            timeout=HEALTH_CHECK_RELEASE_TIMEOUT,
        )

    def find(self, ctx: Context, desired: dict[str, Any]) -> str | None:
        r53 = ctx.client("route53")
        base = caller_reference_base(ctx)
        for check in paginate(r53, "list_health_checks", "HealthChecks"):
            if check["CallerReference"].startswith(f"{base}-"):
                return str(check["Id"])
        return None


# Health check attribute → HealthCheckConfig key. `UPDATABLE_CONFIG` lists what
# UpdateHealthCheck accepts; `RESETTABLE` what it can reset to the default.
HEALTH_CHECK_FIELDS: dict[str, str] = {
    "type": "Type",
    "ip_address": "IPAddress",
    "port": "Port",
    "resource_path": "ResourcePath",
    "fqdn": "FullyQualifiedDomainName",
    "search_string": "SearchString",
    "request_interval": "RequestInterval",
    "failure_threshold": "FailureThreshold",
    "measure_latency": "MeasureLatency",
    "invert_healthcheck": "Inverted",
    "disabled": "Disabled",
    "enable_sni": "EnableSNI",
    "child_health_threshold": "HealthThreshold",
    "child_healthchecks": "ChildHealthChecks",
    "regions": "Regions",
    "insufficient_data_health_status": "InsufficientDataHealthStatus",
    "routing_control_arn": "RoutingControlArn",
}
UPDATABLE_CONFIG = (
    "IPAddress",
    "Port",
    "ResourcePath",
    "FullyQualifiedDomainName",
    "SearchString",
    "FailureThreshold",
    "Inverted",
    "Disabled",
    "HealthThreshold",
    "ChildHealthChecks",
    "EnableSNI",
    "Regions",
    "AlarmIdentifier",
    "InsufficientDataHealthStatus",
)
RESETTABLE = {
    "fqdn": "FullyQualifiedDomainName",
    "regions": "Regions",
    "resource_path": "ResourcePath",
    "child_healthchecks": "ChildHealthChecks",
}
INTEGER_FIELDS = frozenset({"Port", "RequestInterval", "FailureThreshold", "HealthThreshold"})


def health_check_config(desired: dict[str, Any]) -> dict[str, Any]:
    config: dict[str, Any] = {}
    for attribute, key in HEALTH_CHECK_FIELDS.items():
        value = desired.get(attribute)
        if value is None or value == []:
            continue
        config[key] = int(value) if key in INTEGER_FIELDS else value
    if desired.get("cloudwatch_alarm_name"):
        config["AlarmIdentifier"] = {
            "Name": desired["cloudwatch_alarm_name"],
            "Region": desired["cloudwatch_alarm_region"],
        }
    return config


def health_check_attributes(config: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        attribute: config.get(key) for attribute, key in HEALTH_CHECK_FIELDS.items()
    }
    out["child_healthchecks"] = config.get("ChildHealthChecks") or []
    out["regions"] = config.get("Regions") or []
    alarm = config.get("AlarmIdentifier") or {}
    out["cloudwatch_alarm_name"] = alarm.get("Name")
    out["cloudwatch_alarm_region"] = alarm.get("Region")
    return out


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


def zone_attributes(got: dict[str, Any]) -> dict[str, Any]:
    zone = got["HostedZone"]
    zone_id = short_id(zone["Id"])
    name_servers = list(got.get("DelegationSet", {}).get("NameServers", []))
    return {
        "id": zone_id,
        "zone_id": zone_id,
        "arn": f"arn:aws:route53:::hostedzone/{zone_id}",
        "name": unescape(zone["Name"]).rstrip(".").lower(),
        "comment": zone.get("Config", {}).get("Comment", ""),
        "name_servers": name_servers,
        "primary_name_server": name_servers[0] if name_servers else None,
    }


def short_id(aws_id: str) -> str:
    """`/hostedzone/Z123` → `Z123`."""
    return aws_id.rsplit("/", 1)[-1]


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


def list_tags(r53: Any, resource_type: str, resource_id: str) -> dict[str, str]:
    tag_set = r53.list_tags_for_resource(ResourceType=resource_type, ResourceId=resource_id)
    return user_tags(tag_dict(tag_set["ResourceTagSet"].get("Tags")))


def set_tags(
    r53: Any,
    resource_type: str,
    resource_id: str,
    desired: dict[str, str],
    live: dict[str, str] | None,
) -> None:
    to_set, to_remove = tag_changes(desired, live)
    items = tag_list(to_set)
    for start in range(0, len(items), TAGS_PER_CALL):
        r53.change_tags_for_resource(
            ResourceType=resource_type,
            ResourceId=resource_id,
            AddTags=items[start : start + TAGS_PER_CALL],
        )
    for start in range(0, len(to_remove), TAGS_PER_CALL):
        r53.change_tags_for_resource(
            ResourceType=resource_type,
            ResourceId=resource_id,
            RemoveTagKeys=to_remove[start : start + TAGS_PER_CALL],
        )


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


def unescape(name: str) -> str:
    """Route 53 returns some characters as octal escapes (`\\052` for `*`)."""
    return re.sub(r"\\(\d{3})", lambda m: chr(int(m.group(1), 8)), name)


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


def record_set(desired: dict[str, Any]) -> dict[str, Any]:
    """The node's attributes as a ResourceRecordSet."""
    rrs: dict[str, Any] = {"Name": absolute(desired["name"]), "Type": desired["type"]}
    if desired.get("set_identifier"):
        rrs["SetIdentifier"] = desired["set_identifier"]
    if desired.get("ttl") is not None:
        rrs["TTL"] = int(desired["ttl"])
    if desired.get("records"):
        rrs["ResourceRecords"] = [{"Value": value} for value in sorted(desired["records"])]
    for alias in desired.get("alias") or []:
        rrs["AliasTarget"] = {
            "HostedZoneId": alias["zone_id"],
            "DNSName": alias["name"],
            "EvaluateTargetHealth": bool(alias["evaluate_target_health"]),
        }
    for policy in desired.get("failover_routing_policy") or []:
        rrs["Failover"] = policy["type"]
    for policy in desired.get("weighted_routing_policy") or []:
        rrs["Weight"] = int(policy["weight"])
    for policy in desired.get("latency_routing_policy") or []:
        rrs["Region"] = policy["region"]
    for policy in desired.get("geolocation_routing_policy") or []:
        location = {
            key: policy[attribute]
            for attribute, key in GEOLOCATION_FIELDS.items()
            if policy.get(attribute)
        }
        rrs["GeoLocation"] = location
    if desired.get("multivalue_answer_routing_policy") is not None:
        rrs["MultiValueAnswer"] = bool(desired["multivalue_answer_routing_policy"])
    if desired.get("health_check_id"):
        rrs["HealthCheckId"] = desired["health_check_id"]
    return rrs


GEOLOCATION_FIELDS = {
    "continent": "ContinentCode",
    "country": "CountryCode",
    "subdivision": "SubdivisionCode",
}


def record_attributes(zone_id: str, rrs: dict[str, Any]) -> dict[str, Any]:
    """A ResourceRecordSet in the node's vocabulary."""
    name = unescape(rrs["Name"]).lower()
    alias = rrs.get("AliasTarget")
    geo = rrs.get("GeoLocation")
    return {
        "zone_id": zone_id,
        "name": name,
        "fqdn": name.rstrip("."),
        "type": rrs["Type"],
        "ttl": rrs.get("TTL"),
        "records": [r["Value"] for r in rrs.get("ResourceRecords", [])],
        "set_identifier": rrs.get("SetIdentifier"),
        "health_check_id": rrs.get("HealthCheckId"),
        "alias": [
            {
                "name": alias["DNSName"].rstrip(".").lower(),
                "zone_id": alias["HostedZoneId"],
                "evaluate_target_health": alias["EvaluateTargetHealth"],
            }
        ]
        if alias
        else [],
        "failover_routing_policy": [{"type": rrs["Failover"]}] if rrs.get("Failover") else [],
        "weighted_routing_policy": [{"weight": rrs["Weight"]}] if "Weight" in rrs else [],
        "latency_routing_policy": [{"region": rrs["Region"]}] if rrs.get("Region") else [],
        "geolocation_routing_policy": [
            {attribute: geo.get(key) for attribute, key in GEOLOCATION_FIELDS.items()}
        ]
        if geo
        else [],
        "multivalue_answer_routing_policy": rrs.get("MultiValueAnswer"),
    }


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
