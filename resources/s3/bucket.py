"""S3 buckets: the bucket itself (name, region, Object Lock, tags); its settings are settings.py.

A bucket's name is global, its ARN names no region, and S3 answers for it from every region's
endpoint: the driver says where a bucket lives (`bucket_region`, `region_of`), adopts only a
bucket of this account, region and node, and refuses to delete one holding data unless the user
allowed it (`--force`, `force_destroy`).
"""

from __future__ import annotations

import contextlib
from typing import Any

from botocore.exceptions import ClientError

from deployer.arns import Arn
from deployer.attributes import Attr, Table
from deployer.aws import Clients
from deployer.errors import AlreadyExists, DeployerError, NotFound, error_code, or_none
from deployer.resource import Context, Resource, resource
from deployer.tagging import ADDRESS_TAG, tag_changes, tag_dict, tag_list, user_tags
from deployer.waiting import poll
from resources.s3.writes import BUCKET_PROPAGATION_TIMEOUT, write

# The region whose S3 endpoint takes CreateBucket without a LocationConstraint.
DEFAULT_BUCKET_REGION = "us-east-1"


@resource
class Bucket(Resource):
    type = "aws_s3_bucket"
    arn_kind = ("s3", "")
    policy_attributes = frozenset({"policy"})
    lookup_by = {"bucket": "bucket"}
    replace_needs_consent = True
    # HeadBucket says where the bucket lives; the rest the driver reads or composes (`read`).
    table = Table(
        # The bucket's name, and its id.
        Attr("bucket", create="Bucket", force_new=True),
        # The spec names every bucket: a generated name is never asked for.
        Attr("bucket_prefix", create=False, force_new=True),
        # GetObjectLockConfiguration says it (`read`).
        Attr("object_lock_enabled", create="ObjectLockEnabledForBucket", force_new=True),
        # A Terraform-side switch, not a property of the bucket: read when deleting.
        Attr("force_destroy", create=False, write_only=True, default=False),
        # The endpoint's region (a LocationConstraint outside us-east-1, `create`).
        Attr("region", "BucketRegion", create=False, force_new=True),
        Attr("bucket_region", "BucketRegion", computed=True),
        Attr("arn", computed=True),
        Attr("bucket_domain_name", computed=True),
        Attr("bucket_regional_domain_name", computed=True),
        service="s3",
        create_call="CreateBucket",
        described="HeadBucketOutput",
    )

    def region_of(self, clients: Clients, region: str, arn: Arn) -> str | None:
        """A bucket's ARN names no region, yet the bucket lives in one."""
        return bucket_region(clients("s3", region), arn.resource_id)

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        assert self.table is not None
        s3 = ctx.client("s3")
        name = str(desired["bucket"])
        params = self.table.create_parameters(desired)
        if ctx.region != DEFAULT_BUCKET_REGION:
            params["CreateBucketConfiguration"] = {"LocationConstraint": ctx.region}
        try:
            s3.create_bucket(**params)
        except AlreadyExists as exc:  # BucketAlreadyOwnedByYou
            if self._adoptable(ctx, desired, untagged=False):
                return name
            raise DeployerError(
                f"S3 bucket {name} already exists in this account but is not this "
                f"deployment's (another region, or no matching {ADDRESS_TAG} tag): "
                "delete it or tag it to adopt it"
            ) from exc
        except ClientError as exc:
            if error_code(exc) == "BucketAlreadyExists":
                raise DeployerError(
                    f"S3 bucket name {name} is taken by another AWS account (bucket names "
                    "are global): change the spec's project or environment_suffix"
                ) from exc
            raise
        try:
            self.update_tags(ctx, name, desired, {})
        except Exception:
            # A failed create leaves nothing behind: the bucket is new and empty.
            with contextlib.suppress(ClientError):
                s3.delete_bucket(Bucket=name)
            raise
        return name

    def describe(self, ctx: Context, id: str) -> dict[str, Any] | None:
        head = or_none(lambda: ctx.client("s3").head_bucket(Bucket=id))
        if head is None:
            return None
        return {**head, "BucketRegion": _bucket_region(head) or ctx.region}

    def read(self, ctx: Context, id: str) -> dict[str, Any] | None:
        """HeadBucket's answer, with what other calls say (Object Lock, tags) and the names
        S3 derives from the bucket's own."""
        live = super().read(ctx, id)
        if live is None:
            return None
        s3 = ctx.client("s3")
        return {
            **live,
            "bucket": id,
            "arn": f"arn:aws:s3:::{id}",
            "bucket_domain_name": f"{id}.s3.amazonaws.com",
            "bucket_regional_domain_name": f"{id}.s3.{live['region']}.amazonaws.com",
            "object_lock_enabled": _object_lock_enabled(s3, id),
            "tags": user_tags(_bucket_tags(s3, id)),
        }

    def update(self, ctx: Context, id: str, desired: dict[str, Any], live: dict[str, Any]) -> None:
        """Only the tags change in place: every other argument forces a new bucket."""
        self.update_tags(ctx, id, desired, live)

    def update_tags(
        self, ctx: Context, id: str, desired: dict[str, Any], live: dict[str, Any]
    ) -> None:
        """PutBucketTagging replaces the whole tag set (there is no call for one tag), and
        DeleteBucketTagging empties it."""
        tags: dict[str, str] = desired.get("tags") or {}
        to_set, to_remove = tag_changes(tags, live.get("tags"))
        if not (to_set or to_remove):
            return
        s3 = ctx.client("s3")
        if tags:
            write(lambda: s3.put_bucket_tagging(Bucket=id, Tagging={"TagSet": tag_list(tags)}))
        else:
            s3.delete_bucket_tagging(Bucket=id)

    def check_delete(self, ctx: Context, id: str) -> str | None:
        """A bucket holding objects (or old versions) goes only with --force / force_destroy."""
        if ctx.options.get("force") or ctx.node.attributes.get("force_destroy"):
            return None
        s3 = ctx.client("s3")
        listing = or_none(lambda: s3.list_object_versions(Bucket=id, MaxKeys=1))
        if listing and (listing.get("Versions") or listing.get("DeleteMarkers")):
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
            write(lambda: s3.delete_bucket(Bucket=id), retry_missing=False)
        except NotFound:
            return
        except ClientError as exc:
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
        poll(
            lambda: or_none(lambda: s3.head_bucket(Bucket=id)),
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
        except NotFound:
            return False
        except ClientError as exc:
            if error_code(exc) in ("403", "AccessDenied", "Forbidden"):
                return False
            raise
        if (_bucket_region(head) or ctx.region) != ctx.region:
            return False
        address = _bucket_tags(s3, name).get(ADDRESS_TAG)
        wanted = (desired.get("tags") or {}).get(ADDRESS_TAG)
        return address == wanted if address is not None else untagged


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


def bucket_region(s3: Any, bucket: str) -> str | None:
    """The region a bucket lives in, asked of any region's endpoint (HeadBucket says it)."""
    return _bucket_region(s3.head_bucket(Bucket=bucket))


def _bucket_region(head: dict[str, Any]) -> str | None:
    region = head.get("BucketRegion") or (
        head.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get("x-amz-bucket-region")
    )
    return str(region) if region else None


def _bucket_tags(s3: Any, bucket: str) -> dict[str, str]:
    """The bucket's tags; a bucket without any answers NoSuchTagSet."""
    answer = or_none(lambda: s3.get_bucket_tagging(Bucket=bucket))
    return tag_dict((answer or {}).get("TagSet"))


def _object_lock_enabled(s3: Any, bucket: str) -> bool:
    """Whether Object Lock is on; a bucket made without it has no configuration to report."""
    answer = or_none(lambda: s3.get_object_lock_configuration(Bucket=bucket))
    config = (answer or {}).get("ObjectLockConfiguration", {})
    return bool(config.get("ObjectLockEnabled") == "Enabled")
