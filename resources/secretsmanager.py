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

from botocore.exceptions import ClientError

from deployer.attributes import Attr, Table
from deployer.aws import AlreadyExists, DeployerError, NotFound, Tagging, error_code, or_none
from deployer.resource import (
    Context,
    EphemeralResource,
    Resource,
    ephemeral,
    resource,
)
from deployer.tagging import is_ours

CURRENT_STAGE = "AWSCURRENT"
# Secrets Manager reports a secret's tags with its description; there is no tag listing.
TAGS = Tagging("SecretId", list_call=None)


# ---------------------------------------------------------------------------------------------
# Drivers
# ---------------------------------------------------------------------------------------------


@resource
class Secret(Resource):
    """The secret's metadata; its value belongs to `aws_secretsmanager_secret_version`."""

    type = "aws_secretsmanager_secret"
    arn_kind = ("secretsmanager", "secret")
    policy_attributes = frozenset({"policy"})
    tagging = TAGS
    table = Table(
        Attr("name", "Name", force_new=True),
        Attr("arn", "ARN", computed=True),
        Attr("description", "Description", update=True, from_api=lambda text: text or ""),
        # Secrets Manager re-encrypts the staged versions with a new key.
        Attr("kms_key_id", "KmsKeyId", update=True),
        # Used only when the secret is deleted; AWS does not report it.
        Attr("recovery_window_in_days", create=False, write_only=True, default=30),
        service="secretsmanager",
        create_call="CreateSecret",
        update_call="UpdateSecret",
        described="DescribeSecretResponse",
        id_parameter="SecretId",
    )

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        sm = ctx.client("secretsmanager")
        params = {
            **self.table.create_parameters(desired),
            "Tags": TAGS.to_api(desired.get("tags") or {}),
        }
        try:
            return str(sm.create_secret(**params)["ARN"])
        except ClientError as exc:
            # The name is taken: by ours (a retried create), or by a secret being deleted.
            if not isinstance(exc, AlreadyExists) and error_code(exc) != "InvalidRequestException":
                raise
            existing = describe_secret(sm, desired["name"])
            if existing is not None and existing.get("DeletedDate"):
                if is_ours(TAGS.from_api(existing.get("Tags")), desired):
                    return self.restore(ctx, existing)
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

    def describe(self, ctx: Context, id: str) -> dict[str, Any] | None:
        return live_secret(ctx.client("secretsmanager"), id)

    def restore(self, ctx: Context, existing: dict[str, Any]) -> str:
        """A secret this deployment made and a destroy scheduled for deletion: restored and
        adopted (the destroy-then-apply loop of a test environment), with its value as it was;
        the next steps of the apply bring the rest to the spec."""
        arn = str(existing["ARN"])
        ctx.client("secretsmanager").restore_secret(SecretId=arn)
        ctx.notify(
            f"secret {existing.get('Name', arn)} was scheduled for deletion (on "
            f"{existing['DeletedDate']}) by an earlier destroy; restored it and adopted it"
        )
        return arn

    def read(self, ctx: Context, id: str) -> dict[str, Any] | None:
        """The table's attributes and the tags DescribeSecret reports with them; the id is the
        ARN (a secret named by its name reads as its ARN)."""
        secret = self.describe(ctx, id)
        if secret is None:
            return None
        return {
            "id": secret["ARN"],
            **self.table.read(secret),
            "tags": TAGS.from_api(secret.get("Tags")),
        }

    def delete(self, ctx: Context, id: str, live: dict[str, Any] | None) -> None:
        """Schedules the deletion after the recovery window (0: at once), as Terraform does."""
        sm = ctx.client("secretsmanager")
        if live_secret(sm, id) is None:
            return
        window = ctx.node.attributes.get("recovery_window_in_days")
        if ctx.options.get("no_recovery_window"):
            window = 0
        params: dict[str, Any] = {"SecretId": id}
        if window is not None and int(window) == 0:
            params["ForceDeleteWithoutRecovery"] = True
        elif window is not None:
            params["RecoveryWindowInDays"] = int(window)
        try:
            answer = sm.delete_secret(**params)
        except NotFound:
            return
        except ClientError as exc:
            if not marked_for_deletion(exc):
                raise
            return
        if params.get("ForceDeleteWithoutRecovery"):
            ctx.notify("secret deleted at once, without a recovery window")
        else:
            ctx.notify(
                f"secret scheduled for deletion on {answer.get('DeletionDate')}: until then the "
                "next apply restores and adopts it (destroy --no-recovery-window deletes at once)"
            )

    def find(self, ctx: Context, desired: dict[str, Any]) -> str | None:
        secret = live_secret(ctx.client("secretsmanager"), desired["name"])
        if secret is None or not is_ours(TAGS.from_api(secret.get("Tags")), desired):
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
    (see the report of this module), so the attribute is also write-only.

    Staging labels a node names move to this version in place (`update`), as the provider
    moves them; those it drops are taken off, except `AWSCURRENT`, which AWS lets no one remove
    without moving it to another version. Delete does what the provider does: it removes the
    version's labels except `AWSCURRENT`; the value itself goes with the secret.

    No `find`: an interrupted create is simply made again. The new version becomes current, and
    the database reads its password from the current version, so the two stay in step.
    """

    type = "aws_secretsmanager_secret_version"
    taggable = False
    table = Table(
        Attr("secret_id", create="SecretId", force_new=True),
        Attr("secret_string_wo", create="SecretString", write_only=True),
        Attr("secret_string_wo_version", create=False, force_new=True, write_only=True),
        # The secret's ARN, from DescribeSecret (`read`).
        Attr("arn", computed=True),
        Attr("version_id", "VersionId", computed=True),
        Attr(
            "version_stages",
            "VersionStages",
            create="VersionStages",
            update=True,
            from_api=lambda stages: sorted(stages or []),
            to_api=list,
        ),
        service="secretsmanager",
        create_call="PutSecretValue",
        described="SecretVersionsListEntry",
        id_parameter="SecretId",
    )
    # Terraform's import reads the value back as `secret_string` and cannot know
    # `secret_string_wo_version`; both force a replacement (a new password) unless ignored.
    import_ignores = frozenset({"secret_string", "secret_string_wo_version"})

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        value = desired.get("secret_string_wo")
        if not isinstance(value, str) or not value:
            raise DeployerError(f"{ctx.node.key}: secret_string_wo has no value to put")
        put = ctx.client("secretsmanager").put_secret_value(
            **self.table.create_parameters(desired),
            # A retried request (botocore's) must not make a second version.
            ClientRequestToken=str(uuid.uuid4()),
        )
        return version_id_of(str(desired["secret_id"]), str(put["VersionId"]))

    def read(self, ctx: Context, id: str) -> dict[str, Any] | None:
        secret_id, version_id = parse_version_id(id)
        sm = ctx.client("secretsmanager")
        secret = live_secret(sm, secret_id)
        if secret is None:
            return None
        version = find_version(sm, secret_id, version_id)
        if version is None:
            return None
        return {
            "id": id,
            **self.table.read(version),
            "arn": secret["ARN"],
            "secret_id": secret_id,
        }

    def update(self, ctx: Context, id: str, desired: dict[str, Any], live: dict[str, Any]) -> None:
        """Staging labels move with calls of their own (one per label); nothing else changes
        in place."""
        changed = self.changed(desired, live)
        if "version_stages" in changed:
            move_stages(ctx.client("secretsmanager"), id, desired["version_stages"], live)
        self.apply_changes(ctx, id, desired, live, changed - {"version_stages"})

    def delete(self, ctx: Context, id: str, live: dict[str, Any] | None) -> None:
        secret_id, version_id = parse_version_id(id)
        sm = ctx.client("secretsmanager")
        if live_secret(sm, secret_id) is None:
            return
        version = find_version(sm, secret_id, version_id)
        for stage in (version or {}).get("VersionStages") or []:
            if stage != CURRENT_STAGE:
                remove_stage(sm, secret_id, version_id, stage)


@ephemeral
class RandomPassword(EphemeralResource):
    """`ephemeral "aws_secretsmanager_random_password"`: a fresh password from Secrets Manager's
    GetRandomPassword each time it is opened; never stored."""

    type = "aws_secretsmanager_random_password"
    # The provider's arguments are GetRandomPassword's parameters, one to one.
    table = Table(
        Attr("password_length", create="PasswordLength"),
        Attr("exclude_characters", create="ExcludeCharacters"),
        Attr("exclude_numbers", create="ExcludeNumbers"),
        Attr("exclude_punctuation", create="ExcludePunctuation"),
        Attr("exclude_uppercase", create="ExcludeUppercase"),
        Attr("exclude_lowercase", create="ExcludeLowercase"),
        Attr("include_space", create="IncludeSpace"),
        Attr("require_each_included_type", create="RequireEachIncludedType"),
        Attr("random_password", "RandomPassword", computed=True),
        service="secretsmanager",
        create_call="GetRandomPassword",
        described="GetRandomPasswordResponse",
    )

    def read(self, ctx: Context, desired: dict[str, Any]) -> dict[str, Any] | None:
        answer = ctx.client("secretsmanager").get_random_password(
            **self.table.create_parameters(desired)
        )
        return {**desired, **self.table.read(answer)}


@ephemeral
class SecretVersionValue(EphemeralResource):
    """`ephemeral "aws_secretsmanager_secret_version"`: a secret's value, read at apply time for
    write-only attributes only (the current version unless `version_id` or `version_stage`)."""

    type = "aws_secretsmanager_secret_version"
    table = Table(
        Attr("secret_id", create="SecretId"),
        Attr("version_id", "VersionId", create="VersionId"),
        Attr("version_stage", create="VersionStage"),
        Attr("arn", "ARN", computed=True),
        Attr("version_stages", "VersionStages", computed=True,
             from_api=lambda stages: sorted(stages or [])),
        Attr("created_date", "CreatedDate", computed=True,
             from_api=lambda date: date.isoformat() if date else None),
        Attr("secret_string", "SecretString", computed=True),
        Attr("secret_binary", "SecretBinary", computed=True,
             from_api=lambda data: base64.b64encode(data).decode() if data else None),
        service="secretsmanager",
        create_call="GetSecretValue",
        described="GetSecretValueResponse",
    )  # fmt: skip

    def read(self, ctx: Context, desired: dict[str, Any]) -> dict[str, Any] | None:
        params = self.table.create_parameters(
            {name: value for name, value in desired.items() if value}  # "" asks for nothing
        )
        try:
            value = ctx.client("secretsmanager").get_secret_value(**params)
        except NotFound:
            return None
        except ClientError as exc:
            if marked_for_deletion(exc):
                return None
            raise
        read = self.table.read(value)
        # Of the value, only the form the secret holds.
        held = {k: v for k, v in read.items() if v is not None or k not in VALUE_FORMS}
        return {**held, "secret_id": desired["secret_id"]}


# The two forms a secret's value takes; a secret holds one of them.
VALUE_FORMS = frozenset({"secret_string", "secret_binary"})


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
    answer = or_none(lambda: sm.describe_secret(SecretId=secret_id))
    return dict(answer) if answer is not None else None


def live_secret(sm: Any, secret_id: str) -> dict[str, Any] | None:
    """The secret, None when it is gone or scheduled for deletion."""
    secret = describe_secret(sm, secret_id)
    return None if secret is None or secret.get("DeletedDate") else secret


def find_version(sm: Any, secret_id: str, version_id: str) -> dict[str, Any] | None:
    """A version and its staging labels (no value), deprecated ones too: a version that lost its
    labels to later ones still exists (AWS removes such versions only beyond 100 of them)."""
    params: dict[str, Any] = {"SecretId": secret_id, "IncludeDeprecated": True, "MaxResults": 100}
    while True:  # botocore has no paginator for ListSecretVersionIds
        page = or_none(lambda: sm.list_secret_version_ids(**params))
        if page is None:
            return None
        for version in page.get("Versions", []):
            if version.get("VersionId") == version_id:
                return dict(version)
        if not page.get("NextToken"):
            return None
        params["NextToken"] = page["NextToken"]


def move_stages(sm: Any, id: str, stages: list[str], live: dict[str, Any]) -> None:
    """Bring the version's staging labels to `stages`: first take off those it should not have
    (`AWSCURRENT` only moves), then move to it those it lacks from the versions holding them
    (AWS hands `AWSPREVIOUS` to the version `AWSCURRENT` leaves)."""
    secret_id, version_id = parse_version_id(id)
    want, have = set(stages), set(live.get("version_stages") or [])
    for stage in sorted(have - want - {CURRENT_STAGE}):
        remove_stage(sm, secret_id, version_id, stage)
    held = (describe_secret(sm, secret_id) or {}).get("VersionIdsToStages", {})
    holders = {stage: holder for holder, labels in held.items() for stage in labels}
    for stage in sorted(want - have):
        moved: dict[str, Any] = {"MoveToVersionId": version_id}
        if stage in holders:
            moved["RemoveFromVersionId"] = holders[stage]
        sm.update_secret_version_stage(SecretId=secret_id, VersionStage=stage, **moved)


def remove_stage(sm: Any, secret_id: str, version_id: str, stage: str) -> None:
    """Take a staging label off a version; a secret gone or being deleted has none to take."""
    try:
        sm.update_secret_version_stage(
            SecretId=secret_id, VersionStage=stage, RemoveFromVersionId=version_id
        )
    except NotFound:
        return
    except ClientError as exc:
        if not marked_for_deletion(exc):
            raise


def marked_for_deletion(exc: BaseException) -> bool:
    """Secrets Manager's refusal to touch a secret scheduled for deletion."""
    text = str(exc).lower()
    return error_code(exc) == "InvalidRequestException" and (
        "marked for deletion" in text
        or "marked deleted" in text
        or "because it was deleted" in text
    )
