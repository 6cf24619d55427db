"""The bucket's settings, each a resource of its own.

Since provider 4 Terraform models each bucket setting (versioning, encryption, policy, ...) as
its own resource whose import id is the bucket's name; the drivers here follow that split. A
setting is one configuration document that S3 puts, gets and deletes whole: its table maps the
node's attributes to the members of the put's request (`described` is that request's shape), and
`describe` hands the get's answer over in the same shape, so that one row serves the write and
the read. Create and update are the same put, of the whole document.

A setting may name the region of its bucket in its `region` attribute (a replication
configuration, which needs both buckets, is made from the other workspace).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from botocore import xform_name

from deployer.attributes import Attr, Table
from deployer.aws import iam_propagation_error
from deployer.diff import equivalent
from deployer.errors import DeployerError, error_code, ignore_missing, or_none
from deployer.resource import Context, Resource, resource
from deployer.waiting import poll
from resources.s3.blocks import (
    each,
    encryption_rule_from_api,
    encryption_rule_to_api,
    lifecycle_rule_from_api,
    lifecycle_rule_to_api,
    ownership_rule_from_api,
    ownership_rule_to_api,
    replication_rule_from_api,
    replication_rule_to_api,
    versioning_from_api,
    versioning_to_api,
)
from resources.s3.writes import write

# AWS documents versioning and lifecycle changes as eventually consistent: GetBucketVersioning
# and GetBucketLifecycleConfiguration may return the old value for a while after the write.
SETTING_STABLE_TIMEOUT = 120.0

Converter = Callable[[dict[str, Any]], dict[str, Any]]


def setting_table(*rows: Attr, put: str) -> Table:
    """A setting's table: the bucket it belongs to, its region, and the document's rows, all
    written by `put` (which creates and updates alike) and read in the put's request shape."""
    return Table(
        Attr("bucket", "Bucket", force_new=True),
        # The bucket's region, whose endpoint the engine calls: not a member of the document.
        Attr("region", create=False, force_new=True),
        *rows,
        service="s3",
        create_call=put,
        update_call=put,
        described=f"{put}Request",
        id_parameter="Bucket",
    )


def expected_owner() -> Attr:
    """The account the bucket must belong to: S3 checks it on the call and reports it nowhere."""
    return Attr(
        "expected_bucket_owner", create="ExpectedBucketOwner", force_new=True, write_only=True
    )


def rules(path: str, to_api: Converter, from_api: Converter) -> Attr:
    """The document's list of rules (`path`), from and to the node's `rule` blocks, each one
    converted by the block functions (blocks.py)."""
    return Attr("rule", path, update=True, to_api=each(to_api), from_api=each(from_api))


def public_access(name: str, member: str) -> Attr:
    """One switch of the public access block: off unless the node turns it on."""
    return Attr(
        name,
        f"PublicAccessBlockConfiguration.{member}",
        update=True,
        default=False,
        from_api=bool,
    )


class BucketSetting(Resource):
    """One setting of a bucket; its id is the bucket's name (Terraform's import id).

    Subclasses declare the table (`setting_table`) and S3's get and delete calls of the document;
    they override `document` where the get answers in another shape than the put takes.
    """

    taggable = False
    # S3's calls that read and remove the document (the put is the table's create call).
    get_call: ClassVar[str]
    delete_call: ClassVar[str]

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        bucket = str(desired["bucket"])
        self.put(ctx, bucket, desired)
        return bucket

    def update(self, ctx: Context, id: str, desired: dict[str, Any], live: dict[str, Any]) -> None:
        """The put replaces the whole document: every row is sent again, changed or not."""
        self.put(ctx, id, desired)

    def put(self, ctx: Context, bucket: str, desired: dict[str, Any]) -> None:
        assert self.table is not None
        request = self.table.create_parameters({**self.with_defaults(desired), "bucket": bucket})
        call = getattr(ctx.client("s3"), xform_name(self.table.create_call))
        write(lambda: call(**request), also=self.waits_out)

    def waits_out(self, exc: BaseException) -> bool:
        """Errors of the put, beyond S3's transient ones, that mean "not yet" (something the
        document names is still propagating), not "wrong"."""
        return False

    def describe(self, ctx: Context, id: str) -> dict[str, Any] | None:
        s3 = ctx.client("s3")
        answer = or_none(lambda: getattr(s3, xform_name(self.get_call))(Bucket=id))
        if answer is None:
            return None
        answer.pop("ResponseMetadata", None)
        return {"Bucket": id, **self.document(answer)}

    def document(self, answer: dict[str, Any]) -> dict[str, Any]:
        """The get's answer as the put takes it: the same members, for most settings."""
        return answer

    def read(self, ctx: Context, id: str) -> dict[str, Any] | None:
        live = super().read(ctx, id)
        return None if live is None else {**live, "region": ctx.region}

    def delete(self, ctx: Context, id: str, live: dict[str, Any] | None) -> None:
        s3 = ctx.client("s3")
        ignore_missing(lambda: getattr(s3, xform_name(self.delete_call))(Bucket=id))


