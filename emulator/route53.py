"""Route 53: health checks whose status is computed, HealthCheckVersion, and TestDNSAnswer.

moto 5.2 reports every health check healthy from one hard-coded checker, whatever its endpoint,
``Inverted`` or ``Disabled``; keeps ``HealthCheckVersion`` at 1 and accepts a stale one; and has
neither TestDNSAnswer nor GetHealthCheckLastFailureReason, so nothing can say which region a
failover record answers with (``ROUTE53_EXTENSIONS``). Here, as the Route 53 API Reference says:

- **GetHealthCheckStatus**: one ``HealthCheckObservation`` per checker region (the health
  check's ``Regions``, else ``DEFAULT_CHECKER_REGIONS``), with a ``StatusReport.Status`` of
  ``Success: ...`` or ``Failure: ...``. The status is evaluated when asked (Route 53 probes every
  ``RequestInterval``; the emulator's endpoint is the model): an HTTP(S) check of an API
  Gateway execute-api host (``{api_id}.execute-api.{region}.amazonaws.com``) GETs its
  ``ResourcePath`` through the emulator's data plane (``emulator.dataplane``), healthy on a 2xx
  or 3xx ("Values that Amazon Route 53 returns when you create a health check": HTTP and HTTPS
  health checks are healthy on a status code of 2xx or 3xx); a ``*_STR_MATCH`` check also needs
  ``SearchString`` in the first 5,120 bytes of the body; an API that does not exist fails DNS
  resolution; any other endpoint is healthy. A CALCULATED check is healthy when at least
  ``HealthThreshold`` of its children are. Then **UpdateHealthCheck**'s ``Inverted`` ("Route 53
  considers a health check unhealthy when it otherwise would be considered healthy") flips the
  result, and ``Disabled`` ("Route 53 considers the status of the health check to always be
  healthy") overrides both. The emulator's reports for those two name the reason.
- **GetHealthCheckLastFailureReason**: the observations of the last evaluation that failed.
- **UpdateHealthCheck**: ``HealthCheckVersion`` increments on every update, an update that
  names a ``HealthCheckVersion`` other than the current one is refused with
  ``HealthCheckVersionMismatch`` (409), and ``ChildHealthChecks`` and ``Regions`` stay as they
  were when an update omits them (moto clears them).
- **TestDNSAnswer** (``GET /2013-04-01/testdnsanswer``): the answer to a query for a name and
  type in the zone: NXDOMAIN when no record has the name, NOERROR with no ``RecordData`` when
  none has the type; a simple record answers its values; failover records answer the PRIMARY
  unless its health check is unhealthy, then the SECONDARY (and the PRIMARY when both are
  unhealthy: Developer Guide, "How Amazon Route 53 chooses records when health checking is
  configured"); weighted and other sets answer their healthy records' values. An alias record
  answers its alias target's DNS name: AWS would answer the target's addresses, but the drill
  needs to know which region answers, which the target's name (``d-....execute-api.{region}.
  amazonaws.com``) says and an address would not.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl

from emulator.dataplane import NoSuchApi, StageRequest, invoke_stage
from emulator.patching import _patch

# Where Route 53 checks from when a health check names no Regions ("a few": AWS uses all of its
# HealthCheckRegion values, at least three).
DEFAULT_CHECKER_REGIONS = ("us-east-1", "us-west-2", "eu-west-1")
# Route 53's health checkers' addresses are in 15.177.0.0/18 (AWS ip-ranges.json,
# ROUTE53_HEALTHCHECKS); one per checker region here.
_CHECKER_IPS = {
    "us-east-1": "15.177.2.1",
    "us-west-1": "15.177.6.1",
    "us-west-2": "15.177.10.1",
    "eu-west-1": "15.177.62.1",
    "ap-southeast-1": "15.177.42.1",
    "ap-southeast-2": "15.177.50.1",
    "ap-northeast-1": "15.177.34.1",
    "sa-east-1": "15.177.58.1",
}
EXECUTE_API_FQDN = re.compile(
    r"^(?P<api>[a-z0-9]+)\.execute-api\.(?P<region>[a-z0-9-]+)\.amazonaws\.com\.?$", re.I
)
HTTP_TYPES = ("HTTP", "HTTPS", "HTTP_STR_MATCH", "HTTPS_STR_MATCH")
# "Route 53 searches the response body for the string ... in the first 5,120 bytes".
STR_MATCH_BYTES = 5120
NAMESERVER = "ns-2048.awsdns-64.com"


@dataclass(frozen=True)
class Evaluation:
    """A health check's status now, and the report each checker gives for it."""

    healthy: bool
    report: str


