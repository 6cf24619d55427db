"""RDS: DB instances (sources and cross-region read replicas), subnet and parameter groups, and
the cross-region replication of an instance's automated backups.

One module per job: `groups` (subnet and parameter groups), `instance` (`aws_db_instance`, its
attribute table and its master password), `backups` (the automated-backups replication), and
`common` (RDS's tag calls and look-ups the others share).
"""
