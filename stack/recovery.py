"""The parts each region plays in a failover (`deployer failover`, `deployer failback`).

No nodes: the declaration `deployer.recovery` resolves from state. The database is the one
single writer (the primary's instance, or after a failover the secondary's promoted replica);
each region's health check feeds the failover records of the API's shared name; the payment
tables are global tables, so a drill times their replication with a marker item.
"""

from __future__ import annotations

from deployer.model import Ref
from deployer.recovery import RecoveryRoles, RegionRoles, recovery_roles
from deployer.spec import Spec
from stack.api import API, HEALTH_PATH
from stack.api_domain import DOMAIN_NAME
from stack.database import DB_INSTANCE, REPLICA
from stack.dns import HEALTH_CHECK, api_domain_name, zone_id_ref
from stack.tables import TABLES, TRANSACTION_KEY, table_name

DATABASE = {"primary": DB_INSTANCE, "secondary": REPLICA}


@recovery_roles
def payment_recovery_roles(spec: Spec) -> RecoveryRoles:
    return RecoveryRoles(
        api_name=api_domain_name(spec),
        stage=spec.api.stage,
        health_path=HEALTH_PATH,
        regions={
            ws: RegionRoles(
                database_identifier=Ref(DATABASE[ws], "identifier"),
                database_arn=Ref(DATABASE[ws], "arn"),
                health_check_id=Ref(HEALTH_CHECK, "id"),
                dns_target=Ref(DOMAIN_NAME, "regional_domain_name"),
                zone_id=zone_id_ref(spec, ws),
                api_id=Ref(API, "id"),
                tables=tuple(table_name(spec, table) for table in TABLES),
            )
            for ws in ("primary", "secondary")
        },
        marker_key=TRANSACTION_KEY,
    )
