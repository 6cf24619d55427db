"""KMS: customer-managed keys (rotation, policy, enabled state, tags) and their aliases."""

from __future__ import annotations

from typing import Any

from deployer.attributes import Attr, Table
from deployer.aws import is_not_found, paginate, tag_changes, tag_dict, tag_list, user_tags
from deployer.batch import Describe, item_key
from deployer.diff import diff_attributes
from deployer.graph import ADDRESS_TAG
from deployer.resource import Context, Resource, resource

# ListAliases has no filter: one listing per region answers for every alias.
ALIASES = Describe(
    "kms",
    "list_aliases",
    "Aliases",
    {"alias-name": item_key("AliasName")},
    request=lambda by, values: {},
    chunk=1_000_000,
)


@resource
class Key(Resource):
    type = "aws_kms_key"
    arn_kind = ("kms", "key")
    policy_attributes = frozenset({"policy"})
    key_policy = True
    replace_needs_consent = True
    table = Table(
        Attr("key_id", "KeyId", computed=True),
        Attr("arn", "Arn", computed=True),
        Attr("description", "Description", update=True),
        Attr("key_usage", "KeyUsage", force_new=True, default="ENCRYPT_DECRYPT"),
        Attr("customer_master_key_spec", "KeySpec", force_new=True, default="SYMMETRIC_DEFAULT"),
        Attr("multi_region", "MultiRegion", force_new=True, default=False),
        # Enabled at creation; EnableKey / DisableKey afterwards.
        Attr("is_enabled", "Enabled", create=False, update=True, default=True),
        # GetKeyPolicy, GetKeyRotationStatus and the tag listing are calls of their own.
        Attr("policy", create="Policy", update=True),
        Attr("enable_key_rotation", create=False, update=True, default=False),
        Attr("rotation_period_in_days", create=False, update=True),
        # Only used when the key is scheduled for deletion; AWS does not report it.
        Attr("deletion_window_in_days", create=False, write_only=True),
        Attr("tags", create=False, update=True),
        service="kms",
        create_call="CreateKey",
        described="KeyMetadata",
    )

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        kms = ctx.client("kms")
        key = kms.create_key(
            **self.table.create_parameters(desired),
            Tags=tag_list(desired["tags"], "TagKey", "TagValue"),
        )["KeyMetadata"]
        key_id: str = key["KeyId"]
        self._set_rotation(kms, key_id, desired)
        if desired.get("is_enabled") is False:
            kms.disable_key(KeyId=key_id)
        return key_id

    def read(self, ctx: Context, id: str) -> dict[str, Any] | None:
        kms = ctx.client("kms")
        try:
            meta = kms.describe_key(KeyId=id)["KeyMetadata"]
        except Exception as exc:
            if is_not_found(exc):
                return None
            raise
        if meta["KeyState"] in ("PendingDeletion", "PendingReplicaDeletion"):
            return None
        rotation = kms.get_key_rotation_status(KeyId=id)
        tags = tag_dict(kms.list_resource_tags(KeyId=id).get("Tags"), "TagKey", "TagValue")
        return {
            **self.table.read(meta),
            "id": meta["KeyId"],
            "enable_key_rotation": rotation["KeyRotationEnabled"],
            "rotation_period_in_days": rotation.get("RotationPeriodInDays"),
            "policy": kms.get_key_policy(KeyId=id, PolicyName="default")["Policy"],
            "tags": user_tags(tags),
        }

    def update(self, ctx: Context, id: str, desired: dict[str, Any], live: dict[str, Any]) -> None:
        kms = ctx.client("kms")
        changed = diff_attributes(desired, live)
        if "is_enabled" in changed and desired["is_enabled"]:
            kms.enable_key(KeyId=id)  # enabled first and disabled last: the rest acts on a key
        if "description" in changed:
            kms.update_key_description(KeyId=id, Description=desired["description"])
        if "policy" in changed:
            kms.put_key_policy(KeyId=id, PolicyName="default", Policy=desired["policy"])
        if {"enable_key_rotation", "rotation_period_in_days"} & changed.keys():
            self._set_rotation(kms, id, desired)
        to_set, to_remove = tag_changes(desired["tags"], live.get("tags"))
        if to_set:
            kms.tag_resource(KeyId=id, Tags=tag_list(to_set, "TagKey", "TagValue"))
        if to_remove:
            kms.untag_resource(KeyId=id, TagKeys=to_remove)
        if "is_enabled" in changed and not desired["is_enabled"]:
            kms.disable_key(KeyId=id)

    def delete(self, ctx: Context, id: str, live: dict[str, Any] | None) -> None:
        window = (ctx.node.attributes.get("deletion_window_in_days")) or 30
        ctx.client("kms").schedule_key_deletion(KeyId=id, PendingWindowInDays=int(window))

    def find(self, ctx: Context, desired: dict[str, Any]) -> str | None:
        """CreateKey has no idempotency token: a key made before a crash is found by its tag."""
        kms = ctx.client("kms")
        for key in paginate(kms, "list_keys", "Keys"):
            tags = tag_dict(
                kms.list_resource_tags(KeyId=key["KeyId"]).get("Tags"), "TagKey", "TagValue"
            )
            if all(tags.get(k) == v for k, v in desired["tags"].items() if k != "Name") and (
                tags.get(ADDRESS_TAG) == desired["tags"].get(ADDRESS_TAG)
            ):
                state = kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]["KeyState"]
                if state not in ("PendingDeletion", "PendingReplicaDeletion"):
                    return str(key["KeyId"])
        return None

    @staticmethod
    def _set_rotation(kms: Any, key_id: str, desired: dict[str, Any]) -> None:
        if desired["enable_key_rotation"]:
            period = desired.get("rotation_period_in_days")
            extra = {"RotationPeriodInDays": int(period)} if period else {}
            kms.enable_key_rotation(KeyId=key_id, **extra)
        else:
            kms.disable_key_rotation(KeyId=key_id)


@resource
class Alias(Resource):
    type = "aws_kms_alias"
    arn_kind = ("kms", "alias")
    batched_read = (ALIASES, "alias-name")
    taggable = False
    force_new = frozenset({"name"})

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        ctx.client("kms").create_alias(
            AliasName=desired["name"], TargetKeyId=desired["target_key_id"]
        )
        return str(desired["name"])

    def read(self, ctx: Context, id: str) -> dict[str, Any] | None:
        for alias in ctx.describe(ALIASES, "alias-name", id):
            if "TargetKeyId" in alias:  # AWS-managed aliases may point nowhere yet
                # The key is the alias's own account and region: `arn:…:alias/x` → `arn:…:key/id`.
                account_arn = alias["AliasArn"].split(":alias/", 1)[0]
                return {
                    "id": id,
                    "name": id,
                    "arn": alias["AliasArn"],
                    "target_key_id": alias["TargetKeyId"],
                    "target_key_arn": f"{account_arn}:key/{alias['TargetKeyId']}",
                }
        return None

    def update(self, ctx: Context, id: str, desired: dict[str, Any], live: dict[str, Any]) -> None:
        ctx.client("kms").update_alias(AliasName=id, TargetKeyId=desired["target_key_id"])

    def delete(self, ctx: Context, id: str, live: dict[str, Any] | None) -> None:
        ctx.client("kms").delete_alias(AliasName=id)

    def find(self, ctx: Context, desired: dict[str, Any]) -> str | None:
        return desired["name"] if self.read(ctx, desired["name"]) else None
