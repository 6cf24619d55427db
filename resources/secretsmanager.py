"""Secrets Manager: secrets, their versions, and the ephemeral resources that open them.

A secret version's value is set through the write-only `secret_string_wo` (Terraform 1.11+):
sent once, when created or when `secret_string_wo_version` changes, never stored, compared or
shown. The ephemeral `aws_secretsmanager_random_password` (GetRandomPassword) and
`aws_secretsmanager_secret_version` (GetSecretValue) are opened at apply time only and their
values live in memory for one run (Terraform 1.10+'s ephemeral resources).

Terraform's ids: a secret's is its ARN; a secret version's is `<secret id>|<version id>`.
"""

from __future__ import annotations

import base64
import uuid
from typing import Any

from deployer.aws import (
    DeployerError,
    error_code,
    is_not_found,
    tag_changes,
    tag_dict,
    tag_list,
    user_tags,
)
from deployer.graph import ADDRESS_TAG
from deployer.resource import (
    Context,
    EphemeralResource,
    Resource,
    ephemeral,
    resource,
)

CURRENT_STAGE = "AWSCURRENT"


# ---------------------------------------------------------------------------------------------
# Drivers
# ---------------------------------------------------------------------------------------------


@resource
class Secret(Resource):
    """The secret's metadata; its value belongs to `aws_secretsmanager_secret_version`."""

    type = "aws_secretsmanager_secret"
    arn_kind = ("secretsmanager", "secret")
    policy_attributes = frozenset({"policy"})
    force_new = frozenset({"name"})
    # Used only when the secret is deleted; AWS does not report it.
    write_only = frozenset({"recovery_window_in_days"})

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        sm = ctx.client("secretsmanager")
        params: dict[str, Any] = {
            "Name": desired["name"],
            "Tags": tag_list(desired.get("tags") or {}),
        }
        if desired.get("description") is not None:
            params["Description"] = desired["description"]
        if desired.get("kms_key_id"):
            params["KmsKeyId"] = desired["kms_key_id"]
        try:
            return str(sm.create_secret(**params)["ARN"])
        except Exception as exc:
            if error_code(exc) not in ("ResourceExistsException", "InvalidRequestException"):
                raise
            existing = describe_secret(sm, desired["name"])
            if existing is not None and existing.get("DeletedDate"):
                raise DeployerError(
                    f"{ctx.node.key}: a secret named {desired['name']} is scheduled for "
                    f"deletion on {existing['DeletedDate']}; restore it (aws secretsmanager "
                    f"restore-secret --secret-id {existing['ARN']}) and apply again to adopt "
                    "it, or wait until it is gone"
                ) from exc
            adopted = self.find(ctx, desired)
            if adopted is not None:
                return adopted
            raise

    def read(self, ctx: Context, id: str) -> dict[str, Any] | None:
        secret = describe_secret(ctx.client("secretsmanager"), id)
        if secret is None or secret.get("DeletedDate"):
            return None
        return {
            "id": secret["ARN"],
            "arn": secret["ARN"],
            "name": secret["Name"],
            "description": secret.get("Description", ""),
            "kms_key_id": secret.get("KmsKeyId"),
            "tags": user_tags(tag_dict(secret.get("Tags"))),
        }

    def update(self, ctx: Context, id: str, desired: dict[str, Any], live: dict[str, Any]) -> None:
        sm = ctx.client("secretsmanager")
        changes: dict[str, Any] = {}
        if desired.get("description") is not None and desired["description"] != live.get(
            "description"
        ):
            changes["Description"] = desired["description"]
        if desired.get("kms_key_id") and desired["kms_key_id"] != live.get("kms_key_id"):
            # Secrets Manager re-encrypts the staged versions with the new key.
            changes["KmsKeyId"] = desired["kms_key_id"]
        if changes:
            sm.update_secret(SecretId=id, **changes)
        to_set, to_remove = tag_changes(desired.get("tags") or {}, live.get("tags"))
        if to_set:
            sm.tag_resource(SecretId=id, Tags=tag_list(to_set))
        if to_remove:
            sm.untag_resource(SecretId=id, TagKeys=to_remove)

    def delete(self, ctx: Context, id: str, live: dict[str, Any] | None) -> None:
        """Schedules the deletion after the recovery window (0: at once), as Terraform does."""
        sm = ctx.client("secretsmanager")
        secret = describe_secret(sm, id)
        if secret is None or secret.get("DeletedDate"):
            return
        window = ctx.node.attributes.get("recovery_window_in_days")
        params: dict[str, Any] = {"SecretId": id}
        if window is not None and int(window) == 0:
            params["ForceDeleteWithoutRecovery"] = True
        elif window is not None:
            params["RecoveryWindowInDays"] = int(window)
        try:
            sm.delete_secret(**params)
        except Exception as exc:
            if not (is_not_found(exc) or marked_for_deletion(exc)):
                raise

    def find(self, ctx: Context, desired: dict[str, Any]) -> str | None:
        secret = describe_secret(ctx.client("secretsmanager"), desired["name"])
        if secret is None or secret.get("DeletedDate"):
            return None
        tags = tag_dict(secret.get("Tags"))
        if tags.get(ADDRESS_TAG) != (desired.get("tags") or {}).get(ADDRESS_TAG):
            return None
        return str(secret["ARN"])


