"""DynamoDB: tables (`table`) and their replicas in other regions (`replica`, global tables
version 2019.11.21).

One module per Terraform type; the replica driver reuses the table module's waiters and tag
calls. The names importers used when this was one module stay importable from here.
"""

from resources.dynamodb.table import TABLE, TAGS, Table, describe_table, wait_settled

__all__ = ["TABLE", "TAGS", "Table", "describe_table", "wait_settled"]