@resource
class BucketOwnershipControls(BucketSetting):
    type = "aws_s3_bucket_ownership_controls"
    get_call = "GetBucketOwnershipControls"
    delete_call = "DeleteBucketOwnershipControls"
    table = setting_table(
        rules("OwnershipControls.Rules", ownership_rule_to_api, ownership_rule_from_api),
        put="PutBucketOwnershipControls",
    )


@resource
class BucketVersioning(BucketSetting):
    """Versioning: a bucket once versioned can only be suspended, never unversioned again.

    `Disabled` means "never versioned" (Terraform's meaning): valid at create time only.
    Deleting the resource suspends versioning, as Terraform does.
    """

    type = "aws_s3_bucket_versioning"
    get_call = "GetBucketVersioning"
    delete_call = "PutBucketVersioning"  # of `Suspended` (see `delete`)
    table = setting_table(
        expected_owner(),
        Attr(
            "versioning_configuration",
            "VersioningConfiguration",
            update=True,
            to_api=versioning_to_api,
            from_api=versioning_from_api,
        ),
        # The MFA device's serial and current code: only good for one request.
        Attr("mfa", create="MFA", update=True, write_only=True),
        put="PutBucketVersioning",
    )

    def document(self, answer: dict[str, Any]) -> dict[str, Any]:
        """GetBucketVersioning answers the configuration's members at the top level."""
        return {"VersioningConfiguration": answer}

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        bucket = str(desired["bucket"])
        if _versioning_status(desired) == "Disabled":
            live = self.read(ctx, bucket)
            if live is not None and _versioning_status(live) != "Disabled":
                raise DeployerError(
                    f"S3 bucket {bucket} has been versioned: versioning can only be Enabled "
                    "or Suspended now, not Disabled"
                )
            return bucket
        return super().create(ctx, desired)

    def put(self, ctx: Context, bucket: str, desired: dict[str, Any]) -> None:
        status = _versioning_status(desired)
        if status == "Disabled":
            raise DeployerError(
                f"S3 bucket {bucket}: versioning cannot be turned off once on: use Suspended"
            )
        super().put(ctx, bucket, desired)

        def reported() -> bool | None:
            live = self.read(ctx, bucket)
            return True if live is not None and _versioning_status(live) == status else None

        poll(
            reported,
            what=f"S3 bucket {bucket} to report versioning {status}",
            timeout=SETTING_STABLE_TIMEOUT,
            delay=2.0,
        )

    def delete(self, ctx: Context, id: str, live: dict[str, Any] | None) -> None:
        s3 = ctx.client("s3")
        answer = or_none(lambda: s3.get_bucket_versioning(Bucket=id))
        if answer is not None and answer.get("Status") == "Enabled":
            suspend = {"Status": "Suspended"}
            ignore_missing(
                lambda: write(
                    lambda: s3.put_bucket_versioning(Bucket=id, VersioningConfiguration=suspend),
                    retry_missing=False,
                )
            )


@resource
class BucketEncryption(BucketSetting):
    """Default encryption. Deleting it makes AWS fall back to SSE-S3 (it never reads as none)."""

    type = "aws_s3_bucket_server_side_encryption_configuration"
    get_call = "GetBucketEncryption"
    delete_call = "DeleteBucketEncryption"
    table = setting_table(
        expected_owner(),
        rules(
            "ServerSideEncryptionConfiguration.Rules",
            encryption_rule_to_api,
            encryption_rule_from_api,
        ),
        put="PutBucketEncryption",
    )


