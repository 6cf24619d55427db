"""Evidence of a drift run that an auditor can check later: `drift --evidence DIR [--sign-key
KEY]` and `verify-evidence DIR`.

A report pasted into an audit ticket proves nothing: anyone can edit it. The evidence
directory holds the report (JSON and markdown, the renderers of `drift --format`), what it was
compared against (SHA-256 of the spec file and of each state as drift read it), when (UTC) and
as whom (STS GetCallerIdentity), and a manifest of every file's SHA-256. With a signing key the
manifest is signed by KMS (an asymmetric SIGN_VERIFY key: its private half never leaves KMS, so
whoever can edit the files still cannot re-sign them with that key), and the signature and the
key's ARN lie beside it. `verify-evidence` recomputes every digest, checks that the manifest
lists every file and nothing else, and has KMS `Verify` the signature.

Everything is made in memory and signed before a byte is written, then the directory appears
whole (a rename): an error leaves no half-written evidence. The key and the directory are
checked before drift runs, so a wrong key costs no drift run. Signing is a cryptographic
operation, not a change to the environment; it runs after drift's own no-write check, so that
check still covers every call drift makes.

The signature is of the manifest's digest (`MessageType` DIGEST, the hash the algorithm names),
so it also checks offline with the key's public key (`aws kms get-public-key`) and openssl, as
docs/drift.md shows.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from deployer.arns import parse_arn
from deployer.aws import Clients, error_code
from deployer.backends import Backend
from deployer.errors import DeployerError, NotFound

FORMAT_VERSION = 1
REPORT_JSON = "report.json"
REPORT_MARKDOWN = "report.md"
CONTEXT = "evidence.json"
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
SIGNATURE_INFO = "signature.json"
# Beside the manifest, never in it: the manifest cannot hold its own digest or its signature's.
UNLISTED = (MANIFEST, SIGNATURE, SIGNATURE_INFO)
MESSAGE_TYPE = "DIGEST"
# The algorithms we sign with, preferred first; a key offers those of its key spec (one ECDSA
# per curve; the RSA specs all six). SM2 and ML-DSA keys are refused: openssl and auditors'
# tools check ECDSA and RSA signatures everywhere.
SIGNING_ALGORITHMS = (
    "ECDSA_SHA_256",
    "ECDSA_SHA_384",
    "ECDSA_SHA_512",
    "RSASSA_PSS_SHA_256",
    "RSASSA_PSS_SHA_384",
    "RSASSA_PSS_SHA_512",
    "RSASSA_PKCS1_V1_5_SHA_256",
    "RSASSA_PKCS1_V1_5_SHA_384",
    "RSASSA_PKCS1_V1_5_SHA_512",
)


class EvidenceError(DeployerError):
    """Evidence that cannot be made, or that does not verify (the message names the file)."""


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def digest_for(algorithm: str, data: bytes) -> bytes:
    """What KMS signs for `algorithm` with MessageType DIGEST: the hash the algorithm names."""
    return hashlib.new("sha" + algorithm.rsplit("_", 1)[-1], data).digest()


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _dump(doc: Any) -> bytes:
    return (json.dumps(doc, indent=2, sort_keys=True) + "\n").encode()


def _region_of(key: str, default: str) -> str:
    arn = parse_arn(key)
    return arn.region if arn is not None and arn.region else default


# --- signing -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Signer:
    """An asymmetric KMS key fit to sign, and the algorithm chosen for it."""

    key_arn: str
    region: str
    algorithm: str
    kms: Any

    def sign(self, message: bytes) -> bytes:
        answer = self.kms.sign(
            KeyId=self.key_arn,
            Message=digest_for(self.algorithm, message),
            MessageType=MESSAGE_TYPE,
            SigningAlgorithm=self.algorithm,
        )
        signature: bytes = answer["Signature"]
        return signature

    def info(self) -> dict[str, str]:
        return {
            "key_id": self.key_arn,
            "region": self.region,
            "signing_algorithm": self.algorithm,
            "message_type": MESSAGE_TYPE,
            "signed_file": MANIFEST,
        }


def describe_key(clients: Clients, key: str, region: str, flag: str) -> dict[str, Any]:
    try:
        meta: dict[str, Any] = clients("kms", region).describe_key(KeyId=key)["KeyMetadata"]
    except NotFound:
        raise EvidenceError(f"{flag} {key}: no such KMS key in {region}") from None
    return meta


def signer_for(clients: Clients, key: str, default_region: str) -> Signer:
    """The key checked for signing (an enabled asymmetric SIGN_VERIFY key), before anything
    runs: a symmetric key cannot sign, and a signature nobody can check offline is weak."""
    region = _region_of(key, default_region)
    meta = describe_key(clients, key, region, "--sign-key")
    spec = meta.get("KeySpec", "?")
    if meta.get("KeyUsage") != "SIGN_VERIFY":
        usage = meta.get("KeyUsage") or "ENCRYPT_DECRYPT"  # what AWS defaults it to
        raise EvidenceError(
            f"--sign-key {key}: {meta['Arn']} is a {spec} key for {usage}, not a SIGN_VERIFY "
            "one; evidence is signed with an asymmetric SIGN_VERIFY key (for example KeySpec "
            "ECC_NIST_P256 or RSA_2048)"
        )
    if meta.get("KeyState", "Enabled") != "Enabled":
        raise EvidenceError(f"--sign-key {key}: {meta['Arn']} is {meta.get('KeyState')}")
    offered = meta.get("SigningAlgorithms") or []
    algorithm = next((a for a in SIGNING_ALGORITHMS if a in offered), None)
    if algorithm is None:
        raise EvidenceError(
            f"--sign-key {key}: a {spec} key signs with {offered}; evidence uses ECDSA or RSA "
            "(an ECC_NIST_* or RSA_* key)"
        )
    return Signer(meta["Arn"], region, algorithm, clients("kms", region))


# --- making evidence -----------------------------------------------------------------------


class RecordingBackend:
    """A state backend that keeps the bytes of every state it reads, so the evidence gives the
    digest of exactly what drift compared against (not of a file read again later)."""

    def __init__(self, inner: Backend) -> None:
        self.inner = inner
        self.seen: dict[str, bytes | None] = {}

    def describe(self, workspace: str) -> str:
        return self.inner.describe(workspace)

    def read(self, workspace: str) -> bytes | None:
        data = self.inner.read(workspace)
        self.seen[workspace] = data
        return data

    def write(self, workspace: str, data: bytes) -> None:
        self.inner.write(workspace, data)

    def lock(self, workspace: str, operation: str) -> AbstractContextManager[Any]:
        lock: AbstractContextManager[Any] = self.inner.lock(workspace, operation)
        return lock

    def force_unlock(self, workspace: str) -> bool:
        return self.inner.force_unlock(workspace)


def check_directory(directory: Path) -> None:
    """Evidence goes into a new (or empty) directory: files of an older run would mix in."""
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise EvidenceError(
            f"--evidence {directory}: exists and is not an empty directory; evidence goes "
            "into a new one"
        )


@dataclass
class Evidence:
    """One drift run's evidence: prepared (and checked) before drift, written after it."""

    directory: Path
    spec_path: Path
    spec_bytes: bytes
    backend: RecordingBackend
    caller: dict[str, str]
    endpoint_url: str | None
    signer: Signer | None = None
    started_at: str = field(default_factory=utc_now)

    @classmethod
    def prepare(
        cls,
        directory: Path,
        sign_key: str | None,
        *,
        clients: Clients,
        backend: Backend,
        spec_path: Path,
        region: str,
        endpoint_url: str | None,
    ) -> Evidence:
        """Check the directory and the key and ask STS who we are, before drift runs; `region`
        is where an alias or key id is looked up (the primary's)."""
        check_directory(directory)
        signer = signer_for(clients, sign_key, region) if sign_key else None
        who = clients("sts", region).get_caller_identity()
        return cls(
            directory,
            spec_path,
            spec_path.read_bytes(),
            RecordingBackend(backend),
            {"account": who["Account"], "arn": who["Arn"]},
            endpoint_url,
            signer,
        )

    def files(self, report_json: str, report_markdown: str, has_drift: bool) -> dict[str, bytes]:
        """The evidence's files, by name, but the manifest and the signature."""
        states = [
            {
                "workspace": ws,
                "location": self.backend.describe(ws),
                "sha256": None if data is None else sha256(data),
                "bytes": None if data is None else len(data),
            }
            for ws, data in sorted(self.backend.seen.items())
        ]
        context = {
            "format_version": FORMAT_VERSION,
            "command": "drift",
            "started_at": self.started_at,
            "finished_at": utc_now(),
            "caller": self.caller,
            "endpoint_url": self.endpoint_url,
            "spec": {
                "path": str(self.spec_path),
                "sha256": sha256(self.spec_bytes),
                "bytes": len(self.spec_bytes),
            },
            "states": states,
            "has_drift": has_drift,
            "report": {"json": REPORT_JSON, "markdown": REPORT_MARKDOWN},
            "signing": self.signer.info() if self.signer else None,
        }
        return {
            REPORT_JSON: (report_json + "\n").encode(),
            REPORT_MARKDOWN: (report_markdown + "\n").encode(),
            CONTEXT: _dump(context),
        }

    def write(self, report_json: str, report_markdown: str, has_drift: bool) -> str:
        """Make, sign and write the evidence; what was written, in words."""
        files = self.files(report_json, report_markdown, has_drift)
        manifest = manifest_of(files)
        files[MANIFEST] = manifest
        if self.signer is not None:
            files[SIGNATURE] = self.signer.sign(manifest)
            files[SIGNATURE_INFO] = _dump(self.signer.info())
        write_directory(self.directory, files)
        signed = (
            f"manifest signed by {self.signer.key_arn} ({self.signer.algorithm})"
            if self.signer
            else "manifest not signed"
        )
        return f"{self.directory} ({len(files)} files; {signed})"


