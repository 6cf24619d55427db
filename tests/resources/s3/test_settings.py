"""The bucket settings (resources/s3/settings.py): ownership controls, versioning, encryption,
the public access block, the policy, lifecycle and replication."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import botocore.session
import pytest

from deployer.aws import DeployerError
from deployer.model import Json
from deployer.resource import registered_resources
from resources.s3.settings import BucketSetting

OWNERSHIP = "primary:aws_s3_bucket_ownership_controls.payments"
VERSIONING = "primary:aws_s3_bucket_versioning.payments"
ENCRYPTION = "primary:aws_s3_bucket_server_side_encryption_configuration.payments"
PUBLIC_ACCESS = "primary:aws_s3_bucket_public_access_block.payments"
POLICY = "primary:aws_s3_bucket_policy.payments"
LIFECYCLE = "primary:aws_s3_bucket_lifecycle_configuration.payments"
REPLICATION = "secondary:aws_s3_bucket_replication_configuration.payments"

PRIMARY_NAME = "payments-data-us-east-1-dev"
SECONDARY_NAME = "payments-data-eu-west-1-dev"


# ---------------------------------------------------------------------------------------------
# Bucket settings: round trips, updates, deletion, disappearance
# ---------------------------------------------------------------------------------------------


def test_ownership_controls_round_trip_update_and_delete(deployment: Any, client_for: Any) -> None:
    deployment.apply(OWNERSHIP)
    assert deployment.diff(OWNERSHIP) == {}
    s3 = client_for("s3")

    def ownership() -> str:
        controls = s3.get_bucket_ownership_controls(Bucket=PRIMARY_NAME)["OwnershipControls"]
        return str(controls["Rules"][0]["ObjectOwnership"])

    assert ownership() == "BucketOwnerEnforced"
    deployment.graph.node(OWNERSHIP).attributes["rule"] = [
        {"object_ownership": "BucketOwnerPreferred"}
    ]
    deployment.apply(OWNERSHIP)
    assert ownership() == "BucketOwnerPreferred"
    assert deployment.entry(OWNERSHIP)["id"] == PRIMARY_NAME
    _assert_deleted(deployment, OWNERSHIP)


def test_versioning_round_trip(deployment: Any, client_for: Any) -> None:
    deployment.apply(VERSIONING)
    assert deployment.diff(VERSIONING) == {}
    assert client_for("s3").get_bucket_versioning(Bucket=PRIMARY_NAME)["Status"] == "Enabled"


def test_versioning_can_be_suspended(deployment: Any, client_for: Any) -> None:
    deployment.apply(VERSIONING)
    deployment.graph.node(VERSIONING).attributes["versioning_configuration"] = [
        {"status": "Suspended"}
    ]
    assert deployment.plan(VERSIONING).changes[VERSIONING].action.value == "update"
    deployment.apply(VERSIONING)
    assert client_for("s3").get_bucket_versioning(Bucket=PRIMARY_NAME)["Status"] == "Suspended"
    assert deployment.diff(VERSIONING) == {}


def test_versioning_delete_suspends_as_terraform_does(deployment: Any, client_for: Any) -> None:
    deployment.apply(VERSIONING)
    driver, ctx = deployment.driver_and_context(VERSIONING)
    driver.delete(ctx, PRIMARY_NAME, None)
    assert client_for("s3").get_bucket_versioning(Bucket=PRIMARY_NAME)["Status"] == "Suspended"
    live = driver.read(ctx, PRIMARY_NAME)
    assert live is not None
    assert live["versioning_configuration"][0]["status"] == "Suspended"
    driver.delete(ctx, PRIMARY_NAME, None)  # idempotent
    assert driver.read(ctx, "payments-data-no-such-bucket-dev") is None


def test_versioning_cannot_go_back_to_disabled(deployment: Any) -> None:
    deployment.apply(VERSIONING)
    driver, ctx = deployment.driver_and_context(VERSIONING)
    desired = {
        **deployment.desired(VERSIONING),
        "versioning_configuration": [{"status": "Disabled"}],
    }
    with pytest.raises(DeployerError, match="Suspended"):
        driver.create(ctx, desired)


def test_encryption_round_trip(deployment: Any, client_for: Any) -> None:
    deployment.apply(ENCRYPTION)
    assert deployment.diff(ENCRYPTION) == {}
    key_arn = deployment.read("primary:aws_kms_key.s3")["arn"]
    rules = client_for("s3").get_bucket_encryption(Bucket=PRIMARY_NAME)[
        "ServerSideEncryptionConfiguration"
    ]["Rules"]
    assert rules == [
        {
            "ApplyServerSideEncryptionByDefault": {
                "SSEAlgorithm": "aws:kms",
                "KMSMasterKeyID": key_arn,
            },
            "BucketKeyEnabled": True,
        }
    ]


def test_encryption_update_and_delete(deployment: Any, client_for: Any) -> None:
    deployment.apply(ENCRYPTION)
    deployment.graph.node(ENCRYPTION).attributes["rule"][0]["bucket_key_enabled"] = False
    assert deployment.plan(ENCRYPTION).changes[ENCRYPTION].action.value == "update"
    deployment.apply(ENCRYPTION)
    rule = client_for("s3").get_bucket_encryption(Bucket=PRIMARY_NAME)[
        "ServerSideEncryptionConfiguration"
    ]["Rules"][0]
    assert rule["BucketKeyEnabled"] is False
    driver, ctx = deployment.driver_and_context(ENCRYPTION)
    driver.delete(ctx, PRIMARY_NAME, None)
    # AWS falls back to SSE-S3 after DeleteBucketEncryption; moto reports no configuration.
    live = driver.read(ctx, PRIMARY_NAME)
    assert live is None or live["rule"][0]["apply_server_side_encryption_by_default"] == [
        {"sse_algorithm": "AES256", "kms_master_key_id": ""}
    ]
    driver.delete(ctx, PRIMARY_NAME, None)


def test_public_access_block_round_trip(deployment: Any, client_for: Any) -> None:
    deployment.apply(PUBLIC_ACCESS)
    assert deployment.diff(PUBLIC_ACCESS) == {}
    config = client_for("s3").get_public_access_block(Bucket=PRIMARY_NAME)[
        "PublicAccessBlockConfiguration"
    ]
    assert config == {
        "BlockPublicAcls": True,
        "IgnorePublicAcls": True,
        "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True,
    }


def test_public_access_block_update_and_delete(deployment: Any, client_for: Any) -> None:
    deployment.apply(PUBLIC_ACCESS)
    deployment.graph.node(PUBLIC_ACCESS).attributes["ignore_public_acls"] = False
    deployment.apply(PUBLIC_ACCESS)
    config = client_for("s3").get_public_access_block(Bucket=PRIMARY_NAME)[
        "PublicAccessBlockConfiguration"
    ]
    assert config["IgnorePublicAcls"] is False
    assert config["BlockPublicAcls"] is True
    _assert_deleted(deployment, PUBLIC_ACCESS)


def test_a_public_access_setting_left_to_its_default_is_planned_back(
    deployment: Any, client_for: Any
) -> None:
    """`restrict_public_buckets` left unset means the provider's false: turned on behind our
    back, it is an in-place update back to false, and apply makes it so."""
    del deployment.graph.node(PUBLIC_ACCESS).attributes["restrict_public_buckets"]
    deployment.apply(PUBLIC_ACCESS)
    s3 = client_for("s3")

    def config() -> dict[str, bool]:
        answer = s3.get_public_access_block(Bucket=PRIMARY_NAME)
        return dict(answer["PublicAccessBlockConfiguration"])

    assert config()["RestrictPublicBuckets"] is False
    s3.put_public_access_block(
        Bucket=PRIMARY_NAME,
        PublicAccessBlockConfiguration={**config(), "RestrictPublicBuckets": True},
    )
    change = deployment.plan(PUBLIC_ACCESS).changes[PUBLIC_ACCESS]
    assert change.action.value == "update"
    assert list(change.diffs) == ["restrict_public_buckets"]
    deployment.apply(PUBLIC_ACCESS)
    assert config()["RestrictPublicBuckets"] is False
    assert config()["BlockPublicAcls"] is True
    assert deployment.diff(PUBLIC_ACCESS) == {}


def test_public_access_block_skip_destroy_keeps_it(deployment: Any, client_for: Any) -> None:
    deployment.apply(PUBLIC_ACCESS)
    driver, ctx = deployment.driver_and_context(PUBLIC_ACCESS)
    ctx.node.attributes["skip_destroy"] = True
    driver.delete(ctx, PRIMARY_NAME, None)
    assert client_for("s3").get_public_access_block(Bucket=PRIMARY_NAME)


def test_policy_round_trip_is_tls_only(deployment: Any, client_for: Any) -> None:
    deployment.apply(POLICY)
    assert deployment.diff(POLICY) == {}
    policy = json.loads(client_for("s3").get_bucket_policy(Bucket=PRIMARY_NAME)["Policy"])
    statements = {s["Sid"]: s for s in policy["Statement"]}
    tls = statements["DenyInsecureTransport"]
    assert tls["Effect"] == "Deny"
    assert tls["Action"] == "s3:*"
    assert tls["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    arn = f"arn:aws:s3:::{PRIMARY_NAME}"
    assert sorted(tls["Resource"]) == [arn, f"{arn}/*"]
    assert all(s["Effect"] == "Deny" for s in policy["Statement"])


def test_policy_update(deployment: Any, client_for: Any) -> None:
    deployment.apply(POLICY)
    node = deployment.graph.node(POLICY)
    document = node.attributes["policy"].value
    node.attributes["policy"] = Json({**document, "Statement": document["Statement"][:1]})
    assert deployment.plan(POLICY).changes[POLICY].action.value == "update"
    deployment.apply(POLICY)
    policy = json.loads(client_for("s3").get_bucket_policy(Bucket=PRIMARY_NAME)["Policy"])
    assert [s["Sid"] for s in policy["Statement"]] == ["DenyInsecureTransport"]
    assert deployment.diff(POLICY) == {}


def test_policy_deleted_outside_is_recreated(deployment: Any, client_for: Any) -> None:
    deployment.apply(POLICY)
    s3 = client_for("s3")
    s3.delete_bucket_policy(Bucket=PRIMARY_NAME)
    change = deployment.plan(POLICY).changes[POLICY]
    assert change.action.value == "create"
    deployment.apply(POLICY)
    assert json.loads(s3.get_bucket_policy(Bucket=PRIMARY_NAME)["Policy"])["Statement"]
    _assert_deleted(deployment, POLICY)


def test_lifecycle_round_trip(deployment: Any, client_for: Any) -> None:
    deployment.apply(LIFECYCLE)
    assert deployment.diff(LIFECYCLE) == {}
    rules = client_for("s3").get_bucket_lifecycle_configuration(Bucket=PRIMARY_NAME)["Rules"]
    assert len(rules) == 1
    rule = rules[0]
    assert rule["ID"] == "payments-data-retention"
    assert rule["Status"] == "Enabled"
    assert rule["Filter"] == {"Prefix": ""}
    assert rule["Transitions"] == [{"Days": 30, "StorageClass": "STANDARD_IA"}]
    assert rule["NoncurrentVersionExpiration"] == {"NoncurrentDays": 90}
    assert rule["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 7}


@pytest.mark.parametrize(
    ("block", "attribute", "value", "api_member", "api_value"),
    [
        ("transition", "days", 60, "Transitions", [{"Days": 60, "StorageClass": "STANDARD_IA"}]),
        (
            "noncurrent_version_expiration",
            "noncurrent_days",
            120,
            "NoncurrentVersionExpiration",
            {"NoncurrentDays": 120},
        ),
        (
            "abort_incomplete_multipart_upload",
            "days_after_initiation",
            3,
            "AbortIncompleteMultipartUpload",
            {"DaysAfterInitiation": 3},
        ),
    ],
)
def test_lifecycle_days_update(
    deployment: Any,
    client_for: Any,
    block: str,
    attribute: str,
    value: int,
    api_member: str,
    api_value: Any,
) -> None:
    deployment.apply(LIFECYCLE)
    deployment.graph.node(LIFECYCLE).attributes["rule"][0][block][0][attribute] = value
    assert deployment.plan(LIFECYCLE).changes[LIFECYCLE].action.value == "update"
    deployment.apply(LIFECYCLE)
    rule = client_for("s3").get_bucket_lifecycle_configuration(Bucket=PRIMARY_NAME)["Rules"][0]
    assert rule[api_member] == api_value
    assert deployment.diff(LIFECYCLE) == {}
    assert deployment.entry(LIFECYCLE)["id"] == PRIMARY_NAME


def test_lifecycle_delete_removes_the_configuration(deployment: Any, client_for: Any) -> None:
    deployment.apply(LIFECYCLE)
    _assert_deleted(deployment, LIFECYCLE)
    with pytest.raises(client_for("s3").exceptions.ClientError, match="NoSuchLifecycle"):
        client_for("s3").get_bucket_lifecycle_configuration(Bucket=PRIMARY_NAME)


def test_settings_of_a_deleted_bucket_read_as_gone(deployment: Any, client_for: Any) -> None:
    deployment.apply(PUBLIC_ACCESS)
    s3 = client_for("s3")
    s3.delete_bucket(Bucket=PRIMARY_NAME)
    driver, ctx = deployment.driver_and_context(PUBLIC_ACCESS)
    assert driver.read(ctx, PRIMARY_NAME) is None
    driver.delete(ctx, PRIMARY_NAME, None)


def test_every_setting_reads_and_deletes_with_s3_calls() -> None:
    """Beside its table's put (which the registry test checks), a setting declares the calls
    that get and delete its document: S3 has them, and they name the bucket."""
    model = botocore.session.get_session().get_service_model("s3")
    settings = {t: d for t, d in registered_resources().items() if isinstance(d, BucketSetting)}
    assert len(settings) == 7
    for tf_type, driver in settings.items():
        for call in (driver.get_call, driver.delete_call):
            assert "Bucket" in model.operation_model(call).input_shape.members, (tf_type, call)


# ---------------------------------------------------------------------------------------------
# Replication (primary → secondary), applied from the secondary workspace
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def replicated(deployment: Any) -> Any:
    """Both buckets, their versioning, the secondary's key and the replication role, replicating.

    The secondary workspace reads the primary's role and bucket from the primary's state, so
    the primary is applied first, as `deployer apply` does.
    """
    deployment.apply(VERSIONING, "primary:aws_iam_role.s3_replication")
    deployment.apply(REPLICATION)
    return deployment


def test_replication_round_trip(replicated: Any, client_for: Any) -> None:
    config = client_for("s3").get_bucket_replication(Bucket=PRIMARY_NAME)[
        "ReplicationConfiguration"
    ]
    role_arn = replicated.entry("primary:aws_iam_role.s3_replication")["attributes"]["arn"]
    assert config["Role"] == role_arn
    (rule,) = config["Rules"]
    assert rule["Status"] == "Enabled"
    assert rule["Filter"] == {"Prefix": ""}
    destination = rule["Destination"]
    assert destination["Bucket"] == f"arn:aws:s3:::{SECONDARY_NAME}"
    assert destination["StorageClass"] == "STANDARD"
    replica_key = replicated.read("secondary:aws_kms_key.s3")["arn"]
    assert replica_key.startswith("arn:aws:kms:eu-west-1:")
    assert destination["EncryptionConfiguration"] == {"ReplicaKmsKeyID": replica_key}
    assert replicated.entry(REPLICATION)["id"] == PRIMARY_NAME
    # Nothing was configured on the destination bucket itself.
    with pytest.raises(client_for("s3").exceptions.ClientError, match="NotFound"):
        client_for("s3", "eu-west-1").get_bucket_replication(Bucket=SECONDARY_NAME)


def test_replication_reads_back_without_diff(replicated: Any) -> None:
    assert replicated.diff(REPLICATION) == {}


def test_replication_storage_class_update(replicated: Any, client_for: Any) -> None:
    node = replicated.graph.node(REPLICATION)
    node.attributes["rule"][0]["destination"][0]["storage_class"] = "STANDARD_IA"
    replicated.apply(REPLICATION)
    rule = client_for("s3").get_bucket_replication(Bucket=PRIMARY_NAME)["ReplicationConfiguration"][
        "Rules"
    ][0]
    assert rule["Destination"]["StorageClass"] == "STANDARD_IA"
    assert replicated.entry(REPLICATION)["id"] == PRIMARY_NAME


def test_replication_delete(replicated: Any, client_for: Any) -> None:
    _assert_deleted(replicated, REPLICATION)
    with pytest.raises(client_for("s3").exceptions.ClientError, match="NotFound"):
        client_for("s3").get_bucket_replication(Bucket=PRIMARY_NAME)


def test_replication_deleted_outside_is_planned_for_creation(
    replicated: Any, client_for: Any
) -> None:
    client_for("s3").delete_bucket_replication(Bucket=PRIMARY_NAME)
    assert replicated.plan(REPLICATION).changes[REPLICATION].action.value == "create"


# ---------------------------------------------------------------------------------------------
# Transient errors real S3 gives and moto does not (fault injection)
# ---------------------------------------------------------------------------------------------


class _FakeHttpResponse:
    def __init__(self, status_code: int) -> None:
        self.status_code = status_code
        self.headers: dict[str, str] = {}
        self.content = b""


@pytest.fixture
def injected(client_for: Any) -> Callable[..., list[int]]:
    """Make an S3 operation fail with a given error for its first calls (clients are per test).

    Returns a one-item list counting every call of the operation, failed or not.
    """

    def inject(
        operation: str, code: str, message: str, times: int = 1, region: str = "us-east-1"
    ) -> list[int]:
        calls = [0]

        def fail_first_calls(**_: Any) -> Any:
            calls[0] += 1
            if calls[0] > times:
                return None  # let the call through to moto
            error = {
                "Error": {"Code": code, "Message": message},
                "ResponseMetadata": {"HTTPStatusCode": 400},
            }
            return _FakeHttpResponse(400), error

        client_for("s3", region).meta.events.register(
            f"before-call.s3.{operation}", fail_first_calls
        )
        return calls

    return inject


def test_replication_retries_until_versioning_is_visible(
    deployment: Any, injected: Any, client_for: Any
) -> None:
    deployment.apply(VERSIONING, "primary:aws_iam_role.s3_replication")
    calls = injected(
        "PutBucketReplication",
        "InvalidRequest",
        "Versioning must be 'Enabled' on the bucket to apply a replication configuration",
        times=2,
    )
    deployment.apply(REPLICATION)
    assert calls[0] >= 3
    assert client_for("s3").get_bucket_replication(Bucket=PRIMARY_NAME)


def test_replication_does_not_retry_a_real_error(deployment: Any, injected: Any) -> None:
    deployment.apply(VERSIONING, "primary:aws_iam_role.s3_replication")
    calls = injected(
        "PutBucketReplication", "MalformedXML", "The XML you provided was not well-formed", times=5
    )
    with pytest.raises(AssertionError, match="MalformedXML"):
        deployment.apply(REPLICATION)
    assert calls[0] == 1


def test_policy_write_retries_a_conflicting_operation(deployment: Any, injected: Any) -> None:
    calls = injected(
        "PutBucketPolicy",
        "OperationAborted",
        "A conflicting conditional operation is currently in progress",
        times=2,
    )
    deployment.apply(POLICY)
    assert calls[0] == 3
    assert deployment.diff(POLICY) == {}


# ---------------------------------------------------------------------------------------------


def _assert_deleted(deployment: Any, key: str) -> None:
    """Delete through the driver: the setting reads as gone, and deleting again succeeds."""
    driver, ctx = deployment.driver_and_context(key)
    resource_id = deployment.entry(key)["id"]
    driver.delete(ctx, resource_id, None)
    assert driver.read(ctx, resource_id) is None
    driver.delete(ctx, resource_id, None)


def test_a_widened_bucket_policy_is_drift_and_apply_restores_it(
    deployment: Any, client_for: Any
) -> None:
    """The bucket policy is compared as a document: public read, added behind our back, is
    drift of `policy`; apply puts the declared TLS-only policy back."""
    from deployer.diff import canonical_json
    from deployer.drift import DRIFTED, IN_SYNC, detect_drift

    deployment.apply(POLICY)
    s3 = client_for("s3")

    def policy() -> dict[str, Any]:
        return dict(json.loads(s3.get_bucket_policy(Bucket=PRIMARY_NAME)["Policy"]))

    def drift_of() -> Any:
        report = detect_drift(
            deployment.graph, deployment.states(), deployment.clients, ["primary"]
        )
        return next(r for r in report.resources if r.key == POLICY)

    declared = policy()
    public_read = {
        "Sid": "PublicRead",
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{PRIMARY_NAME}/*",
    }
    widened = {**declared, "Statement": [*declared["Statement"], public_read]}
    s3.put_bucket_policy(Bucket=PRIMARY_NAME, Policy=json.dumps(widened))

    result = drift_of()
    assert result.status == DRIFTED
    assert [c.name for c in result.changes] == ["policy"]
    deployment.apply(POLICY)
    assert canonical_json(policy()) == canonical_json(declared)
    assert drift_of().status == IN_SYNC
