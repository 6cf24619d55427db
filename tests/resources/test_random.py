"""The ephemeral `random_password`: Terraform's rules, RDS-safe characters, never stored."""

from __future__ import annotations

import string
from typing import Any

import pytest

from deployer.aws import DeployerError
from deployer.model import Node
from deployer.resource import driver_for
from resources.random import (
    DB_MASTER_PASSWORD_SPECIAL,
    DEFAULT_SPECIAL,
    Password,
    generate_password,
    random_values,
)

PASSWORD = "primary:ephemeral.random_password.db_master"
# What RDS for PostgreSQL refuses in a master password.
RDS_FORBIDDEN = set('/"@ ')


def test_the_master_password_node_is_ephemeral_and_primary_only(spec: Any) -> None:
    (node,) = list(random_values(spec, "primary"))
    assert isinstance(node, Node) and node.ephemeral and not node.stored
    assert node.address == "ephemeral.random_password.db_master"
    assert node.attributes == {
        "length": 32,
        "special": True,
        "override_special": DB_MASTER_PASSWORD_SPECIAL,
    }
    assert list(random_values(spec, "secondary")) == []
    assert isinstance(driver_for(node), Password)


def test_the_master_password_specials_are_all_accepted_by_rds() -> None:
    assert not set(DB_MASTER_PASSWORD_SPECIAL) & RDS_FORBIDDEN
    assert all(c.isascii() and c.isprintable() for c in DB_MASTER_PASSWORD_SPECIAL)


def test_read_makes_a_fresh_password_of_the_node(deployment: Any) -> None:
    node = deployment.graph.node(PASSWORD)
    driver = driver_for(node)
    allowed = set(string.ascii_letters + string.digits + DB_MASTER_PASSWORD_SPECIAL)
    results = [driver.read(None, dict(node.attributes)) for _ in range(50)]  # type: ignore[arg-type]
    passwords = [r["result"] for r in results if r is not None]
    assert len(set(passwords)) == 50
    for password in passwords:
        assert len(password) == 32
        assert set(password) <= allowed
        assert not set(password) & RDS_FORBIDDEN


def test_min_counts_are_honoured() -> None:
    options = {"length": 12, "min_upper": 3, "min_lower": 3, "min_numeric": 3, "min_special": 3}
    for _ in range(50):
        password = generate_password({**options, "override_special": "!#"})
        assert len(password) == 12
        assert sum(c.isupper() for c in password) >= 3
        assert sum(c.islower() for c in password) >= 3
        assert sum(c.isdigit() for c in password) >= 3
        assert sum(c in "!#" for c in password) >= 3


def test_switched_off_classes_are_not_used() -> None:
    password = generate_password({"length": 64, "special": False, "upper": False, "numeric": False})
    assert set(password) <= set(string.ascii_lowercase)


def test_default_special_characters_are_the_providers() -> None:
    specials = {
        c for _ in range(20) for c in generate_password({"length": 64}) if c in DEFAULT_SPECIAL
    }
    assert specials <= set(DEFAULT_SPECIAL) and specials
    # An empty override means no special characters at all.
    assert generate_password({"length": 64, "override_special": ""}).isalnum()


@pytest.mark.parametrize(
    "options",
    [
        {"length": 4, "min_upper": 3, "min_lower": 3},
        {"length": 0},
        {"length": 8, "upper": False, "lower": False, "numeric": False, "special": False},
    ],
)
def test_impossible_settings_are_refused(options: dict[str, Any]) -> None:
    with pytest.raises(DeployerError, match="random_password"):
        generate_password(options)


def test_the_password_is_opened_at_apply_only_and_never_stored(
    deployment: Any, tmp_path: Any
) -> None:
    key = "primary:aws_secretsmanager_secret_version.db_master"
    plan = deployment.plan(key)
    change = plan.changes[PASSWORD]
    assert change.action.value == "read" and change.live is None  # not opened while planning
    deployment.apply(key)
    for state in deployment.states().values():
        assert not [a for a in state.addresses() if a.startswith("ephemeral.")]
    assert "random_password" not in "".join(p.read_text() for p in (tmp_path / "state").iterdir())