def manifest_of(files: dict[str, bytes]) -> bytes:
    return _dump(
        {
            "format_version": FORMAT_VERSION,
            "hash": "SHA-256",
            "files": [
                {"name": name, "sha256": sha256(data), "bytes": len(data)}
                for name, data in sorted(files.items())
            ],
        }
    )


def write_directory(directory: Path, files: dict[str, bytes]) -> None:
    """All files at once: written into a temporary sibling, then renamed into place (a rename
    onto an empty directory replaces it)."""
    check_directory(directory)
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", dir=directory.parent))
    try:
        for name, data in files.items():
            (staging / name).write_bytes(data)
        os.replace(staging, directory)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


# --- verifying -----------------------------------------------------------------------------


def verify_evidence(
    directory: Path, clients: Clients, expected_key: str | None = None
) -> Iterator[str]:
    """Yield one line per check that holds; raise EvidenceError naming the first that fails."""
    if not directory.is_dir():
        raise EvidenceError(f"{directory}: no such directory")
    listed = _read_manifest(directory)
    for entry in listed:
        name = entry["name"]
        path = directory / name
        if not path.is_file():
            raise EvidenceError(f"{name}: listed in the manifest but missing")
        actual = sha256(path.read_bytes())
        if actual != entry["sha256"]:
            raise EvidenceError(
                f"{name}: SHA-256 {actual} differs from the manifest's {entry['sha256']}: the "
                "file was changed"
            )
        yield f"ok  {name}  sha256 {actual}"
    names = {e["name"] for e in listed}
    present = sorted(
        p.relative_to(directory).as_posix() for p in directory.rglob("*") if not p.is_dir()
    )
    extra = [n for n in present if n not in names and n not in UNLISTED]
    if extra:
        raise EvidenceError(f"{extra[0]}: in the directory but not in the manifest")
    yield f"ok  the manifest lists every file ({len(names)}) and nothing else"
    yield from _verify_signature(directory, clients, expected_key)


