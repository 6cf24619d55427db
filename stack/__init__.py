"""The payment stack: what the deployer deploys, one module per component of the environment.

Each module turns the spec into its component's Terraform-shaped nodes for one workspace (a
`@blueprint`), and holds the names, references (`key_ref("s3")`, `role_ref(...)`) and policy
documents that other components use. Its `TERRAFORM_FILE` is the file of the Terraform export
that holds its blocks. How any of it is created, read, changed or deleted on AWS is the generic
drivers' business (`resources/`), which know nothing of this package.

Components, what each deploys per workspace, and its Terraform file:

- `account` (locals.tf): the caller-identity look-up every account ARN is built from.
- `keys` (kms.tf): a KMS key and alias per purpose (s3, rds, dynamodb, logs, lambda).
- `network` (vpc.tf): the VPC, subnets, internet and NAT gateways, routes, S3 and DynamoDB
  endpoints, security groups and their rules, flow logs.
- `roles` (iam.tf): the IAM roles, made in the primary and looked up by the secondary; each
  role's inline policy is assembled from what the components that use it declare.
- `permissions` (no nodes): the helper through which components declare those permissions.
- `bucket` (s3.tf): the payments bucket with its settings, and replication to the secondary.
- `tables` (dynamodb.tf): the transactions and idempotency DynamoDB tables.
- `database_secret` (rds.tf): the database's master credentials in Secrets Manager (primary).
- `database` (rds.tf): DB subnet and parameter groups; the PostgreSQL instance in the primary,
  its automated-backups replication and cross-region read replica in the secondary.
- `function` (lambda.tf): the payment Lambda and its log group.
- `api` (apigateway.tf): the REST API, its routes, deployment, stage, logging and API keys.
- `api_domain` (apigateway.tf): the custom domain, its base-path mapping and the failover record.
- `dns` (route53.tf): the hosted zone (or its look-up) and the API's health check.
- `certificate` (route53.tf): the API's ACM certificate and its DNS validation.
- `alarm_topic` (cloudwatch.tf): the SNS topic the alarms notify.
- `alarms` (cloudwatch.tf): the CloudWatch alarms and the dashboard.

Dependencies point one way, from a component to those it uses (`function` imports `tables`,
`network`, `roles`, `keys`; `roles` imports none of its users), as `tests/test_imports.py`
checks. `deployer.resource.load_stack` imports every module, which registers the blueprints
and the permissions components declare.
"""
