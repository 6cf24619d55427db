"""The database component's blueprint: names and the share of each workspace, without AWS."""

from __future__ import annotations

from typing import Any

from deployer.model import Node
from stack.database import parameter_group_family, rds


def test_parameter_group_family_follows_the_major_version(spec: Any) -> None:
    assert parameter_group_family(spec) == "postgres15"
    spec.rds.engine_version = "16.3"
    assert parameter_group_family(spec) == "postgres16"
    spec.rds.engine_version = "9.6.22"
    assert parameter_group_family(spec) == "postgres9.6"


def test_each_workspace_gets_its_own_share_of_the_database(spec: Any) -> None:
    primary = {n.address for n in rds(spec, "primary") if isinstance(n, Node)}
    secondary = {n.address for n in rds(spec, "secondary") if isinstance(n, Node)}
    assert "aws_db_instance.main" in primary and "aws_db_instance.replica" not in primary
    assert "aws_db_instance.replica" in secondary and "aws_db_instance.main" not in secondary
    assert "aws_db_instance_automated_backups_replication.main" in secondary