@resource
class BucketPublicAccessBlock(BucketSetting):
    type = "aws_s3_bucket_public_access_block"
    get_call = "GetPublicAccessBlock"
    delete_call = "DeletePublicAccessBlock"
    table = setting_table(
        public_access("block_public_acls", "BlockPublicAcls"),
        public_access("block_public_policy", "BlockPublicPolicy"),
        public_access("ignore_public_acls", "IgnorePublicAcls"),
        public_access("restrict_public_buckets", "RestrictPublicBuckets"),
        # Terraform-side: keep the block in place when the resource is destroyed.
        Attr("skip_destroy", create=False, write_only=True),
        put="PutPublicAccessBlock",
    )

    def delete(self, ctx: Context, id: str, live: dict[str, Any] | None) -> None:
        if ctx.node.attributes.get("skip_destroy"):
            return
        super().delete(ctx, id, live)


@resource
class BucketPolicy(BucketSetting):
    type = "aws_s3_bucket_policy"
    policy_attributes = frozenset({"policy"})
    get_call = "GetBucketPolicy"
    delete_call = "DeleteBucketPolicy"
    table = setting_table(Attr("policy", "Policy", update=True), put="PutBucketPolicy")

    def waits_out(self, exc: BaseException) -> bool:
        """A policy naming a role a few seconds old is "MalformedPolicy: Invalid principal"."""
        return error_code(exc) == "MalformedPolicy" and "invalid principal" in str(exc).lower()


@resource
class BucketLifecycle(BucketSetting):
    type = "aws_s3_bucket_lifecycle_configuration"
    get_call = "GetBucketLifecycleConfiguration"
    delete_call = "DeleteBucketLifecycle"
    table = setting_table(
        expected_owner(),
        rules("LifecycleConfiguration.Rules", lifecycle_rule_to_api, lifecycle_rule_from_api),
        # The provider's default for general purpose buckets (S3's own since September 2024).
        Attr(
            "transition_default_minimum_object_size",
            "TransitionDefaultMinimumObjectSize",
            update=True,
            default="all_storage_classes_128K",
        ),
        put="PutBucketLifecycleConfiguration",
    )

    def document(self, answer: dict[str, Any]) -> dict[str, Any]:
        """GetBucketLifecycleConfiguration answers the rules at the top level."""
        return {
            "LifecycleConfiguration": {"Rules": answer.get("Rules", [])},
            "TransitionDefaultMinimumObjectSize": answer.get("TransitionDefaultMinimumObjectSize"),
        }

    def put(self, ctx: Context, bucket: str, desired: dict[str, Any]) -> None:
        super().put(ctx, bucket, desired)

        def rules_in_effect() -> bool | None:
            live = self.read(ctx, bucket)
            return True if live and equivalent(desired["rule"], live["rule"]) else None

        poll(
            rules_in_effect,
            what=f"S3 bucket {bucket}'s lifecycle rules to take effect",
            timeout=SETTING_STABLE_TIMEOUT,
            delay=2.0,
        )


@resource
class BucketReplication(BucketSetting):
    """Replication rules of a source bucket (called in the source bucket's region).

    S3 takes them only once both buckets are versioned and the role is visible to S3; with
    SSE-KMS objects the rule names the replica's key and the role needs both keys: the put
    waits out the propagation of those prerequisites.
    """

    type = "aws_s3_bucket_replication_configuration"
    get_call = "GetBucketReplication"
    delete_call = "DeleteBucketReplication"
    table = setting_table(
        Attr("role", "ReplicationConfiguration.Role", update=True),
        rules("ReplicationConfiguration.Rules", replication_rule_to_api, replication_rule_from_api),
        # An Object Lock token: good for one request, never returned.
        Attr("token", create="Token", update=True, write_only=True),
        put="PutBucketReplication",
    )

    def waits_out(self, exc: BaseException) -> bool:
        """Errors S3 replication gives while the role or the buckets' versioning propagate."""
        versioning_pending = (
            error_code(exc) == "InvalidRequest"
            and "versioning must be 'enabled' on the bucket" in str(exc).lower()
        )
        return versioning_pending or iam_propagation_error(exc)


def _versioning_status(attributes: dict[str, Any]) -> str:
    return str(attributes["versioning_configuration"][0]["status"])
