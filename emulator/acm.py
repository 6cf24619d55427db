"""ACM: a requested certificate's key algorithm.

RequestCertificate takes `KeyAlgorithm` (RSA_2048, EC_prime256v1, EC_secp384r1; default
RSA_2048: ACM API reference, RequestCertificate) and DescribeCertificate reports it. moto 5.2
drops the parameter and always reports the RSA 2048 key it generates, so a certificate asked
for with an EC key reads back as something else, and a plan right after apply would want to
replace it (``ACM_CORRECTIONS``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from emulator.patching import _patch

_KEY_ALGORITHM_ATTR = "_deployer_key_algorithm"


def _keep_key_algorithm(original: Any) -> Any:
    def request_certificate(self: Any) -> Any:
        answer = original(self)
        algorithm = self._get_param("KeyAlgorithm")
        body = answer[0] if isinstance(answer, tuple) else answer
        arn = json.loads(body).get("CertificateArn") if isinstance(body, str) else None
        if algorithm and arn:
            setattr(self.acm_backend.get_certificate(arn), _KEY_ALGORITHM_ATTR, algorithm)
        return answer

    return request_certificate


def _report_key_algorithm(original: Any) -> Any:
    def describe(self: Any) -> dict[str, Any]:
        result: dict[str, Any] = original(self)
        algorithm = getattr(self, _KEY_ALGORITHM_ATTR, None)
        if algorithm:
            result["Certificate"]["KeyAlgorithm"] = algorithm
        return result

    return describe


def _install_key_algorithm() -> None:
    from moto.acm.models import CertBundle
    from moto.acm.responses import AWSCertificateManagerResponse

    _patch(
        AWSCertificateManagerResponse, "request_certificate", "key-algorithm", _keep_key_algorithm
    )
    _patch(CertBundle, "describe", "key-algorithm", _report_key_algorithm)


ACM_CORRECTIONS: tuple[Callable[[], None], ...] = (_install_key_algorithm,)
