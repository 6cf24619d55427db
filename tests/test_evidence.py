"""`drift --evidence DIR [--sign-key KEY]` and `verify-evidence DIR` (deployer/evidence.py),
through the CLI in-process against moto (with the emulator's KMS signature corrections)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from deployer import cli
from deployer.aws import is_read_operation
from tests.conftest import REPO, Deployment

SPEC = REPO / "spec.yaml"
EXPECTED_FILES = {
    "report.json",
    "report.md",
    "evidence.json",
    "manifest.json",
    "manifest.sig",
    "signature.json",
}


def run(state_dir: Path, *args: str) -> int:
    return cli.main(["--spec", str(SPEC), "--state-dir", str(state_dir), *args])


def asymmetric_key(alias: str, key_spec: str = "ECC_NIST_P256") -> str:
    kms = boto3.client("kms", region_name="us-east-1")
    arn: str = kms.create_key(KeySpec=key_spec, KeyUsage="SIGN_VERIFY")["KeyMetadata"]["Arn"]
    kms.create_alias(AliasName=alias, TargetKeyId=arn)
    return arn


@pytest.fixture
def applied(deployment: Deployment) -> Path:
    """A state directory with the primary's payments bucket applied: drift has something to
    compare, and the rest of the graph is pending (not drift)."""
    deployment.apply("primary:aws_s3_bucket.payments")
    return deployment.state_dir


def drift_with_evidence(state_dir: Path, directory: Path, capsys: Any, *extra: str) -> str:
    code = run(
        state_dir, "drift", "--region", "primary", "--format", "json", "--evidence",
        str(directory), *extra,
    )  # fmt: skip
    out = capsys.readouterr()
    assert code == 0, out.err[-2000:]
    assert "Evidence written to" in out.err
    return out.out


def verify(state_dir: Path, directory: Path, capsys: Any, *extra: str) -> tuple[int, str, str]:
    code = run(state_dir, "verify-evidence", str(directory), *extra)
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize("key_spec", ["ECC_NIST_P256", "RSA_2048"])
def test_signed_evidence_holds_the_report_its_inputs_and_verifies(
    applied: Path, tmp_path: Path, capsys: Any, key_spec: str
) -> None:
    key_arn = asymmetric_key("alias/drift-evidence", key_spec)
    directory = tmp_path / "evidence"
    printed = drift_with_evidence(applied, directory, capsys, "--sign-key", "alias/drift-evidence")

    assert {p.name for p in directory.iterdir()} == EXPECTED_FILES
    # The report is the one drift printed (the same renderer), not another run's.
    assert (directory / "report.json").read_text() == printed
    report = json.loads(printed)
    # Signing and the key's look-up ran apart from drift, which only read.
    assert all(is_read_operation(op.split(":")[1]) for op in report["api_calls_by_operation"])
    assert not {"kms:Sign", "kms:DescribeKey"} & set(report["api_calls_by_operation"])
    assert (directory / "report.md").read_text().startswith("## Drift report")
    context = json.loads((directory / "evidence.json").read_text())
    assert context["spec"]["sha256"] == hashlib.sha256(SPEC.read_bytes()).hexdigest()
    states = {s["workspace"]: s for s in context["states"]}
    primary_state = (applied / "primary.tfstate.json").read_bytes()
    assert states["primary"]["sha256"] == hashlib.sha256(primary_state).hexdigest()
    assert states["secondary"]["sha256"] is None  # nothing applied there
    who = boto3.client("sts", region_name="us-east-1").get_caller_identity()
    assert context["caller"] == {"account": who["Account"], "arn": who["Arn"]}
    assert context["has_drift"] is report["has_drift"] is False
    assert context["started_at"] <= context["finished_at"]
    assert context["started_at"].endswith("Z")
    manifest = json.loads((directory / "manifest.json").read_text())
    assert {f["name"]: f["sha256"] for f in manifest["files"]} == {
        name: hashlib.sha256((directory / name).read_bytes()).hexdigest()
        for name in ("report.json", "report.md", "evidence.json")
    }
    signature = json.loads((directory / "signature.json").read_text())
    assert signature["key_id"] == context["signing"]["key_id"] == key_arn

    code, out, err = verify(applied, directory, capsys)
    assert code == 0, err
    for name in ("report.json", "report.md", "evidence.json"):
        assert f"ok  {name}" in out
    assert f"signed by {key_arn}" in out
    assert run(applied, "verify-evidence", str(directory), "--key", "alias/drift-evidence") == 0


def test_the_signature_checks_offline_with_the_public_key(
    applied: Path, tmp_path: Path, capsys: Any
) -> None:
    """What an auditor without AWS credentials does: the key's public key and the manifest."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key_arn = asymmetric_key("alias/drift-evidence")
    directory = tmp_path / "evidence"
    drift_with_evidence(applied, directory, capsys, "--sign-key", key_arn)
    der = boto3.client("kms", region_name="us-east-1").get_public_key(KeyId=key_arn)["PublicKey"]
    public: Any = serialization.load_der_public_key(der)
    manifest = (directory / "manifest.json").read_bytes()
    signature = (directory / "manifest.sig").read_bytes()
    public.verify(signature, manifest, ec.ECDSA(hashes.SHA256()))
    with pytest.raises(InvalidSignature):
        public.verify(signature, manifest + b" ", ec.ECDSA(hashes.SHA256()))