@resource
class SecretVersion(Resource):
    """A value put into a secret. Its value is write-only (`secret_string_wo`): read reports the
    version and its staging labels, never the value.

    Raising `secret_string_wo_version` replaces the version, as in the Terraform provider, where
    it forces a new resource: PutSecretValue makes a new version (a new id), which takes
    `AWSCURRENT`; the old one keeps `AWSPREVIOUS`. The version is compared with what was last
    applied, not read from AWS (which does not know it): that comparison is the engine's to make
    (see the report of this module), so the attribute is also listed in `write_only`.

    Delete does what the provider does: it removes the version's staging labels except
    `AWSCURRENT`, which AWS lets no one remove without moving it to another version; the value
    itself goes with the secret.

    No `find`: an interrupted create is simply made again. The new version becomes current, and
    the database reads its password from the current version, so the two stay in step.
    """

    type = "aws_secretsmanager_secret_version"
    taggable = False
    force_new = frozenset({"secret_id", "secret_string_wo_version"})
    write_only = frozenset({"secret_string_wo_version"})
    # Terraform's import reads the value back as `secret_string` and cannot know
    # `secret_string_wo_version`; both force a replacement (a new password) unless ignored.
    import_ignores = frozenset({"secret_string", "secret_string_wo_version"})

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        value = desired.get("secret_string_wo")
        if not isinstance(value, str) or not value:
            raise DeployerError(f"{ctx.node.key}: secret_string_wo has no value to put")
        put = ctx.client("secretsmanager").put_secret_value(
            SecretId=desired["secret_id"],
            SecretString=value,
            # A retried request (botocore's) must not make a second version.
            ClientRequestToken=str(uuid.uuid4()),
        )
        return version_id_of(str(desired["secret_id"]), str(put["VersionId"]))

    def read(self, ctx: Context, id: str) -> dict[str, Any] | None:
        secret_id, version_id = parse_version_id(id)
        sm = ctx.client("secretsmanager")
        secret = describe_secret(sm, secret_id)
        if secret is None or secret.get("DeletedDate"):
            return None
        version = find_version(sm, secret_id, version_id)
        if version is None:
            return None
        return {
            "id": id,
            "arn": secret["ARN"],
            "secret_id": secret_id,
            "version_id": version_id,
            "version_stages": sorted(version.get("VersionStages") or []),
        }

    def delete(self, ctx: Context, id: str, live: dict[str, Any] | None) -> None:
        secret_id, version_id = parse_version_id(id)
        sm = ctx.client("secretsmanager")
        secret = describe_secret(sm, secret_id)
        if secret is None or secret.get("DeletedDate"):
            return
        version = find_version(sm, secret_id, version_id)
        for stage in (version or {}).get("VersionStages") or []:
            if stage == CURRENT_STAGE:
                continue
            try:
                sm.update_secret_version_stage(
                    SecretId=secret_id, VersionStage=stage, RemoveFromVersionId=version_id
                )
            except Exception as exc:
                if is_not_found(exc) or marked_for_deletion(exc):
                    return
                raise


