"""S3: buckets, and each bucket setting as its own resource.

Since provider 4 Terraform models each bucket setting (versioning, encryption, policy, ...) as
its own resource whose import id is the bucket name; the drivers here follow that split. A
setting may name the region of its bucket in its `region` attribute (a replication
configuration, which needs both buckets, is made from the other workspace).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from botocore.exceptions import ClientError

from deployer.arns import Arn
from deployer.aws import (
    Clients,
    DeployerError,
    error_code,
    iam_propagation_error,
    is_not_found,
    poll,
    retry_while,
    tag_changes,
    tag_dict,
    tag_list,
    user_tags,
)
from deployer.blocks import only_block
from deployer.diff import equivalent
from deployer.graph import ADDRESS_TAG
from deployer.resource import Context, Resource, resource

T = TypeVar("T")

# The region whose S3 endpoint takes CreateBucket without a LocationConstraint.
DEFAULT_BUCKET_REGION = "us-east-1"

# A new bucket can be invisible to some S3 endpoints for a short while after CreateBucket (the
# Terraform provider retries NoSuchBucket on bucket settings for 2 minutes for that reason).
BUCKET_PROPAGATION_TIMEOUT = 120.0
# AWS documents versioning and lifecycle changes as eventually consistent: GetBucketVersioning
# and GetBucketLifecycleConfiguration may return the old value for a while after the write.
SETTING_STABLE_TIMEOUT = 120.0
# IAM changes "usually" propagate in seconds; S3 replication may reject a role until they have.
IAM_PROPAGATION_TIMEOUT = 120.0


def empty_bucket(s3: Any, bucket: str) -> int:
    """Delete every object version and delete marker (1,000 per call, S3's limit)."""
    deleted = 0
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        keys = [
            {"Key": item["Key"], "VersionId": item["VersionId"]}
            for kind in ("Versions", "DeleteMarkers")
            for item in page.get(kind, [])
        ]
        for start in range(0, len(keys), 1000):
            s3.delete_objects(
                Bucket=bucket, Delete={"Objects": keys[start : start + 1000], "Quiet": True}
            )
        deleted += len(keys)
    return deleted


@resource
class Bucket(Resource):
    type = "aws_s3_bucket"
    arn_kind = ("s3", "")
    policy_attributes = frozenset({"policy"})
    lookup_by = {"bucket": "bucket"}
    force_new = frozenset({"bucket", "bucket_prefix", "object_lock_enabled"})
    replace_needs_consent = True
    # Terraform-side switches, not properties of the bucket: read when deleting.
    write_only = frozenset({"force_destroy"})

    def region_of(self, clients: Clients, region: str, arn: Arn) -> str | None:
        """A bucket's ARN names no region, yet the bucket lives in one."""
        return bucket_region(clients("s3", region), arn.resource_id)

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        s3 = ctx.client("s3")
        name = str(desired["bucket"])
        params: dict[str, Any] = {"Bucket": name}
        if ctx.region != DEFAULT_BUCKET_REGION:
            params["CreateBucketConfiguration"] = {"LocationConstraint": ctx.region}
        if desired.get("object_lock_enabled"):
            params["ObjectLockEnabledForBucket"] = True
        try:
            s3.create_bucket(**params)
        except ClientError as exc:
            code = error_code(exc)
            if code == "BucketAlreadyOwnedByYou" and self._adoptable(ctx, desired, untagged=False):
                return name
            if code == "BucketAlreadyOwnedByYou":
                raise DeployerError(
                    f"S3 bucket {name} already exists in this account but is not this "
                    f"deployment's (another region, or no matching {ADDRESS_TAG} tag): "
                    "delete it or tag it to adopt it"
                ) from exc
            if code == "BucketAlreadyExists":
                raise DeployerError(
                    f"S3 bucket name {name} is taken by another AWS account (bucket names "
                    "are global): change the spec's project or environment_suffix"
                ) from exc
            raise
        tags: dict[str, str] = desired.get("tags") or {}
        try:
            if tags:
                _write(
                    lambda: s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": tag_list(tags)})
                )
        except Exception:
            # A failed create leaves nothing behind: the bucket is new and empty.
            with contextlib.suppress(ClientError):
                s3.delete_bucket(Bucket=name)
            raise
        return name

    def read(self, ctx: Context, id: str) -> dict[str, Any] | None:
        s3 = ctx.client("s3")
        try:
            head = s3.head_bucket(Bucket=id)
        except ClientError as exc:
            if is_not_found(exc):
                return None
            raise
        region = _bucket_region(head) or ctx.region
        return {
            "id": id,
            "bucket": id,
            "arn": f"arn:aws:s3:::{id}",
            "bucket_domain_name": f"{id}.s3.amazonaws.com",
            "bucket_regional_domain_name": f"{id}.s3.{region}.amazonaws.com",
            "region": region,
            "bucket_region": region,
            "object_lock_enabled": _object_lock_enabled(s3, id),
            "tags": user_tags(_bucket_tags(s3, id)),
        }

    def update(self, ctx: Context, id: str, desired: dict[str, Any], live: dict[str, Any]) -> None:
        s3 = ctx.client("s3")
        tags: dict[str, str] = desired.get("tags") or {}
        to_set, to_remove = tag_changes(tags, live.get("tags"))
        if not (to_set or to_remove):
            return
        # PutBucketTagging replaces the whole tag set.
        if tags:
            _write(lambda: s3.put_bucket_tagging(Bucket=id, Tagging={"TagSet": tag_list(tags)}))
        else:
            s3.delete_bucket_tagging(Bucket=id)

    def check_delete(self, ctx: Context, id: str) -> str | None:
        """A bucket holding objects (or old versions) goes only with --force / force_destroy."""
        if ctx.options.get("force") or ctx.node.attributes.get("force_destroy"):
            return None
        try:
            listing = ctx.client("s3").list_object_versions(Bucket=id, MaxKeys=1)
        except ClientError as exc:
            if is_not_found(exc):
                return None
            raise
        if listing.get("Versions") or listing.get("DeleteMarkers"):
            return (
                f"bucket {id} holds objects or object versions: empty it, or destroy with "
                "--force to delete every version with it"
            )
        return None

    def delete(self, ctx: Context, id: str, live: dict[str, Any] | None) -> None:
        """Refuse to delete data unless allowed; when allowed, delete every version first."""
        s3 = ctx.client("s3")
        reason = self.check_delete(ctx, id)
        if reason:
            raise DeployerError(reason)
        try:
            empty_bucket(s3, id)
        except ClientError as exc:
            if is_not_found(exc):
                return
            raise
        try:
            _write(lambda: s3.delete_bucket(Bucket=id), retry_missing=False)
        except ClientError as exc:
            if is_not_found(exc):
                return
            if error_code(exc) == "BucketNotEmpty":
                raise DeployerError(
                    f"S3 bucket {id} received objects while being deleted: empty it first"
                ) from exc
            raise

    def find(self, ctx: Context, desired: dict[str, Any]) -> str | None:
        """The name is deterministic: a bucket an interrupted create made is ours by name."""
        name = str(desired["bucket"])
        return name if self._adoptable(ctx, desired, untagged=True) else None

    def wait_ready(self, ctx: Context, id: str) -> None:
        s3 = ctx.client("s3")

        def visible() -> bool | None:
            try:
                s3.head_bucket(Bucket=id)
            except ClientError as exc:
                if is_not_found(exc):
                    return None
                raise
            return True

        poll(
            visible,
            what=f"S3 bucket {id} to be visible",
            timeout=BUCKET_PROPAGATION_TIMEOUT,
            delay=2.0,
        )

    @staticmethod
    def _adoptable(ctx: Context, desired: dict[str, Any], *, untagged: bool) -> bool:
        """Owned by this account, in this region, and tagged as this node's (or untagged)."""
        s3 = ctx.client("s3")
        name = str(desired["bucket"])
        account = ctx.client("sts").get_caller_identity()["Account"]
        try:
            head = s3.head_bucket(Bucket=name, ExpectedBucketOwner=account)
        except ClientError as exc:
            if is_not_found(exc) or error_code(exc) in ("403", "AccessDenied", "Forbidden"):
                return False
            raise
        if (_bucket_region(head) or ctx.region) != ctx.region:
            return False
        address = _bucket_tags(s3, name).get(ADDRESS_TAG)
        wanted = (desired.get("tags") or {}).get(ADDRESS_TAG)
        return address == wanted if address is not None else untagged


class BucketSetting(Resource):
    """One setting of a bucket that Terraform models as a resource of its own.

    Its id is the bucket's name (Terraform's import id). Writing a setting replaces it whole, so
    create and update are the same put; subclasses say how to put, get and remove it.
    """

    taggable = False
    force_new = frozenset({"bucket", "region"})

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        bucket = str(desired["bucket"])
        self.put(ctx.client("s3"), bucket, desired)
        return bucket

    def read(self, ctx: Context, id: str) -> dict[str, Any] | None:
        try:
            live = self.get(ctx.client("s3"), id)
        except ClientError as exc:
            if _setting_absent(exc):
                return None
            raise
        if live is None:
            return None
        return {"id": id, "bucket": id, "region": ctx.region, **live}

    def update(self, ctx: Context, id: str, desired: dict[str, Any], live: dict[str, Any]) -> None:
        self.put(ctx.client("s3"), id, desired)

    def delete(self, ctx: Context, id: str, live: dict[str, Any] | None) -> None:
        try:
            self.remove(ctx.client("s3"), id)
        except ClientError as exc:
            if not _setting_absent(exc):
                raise

    def put(self, s3: Any, bucket: str, desired: dict[str, Any]) -> None:
        raise NotImplementedError

    def get(self, s3: Any, bucket: str) -> dict[str, Any] | None:
        """The setting in the node's attribute names, or None when the bucket has none."""
        raise NotImplementedError

    def remove(self, s3: Any, bucket: str) -> None:
        raise NotImplementedError


@resource
class BucketOwnershipControls(BucketSetting):
    type = "aws_s3_bucket_ownership_controls"

    def put(self, s3: Any, bucket: str, desired: dict[str, Any]) -> None:
        rules = [{"ObjectOwnership": rule["object_ownership"]} for rule in desired["rule"]]
        _write(
            lambda: s3.put_bucket_ownership_controls(
                Bucket=bucket, OwnershipControls={"Rules": rules}
            )
        )

    def get(self, s3: Any, bucket: str) -> dict[str, Any] | None:
        rules = s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"]
        return {"rule": [{"object_ownership": rule["ObjectOwnership"]} for rule in rules]}

    def remove(self, s3: Any, bucket: str) -> None:
        s3.delete_bucket_ownership_controls(Bucket=bucket)


@resource
class BucketVersioning(BucketSetting):
    """Versioning: a bucket once versioned can only be suspended, never unversioned again.

    `Disabled` means "never versioned" (Terraform's meaning): valid at create time only.
    Deleting the resource suspends versioning, as Terraform does.
    """

    type = "aws_s3_bucket_versioning"
    force_new = frozenset({"bucket", "region", "expected_bucket_owner"})
    # The MFA device's serial and current code: only good for one request.
    write_only = frozenset({"mfa"})

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

    def put(self, s3: Any, bucket: str, desired: dict[str, Any]) -> None:
        status = _versioning_status(desired)
        if status == "Disabled":
            raise DeployerError(
                f"S3 bucket {bucket}: versioning cannot be turned off once on: use Suspended"
            )
        config = desired["versioning_configuration"][0]
        request = _compact({"Status": status, "MFADelete": config.get("mfa_delete")})
        mfa = {"MFA": desired["mfa"]} if desired.get("mfa") else {}
        _write(
            lambda: s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration=request, **mfa)
        )
        poll(
            lambda: (
                True if s3.get_bucket_versioning(Bucket=bucket).get("Status") == status else None
            ),
            what=f"S3 bucket {bucket} to report versioning {status}",
            timeout=SETTING_STABLE_TIMEOUT,
            delay=2.0,
        )

    def get(self, s3: Any, bucket: str) -> dict[str, Any] | None:
        live = s3.get_bucket_versioning(Bucket=bucket)
        return {
            "versioning_configuration": [
                {
                    # No Status: the bucket has never been versioned.
                    "status": live.get("Status", "Disabled"),
                    "mfa_delete": live.get("MFADelete", "Disabled"),
                }
            ]
        }

    def remove(self, s3: Any, bucket: str) -> None:
        if s3.get_bucket_versioning(Bucket=bucket).get("Status") == "Enabled":
            _write(
                lambda: s3.put_bucket_versioning(
                    Bucket=bucket, VersioningConfiguration={"Status": "Suspended"}
                ),
                retry_missing=False,
            )