def _read_manifest(directory: Path) -> list[dict[str, Any]]:
    path = directory / MANIFEST
    if not path.is_file():
        raise EvidenceError(f"{MANIFEST}: missing")
    try:
        doc = json.loads(path.read_bytes())
        listed = doc["files"]
        entries = [{"name": str(e["name"]), "sha256": str(e["sha256"])} for e in listed]
    except (ValueError, KeyError, TypeError) as exc:
        raise EvidenceError(f"{MANIFEST}: not a manifest ({exc})") from None
    for entry in entries:
        name = entry["name"]
        if name in UNLISTED or name.startswith("/") or ".." in Path(name).parts:
            raise EvidenceError(f"{MANIFEST}: lists {name!r}, which it cannot vouch for")
    return entries


def _verify_signature(directory: Path, clients: Clients, expected_key: str | None) -> Iterator[str]:
    have = [n for n in (SIGNATURE, SIGNATURE_INFO) if (directory / n).is_file()]
    if not have:
        if expected_key:
            raise EvidenceError(f"{SIGNATURE}: missing, yet --key {expected_key} was asked for")
        yield "--  not signed: the digests show the files agree with the manifest, not who made it"
        return
    if len(have) == 1:
        missing = SIGNATURE_INFO if have == [SIGNATURE] else SIGNATURE
        raise EvidenceError(f"{missing}: missing beside {have[0]}")
    try:
        info = json.loads((directory / SIGNATURE_INFO).read_bytes())
        key_arn, algorithm = str(info["key_id"]), str(info["signing_algorithm"])
    except (ValueError, KeyError, TypeError) as exc:
        raise EvidenceError(f"{SIGNATURE_INFO}: unreadable ({exc})") from None
    if algorithm not in SIGNING_ALGORITHMS:
        raise EvidenceError(f"{SIGNATURE_INFO}: unknown signing algorithm {algorithm!r}")
    region = _region_of(key_arn, "us-east-1")
    context = _signing_in_context(directory)
    if context is not None and context.get("key_id") != key_arn:
        raise EvidenceError(
            f"{SIGNATURE_INFO}: names key {key_arn}, but {CONTEXT} says the evidence was "
            f"signed by {context.get('key_id')}"
        )
    if expected_key:
        wanted = describe_key(clients, expected_key, _region_of(expected_key, region), "--key")
        if wanted["Arn"] != key_arn:
            raise EvidenceError(
                f"{SIGNATURE}: signed by {key_arn}, not by the key asked for ({wanted['Arn']})"
            )
    manifest = (directory / MANIFEST).read_bytes()
    try:
        answer = clients("kms", region).verify(
            KeyId=key_arn,
            Message=digest_for(algorithm, manifest),
            MessageType=MESSAGE_TYPE,
            Signature=(directory / SIGNATURE).read_bytes(),
            SigningAlgorithm=algorithm,
        )
        valid = answer.get("SignatureValid") is True
    except NotFound:
        raise EvidenceError(
            f"{SIGNATURE_INFO}: names key {key_arn}, which KMS in {region} does not know"
        ) from None
    except ClientError as exc:
        if error_code(exc) != "KMSInvalidSignatureException":
            raise
        valid = False
    if not valid:
        raise EvidenceError(
            f"{SIGNATURE}: the signature of {MANIFEST} does not verify with {key_arn} "
            f"({algorithm}): the manifest was changed or signed by another key"
        )
    yield f"ok  {SIGNATURE}  signed by {key_arn} ({algorithm}), KMS Verify: valid"


def _signing_in_context(directory: Path) -> dict[str, Any] | None:
    """The signing the (digest-checked) evidence.json records, if it is there."""
    path = directory / CONTEXT
    if not path.is_file():
        return None
    try:
        signing = json.loads(path.read_bytes()).get("signing")
    except (ValueError, AttributeError):
        return None
    return signing if isinstance(signing, dict) else None