@pytest.fixture
def evidence(applied: Path, tmp_path: Path, capsys: Any) -> Path:
    asymmetric_key("alias/drift-evidence")
    directory = tmp_path / "evidence"
    drift_with_evidence(applied, directory, capsys, "--sign-key", "alias/drift-evidence")
    code, _, err = verify(applied, directory, capsys)
    assert code == 0, err  # each test below spoils evidence that verified
    return directory


def flip_one_byte(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("name", ["report.json", "report.md", "evidence.json"])
def test_one_changed_byte_fails_naming_the_file(
    applied: Path, evidence: Path, capsys: Any, name: str
) -> None:
    flip_one_byte(evidence / name, len((evidence / name).read_bytes()) // 2)
    code, _, err = verify(applied, evidence, capsys)
    assert code == 1
    assert f"Error: {name}:" in err
    assert "differs from the manifest" in err


def test_a_changed_report_with_its_manifest_rewritten_fails_on_the_signature(
    applied: Path, evidence: Path, capsys: Any
) -> None:
    """Digests alone are no proof: whoever edits the report can fix the manifest; only the
    signature, which needs the private key in KMS, catches it."""
    report = evidence / "report.json"
    report.write_text(report.read_text().replace('"has_drift": false', '"has_drift": true '))
    manifest = json.loads((evidence / "manifest.json").read_text())
    for entry in manifest["files"]:
        data = (evidence / entry["name"]).read_bytes()
        entry["sha256"], entry["bytes"] = hashlib.sha256(data).hexdigest(), len(data)
    (evidence / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    code, out, err = verify(applied, evidence, capsys)
    assert code == 1
    assert "ok  report.json" in out  # the digests now agree...
    assert "Error: manifest.sig: the signature of manifest.json does not verify" in err


@pytest.mark.parametrize("extra", ["notes.txt", "sub/report.json", ".hidden"])
def test_a_file_the_manifest_does_not_list_fails(
    applied: Path, evidence: Path, capsys: Any, extra: str
) -> None:
    (evidence / extra).parent.mkdir(exist_ok=True)
    (evidence / extra).write_text("added later\n")
    code, _, err = verify(applied, evidence, capsys)
    assert code == 1
    assert f"Error: {extra}: in the directory but not in the manifest" in err


def test_a_listed_file_that_is_gone_fails(applied: Path, evidence: Path, capsys: Any) -> None:
    (evidence / "report.md").unlink()
    code, _, err = verify(applied, evidence, capsys)
    assert code == 1
    assert "Error: report.md: listed in the manifest but missing" in err


def test_a_signature_by_another_key_fails(applied: Path, evidence: Path, capsys: Any) -> None:
    other = asymmetric_key("alias/someone-else")
    kms = boto3.client("kms", region_name="us-east-1")
    digest = hashlib.sha256((evidence / "manifest.json").read_bytes()).digest()
    forged = kms.sign(
        KeyId=other, Message=digest, MessageType="DIGEST", SigningAlgorithm="ECDSA_SHA_256"
    )["Signature"]
    (evidence / "manifest.sig").write_bytes(forged)
    code, _, err = verify(applied, evidence, capsys)
    assert code == 1
    assert "Error: manifest.sig: the signature of manifest.json does not verify" in err

    # Naming the other key beside its signature: evidence.json (digest-checked) disagrees.
    info = json.loads((evidence / "signature.json").read_text())
    (evidence / "signature.json").write_text(json.dumps({**info, "key_id": other}))
    code, _, err = verify(applied, evidence, capsys)
    assert code == 1
    assert f"Error: signature.json: names key {other}" in err


def test_the_key_asked_for_must_be_the_signer(applied: Path, evidence: Path, capsys: Any) -> None:
    other = asymmetric_key("alias/someone-else")
    code, _, err = verify(applied, evidence, capsys, "--key", "alias/someone-else")
    assert code == 1
    assert f"not by the key asked for ({other})" in err


def test_a_missing_signature_fails(applied: Path, evidence: Path, capsys: Any) -> None:
    (evidence / "manifest.sig").unlink()
    code, _, err = verify(applied, evidence, capsys)
    assert code == 1
    assert "Error: manifest.sig: missing beside signature.json" in err


def test_unsigned_evidence_verifies_its_digests_and_says_it_is_unsigned(
    applied: Path, tmp_path: Path, capsys: Any
) -> None:
    directory = tmp_path / "evidence"
    drift_with_evidence(applied, directory, capsys)
    assert {p.name for p in directory.iterdir()} == EXPECTED_FILES - {
        "manifest.sig",
        "signature.json",
    }
    assert json.loads((directory / "evidence.json").read_text())["signing"] is None
    code, out, _ = verify(applied, directory, capsys)
    assert code == 0
    assert "not signed" in out
    asymmetric_key("alias/drift-evidence")
    code, _, err = verify(applied, directory, capsys, "--key", "alias/drift-evidence")
    assert code == 1
    assert "Error: manifest.sig: missing" in err


def disabled_signing_key(kms: Any) -> str:
    meta = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]
    kms.disable_key(KeyId=meta["KeyId"])  # moto's DisableKey takes no ARN
    return str(meta["Arn"])


@pytest.mark.parametrize(
    ("make_key", "message"),
    [
        (
            lambda kms: kms.create_key()["KeyMetadata"]["Arn"],
            "SYMMETRIC_DEFAULT key for ENCRYPT_DECRYPT",
        ),
        (
            lambda kms: kms.create_key(KeySpec="RSA_2048", KeyUsage="ENCRYPT_DECRYPT")[
                "KeyMetadata"
            ]["Arn"],
            "RSA_2048 key for ENCRYPT_DECRYPT",
        ),
        (lambda kms: disabled_signing_key(kms), "is Disabled"),
        (lambda kms: "alias/nobody-made-this", "no such KMS key"),
    ],
    ids=["symmetric", "asymmetric-encryption", "disabled", "missing"],
)
def test_a_key_that_cannot_sign_is_refused_before_anything_is_written(
    applied: Path, tmp_path: Path, capsys: Any, make_key: Any, message: str
) -> None:
    kms = boto3.client("kms", region_name="us-east-1")
    key = make_key(kms)
    if key.startswith("arn:"):
        kms.create_alias(AliasName="alias/not-for-signing", TargetKeyId=key)
        key = "alias/not-for-signing"
    directory = tmp_path / "evidence"
    state_before = (applied / "primary.tfstate.json").read_bytes()
    code = run(applied, "drift", "--region", "primary", "--evidence", str(directory),
               "--sign-key", key)  # fmt: skip
    out = capsys.readouterr()
    assert code == 1
    assert f"Error: --sign-key {key}:" in out.err
    assert message in out.err
    assert out.out == ""  # drift did not run: no report
    assert not directory.exists()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".evidence")) == []
    assert (applied / "primary.tfstate.json").read_bytes() == state_before


