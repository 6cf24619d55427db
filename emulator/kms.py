"""KMS: custom rotation periods, and signatures made and checked as AWS does.

- EnableKeyRotation's RotationPeriodInDays (2024): moto 5.2 accepts the parameter but drops it
  and never reports RotationPeriodInDays; AWS keeps it (90-2560 days, default 365) and returns
  it from GetKeyRotationStatus (``KMS_EXTENSIONS``).
- Sign and Verify (``KMS_CORRECTIONS``). moto 5.2 makes real signatures with the key's private
  key, but ignores `MessageType`: a DIGEST message (the SHA-256, -384 or -512 of the real
  message, which AWS signs as it is) is hashed a second time, so the signature checks out
  against moto alone and not against the key's public key; and its RSASSA-PSS salt is as long
  as the key allows, where AWS's is as long as the digest (a PSS signature from moto fails
  `openssl dgst -sigopt rsa_pss_saltlen:32`). Where AWS answers a signature that does not verify
  with `KMSInvalidSignatureException` (API reference, Verify), moto answers
  `SignatureValid: false`. The corrections sign a RAW message's hash or a DIGEST as it is (a
  pre-hashed message, PSS salt as long as the digest), refuse a digest of the wrong length for
  the algorithm, and raise the error on any signature that does not verify, so a signature
  checks offline with the key's public key as one from AWS does. `deployer drift --evidence DIR
  --sign-key KEY` signs its manifest's digest that way.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

from emulator.patching import _patch

_ROTATION_PERIOD_ATTR = "_deployer_rotation_period_in_days"
DEFAULT_ROTATION_PERIOD_DAYS = 365


def _kms_enable_key_rotation(self: Any) -> str:
    from moto.kms.exceptions import ValidationException

    key_id = self._get_param("KeyId")
    period = self._get_param("RotationPeriodInDays") or DEFAULT_ROTATION_PERIOD_DAYS
    if not 90 <= int(period) <= 2560:
        raise ValidationException(
            f"1 validation error detected: Value '{period}' at 'rotationPeriodInDays' failed "
            "to satisfy constraint: Member must have value between 90 and 2560"
        )
    self._validate_cmk_id(key_id)
    self.kms_backend.enable_key_rotation(key_id)
    key = self.kms_backend.keys[self.kms_backend.get_key_id(key_id)]
    setattr(key, _ROTATION_PERIOD_ATTR, int(period))
    return json.dumps(None)


def _kms_get_key_rotation_status(self: Any) -> str:
    key_id = self._get_param("KeyId")
    self._validate_cmk_id(key_id)
    key = self.kms_backend.keys[self.kms_backend.get_key_id(key_id)]
    body: dict[str, Any] = {"KeyId": key.id, "KeyRotationEnabled": key.key_rotation_status}
    if key.key_rotation_status:
        body["RotationPeriodInDays"] = getattr(
            key, _ROTATION_PERIOD_ATTR, DEFAULT_ROTATION_PERIOD_DAYS
        )
    return json.dumps(body)


def _install_rotation_periods() -> None:
    """KmsResponse's EnableKeyRotation and GetKeyRotationStatus, with the rotation period."""
    from moto.kms.responses import KmsResponse

    setattr(KmsResponse, "enable_key_rotation", _kms_enable_key_rotation)  # noqa: B010
    setattr(KmsResponse, "get_key_rotation_status", _kms_get_key_rotation_status)  # noqa: B010


# Installed once per process by `install_extensions` (plain assignments, not `_patch`es).
KMS_EXTENSIONS: tuple[Callable[[], None], ...] = (_install_rotation_periods,)

DIGEST = "DIGEST"
# RAW messages AWS signs itself, up to this many bytes (API reference, Sign: Message).
RAW_MESSAGE_LIMIT = 4096


def _hash_of(algorithm: str) -> Any:
    """The hash a signing algorithm names (`ECDSA_SHA_384` → SHA-384)."""
    from cryptography.hazmat.primitives import hashes

    for suffix, make in (("SHA_256", hashes.SHA256), ("SHA_384", hashes.SHA384)):
        if algorithm.endswith(suffix):
            return make()
    return hashes.SHA512()