@ephemeral
class RandomPassword(EphemeralResource):
    """`ephemeral "aws_secretsmanager_random_password"`: a fresh password from Secrets Manager's
    GetRandomPassword each time it is opened; never stored."""

    type = "aws_secretsmanager_random_password"
    # The provider's arguments and GetRandomPassword's parameters, one to one.
    PARAMETERS = {
        "password_length": "PasswordLength",
        "exclude_characters": "ExcludeCharacters",
        "exclude_numbers": "ExcludeNumbers",
        "exclude_punctuation": "ExcludePunctuation",
        "exclude_uppercase": "ExcludeUppercase",
        "exclude_lowercase": "ExcludeLowercase",
        "include_space": "IncludeSpace",
        "require_each_included_type": "RequireEachIncludedType",
    }

    def read(self, ctx: Context, desired: dict[str, Any]) -> dict[str, Any] | None:
        params = {
            api: desired[name]
            for name, api in self.PARAMETERS.items()
            if desired.get(name) is not None
        }
        answer = ctx.client("secretsmanager").get_random_password(**params)
        return {**desired, "random_password": answer["RandomPassword"]}


@ephemeral
class SecretVersionValue(EphemeralResource):
    """`ephemeral "aws_secretsmanager_secret_version"`: a secret's value, read at apply time for
    write-only attributes only (the current version unless `version_id` or `version_stage`)."""

    type = "aws_secretsmanager_secret_version"

    def read(self, ctx: Context, desired: dict[str, Any]) -> dict[str, Any] | None:
        params: dict[str, Any] = {"SecretId": desired["secret_id"]}
        if desired.get("version_id"):
            params["VersionId"] = desired["version_id"]
        if desired.get("version_stage"):
            params["VersionStage"] = desired["version_stage"]
        try:
            value = ctx.client("secretsmanager").get_secret_value(**params)
        except Exception as exc:
            if is_not_found(exc) or marked_for_deletion(exc):
                return None
            raise
        result: dict[str, Any] = {
            "arn": value["ARN"],
            "secret_id": desired["secret_id"],
            "version_id": value["VersionId"],
            "version_stages": sorted(value.get("VersionStages") or []),
            "created_date": (
                value["CreatedDate"].isoformat() if value.get("CreatedDate") else None
            ),
        }
        if "SecretString" in value:
            result["secret_string"] = value["SecretString"]
        if "SecretBinary" in value:
            result["secret_binary"] = base64.b64encode(value["SecretBinary"]).decode()
        return result


# ---------------------------------------------------------------------------------------------
# Ids, finders
# ---------------------------------------------------------------------------------------------

VERSION_ID_SEPARATOR = "|"


def version_id_of(secret_id: str, version_id: str) -> str:
    """Terraform's id (and import id) of a secret version: `<secret id>|<version id>`."""
    return f"{secret_id}{VERSION_ID_SEPARATOR}{version_id}"


def parse_version_id(id: str) -> tuple[str, str]:
    secret_id, separator, version_id = id.partition(VERSION_ID_SEPARATOR)
    if not (secret_id and separator and version_id):
        raise DeployerError(f"{id!r} is not a secret version id (<secret id>|<version id>)")
    return secret_id, version_id


def describe_secret(sm: Any, secret_id: str) -> dict[str, Any] | None:
    """DescribeSecret (no value), None when there is no such secret."""
    try:
        secret: dict[str, Any] = sm.describe_secret(SecretId=secret_id)
    except Exception as exc:
        if is_not_found(exc):
            return None
        raise
    return secret


def find_version(sm: Any, secret_id: str, version_id: str) -> dict[str, Any] | None:
    """A version and its staging labels (no value), deprecated ones too: a version that lost its
    labels to later ones still exists (AWS removes such versions only beyond 100 of them)."""
    params: dict[str, Any] = {"SecretId": secret_id, "IncludeDeprecated": True, "MaxResults": 100}
    while True:  # botocore has no paginator for ListSecretVersionIds
        try:
            page = sm.list_secret_version_ids(**params)
        except Exception as exc:
            if is_not_found(exc):
                return None
            raise
        for version in page.get("Versions", []):
            if version.get("VersionId") == version_id:
                return dict(version)
        if not page.get("NextToken"):
            return None
        params["NextToken"] = page["NextToken"]


def marked_for_deletion(exc: BaseException) -> bool:
    """Secrets Manager's refusal to touch a secret scheduled for deletion."""
    text = str(exc).lower()
    return error_code(exc) == "InvalidRequestException" and (
        "marked for deletion" in text
        or "marked deleted" in text
        or "because it was deleted" in text
    )