@resource
class BucketEncryption(BucketSetting):
    """Default encryption. Deleting it makes AWS fall back to SSE-S3 (it never reads as none)."""

    type = "aws_s3_bucket_server_side_encryption_configuration"
    force_new = frozenset({"bucket", "region", "expected_bucket_owner"})

    def put(self, s3: Any, bucket: str, desired: dict[str, Any]) -> None:
        rules = [_encryption_rule_to_api(rule) for rule in desired["rule"]]
        _write(
            lambda: s3.put_bucket_encryption(
                Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": rules}
            )
        )

    def get(self, s3: Any, bucket: str) -> dict[str, Any] | None:
        config = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]
        return {"rule": [_encryption_rule_from_api(rule) for rule in config["Rules"]]}

    def remove(self, s3: Any, bucket: str) -> None:
        s3.delete_bucket_encryption(Bucket=bucket)


# Terraform attribute → PublicAccessBlockConfiguration member.
PUBLIC_ACCESS_SETTINGS: dict[str, str] = {
    "block_public_acls": "BlockPublicAcls",
    "block_public_policy": "BlockPublicPolicy",
    "ignore_public_acls": "IgnorePublicAcls",
    "restrict_public_buckets": "RestrictPublicBuckets",
}


@resource
class BucketPublicAccessBlock(BucketSetting):
    type = "aws_s3_bucket_public_access_block"
    # Terraform-side: keep the block in place when the resource is destroyed.
    write_only = frozenset({"skip_destroy"})

    def put(self, s3: Any, bucket: str, desired: dict[str, Any]) -> None:
        config = {api: bool(desired.get(name)) for name, api in PUBLIC_ACCESS_SETTINGS.items()}
        _write(
            lambda: s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=config)
        )

    def get(self, s3: Any, bucket: str) -> dict[str, Any] | None:
        config = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
        return {name: bool(config.get(api)) for name, api in PUBLIC_ACCESS_SETTINGS.items()}

    def delete(self, ctx: Context, id: str, live: dict[str, Any] | None) -> None:
        if ctx.node.attributes.get("skip_destroy"):
            return
        super().delete(ctx, id, live)

    def remove(self, s3: Any, bucket: str) -> None:
        s3.delete_public_access_block(Bucket=bucket)


