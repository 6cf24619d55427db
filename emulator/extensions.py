"""``install_extensions``: every service module's extensions, then its corrections."""

from __future__ import annotations

from emulator import (
    acm,
    apigateway,
    awslambda,
    dataplane_routes,
    dynamodb,
    dynamodb_global,
    ec2,
    kms,
    rds,
    rds_replicas,
    route53,
    s3,
)
from emulator.patching import install_once


def install_extensions() -> None:
    """Patch moto's RDS and KMS classes with the behaviour moto 5.2 lacks, and apply the
    RDS_CORRECTIONS, KMS_CORRECTIONS, S3_CORRECTIONS, DYNAMODB_CORRECTIONS, EC2_CORRECTIONS,
    LAMBDA_CORRECTIONS, APIGATEWAY_CORRECTIONS and ACM_CORRECTIONS, DynamoDB's global tables
    (DYNAMODB_GLOBAL_EXTENSIONS, after DynamoDB's corrections, which they wrap), then the data
    plane's and Route 53's (DATAPLANE_EXTENSIONS, ROUTE53_EXTENSIONS).

    Idempotent and thread-safe; affects every moto backend in this process (server or
    ``mock_aws``).
    """
    install_once(
        (
            *rds.RDS_EXTENSIONS,
            *rds_replicas.RDS_REPLICA_EXTENSIONS,
            *kms.KMS_EXTENSIONS,
            *rds.RDS_CORRECTIONS,
            *rds_replicas.RDS_REPLICA_CORRECTIONS,
            *kms.KMS_CORRECTIONS,
            *s3.S3_CORRECTIONS,
            *dynamodb.DYNAMODB_CORRECTIONS,
            *dynamodb_global.DYNAMODB_GLOBAL_EXTENSIONS,
            *ec2.EC2_CORRECTIONS,
            *awslambda.LAMBDA_CORRECTIONS,
            *apigateway.APIGATEWAY_CORRECTIONS,
            *acm.ACM_CORRECTIONS,
            *dataplane_routes.DATAPLANE_EXTENSIONS,
            *route53.ROUTE53_EXTENSIONS,
        )
    )