def _http_report(status: int) -> str:
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Unknown"
    return f"HTTP Status Code {status}, {phrase}"


def _probe_endpoint(account_id: str, health_check: Any) -> Evaluation:
    """The endpoint's own health (before Inverted and Disabled)."""
    fqdn = str(health_check.fqdn or "")
    target = EXECUTE_API_FQDN.match(fqdn)
    if str(health_check.type_) not in HTTP_TYPES or target is None:
        return Evaluation(True, "Success: HTTP Status Code 200, OK")
    resource_path = str(health_check.resource_path or "/")
    stage, _, rest = resource_path.lstrip("/").partition("/")
    path, _, query = ("/" + rest).partition("?")
    request = StageRequest(
        method="GET",
        path=path,
        headers={"Host": fqdn.rstrip("."), "User-Agent": "Amazon-Route53-Health-Check-Service"},
        query=parse_qsl(query, keep_blank_values=True),
    )
    try:
        response = invoke_stage(account_id, target["region"], target["api"], stage, request)
    except NoSuchApi:
        return Evaluation(False, "Failure: DNS resolution failed: Rcode NXDomain(3)")
    report = _http_report(response.status)
    if not 200 <= response.status < 400:
        return Evaluation(False, f"Failure: {report}")
    if str(health_check.type_).endswith("_STR_MATCH"):
        wanted = str(health_check.search_string or "").encode()
        if wanted not in response.body[:STR_MATCH_BYTES]:
            return Evaluation(False, "Failure: Search string not found in the response body")
    return Evaluation(True, f"Success: {report}")


def evaluate(backend: Any, health_check: Any, depth: int = 0) -> Evaluation:
    """The health check's status as Route 53 would report it now."""
    if health_check.disabled:
        return Evaluation(True, "Success: Health checking is disabled: always healthy")
    if health_check.type_ == "CALCULATED":
        children = [backend.health_checks.get(c) for c in health_check.children or []]
        # Nested CALCULATED checks are evaluated to a bounded depth (a cycle is refused by AWS).
        healthy = sum(
            1 for c in children if c is not None and depth < 8 and _healthy(backend, c, depth)
        )
        threshold = int(health_check.health_threshold or 0)
        own = Evaluation(
            healthy >= threshold,
            f"{'Success' if healthy >= threshold else 'Failure'}: "
            f"{healthy} of {len(children)} child health checks healthy (threshold {threshold})",
        )
    else:
        own = _probe_endpoint(backend.account_id, health_check)
    if health_check.inverted:
        verdict = "Failure" if own.healthy else "Success"
        detail = own.report.split(": ", 1)[-1]
        return Evaluation(not own.healthy, f"{verdict}: Inverted health check: {detail}")
    return own


def _healthy(backend: Any, health_check: Any, depth: int = 0) -> bool:
    return evaluate(backend, health_check, depth + 1).healthy


def observations(health_check: Any, evaluation: Evaluation) -> list[dict[str, Any]]:
    """One HealthCheckObservation per checker region."""
    checked = datetime.now(UTC)
    regions = health_check.regions or list(DEFAULT_CHECKER_REGIONS)
    return [
        {
            "Region": region,
            "IPAddress": _CHECKER_IPS.get(region, "15.177.0.1"),
            "StatusReport": {"Status": evaluation.report, "CheckedTime": checked},
        }
        for region in regions
    ]


def _evaluate_and_remember(backend: Any, health_check: Any) -> list[dict[str, Any]]:
    evaluation = evaluate(backend, health_check)
    seen = observations(health_check, evaluation)
    if not evaluation.healthy:
        health_check.deployer_last_failure = seen
    return seen


# --- GetHealthCheckStatus, GetHealthCheckLastFailureReason, UpdateHealthCheck -------------------


def _get_health_check_status(self: Any) -> Any:
    from moto.core.responses import ActionResult

    health_check = self.backend.get_health_check(self._get_param("HealthCheckId"))
    return ActionResult(
        {"HealthCheckObservations": _evaluate_and_remember(self.backend, health_check)}
    )


def _get_health_check_last_failure_reason(self: Any) -> Any:
    from moto.core.responses import ActionResult

    health_check = self.backend.get_health_check(self._get_param("HealthCheckId"))
    _evaluate_and_remember(self.backend, health_check)
    return ActionResult(
        {"HealthCheckObservations": getattr(health_check, "deployer_last_failure", [])}
    )