@resource
class BucketPolicy(BucketSetting):
    type = "aws_s3_bucket_policy"
    policy_attributes = frozenset({"policy"})

    def put(self, s3: Any, bucket: str, desired: dict[str, Any]) -> None:
        # A policy naming a role a few seconds old is "MalformedPolicy: Invalid principal".
        _write(
            lambda: s3.put_bucket_policy(Bucket=bucket, Policy=desired["policy"]),
            also=_principal_not_yet_visible,
        )

    def get(self, s3: Any, bucket: str) -> dict[str, Any] | None:
        return {"policy": s3.get_bucket_policy(Bucket=bucket)["Policy"]}

    def remove(self, s3: Any, bucket: str) -> None:
        s3.delete_bucket_policy(Bucket=bucket)


@resource
class BucketLifecycle(BucketSetting):
    type = "aws_s3_bucket_lifecycle_configuration"
    force_new = frozenset({"bucket", "region", "expected_bucket_owner"})

    def put(self, s3: Any, bucket: str, desired: dict[str, Any]) -> None:
        rules = [_lifecycle_rule_to_api(rule) for rule in desired["rule"]]
        extra = _compact(
            {
                "TransitionDefaultMinimumObjectSize": desired.get(
                    "transition_default_minimum_object_size"
                )
            }
        )
        _write(
            lambda: s3.put_bucket_lifecycle_configuration(
                Bucket=bucket, LifecycleConfiguration={"Rules": rules}, **extra
            )
        )

        def rules_in_effect() -> bool | None:
            try:
                live = self.get(s3, bucket)
            except ClientError as exc:
                if _setting_absent(exc):
                    return None
                raise
            return True if live and equivalent(desired["rule"], live["rule"]) else None

        poll(
            rules_in_effect,
            what=f"S3 bucket {bucket}'s lifecycle rules to take effect",
            timeout=SETTING_STABLE_TIMEOUT,
            delay=2.0,
        )

    def get(self, s3: Any, bucket: str) -> dict[str, Any] | None:
        live = s3.get_bucket_lifecycle_configuration(Bucket=bucket)
        return _compact(
            {
                "rule": [_lifecycle_rule_from_api(rule) for rule in live.get("Rules", [])],
                "transition_default_minimum_object_size": live.get(
                    "TransitionDefaultMinimumObjectSize"
                ),
            }
        )

    def remove(self, s3: Any, bucket: str) -> None:
        s3.delete_bucket_lifecycle(Bucket=bucket)


