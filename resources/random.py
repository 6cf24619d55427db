"""Random values: Terraform's `random_password`, as the ephemeral resource of hashicorp/random.

An ephemeral `random_password` (hashicorp/random >= 3.7, Terraform >= 1.10) is generated afresh
each time it is opened and never stored: its `result` may feed only write-only attributes
(`secret_string_wo`, `password_wo`), which are sent once, at create or when their `*_wo_version`
changes, and never stored, compared or shown. A new value on every run is therefore harmless.

The primary's database master password is one: Secrets Manager keeps it
(resources/secretsmanager.py) and the database takes it from there (resources/rds.py), so the
value never reaches the spec, the state, a plan, a log or the HCL.

The generator follows the random provider's rules (`length`, `upper`, `lower`, `numeric`,
`special`, `override_special`, `min_*`) with the operating system's CSPRNG (`secrets`).
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Iterator
from typing import Any

from deployer.aws import DeployerError
from deployer.model import Node, Ref
from deployer.resource import Context, EphemeralResource, blueprint, ephemeral
from deployer.spec import Spec

# The export puts these nodes beside the database they serve.
TERRAFORM_FILE = "rds.tf"

DB_MASTER_PASSWORD = "ephemeral.random_password.db_master"
DB_MASTER_PASSWORD_LENGTH = 32
# RDS for PostgreSQL takes any printable ASCII character in a master password except '/', '"',
# '@' and space (CreateDBInstance, MasterUserPassword): the special characters are chosen among
# the rest.
DB_MASTER_PASSWORD_SPECIAL = "!#$%&*()-_=+[]{}<>:?"

# The random provider's default `override_special`.
DEFAULT_SPECIAL = "!@#$%&*()-_=+[]{}<>:?"
# The random provider's defaults for the character-class switches.
_CLASS_DEFAULTS = {"upper": True, "lower": True, "numeric": True, "special": True}


def db_master_password_ref() -> Ref:
    """The generated master password: only for write-only attributes."""
    return Ref(DB_MASTER_PASSWORD, "result")


@blueprint
def random_values(spec: Spec, workspace: str) -> Iterator[Node]:
    if workspace == "primary":
        yield Node(
            "random_password",
            "db_master",
            workspace,
            {
                "length": DB_MASTER_PASSWORD_LENGTH,
                "special": True,
                "override_special": DB_MASTER_PASSWORD_SPECIAL,
            },
            ephemeral=True,
        )


@ephemeral
class Password(EphemeralResource):
    """`ephemeral "random_password"`: a fresh password each time it is opened."""

    type = "random_password"

    def read(self, ctx: Context, desired: dict[str, Any]) -> dict[str, Any] | None:
        return {"result": generate_password(desired)}


def generate_password(options: dict[str, Any]) -> str:
    """A password by the random provider's rules: each enabled class contributes at least its
    `min_*` characters, the rest are drawn from all enabled classes, and the whole is shuffled."""
    length = int(options["length"])
    classes: list[tuple[str, int]] = []
    for name, alphabet, minimum in (
        ("upper", string.ascii_uppercase, "min_upper"),
        ("lower", string.ascii_lowercase, "min_lower"),
        ("numeric", string.digits, "min_numeric"),
        ("special", _special(options), "min_special"),
    ):
        enabled = options.get(name)
        if enabled is None:
            enabled = _CLASS_DEFAULTS[name]
        if enabled and alphabet:
            classes.append((alphabet, int(options.get(minimum) or 0)))
    if not classes:
        raise DeployerError("random_password: every character class is switched off")
    required = sum(minimum for _, minimum in classes)
    if length < 1 or required > length:
        raise DeployerError(
            f"random_password: length {length} cannot hold the {required} characters the "
            "min_* settings require"
        )
    everything = "".join(alphabet for alphabet, _ in classes)
    chars = [secrets.choice(alphabet) for alphabet, minimum in classes for _ in range(minimum)]
    chars += [secrets.choice(everything) for _ in range(length - len(chars))]
    secrets.SystemRandom().shuffle(chars)
    return "".join(chars)


def _special(options: dict[str, Any]) -> str:
    override = options.get("override_special")
    # Each character once, whatever the spelling of the override.
    return "".join(dict.fromkeys(DEFAULT_SPECIAL if override is None else str(override)))