def _scheme(algorithm: str, verifying: bool) -> tuple[Any, ...]:
    """The arguments after the message of cryptography's `sign`/`verify` for a digest signed
    as it is: ECDSA, RSASSA-PSS (salt as long as the digest, as AWS makes it; any length
    accepted when checking, as signatures moto made before the correction use the longest)
    or PKCS #1 v1.5."""
    from cryptography.hazmat.primitives.asymmetric import ec, padding, utils

    digest = _hash_of(algorithm)
    prehashed = utils.Prehashed(digest)
    if algorithm.startswith("ECDSA"):
        return (ec.ECDSA(prehashed),)
    if algorithm.startswith("RSASSA_PSS"):
        salt = padding.PSS.AUTO if verifying else digest.digest_size
        return (padding.PSS(mgf=padding.MGF1(digest), salt_length=salt), prehashed)
    return (padding.PKCS1v15(), prehashed)


def _handled(algorithm: str | None) -> bool:
    """ECDSA and RSA algorithms are corrected; anything else (SM2) is left to moto."""
    return bool(algorithm) and str(algorithm).startswith(("ECDSA_", "RSASSA_"))


def _key_and_digest(response: Any) -> tuple[Any, bytes]:
    """The key named by the request, checked as moto checks it, and the digest to sign or
    check: the message itself for DIGEST (its length checked against the algorithm's hash, as
    AWS refuses any other), else the message hashed (at most 4096 bytes, as AWS allows)."""
    from cryptography.hazmat.primitives import hashes
    from moto.kms.exceptions import ValidationException

    algorithm = response._get_param("SigningAlgorithm")
    message = response._get_param("Message") or b""
    key_id = response._get_param("KeyId")
    response._validate_key_id(key_id)
    key = response.kms_backend.describe_key(key_id)
    if key.key_usage != "SIGN_VERIFY":
        raise ValidationException(
            f"1 validation error detected: Value '{key.id}' at 'KeyId' failed to satisfy "
            "constraint: Member must point to a key with usage: 'SIGN_VERIFY'"
        )
    if algorithm not in (key.signing_algorithms or []):
        raise ValidationException(
            f"1 validation error detected: Value '{algorithm}' at 'SigningAlgorithm' failed to "
            f"satisfy constraint: Member must satisfy enum value set: {key.signing_algorithms}"
        )
    if response._get_param("MessageType") == DIGEST:
        if len(message) != _hash_of(algorithm).digest_size:
            raise ValidationException(f"Digest is invalid length for algorithm {algorithm}.")
        return key, message
    if not 1 <= len(message) <= RAW_MESSAGE_LIMIT:
        raise ValidationException(
            "1 validation error detected: Value at 'Message' failed to satisfy constraint: "
            f"Member must have length between 1 and {RAW_MESSAGE_LIMIT}"
        )
    hasher = hashes.Hash(_hash_of(algorithm))
    hasher.update(message)
    return key, hasher.finalize()


def _sign_as_aws(original: Any) -> Any:
    def sign(self: Any) -> Any:
        algorithm = self._get_param("SigningAlgorithm")
        if not _handled(algorithm):
            return original(self)
        key, digest = _key_and_digest(self)
        signature = key.private_key.private_key.sign(digest, *_scheme(algorithm, False))
        return json.dumps(
            {
                "KeyId": key.arn,
                "Signature": base64.b64encode(signature).decode(),
                "SigningAlgorithm": algorithm,
            }
        )

    return sign


def _verify_as_aws(original: Any) -> Any:
    def verify(self: Any) -> Any:
        from cryptography.exceptions import InvalidSignature
        from moto.core.exceptions import JsonRESTError

        algorithm = self._get_param("SigningAlgorithm")
        if _handled(algorithm):
            key, digest = _key_and_digest(self)
            signature = base64.b64decode(self._get_param("Signature") or "")
            public = key.private_key.private_key.public_key()
            try:
                public.verify(signature, digest, *_scheme(algorithm, True))
                valid = True
            except InvalidSignature:
                valid = False
            body = json.dumps(
                {"KeyId": key.arn, "SignatureValid": valid, "SigningAlgorithm": algorithm}
            )
        else:
            body = original(self)
            valid = json.loads(body).get("SignatureValid") is True
        if not valid:
            raise JsonRESTError(
                "KMSInvalidSignatureException",
                "The signature verification failed: the signature was not produced by signing "
                "the message with this key and signing algorithm.",
            )
        return body

    return verify


def _install_signatures() -> None:
    from moto.kms.responses import KmsResponse

    _patch(KmsResponse, "sign", "signatures-as-aws", _sign_as_aws)
    _patch(KmsResponse, "verify", "signatures-as-aws", _verify_as_aws)


KMS_CORRECTIONS: tuple[Callable[[], None], ...] = (_install_signatures,)