def _version_mismatch(health_check_id: str) -> Exception:
    from moto.route53.exceptions import Route53ClientError

    return Route53ClientError(
        "HealthCheckVersionMismatch",
        f"The value of HealthCheckVersion in the request doesn't match the value of "
        f"HealthCheckVersion in the health check {health_check_id}.",
    )


def _versioned_update(original: Any) -> Any:
    def update_health_check(self: Any) -> Any:
        health_check = self.backend.get_health_check(self._get_param("HealthCheckId"))
        wanted = self._get_param("HealthCheckVersion")
        if wanted is not None and int(wanted) != int(health_check.health_check_version):
            raise _version_mismatch(health_check.id)
        kept = {"children": health_check.children, "regions": health_check.regions}
        result = original(self)
        # moto clears ChildHealthChecks and Regions when an update omits them; AWS keeps what
        # an update leaves out (only ResetElements resets: UpdateHealthCheck).
        if self._get_param("ChildHealthChecks") is None:
            health_check.children = kept["children"]
        if self._get_param("Regions") is None:
            health_check.regions = kept["regions"]
        health_check.health_check_version += 1
        return result

    return update_health_check


# --- TestDNSAnswer --------------------------------------------------------------------------------


def _normal(name: str) -> str:
    return name.rstrip(".").lower()


def _record_healthy(backend: Any, record: Any) -> bool:
    health_check_id = record.health_check_id
    if not health_check_id:
        return True  # "If you don't associate a health check ... Route 53 considers it healthy"
    health_check = backend.health_checks.get(health_check_id)
    return health_check is None or evaluate(backend, health_check).healthy


def _values(record: Any) -> list[str]:
    if record.alias_target:
        return [str(record.alias_target.get("DNSName", "")).rstrip(".")]
    return [str(value) for value in record.records or []]


def dns_answer(backend: Any, zone_id: str, name: str, record_type: str) -> dict[str, Any]:
    """TestDNSAnswer's response for ``name``/``record_type`` in the zone ``zone_id``."""
    zone = backend.get_hosted_zone(zone_id.rsplit("/", 1)[-1])
    named = [r for r in zone.rrsets if _normal(r.name) == _normal(name)]
    typed = [r for r in named if r.type == record_type]
    answer: list[str] = []
    failover = {str(r.failover).upper(): r for r in typed if r.failover}
    if failover:
        primary, secondary = failover.get("PRIMARY"), failover.get("SECONDARY")
        if primary is not None and (secondary is None or _record_healthy(backend, primary)):
            chosen = primary
        elif secondary is not None and _record_healthy(backend, secondary):
            chosen = secondary
        else:
            chosen = primary or secondary
        answer = _values(chosen) if chosen is not None else []
    elif typed:
        healthy = [r for r in typed if _record_healthy(backend, r)] or typed
        answer = [value for record in healthy for value in _values(record)]
    return {
        "Nameserver": NAMESERVER,
        "RecordName": name,
        "RecordType": record_type,
        "RecordData": answer,
        "ResponseCode": "NOERROR" if named else "NXDOMAIN",
        "Protocol": "UDP",
    }


def _test_dns_answer(self: Any) -> Any:
    from moto.core.responses import ActionResult

    return ActionResult(
        dns_answer(
            self.backend,
            self._get_param("HostedZoneId"),
            self._get_param("RecordName"),
            self._get_param("RecordType"),
        )
    )


def _install_routes() -> None:
    from moto.route53 import urls
    from moto.route53.responses import Route53

    routes = {
        r"{0}/(?P<api_version>[\d_-]+)/testdnsanswer$": Route53.dispatch,
        r"{0}/(?P<api_version>[\d_-]+)/healthcheck/(?P<health_check_id>[^/]+)"
        r"/lastfailurereason$": Route53.dispatch,
    }
    for path, handler in routes.items():
        urls.url_paths.setdefault(path, handler)
    for name, method in (
        ("test_dns_answer", _test_dns_answer),
        ("get_health_check_last_failure_reason", _get_health_check_last_failure_reason),
    ):
        if not hasattr(Route53, name):
            setattr(Route53, name, method)


def _install_health_status() -> None:
    from moto.route53.responses import Route53

    _patch(Route53, "get_health_check_status", "computed", lambda _: _get_health_check_status)
    _patch(Route53, "update_health_check", "version", _versioned_update)


ROUTE53_EXTENSIONS: tuple[Callable[[], None], ...] = (_install_routes, _install_health_status)