@resource
class BucketReplication(BucketSetting):
    """Replication rules of a source bucket (called in the source bucket's region)."""

    type = "aws_s3_bucket_replication_configuration"
    # An Object Lock token: good for one request, never returned.
    write_only = frozenset({"token"})

    def put(self, s3: Any, bucket: str, desired: dict[str, Any]) -> None:
        config = {
            "Role": desired["role"],
            "Rules": [_replication_rule_to_api(rule) for rule in desired["rule"]],
        }
        token = {"Token": desired["token"]} if desired.get("token") else {}
        retry_while(
            lambda: s3.put_bucket_replication(
                Bucket=bucket, ReplicationConfiguration=config, **token
            ),
            retryable=_replication_not_yet_possible,
            timeout=IAM_PROPAGATION_TIMEOUT,
        )

    def get(self, s3: Any, bucket: str) -> dict[str, Any] | None:
        config = s3.get_bucket_replication(Bucket=bucket)["ReplicationConfiguration"]
        return {
            "role": config.get("Role", ""),
            "rule": [_replication_rule_from_api(rule) for rule in config.get("Rules", [])],
        }

    def remove(self, s3: Any, bucket: str) -> None:
        s3.delete_bucket_replication(Bucket=bucket)


# ---------------------------------------------------------------------------------------------
# Errors, retries and look-ups
# ---------------------------------------------------------------------------------------------


