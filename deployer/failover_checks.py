"""The facts a failover decides on besides the database's (deployer/replica_facts.py): the
tables, and the drill's timing of table replication.

Nothing here writes, except the drill's marker item (`time_replication`), which it deletes.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime

from deployer.aws import Clients
from deployer.errors import or_none
from deployer.waiting import poll


def table_status(clients: Clients, region: str, name: str) -> str | None:
    """A table's status in `region` (None: no such table there)."""
    table = or_none(lambda: clients("dynamodb", region).describe_table(TableName=name))
    return str(table["Table"]["TableStatus"]) if table else None


def time_replication(
    clients: Clients,
    source_region: str,
    target_region: str,
    table: str,
    key_attribute: str,
    timeout: float = 300.0,
) -> float:
    """Write a marker item in `source_region` and time its arrival in `target_region` (the
    replication lag a write made just before the failover would have); the marker is deleted
    afterwards, in the source, from where the delete replicates too."""
    key = {key_attribute: {"S": f"deployer-drill-marker-{uuid.uuid4()}"}}
    source = clients("dynamodb", source_region)
    target = clients("dynamodb", target_region)
    written_at = time.monotonic()
    source.put_item(
        TableName=table,
        Item={**key, "marker": {"S": datetime.now(UTC).isoformat()}},
    )
    try:

        def arrived() -> float | None:
            if "Item" in target.get_item(TableName=table, Key=key):
                return time.monotonic() - written_at
            return None

        return poll(
            arrived,
            what=f"the drill's marker to reach {table} in {target_region}",
            timeout=timeout,
            delay=0.05,
        )
    finally:
        source.delete_item(TableName=table, Key=key)
