"""Is the API answering, and which region does its name answer with? Probes for `failover`.

A failover checks that the secondary is healthy before promoting it, and confirms afterwards that
Route 53 answers the API's name with the secondary and that `/health` answers 200 there. These
three probes ask what AWS itself would: Route 53's own DNS answer for a record (TestDNSAnswer,
which applies failover routing and health checks as the name servers do, without waiting for a
resolver's cache), Route 53's health checkers' view of an endpoint (GetHealthCheckStatus), and
the endpoint over HTTP. On the sandbox the same calls reach the emulator, which computes them
from the deployed API (``emulator.route53``, ``emulator.dataplane``).
"""

from __future__ import annotations

import urllib.error
import urllib.request
from typing import Any

from deployer.aws import DeployerError

# Route 53 is global; its API is served from us-east-1.
ROUTE53_REGION = "us-east-1"
PROBE_TIMEOUT_S = 5.0
SUCCESS_PREFIX = "Success"


class ProbeError(DeployerError):
    """The endpoint could not be reached at all (no HTTP status to report)."""


def dns_answer(clients: Any, zone_id: str, name: str, record_type: str = "A") -> list[str]:
    """The values Route 53 answers for ``name``/``record_type`` in ``zone_id``; [] when the name
    or the type does not exist (NXDOMAIN or an empty NOERROR).

    For an alias record the emulator answers the alias target's DNS name (AWS would answer its
    addresses): on the sandbox the answer names the region's API domain.
    """
    response = clients("route53", ROUTE53_REGION).test_dns_answer(
        HostedZoneId=zone_id.rsplit("/", 1)[-1], RecordName=name, RecordType=record_type
    )
    return [str(value) for value in response.get("RecordData") or []]


def health_status(route53_client: Any, health_check_id: str) -> bool:
    """Healthy when most of Route 53's checkers report success.

    A majority is stricter than what Route 53 uses for routing (healthy when more than 18% of
    checkers report healthy: Developer Guide, "How Amazon Route 53 determines whether a health
    check is healthy"), which is what a failover precondition wants: no promotion onto a
    region that only some checkers can reach.
    """
    observations = route53_client.get_health_check_status(HealthCheckId=health_check_id)[
        "HealthCheckObservations"
    ]
    successes = sum(
        1
        for observation in observations
        if str(observation.get("StatusReport", {}).get("Status", "")).startswith(SUCCESS_PREFIX)
    )
    return successes * 2 > len(observations)


def probe_health(
    url: str,
    timeout: float = PROBE_TIMEOUT_S,
    opener: urllib.request.OpenerDirector | None = None,
    host: str | None = None,
) -> int:
    """GET ``url`` and return its HTTP status code (4xx and 5xx included).

    ``host`` sends that ``Host`` header: on the sandbox, ``probe_health(f"{endpoint}/health",
    host="api.payments.example.com")`` asks for the API's own name, which the emulator routes
    as Route 53 answers it (to the failover record's region). ``opener`` replaces urllib's
    default one: in-process under moto, where no name resolves,
    ``build_opener(emulator.dataplane_routes.DataPlaneHandler())`` answers AWS's stage URLs and
    the API's name. Raises ProbeError when there is no HTTP answer (refused, unresolvable,
    timed out).
    """
    headers = {"Accept": "application/json", **({"Host": host} if host else {})}
    request = urllib.request.Request(url, method="GET", headers=headers)
    open_url = opener.open if opener is not None else urllib.request.urlopen
    try:
        with open_url(request, timeout=timeout) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ProbeError(f"GET {url}: no answer ({reason})") from exc


def path_style_url(endpoint: str, api_id: str, stage: str, path: str) -> str:
    """The sandbox server's URL of ``path`` on a stage (the path-style form
    emulator/dataplane_routes.py serves; written here so that the deployer needs no emulator)."""
    return f"{endpoint.rstrip('/')}/restapis/{api_id}/{stage}/_user_request_/{path.lstrip('/')}"


def health_url(endpoint_url: str | None, api_id: str, region: str, stage: str, path: str) -> str:
    """The URL of ``path`` (``/health``, or any route) on a stage: AWS's execute-api URL when
    ``endpoint_url`` is None, else the form the sandbox's server serves
    (``{endpoint_url}/restapis/{api}/{stage}/_user_request_/{path}``)."""
    if endpoint_url:
        return path_style_url(endpoint_url, api_id, stage, path)
    return f"https://{api_id}.execute-api.{region}.amazonaws.com/{stage}/{path.lstrip('/')}"