def _setting_absent(exc: BaseException) -> bool:
    """The setting (or its whole bucket) is not there: each setting names that differently."""
    return is_not_found(exc)


def _transient_write_error(exc: BaseException, *, retry_missing: bool = True) -> bool:
    """A new bucket not yet visible everywhere, or another write on the bucket in progress."""
    code = error_code(exc)
    return code == "OperationAborted" or (retry_missing and code == "NoSuchBucket")


def _principal_not_yet_visible(exc: BaseException) -> bool:
    return error_code(exc) == "MalformedPolicy" and "invalid principal" in str(exc).lower()


def _replication_not_yet_possible(exc: BaseException) -> bool:
    """Errors S3 replication gives while the role or the buckets' versioning propagate."""
    versioning_pending = (
        error_code(exc) == "InvalidRequest"
        and "versioning must be 'enabled' on the bucket" in str(exc).lower()
    )
    return versioning_pending or iam_propagation_error(exc) or _transient_write_error(exc)


def _write(
    call: Callable[[], T],
    *,
    retry_missing: bool = True,
    also: Callable[[BaseException], bool] | None = None,
) -> T:
    """A bucket write, retried through S3's transient conflicts (botocore does not retry them)."""

    def retryable(exc: BaseException) -> bool:
        return _transient_write_error(exc, retry_missing=retry_missing) or bool(also and also(exc))

    return retry_while(call, retryable=retryable, timeout=BUCKET_PROPAGATION_TIMEOUT)


def _bucket_region(head: dict[str, Any]) -> str | None:
    region = head.get("BucketRegion") or (
        head.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get("x-amz-bucket-region")
    )
    return str(region) if region else None


def _bucket_tags(s3: Any, bucket: str) -> dict[str, str]:
    try:
        return tag_dict(s3.get_bucket_tagging(Bucket=bucket).get("TagSet"))
    except ClientError as exc:
        if error_code(exc) == "NoSuchTagSet":
            return {}
        raise


def _object_lock_enabled(s3: Any, bucket: str) -> bool:
    try:
        config = s3.get_object_lock_configuration(Bucket=bucket)["ObjectLockConfiguration"]
    except ClientError as exc:
        if error_code(exc) == "ObjectLockConfigurationNotFoundError":
            return False
        raise
    return bool(config.get("ObjectLockEnabled") == "Enabled")


def _versioning_status(attributes: dict[str, Any]) -> str:
    return str(attributes["versioning_configuration"][0]["status"])


# ---------------------------------------------------------------------------------------------
# Block shapes: Terraform's nested blocks ⇄ the S3 API's structures
# ---------------------------------------------------------------------------------------------


def _compact(values: dict[str, Any]) -> dict[str, Any]:
    """Without the members that are not set (the API rejects explicit nulls)."""
    return {k: v for k, v in values.items() if v is not None}


def _status_to_api(block: dict[str, Any] | None) -> dict[str, str] | None:
    return {"Status": block["status"]} if block else None


def _status_from_api(member: dict[str, Any] | None) -> list[dict[str, Any]] | None:
    return [{"status": member["Status"]}] if member and "Status" in member else None


def _tags_to_api(tags: dict[str, str] | None) -> list[dict[str, str]] | None:
    return tag_list(tags) if tags else None


