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


def instances(spec: Any, workspace: str) -> dict[str, Node]:
    return {n.address: n for n in rds(spec, workspace) if isinstance(n, Node) and not n.data}


def test_after_a_failover_the_secondary_writes_and_the_primary_replicates_from_it(
    spec: Any,
) -> None:
    before = instances(spec, "secondary")["aws_db_instance.replica"].attributes
    spec.failover.writer = "secondary"
    secondary = instances(spec, "secondary")
    promoted = secondary["aws_db_instance.replica"].attributes
    # The same instance (same address and identifier), promoted: no source, the writer's
    # Multi-AZ, backups and deletion protection, and a final snapshot on delete.
    assert "replicate_source_db" in before and "replicate_source_db" not in promoted
    assert promoted["identifier"] == before["identifier"]
    assert promoted["multi_az"] is spec.rds.multi_az is True and before["multi_az"] is False
    assert promoted["backup_retention_period"] == spec.rds.backup_retention_days
    assert promoted["deletion_protection"] is True
    assert promoted["skip_final_snapshot"] is False and promoted["final_snapshot_identifier"]
    # Nothing is left to replicate backups from: the lost primary's replication goes.
    assert "aws_db_instance_automated_backups_replication.main" not in secondary
    main = instances(spec, "primary")["aws_db_instance.main"].attributes
    source = main["replicate_source_db"]
    assert (source.address, source.workspace, source.ready) == (
        "aws_db_instance.replica",
        "secondary",
        True,
    )
    # A replica takes engine, user, database and password from its source.
    assert not {"engine", "username", "db_name", "password_wo"} & set(main)
