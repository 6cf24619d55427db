"""The bucket: the payments bucket of each region, and replication from the primary's into the
secondary's.

Since provider 4 Terraform models each bucket setting (versioning, encryption, policy, ...) as
its own resource; the bucket gets ownership controls, versioning, SSE-KMS with the region's `s3`
key, a public access block, a TLS-only policy and a retention lifecycle rule. The replication
configuration is a setting of the *primary* bucket but needs both buckets, so it belongs to the
secondary workspace and carries the primary's region in its `region` attribute; what the
`s3_replication` role may do for it is declared here.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from deployer.model import WORKSPACES, Interp, Json, Node, Output, Ref
from deployer.resource import blueprint
from deployer.spec import Spec
from stack.account import account_arn
from stack.keys import key_ref
from stack.permissions import Statement, grants, regions, statement
from stack.roles import role_ref

# The file of the Terraform export that holds this component's blocks.
TERRAFORM_FILE = "s3.tf"

BUCKET = "aws_s3_bucket.payments"
VERSIONING = "aws_s3_bucket_versioning.payments"
PUBLIC_ACCESS_BLOCK = "aws_s3_bucket_public_access_block.payments"

LIFECYCLE_RULE_ID = "payments-data-retention"


def bucket_name(spec: Spec, workspace: str) -> str:
    """Deterministic, globally meaningful: project, purpose, region and suffix."""
    return spec.name("data", spec.region(workspace))


# ---------------------------------------------------------------------------------------------
# Blueprint
# ---------------------------------------------------------------------------------------------


def bucket_id_ref() -> Ref:
    """The bucket's name, once S3 answers for it (settings written earlier can get NoSuchBucket)."""
    return Ref(BUCKET, "id", ready=True)


def tls_only_policy() -> Json:
    """Deny every request over plain HTTP, and uploads that ask for another encryption than KMS.

    Uploads that name no encryption are allowed: the bucket's default (SSE-KMS) applies to them.
    """
    bucket_arn = Ref(BUCKET, "arn")
    objects_arn = Interp((bucket_arn, "/*"))
    return Json(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "DenyInsecureTransport",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": [bucket_arn, objects_arn],
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                },
                {
                    "Sid": "DenyNonKmsEncryptionHeader",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:PutObject",
                    "Resource": objects_arn,
                    "Condition": {
                        "StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"},
                        "Null": {"s3:x-amz-server-side-encryption": "false"},
                    },
                },
            ],
        }
    )


def lifecycle_rule(spec: Spec) -> dict[str, Any]:
    """The one retention rule: old versions expire, current ones move to STANDARD_IA."""
    lifecycle = spec.s3.lifecycle
    return {
        "id": LIFECYCLE_RULE_ID,
        "status": "Enabled",
        "filter": [{"prefix": ""}],
        "transition": [{"days": lifecycle.transition_to_ia_days, "storage_class": "STANDARD_IA"}],
        "noncurrent_version_expiration": [
            {"noncurrent_days": lifecycle.noncurrent_version_expiration_days}
        ],
        "abort_incomplete_multipart_upload": [
            {"days_after_initiation": lifecycle.abort_incomplete_multipart_days}
        ],
    }


def replication_node(spec: Spec) -> Node:
    """Replication of the primary bucket into the secondary one, owned by the secondary workspace.

    S3 accepts it only once both buckets are versioned, hence the explicit dependencies; objects
    encrypted with the primary's KMS key are replicated and re-encrypted with the secondary's.
    """
    return Node(
        "aws_s3_bucket_replication_configuration",
        "payments",
        "secondary",
        {
            "region": spec.region("primary"),
            "bucket": Ref(BUCKET, "id", workspace="primary"),
            # The secondary looks the role up (IAM lives in the primary only).
            "role": role_ref("secondary", "s3_replication"),
            "rule": [
                {
                    "id": f"replicate-all-to-{spec.region('secondary')}",
                    "priority": 1,
                    "status": "Enabled",
                    "filter": [{"prefix": ""}],
                    "delete_marker_replication": [{"status": "Enabled"}],
                    "source_selection_criteria": [
                        {"sse_kms_encrypted_objects": [{"status": "Enabled"}]}
                    ],
                    "destination": [
                        {
                            "bucket": Ref(BUCKET, "arn"),
                            "storage_class": spec.s3.replication_storage_class,
                            "encryption_configuration": [
                                {"replica_kms_key_id": key_ref("s3", "arn")}
                            ],
                        }
                    ],
                }
            ],
        },
        depends_on=(Ref(VERSIONING, "id", workspace="primary"), Ref(VERSIONING, "id")),
    )