def _date(value: Any) -> str | None:
    """Terraform writes dates as RFC 3339; boto3 parses them into datetimes."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    return None if value is None else str(value)


def _encryption_rule_to_api(rule: dict[str, Any]) -> dict[str, Any]:
    default = only_block(rule.get("apply_server_side_encryption_by_default"))
    blocked = rule.get("blocked_encryption_types")
    return _compact(
        {
            "ApplyServerSideEncryptionByDefault": _compact(
                {
                    "SSEAlgorithm": default["sse_algorithm"],
                    "KMSMasterKeyID": default.get("kms_master_key_id") or None,
                }
            )
            if default
            else None,
            "BucketKeyEnabled": rule.get("bucket_key_enabled"),
            "BlockedEncryptionTypes": (
                {"EncryptionType": list(blocked)} if blocked is not None else None
            ),
        }
    )


def _encryption_rule_from_api(rule: dict[str, Any]) -> dict[str, Any]:
    default = rule.get("ApplyServerSideEncryptionByDefault")
    return {
        "bucket_key_enabled": bool(rule.get("BucketKeyEnabled", False)),
        "apply_server_side_encryption_by_default": [
            {
                "sse_algorithm": default["SSEAlgorithm"],
                "kms_master_key_id": default.get("KMSMasterKeyID", ""),
            }
        ]
        if default
        else [],
        "blocked_encryption_types": list(
            rule.get("BlockedEncryptionTypes", {}).get("EncryptionType", [])
        ),
    }


def _lifecycle_filter_to_api(block: dict[str, Any]) -> dict[str, Any]:
    """S3 takes exactly one predicate: a prefix, a tag, a size bound, or several under And."""
    both = only_block(block.get("and"))
    if both is not None:
        return {
            "And": _compact(
                {
                    "Prefix": both.get("prefix"),
                    "Tags": _tags_to_api(both.get("tags")),
                    "ObjectSizeGreaterThan": both.get("object_size_greater_than"),
                    "ObjectSizeLessThan": both.get("object_size_less_than"),
                }
            )
        }
    tag = only_block(block.get("tag"))
    if tag is not None:
        return {"Tag": {"Key": tag["key"], "Value": tag["value"]}}
    for name, member in (
        ("object_size_greater_than", "ObjectSizeGreaterThan"),
        ("object_size_less_than", "ObjectSizeLessThan"),
    ):
        if block.get(name) is not None:
            return {member: int(block[name])}
    return {"Prefix": block.get("prefix") or ""}


def _lifecycle_filter_from_api(member: dict[str, Any]) -> dict[str, Any]:
    block: dict[str, Any] = {
        # No predicate at all is the whole bucket, the same as an empty prefix.
        "prefix": member.get("Prefix", ""),
        "object_size_greater_than": member.get("ObjectSizeGreaterThan"),
        "object_size_less_than": member.get("ObjectSizeLessThan"),
    }
    if "Tag" in member:
        block["tag"] = [{"key": member["Tag"]["Key"], "value": member["Tag"]["Value"]}]
    if "And" in member:
        both = member["And"]
        block["and"] = [
            _compact(
                {
                    "prefix": both.get("Prefix"),
                    "tags": tag_dict(both.get("Tags")) or None,
                    "object_size_greater_than": both.get("ObjectSizeGreaterThan"),
                    "object_size_less_than": both.get("ObjectSizeLessThan"),
                }
            )
        ]
    return _compact(block)


def _lifecycle_rule_to_api(rule: dict[str, Any]) -> dict[str, Any]:
    filter_block = only_block(rule.get("filter"))
    expiration = only_block(rule.get("expiration"))
    noncurrent_expiration = only_block(rule.get("noncurrent_version_expiration"))
    abort = only_block(rule.get("abort_incomplete_multipart_upload"))
    return _compact(
        {
            "ID": rule["id"],
            "Status": rule["status"],
            "Filter": _lifecycle_filter_to_api(filter_block) if filter_block is not None else None,
            "Prefix": rule.get("prefix") if filter_block is None else None,
            "Expiration": _compact(
                {
                    "Date": expiration.get("date"),
                    "Days": expiration.get("days"),
                    "ExpiredObjectDeleteMarker": expiration.get("expired_object_delete_marker"),
                }
            )
            if expiration
            else None,
            "Transitions": [
                _compact(
                    {
                        "Date": t.get("date"),
                        "Days": t.get("days"),
                        "StorageClass": t["storage_class"],
                    }
                )
                for t in rule["transition"]
            ]
            if rule.get("transition")
            else None,
            "NoncurrentVersionExpiration": _compact(
                {
                    "NoncurrentDays": noncurrent_expiration["noncurrent_days"],
                    "NewerNoncurrentVersions": noncurrent_expiration.get(
                        "newer_noncurrent_versions"
                    ),
                }
            )
            if noncurrent_expiration
            else None,
            "NoncurrentVersionTransitions": [
                _compact(
                    {
                        "NoncurrentDays": t["noncurrent_days"],
                        "StorageClass": t["storage_class"],
                        "NewerNoncurrentVersions": t.get("newer_noncurrent_versions"),
                    }
                )
                for t in rule["noncurrent_version_transition"]
            ]
            if rule.get("noncurrent_version_transition")
            else None,
            "AbortIncompleteMultipartUpload": (
                {"DaysAfterInitiation": abort["days_after_initiation"]} if abort else None
            ),
        }
    )


def _lifecycle_rule_from_api(rule: dict[str, Any]) -> dict[str, Any]:
    expiration = rule.get("Expiration")
    noncurrent_expiration = rule.get("NoncurrentVersionExpiration")
    abort = rule.get("AbortIncompleteMultipartUpload")
    return _compact(
        {
            "id": rule.get("ID", ""),
            "status": rule["Status"],
            "prefix": rule.get("Prefix"),
            "filter": [_lifecycle_filter_from_api(rule["Filter"])] if "Filter" in rule else None,
            "expiration": [
                _compact(
                    {
                        "date": _date(expiration.get("Date")),
                        "days": expiration.get("Days"),
                        "expired_object_delete_marker": expiration.get("ExpiredObjectDeleteMarker"),
                    }
                )
            ]
            if expiration
            else None,
            "transition": [
                _compact(
                    {
                        "date": _date(t.get("Date")),
                        "days": t.get("Days"),
                        "storage_class": t["StorageClass"],
                    }
                )
                for t in rule["Transitions"]
            ]
            if rule.get("Transitions")
            else None,
            "noncurrent_version_expiration": [
                _compact(
                    {
                        "noncurrent_days": noncurrent_expiration.get("NoncurrentDays"),
                        "newer_noncurrent_versions": noncurrent_expiration.get(
                            "NewerNoncurrentVersions"
                        ),
                    }
                )
            ]
            if noncurrent_expiration
            else None,
            "noncurrent_version_transition": [
                _compact(
                    {
                        "noncurrent_days": t.get("NoncurrentDays"),
                        "storage_class": t["StorageClass"],
                        "newer_noncurrent_versions": t.get("NewerNoncurrentVersions"),
                    }
                )
                for t in rule["NoncurrentVersionTransitions"]
            ]
            if rule.get("NoncurrentVersionTransitions")
            else None,
            "abort_incomplete_multipart_upload": [
                {"days_after_initiation": abort["DaysAfterInitiation"]}
            ]
            if abort
            else None,
        }
    )


def _replication_filter_to_api(block: dict[str, Any]) -> dict[str, Any]:
    both = only_block(block.get("and"))
    if both is not None:
        return {
            "And": _compact({"Prefix": both.get("prefix"), "Tags": _tags_to_api(both.get("tags"))})
        }
    tag = only_block(block.get("tag"))
    if tag is not None:
        return {"Tag": {"Key": tag["key"], "Value": tag["value"]}}
    return {"Prefix": block.get("prefix") or ""}


def _replication_filter_from_api(member: dict[str, Any]) -> dict[str, Any]:
    block: dict[str, Any] = {"prefix": member.get("Prefix", "")}
    if "Tag" in member:
        block["tag"] = [{"key": member["Tag"]["Key"], "value": member["Tag"]["Value"]}]
    if "And" in member:
        both = member["And"]
        block["and"] = [
            _compact({"prefix": both.get("Prefix"), "tags": tag_dict(both.get("Tags")) or None})
        ]
    return block


def _destination_to_api(block: dict[str, Any]) -> dict[str, Any]:
    translation = only_block(block.get("access_control_translation"))
    encryption = only_block(block.get("encryption_configuration"))
    metrics = only_block(block.get("metrics"))
    threshold = only_block(metrics.get("event_threshold")) if metrics else None
    replication_time = only_block(block.get("replication_time"))
    return _compact(
        {
            "Bucket": block["bucket"],
            "Account": block.get("account"),
            "StorageClass": block.get("storage_class"),
            "AccessControlTranslation": ({"Owner": translation["owner"]} if translation else None),
            "EncryptionConfiguration": (
                {"ReplicaKmsKeyID": encryption["replica_kms_key_id"]} if encryption else None
            ),
            "Metrics": _compact(
                {
                    "Status": metrics["status"],
                    "EventThreshold": {"Minutes": threshold["minutes"]} if threshold else None,
                }
            )
            if metrics
            else None,
            "ReplicationTime": {
                "Status": replication_time["status"],
                "Time": {"Minutes": replication_time["time"][0]["minutes"]},
            }
            if replication_time
            else None,
        }
    )


def _destination_from_api(member: dict[str, Any]) -> dict[str, Any]:
    translation = member.get("AccessControlTranslation")
    encryption = member.get("EncryptionConfiguration")
    metrics = member.get("Metrics")
    replication_time = member.get("ReplicationTime")
    return _compact(
        {
            "bucket": member["Bucket"],
            "account": member.get("Account"),
            "storage_class": member.get("StorageClass"),
            "access_control_translation": (
                [{"owner": translation["Owner"]}] if translation else None
            ),
            "encryption_configuration": (
                [{"replica_kms_key_id": encryption["ReplicaKmsKeyID"]}]
                if encryption and encryption.get("ReplicaKmsKeyID")
                else None
            ),
            "metrics": [
                _compact(
                    {
                        "status": metrics["Status"],
                        "event_threshold": (
                            [{"minutes": metrics["EventThreshold"]["Minutes"]}]
                            if metrics.get("EventThreshold")
                            else None
                        ),
                    }
                )
            ]
            if metrics
            else None,
            "replication_time": [
                {
                    "status": replication_time["Status"],
                    "time": [{"minutes": replication_time.get("Time", {}).get("Minutes")}],
                }
            ]
            if replication_time
            else None,
        }
    )


def _replication_rule_to_api(rule: dict[str, Any]) -> dict[str, Any]:
    filter_block = only_block(rule.get("filter"))
    criteria = only_block(rule.get("source_selection_criteria"))
    delete_markers = only_block(rule.get("delete_marker_replication"))
    if delete_markers is None and filter_block is not None:
        # With a Filter (the current schema) S3 requires DeleteMarkerReplication.
        delete_markers = {"status": "Disabled"}
    return _compact(
        {
            "ID": rule.get("id"),
            "Priority": rule.get("priority"),
            "Status": rule["status"],
            "Filter": _replication_filter_to_api(filter_block)
            if filter_block is not None
            else None,
            "Prefix": rule.get("prefix") if filter_block is None else None,
            "DeleteMarkerReplication": _status_to_api(delete_markers),
            "SourceSelectionCriteria": _compact(
                {
                    "SseKmsEncryptedObjects": _status_to_api(
                        only_block(criteria.get("sse_kms_encrypted_objects"))
                    ),
                    "ReplicaModifications": _status_to_api(
                        only_block(criteria.get("replica_modifications"))
                    ),
                }
            )
            if criteria
            else None,
            "ExistingObjectReplication": _status_to_api(
                only_block(rule.get("existing_object_replication"))
            ),
            "Destination": _destination_to_api(rule["destination"][0]),
        }
    )


def _replication_rule_from_api(rule: dict[str, Any]) -> dict[str, Any]:
    criteria = rule.get("SourceSelectionCriteria")
    return _compact(
        {
            "id": rule.get("ID", ""),
            "priority": rule.get("Priority"),
            "status": rule["Status"],
            "prefix": rule.get("Prefix"),
            "filter": [_replication_filter_from_api(rule["Filter"])] if "Filter" in rule else None,
            "delete_marker_replication": _status_from_api(rule.get("DeleteMarkerReplication")),
            "source_selection_criteria": [
                _compact(
                    {
                        "sse_kms_encrypted_objects": _status_from_api(
                            criteria.get("SseKmsEncryptedObjects")
                        ),
                        "replica_modifications": _status_from_api(
                            criteria.get("ReplicaModifications")
                        ),
                    }
                )
            ]
            if criteria
            else None,
            "existing_object_replication": _status_from_api(rule.get("ExistingObjectReplication")),
            "destination": [_destination_from_api(rule["Destination"])],
        }
    )


def bucket_region(s3: Any, bucket: str) -> str | None:
    """The region a bucket lives in, asked of any region's endpoint (HeadBucket says it)."""
    return _bucket_region(s3.head_bucket(Bucket=bucket))