def test_a_directory_in_use_is_refused_before_drift_runs(
    applied: Path, tmp_path: Path, capsys: Any
) -> None:
    directory = tmp_path / "evidence"
    directory.mkdir()
    (directory / "old-report.json").write_text("{}\n")
    code = run(applied, "drift", "--region", "primary", "--evidence", str(directory))
    out = capsys.readouterr()
    assert code == 1
    assert "exists and is not an empty directory" in out.err
    assert out.out == ""
    assert [p.name for p in directory.iterdir()] == ["old-report.json"]


def test_sign_key_without_evidence_is_an_error(applied: Path, capsys: Any) -> None:
    code = run(applied, "drift", "--region", "primary", "--sign-key", "alias/x")
    assert code == 1
    assert "give --evidence DIR too" in capsys.readouterr().err


@pytest.mark.slow
def test_the_commands_against_the_sandbox(fresh_emulator: str, tmp_path: Path) -> None:
    """As a user runs them: `deployer` processes against the sandbox's moto server (whose KMS
    signs as AWS does), after an apply of the primary."""
    from tests.test_e2e import client
    from tests.test_e2e import run as deployer

    state = tmp_path / "state"
    applied = deployer(fresh_emulator, state, "apply", "--region", "primary", "--auto-approve")
    assert applied.returncode == 0, applied.stderr[-2000:]
    kms = client(fresh_emulator, "kms", "us-east-1")
    key = kms.create_key(KeySpec="ECC_NIST_P384", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["Arn"]
    kms.create_alias(AliasName="alias/drift-evidence", TargetKeyId=key)
    directory = tmp_path / "evidence"

    drift = deployer(
        fresh_emulator, state, "drift", "--evidence", str(directory),
        "--sign-key", "alias/drift-evidence",
    )  # fmt: skip
    assert drift.returncode == 0, drift.stdout[-2000:] + drift.stderr[-2000:]
    assert json.loads((directory / "signature.json").read_text())["signing_algorithm"] == (
        "ECDSA_SHA_384"
    )
    verified = deployer(fresh_emulator, state, "verify-evidence", str(directory))
    assert verified.returncode == 0, verified.stderr
    assert f"signed by {key} (ECDSA_SHA_384), KMS Verify: valid" in verified.stdout

    flip_one_byte(directory / "report.json", 0)
    spoiled = deployer(fresh_emulator, state, "verify-evidence", str(directory))
    assert spoiled.returncode == 1
    assert "Error: report.json:" in spoiled.stderr
