"""The database's secret: the primary database's master credentials, in Secrets Manager.

RDS cannot manage the master password itself here (`manage_master_user_password`): AWS refuses a
read replica of such a source for every engine but SQL Server, and the secondary needs its
cross-region replica. So the stack does what Terraform does with ephemeral resources (1.10+)
and write-only attributes (1.11+):

1. `ephemeral.aws_secretsmanager_random_password.db_master` asks Secrets Manager for a password
   (GetRandomPassword) at apply time, in memory only: the AWS provider's own ephemeral resource,
   so the Terraform export needs no other provider;
2. `aws_secretsmanager_secret.db_master` holds it, encrypted with the region's RDS key, as the
   JSON document `{"username": ..., "password": ...}` that RDS tooling expects, written by
   `aws_secretsmanager_secret_version.db_master` through its write-only `secret_string_wo`;
3. `ephemeral.aws_secretsmanager_secret_version.db_master` reads it back at apply time (its
   `secret_id` refers to the version resource, so it opens after the value is there), and the
   database's write-only `password_wo` takes the password from it (`stack/database.py`).

Write-only values are never stored, compared or shown, and ephemeral values live only in memory
for one run: no password reaches the spec, the state, a plan, a log or the HCL. The value is sent
once: a new random password on a later run changes nothing until `secret_string_wo_version` (and
the database's `password_wo_version`) is raised.
"""

from __future__ import annotations

from collections.abc import Iterator

from deployer.model import Json, Node, Output, Ref
from deployer.resource import blueprint
from deployer.spec import Spec
from stack.keys import key_ref

# The export puts these nodes beside the database they serve.
TERRAFORM_FILE = "rds.tf"

DB_MASTER_SECRET = "aws_secretsmanager_secret.db_master"
DB_MASTER_SECRET_VERSION = "aws_secretsmanager_secret_version.db_master"
DB_MASTER_CREDENTIALS = "ephemeral.aws_secretsmanager_secret_version.db_master"
DB_MASTER_PASSWORD = "ephemeral.aws_secretsmanager_random_password.db_master"
DB_MASTER_PASSWORD_LENGTH = 32
# RDS for PostgreSQL takes any printable ASCII character in a master password except '/', '"',
# '@' and space (CreateDBInstance, MasterUserPassword); a backslash and quotes are kept out too,
# so the JSON document and any shell that handles it need no escaping.
DB_MASTER_PASSWORD_EXCLUDED = "/\\\"@' `"
# Days a deleted secret can still be restored (AWS allows 7-30, or 0 to delete at once).
RECOVERY_WINDOW_DAYS = 7
# Raise to put a new password into the secret (and the database's `password_wo_version` with it).
DB_MASTER_SECRET_VERSION_NUMBER = 1


def db_master_secret_name(spec: Spec) -> str:
    return spec.name("db-master")


def db_master_password_ref() -> Ref:
    """The generated master password: only for write-only attributes."""
    return Ref(DB_MASTER_PASSWORD, "random_password")


def db_master_credentials_ref(attribute: str = "secret_string") -> Ref:
    """The master credentials as read back at apply time: only for write-only attributes."""
    return Ref(DB_MASTER_CREDENTIALS, attribute)


@blueprint
def secretsmanager(spec: Spec, workspace: str) -> Iterator[Node | Output]:
    if workspace != "primary":
        return
    name = db_master_secret_name(spec)
    yield Node(
        "aws_secretsmanager_random_password",
        "db_master",
        workspace,
        {
            "password_length": DB_MASTER_PASSWORD_LENGTH,
            "exclude_characters": DB_MASTER_PASSWORD_EXCLUDED,
            "require_each_included_type": True,
        },
        ephemeral=True,
    )
    yield Node(
        "aws_secretsmanager_secret",
        "db_master",
        workspace,
        {
            "name": name,
            "description": f"{spec.name('db')}: master user credentials (JSON username/password)",
            "kms_key_id": key_ref("rds"),
            "recovery_window_in_days": RECOVERY_WINDOW_DAYS,
            "tags": {"Name": name},
        },
    )
    yield Node(
        "aws_secretsmanager_secret_version",
        "db_master",
        workspace,
        {
            "secret_id": Ref(DB_MASTER_SECRET, "id"),
            "secret_string_wo": Json(
                {"username": spec.rds.master_username, "password": db_master_password_ref()}
            ),
            "secret_string_wo_version": DB_MASTER_SECRET_VERSION_NUMBER,
        },
    )
    yield Node(
        "aws_secretsmanager_secret_version",
        "db_master",
        workspace,
        {"secret_id": Ref(DB_MASTER_SECRET_VERSION, "secret_id")},
        ephemeral=True,
    )
    yield Output(
        "rds_master_user_secret_arn",
        workspace,
        Ref(DB_MASTER_SECRET, "arn"),
        "Secrets Manager secret holding the master credentials (its ARN, never its value)",
    )
