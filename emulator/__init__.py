"""The local AWS emulator: moto's server, plus what moto 5.2 lacks or gets wrong for the deployer.

Run as ``python -m emulator --host 127.0.0.1 --port N`` (``deployer sandbox start`` does this;
``emulator.server``). It serves every service moto emulates on one loopback port, in the
foreground, until SIGTERM or SIGINT. It needs moto, which only the ``sandbox`` extra installs
(``pip install 'deployer[sandbox]'``); a production ``pip install .`` installs this package
but not moto.

Before moto is imported the server sets, unless already set (``ENV_DEFAULTS``,
``apply_env_defaults``):

- ``MOTO_ACM_VALIDATION_WAIT=0``: ACM certificates are ISSUED at once (moto's default 60 s);
- ``MOTO_IAM_LOAD_MANAGED_POLICIES=true``: AWS managed policies (``arn:aws:iam::aws:policy/...``)
  exist, as they always do on AWS.

``install_extensions()`` adds the actions moto lacks and corrects moto where it departs from AWS on
what the deployer relies on, one module per service, as moto lays out its own. Each correction is
a small patch of its own, listed in its module's tuple and applied at most once
(``emulator.patching``):

- RDS (``emulator.rds``): ``RDS_EXTENSIONS`` add StartDBInstanceAutomatedBackupsReplication and
  StopDBInstanceAutomatedBackupsReplication (cross-region replication of automated backups);
  ``RDS_CORRECTIONS``: enhanced monitoring and Performance Insights settings,
  ModifyDBSubnetGroup, ResetDBParameterGroup, the `user` source of the parameters set,
  cross-region read replicas, and the refusal of a replica of a source whose master password
  Secrets Manager manages;
- RDS read replicas (``emulator.rds_replicas``): a replica's own MultiAZ and DeletionProtection,
  no replica of a source without automated backups, PromoteReadReplica to a standalone instance
  (both regions' links cleared), StatusInfos, and CloudWatch's ``AWS/RDS`` ``ReplicaLag``
  (modelled, 0 s unless set by ``set_replica_lag`` or the server's admin route
  ``POST /moto-api/deployer/replica-lag``);
- KMS (``emulator.kms``): ``KMS_EXTENSIONS`` keep EnableKeyRotation's custom rotation period and
  report it from GetKeyRotationStatus; ``KMS_CORRECTIONS``: Sign and Verify sign a DIGEST
  message as it is and use AWS's RSASSA-PSS salt length (signatures check offline with the
  public key), and Verify of a signature that does not verify raises
  KMSInvalidSignatureException;
- S3 (``emulator.s3``): ``S3_CORRECTIONS``: GetBucketReplication returns the configuration as it
  was put;
- DynamoDB (``emulator.dynamodb``): ``DYNAMODB_CORRECTIONS``: UpdateTable's stream changes
  (disable, then enable anew) and attribute definitions (merged, pruned to the keys in use), and
  TagResource on a key the table already has;
- DynamoDB global tables (``emulator.dynamodb_global``): ``DYNAMODB_GLOBAL_EXTENSIONS``: version
  2019.11.21 replicas (UpdateTable ReplicaUpdates, Replicas in DescribeTable), replication of
  writes between members (with an optional lag: ``set_replication_lag``), UpdateTable's
  SSESpecification, and the DynamoDB Streams account endpoint botocore uses;
- EC2 (``emulator.ec2``): ``EC2_CORRECTIONS``: DescribeVpcEndpoints filtered by
  `vpc-endpoint-id`;
- Lambda (``emulator.awslambda``): ``LAMBDA_CORRECTIONS``: a function's KMSKeyArn (the key of its
  environment variables) is kept and reported;
- API Gateway and ACM (``emulator.apigateway``): ``APIGATEWAY_CORRECTIONS``: UpdateDomainName,
  and ACM's refusal to delete a certificate in use; an integration created without a timeout
  reports AWS's default of 29000 ms; UpdateRestApi's disableExecuteApiEndpoint "false" is false;
- ACM (``emulator.acm``): ``ACM_CORRECTIONS``: a requested certificate's KeyAlgorithm is kept
  and reported.
- API Gateway's data plane (``emulator.dataplane``, ``emulator.dataplane_routes``,
  ``emulator.lambda_runtime``): ``DATAPLANE_EXTENSIONS``: a request to a stage URL runs its
  Lambda proxy integration's Python handler in this process, from the function's zip (moto needs
  docker for it); the server also serves stages host-style and path-style
  (``/restapis/{api}/{stage}/_user_request_/...``), and a custom domain's name in the ``Host``
  header as Route 53 routes it (``emulator.custom_domains``);
- Route 53 (``emulator.route53``): ``ROUTE53_EXTENSIONS``: health check status computed from the
  data plane (Inverted, Disabled, CALCULATED), HealthCheckVersion checked and incremented,
  GetHealthCheckLastFailureReason, and TestDNSAnswer with failover routing.

It patches moto's classes, so it works in the server and in-process under ``moto.mock_aws``
alike. Every module imports moto lazily, inside its functions: importing this package imports no
moto and has no side effect on the environment or on moto.
"""

from emulator.extensions import install_extensions
from emulator.server import ENV_DEFAULTS, EXIT_ADDRESS_IN_USE, apply_env_defaults

__all__ = ["ENV_DEFAULTS", "EXIT_ADDRESS_IN_USE", "apply_env_defaults", "install_extensions"]
