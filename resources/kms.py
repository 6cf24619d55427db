"""KMS: customer-managed keys (rotation, policy, enabled state, tags) and their aliases."""

from __future__ import annotations

from typing import Any

from deployer.attributes import Attr, Setter, Table
from deployer.aws import paginate
from deployer.batch import Describe, item_key
from deployer.errors import or_none
from deployer.resource import Context, Resource, resource
from deployer.tagging import Tagging, is_ours

# ListAliases has no filter: one listing per region answers for every alias.
ALIASES = Describe(
    "kms",
    "list_aliases",
    "Aliases",
    {"alias-name": item_key("AliasName")},
    request=lambda by, values: {},
    chunk=1_000_000,
)


# Keys scheduled for deletion are gone for every purpose but cancelling the deletion.
GONE_STATES = frozenset({"PendingDeletion", "PendingReplicaDeletion"})
# Rotation is switched on and off as one setting (EnableKeyRotation takes the period).
ROTATION = frozenset({"enable_key_rotation", "rotation_period_in_days"})


@resource
class Key(Resource):
    type = "aws_kms_key"
    arn_kind = ("kms", "key")
    policy_attributes = frozenset({"policy"})
    key_policy = True
    replace_needs_consent = True
    tagging = Tagging("KeyId", list_call="list_resource_tags", key="TagKey", value="TagValue")
    # Defaults as the provider's (internal/service/kms/key.go).
    table = Table(
        Attr("key_id", "KeyId", computed=True),
        Attr("arn", "Arn", computed=True),
        Attr("description", "Description", update=Setter("UpdateKeyDescription", "Description")),
        Attr("key_usage", "KeyUsage", force_new=True, default="ENCRYPT_DECRYPT"),
        Attr("customer_master_key_spec", "KeySpec", force_new=True, default="SYMMETRIC_DEFAULT"),
        Attr("multi_region", "MultiRegion", force_new=True, default=False),
        # Enabled at creation; EnableKey / DisableKey afterwards (see `update`).
        Attr("is_enabled", "Enabled", create=False, update=True, default=True),
        # GetKeyPolicy and GetKeyRotationStatus are calls of their own (see `read`).
        Attr(
            "policy",
            create="Policy",
            update=Setter("PutKeyPolicy", "Policy", fixed={"PolicyName": "default"}),
        ),
        Attr("enable_key_rotation", create=False, update=True, default=False),
        Attr("rotation_period_in_days", create=False, update=True),
        # Only used when the key is scheduled for deletion; AWS does not report it.
        Attr("deletion_window_in_days", create=False, write_only=True, default=30),
        service="kms",
        create_call="CreateKey",
        described="KeyMetadata",
        id_parameter="KeyId",
    )

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        kms = ctx.client("kms")
        tags = self.tagging.to_api(desired["tags"]) if self.tagging else []
        key = kms.create_key(**self.table.create_parameters(desired), Tags=tags)["KeyMetadata"]
        key_id: str = key["KeyId"]
        self._set_rotation(kms, key_id, desired)
        if desired.get("is_enabled") is False:
            kms.disable_key(KeyId=key_id)
        return key_id

    def describe(self, ctx: Context, id: str) -> dict[str, Any] | None:
        found = or_none(lambda: ctx.client("kms").describe_key(KeyId=id))
        if found is None or found["KeyMetadata"]["KeyState"] in GONE_STATES:
            return None
        meta: dict[str, Any] = found["KeyMetadata"]
        return meta

    def read(self, ctx: Context, id: str) -> dict[str, Any] | None:
        live = super().read(ctx, id)
        if live is None:
            return None
        kms = ctx.client("kms")
        rotation = kms.get_key_rotation_status(KeyId=id)
        live.update(
            id=live["key_id"],
            enable_key_rotation=rotation["KeyRotationEnabled"],
            rotation_period_in_days=rotation.get("RotationPeriodInDays"),
            policy=kms.get_key_policy(KeyId=id, PolicyName="default")["Policy"],
        )
        return live

    def update(self, ctx: Context, id: str, desired: dict[str, Any], live: dict[str, Any]) -> None:
        """Enabled first and disabled last, so that the rest acts on an enabled key."""
        kms = ctx.client("kms")
        changed = self.changed(desired, live)
        if "is_enabled" in changed and desired["is_enabled"]:
            kms.enable_key(KeyId=id)
        if changed & ROTATION:
            self._set_rotation(kms, id, desired)
        self.apply_changes(ctx, id, desired, live, changed - ROTATION - {"is_enabled"})
        if "is_enabled" in changed and not desired["is_enabled"]:
            kms.disable_key(KeyId=id)

    def delete(self, ctx: Context, id: str, live: dict[str, Any] | None) -> None:
        window = self.with_defaults(ctx.node.attributes)["deletion_window_in_days"]
        ctx.client("kms").schedule_key_deletion(KeyId=id, PendingWindowInDays=int(window))

    def find(self, ctx: Context, desired: dict[str, Any]) -> str | None:
        """CreateKey has no idempotency token: a key made before a crash is found by its tag."""
        kms = ctx.client("kms")
        for key in paginate(kms, "list_keys", "Keys"):
            tags = self.tagging.read(kms, key["KeyId"]) if self.tagging else {}
            if is_ours(tags, desired) and self.describe(ctx, key["KeyId"]) is not None:
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


def _key_arn(alias_arn: str, key_id: str) -> str:
    """The key is in the alias's own account and region: `arn:…:alias/x` → `arn:…:key/id`."""
    return f"{alias_arn.split(':alias/', 1)[0]}:key/{key_id}"


@resource
class Alias(Resource):
    type = "aws_kms_alias"
    arn_kind = ("kms", "alias")
    batched_read = (ALIASES, "alias-name")
    taggable = False
    table = Table(
        Attr("name", "AliasName", force_new=True),
        Attr("arn", "AliasArn", computed=True),
        Attr("target_key_id", "TargetKeyId", update=Setter("UpdateAlias", "TargetKeyId")),
        Attr("target_key_arn", computed=True),  # from the alias's ARN and key id (`read`)
        service="kms",
        create_call="CreateAlias",
        described="AliasListEntry",
        id_parameter="AliasName",
    )

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        ctx.client("kms").create_alias(**self.table.create_parameters(desired))
        return str(desired["name"])

    def describe(self, ctx: Context, id: str) -> dict[str, Any] | None:
        for alias in ctx.describe(ALIASES, "alias-name", id):
            if "TargetKeyId" in alias:  # AWS-managed aliases may point nowhere yet
                return alias
        return None

    def read(self, ctx: Context, id: str) -> dict[str, Any] | None:
        live = super().read(ctx, id)
        if live is not None:
            live["target_key_arn"] = _key_arn(live["arn"], live["target_key_id"])
        return live

    def delete(self, ctx: Context, id: str, live: dict[str, Any] | None) -> None:
        ctx.client("kms").delete_alias(AliasName=id)

    def find(self, ctx: Context, desired: dict[str, Any]) -> str | None:
        return desired["name"] if self.read(ctx, desired["name"]) else None
