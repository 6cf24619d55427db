"""API Gateway, and ACM with it: custom domains, their certificates, integration timeouts.

moto 5.2 has no UpdateDomainName, deletes a certificate a custom domain still uses (ACM refuses),
reports no timeout for an integration created without one, and reads UpdateRestApi's
``disableExecuteApiEndpoint`` "false" as true (``APIGATEWAY_CORRECTIONS``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from emulator.patching import _patch

# --- API Gateway and ACM: a custom domain and its certificate ----------------------------------
# moto 5.2 has no UpdateDomainName (AWS replaces the domain's fields by patch operations, the
# certificate among them), and deletes a certificate that a custom domain still uses, which
# ACM refuses (ResourceInUseException): the order of a certificate replacement matters on AWS.


def _camel_to_snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _update_domain_name(self: Any) -> str:
    from urllib.parse import unquote

    from moto.apigateway.exceptions import BadRequestException

    domain = self.backend.get_domain_name(unquote(self.path.split("/")[2]))
    for operation in self._get_param("patchOperations") or []:
        attribute = _camel_to_snake(str(operation.get("path", "")).strip("/"))
        if operation.get("op") != "replace" or not hasattr(domain, attribute):
            raise BadRequestException(f"Invalid patch operation {operation}")
        setattr(domain, attribute, operation.get("value"))
    return json.dumps(domain.to_json())


def _refuse_certificate_in_use(original: Any) -> Any:
    def delete_certificate(self: Any, arn: str) -> None:
        from moto.acm.exceptions import AWSError
        from moto.apigateway.models import apigateway_backends

        class ResourceInUse(AWSError):
            TYPE = "ResourceInUseException"

        domains = apigateway_backends[self.account_id][self.region_name].domain_names.values()
        users = [
            d.domain_name for d in domains if arn in (d.certificate_arn, d.regional_certificate_arn)
        ]
        if users:
            raise ResourceInUse(message=f"Certificate {arn} is in use by {', '.join(users)}")
        original(self, arn)

    return delete_certificate


def _install_domain_certificates() -> None:
    from moto.acm.models import AWSCertificateManagerBackend
    from moto.apigateway.responses import APIGatewayResponse

    if not hasattr(APIGatewayResponse, "update_domain_name"):
        setattr(APIGatewayResponse, "update_domain_name", _update_domain_name)  # noqa: B010
    _patch(AWSCertificateManagerBackend, "delete_certificate", "in-use", _refuse_certificate_in_use)


# --- API Gateway: an integration's default timeout ---------------------------------------------
# AWS reports `timeoutInMillis` 29000 for an integration created without one ("The default value
# is 29,000 milliseconds or 29 seconds": API Gateway REST API reference, Integration,
# timeoutInMillis); moto reports none, which Terraform reads as 0 and then plans to change.
DEFAULT_INTEGRATION_TIMEOUT_MS = 29000


def _integration_default_timeout(original: Any) -> Any:
    def __init__(self: Any, *args: Any, **kw: Any) -> None:
        original(self, *args, **kw)
        if self.timeout_in_millis in (None, ""):
            self.timeout_in_millis = DEFAULT_INTEGRATION_TIMEOUT_MS

    return __init__


def _install_integration_default_timeout() -> None:
    from moto.apigateway.models import Integration

    _patch(Integration, "__init__", "default-timeout", _integration_default_timeout)


# --- API Gateway: disabling the default endpoint by UpdateRestApi -------------------------------
# A patch operation's value is a string: `replace /disableExecuteApiEndpoint "false"` enables the
# default endpoint again (API Gateway REST API reference, RestApi, disableExecuteApiEndpoint).
# moto stores bool("false"), which is True; the data plane (emulator.dataplane) reads it.


def _execute_api_endpoint_flag(original: Any) -> Any:
    def apply_patch_operations(self: Any, patch_operations: list[dict[str, Any]]) -> None:
        original(self, patch_operations)
        for operation in patch_operations:
            value = operation.get("value")
            if operation.get("path") == "/disableExecuteApiEndpoint" and isinstance(value, str):
                self.disableExecuteApiEndpoint = value.strip().lower() == "true"

    return apply_patch_operations


def _install_execute_api_endpoint_flag() -> None:
    from moto.apigateway.models import RestAPI

    _patch(RestAPI, "apply_patch_operations", "endpoint-flag", _execute_api_endpoint_flag)


APIGATEWAY_CORRECTIONS: tuple[Callable[[], None], ...] = (
    _install_domain_certificates,
    _install_integration_default_timeout,
    _install_execute_api_endpoint_flag,
)