@grants("s3_replication")
def replication_access(spec: Spec) -> list[Statement]:
    """Read the primary bucket's versions, write replicas into the secondary bucket, and use
    each region's S3 key only through that region's S3 for that bucket."""
    source, destination = (bucket_name(spec, ws) for ws in WORKSPACES)
    source_region, destination_region = regions(spec)

    def bucket_objects(bucket: str) -> list[str]:
        # With an S3 Bucket Key the encryption context is the bucket's ARN, else the object's.
        return [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]

    return [
        statement(
            "SourceBucket",
            ["s3:GetReplicationConfiguration", "s3:ListBucket"],
            [f"arn:aws:s3:::{source}"],
        ),
        statement(
            "SourceObjectVersions",
            [
                "s3:GetObjectVersionAcl",
                "s3:GetObjectVersionForReplication",
                "s3:GetObjectVersionTagging",
            ],
            [f"arn:aws:s3:::{source}/*"],
        ),
        statement(
            "DestinationReplicas",
            ["s3:ReplicateDelete", "s3:ReplicateObject", "s3:ReplicateTags"],
            [f"arn:aws:s3:::{destination}/*"],
        ),
        statement(
            "DecryptSourceObjects",
            ["kms:Decrypt"],
            [account_arn("kms", source_region, "key/*")],
            {
                "StringEquals": {"kms:ViaService": f"s3.{source_region}.amazonaws.com"},
                "StringLike": {"kms:EncryptionContext:aws:s3:arn": bucket_objects(source)},
            },
        ),
        statement(
            "EncryptReplicas",
            ["kms:Encrypt"],
            [account_arn("kms", destination_region, "key/*")],
            {
                "StringEquals": {"kms:ViaService": f"s3.{destination_region}.amazonaws.com"},
                "StringLike": {"kms:EncryptionContext:aws:s3:arn": bucket_objects(destination)},
            },
        ),
    ]


@blueprint
def payments_bucket(spec: Spec, workspace: str) -> Iterator[Node | Output]:
    name = bucket_name(spec, workspace)
    bucket = bucket_id_ref()

    def setting(tf_type: str, attributes: dict[str, Any], *after: Ref) -> Node:
        return Node(
            tf_type, "payments", workspace, {"bucket": bucket, **attributes}, depends_on=after
        )

    yield Node(
        "aws_s3_bucket",
        "payments",
        workspace,
        {
            "bucket": name,
            "force_destroy": False,
            "object_lock_enabled": False,
            "tags": {"Name": name},
        },
    )
    yield setting(
        "aws_s3_bucket_ownership_controls",
        {"rule": [{"object_ownership": "BucketOwnerEnforced"}]},
    )
    yield setting("aws_s3_bucket_versioning", {"versioning_configuration": [{"status": "Enabled"}]})
    yield setting(
        "aws_s3_bucket_server_side_encryption_configuration",
        {
            "rule": [
                {
                    "bucket_key_enabled": True,
                    "apply_server_side_encryption_by_default": [
                        {"sse_algorithm": "aws:kms", "kms_master_key_id": key_ref("s3", "arn")}
                    ],
                }
            ]
        },
    )
    yield setting(
        "aws_s3_bucket_public_access_block",
        {
            "block_public_acls": True,
            "block_public_policy": True,
            "ignore_public_acls": True,
            "restrict_public_buckets": True,
        },
    )
    # After the public access block: S3 answers OperationAborted to concurrent writes of the two.
    yield setting(
        "aws_s3_bucket_policy", {"policy": tls_only_policy()}, Ref(PUBLIC_ACCESS_BLOCK, "id")
    )
    # Noncurrent-version rules only mean something once the bucket keeps versions.
    yield setting(
        "aws_s3_bucket_lifecycle_configuration",
        {"rule": [lifecycle_rule(spec)]},
        Ref(VERSIONING, "id"),
    )
    if workspace == "secondary":
        yield replication_node(spec)
    yield Output("s3_bucket_name", workspace, Ref(BUCKET, "id"), "the payments bucket's name")
    yield Output("s3_bucket_arn", workspace, Ref(BUCKET, "arn"), "the payments bucket's ARN")
