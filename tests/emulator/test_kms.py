"""KMS (emulator/kms.py): EnableKeyRotation's custom rotation period, kept and reported; Sign
and Verify of a digest, and a signature that does not verify refused, as AWS does."""

from __future__ import annotations

import hashlib
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError


def test_kms_rotation_period_is_kept_and_reported(aws: None) -> None:
    kms = boto3.client("kms", region_name="us-east-1")
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    assert "RotationPeriodInDays" not in kms.get_key_rotation_status(KeyId=key_id)
    kms.enable_key_rotation(KeyId=key_id, RotationPeriodInDays=180)
    status = kms.get_key_rotation_status(KeyId=key_id)
    assert (status["KeyRotationEnabled"], status["RotationPeriodInDays"]) == (True, 180)
    kms.enable_key_rotation(KeyId=key_id)
    assert kms.get_key_rotation_status(KeyId=key_id)["RotationPeriodInDays"] == 365
    kms.disable_key_rotation(KeyId=key_id)
    assert "RotationPeriodInDays" not in kms.get_key_rotation_status(KeyId=key_id)


# --- Sign and Verify --------------------------------------------------------------------------

MESSAGE = b'{"files": [{"name": "report.json"}]}\n'
# (key spec, signing algorithm, hash) as AWS pairs them.
SIGNERS = [
    ("ECC_NIST_P256", "ECDSA_SHA_256", "sha256"),
    ("ECC_NIST_P384", "ECDSA_SHA_384", "sha384"),
    ("RSA_2048", "RSASSA_PSS_SHA_256", "sha256"),
    ("RSA_2048", "RSASSA_PKCS1_V1_5_SHA_512", "sha512"),
]


def offline_check(public_der: bytes, signature: bytes, message: bytes, algorithm: str) -> bool:
    """What an auditor without AWS does with the key's public key (`GetPublicKey`): the
    signature of a digest is the signature of the message it is the digest of."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, padding

    public: Any = serialization.load_der_public_key(public_der)
    digest = {"256": hashes.SHA256(), "384": hashes.SHA384(), "512": hashes.SHA512()}[
        algorithm[-3:]
    ]
    try:
        if algorithm.startswith("ECDSA"):
            public.verify(signature, message, ec.ECDSA(digest))
        elif algorithm.startswith("RSASSA_PSS"):
            pss = padding.PSS(mgf=padding.MGF1(digest), salt_length=digest.digest_size)
            public.verify(signature, message, pss, digest)
        else:
            public.verify(signature, message, padding.PKCS1v15(), digest)
    except InvalidSignature:
        return False
    return True


@pytest.mark.parametrize(("key_spec", "algorithm", "hash_name"), SIGNERS)
def test_a_digest_is_signed_as_it_is(
    aws: None, key_spec: str, algorithm: str, hash_name: str
) -> None:
    kms = boto3.client("kms", region_name="us-east-1")
    key = kms.create_key(KeySpec=key_spec, KeyUsage="SIGN_VERIFY")["KeyMetadata"]["Arn"]
    digest = hashlib.new(hash_name, MESSAGE).digest()
    signed = kms.sign(KeyId=key, Message=digest, MessageType="DIGEST", SigningAlgorithm=algorithm)
    assert (signed["KeyId"], signed["SigningAlgorithm"]) == (key, algorithm)
    public = kms.get_public_key(KeyId=key)["PublicKey"]
    assert offline_check(public, signed["Signature"], MESSAGE, algorithm)
    assert not offline_check(public, signed["Signature"], MESSAGE + b" ", algorithm)
    for message, message_type in ((digest, "DIGEST"), (MESSAGE, "RAW")):
        answer = kms.verify(
            KeyId=key,
            Message=message,
            MessageType=message_type,
            Signature=signed["Signature"],
            SigningAlgorithm=algorithm,
        )
        assert answer["SignatureValid"] is True, message_type
    raw = kms.sign(KeyId=key, Message=MESSAGE, MessageType="RAW", SigningAlgorithm=algorithm)
    assert offline_check(public, raw["Signature"], MESSAGE, algorithm)
    assert kms.verify(
        KeyId=key,
        Message=digest,
        MessageType="DIGEST",
        Signature=raw["Signature"],
        SigningAlgorithm=algorithm,
    )["SignatureValid"]


@pytest.mark.parametrize("message_type", ["RAW", "DIGEST"])
def test_a_signature_that_does_not_verify_is_an_error(aws: None, message_type: str) -> None:
    """AWS answers KMSInvalidSignatureException, never `SignatureValid: false`."""
    kms = boto3.client("kms", region_name="us-east-1")
    key = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["Arn"]

    def message(text: bytes) -> bytes:
        return hashlib.sha256(text).digest() if message_type == "DIGEST" else text

    common = {"KeyId": key, "MessageType": message_type, "SigningAlgorithm": "ECDSA_SHA_256"}
    signature = kms.sign(Message=message(MESSAGE), **common)["Signature"]
    spoiled = bytes([signature[0]]) + bytes([signature[1] ^ 1]) + signature[2:]
    for text, sig in ((MESSAGE.replace(b"report", b"rePort"), signature), (MESSAGE, spoiled)):
        with pytest.raises(ClientError) as caught:
            kms.verify(Message=message(text), Signature=sig, **common)
        assert caught.value.response["Error"]["Code"] == "KMSInvalidSignatureException"
    assert kms.verify(Message=message(MESSAGE), Signature=signature, **common)["SignatureValid"]


def test_a_digest_of_the_wrong_length_or_key_is_refused(aws: None) -> None:
    kms = boto3.client("kms", region_name="us-east-1")
    key = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["Arn"]
    symmetric = kms.create_key()["KeyMetadata"]["Arn"]
    too_long = hashlib.sha512(MESSAGE).digest()
    for key_id, digest in ((key, too_long), (symmetric, hashlib.sha256(MESSAGE).digest())):
        with pytest.raises(ClientError) as caught:
            kms.sign(
                KeyId=key_id, Message=digest, MessageType="DIGEST", SigningAlgorithm="ECDSA_SHA_256"
            )
        assert caught.value.response["Error"]["Code"] == "ValidationException"


def test_the_signature_corrections_apply_once(aws: None) -> None:
    from moto.kms.responses import KmsResponse

    from emulator.kms import KMS_CORRECTIONS

    for correct in KMS_CORRECTIONS:  # applying a correction again changes nothing
        correct()
    for method in (KmsResponse.sign, KmsResponse.verify):
        assert method._deployer_patches == {"signatures-as-aws"}  # type: ignore[attr-defined]
