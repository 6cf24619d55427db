"""API Gateway and ACM (emulator/apigateway.py): domains, their certificates, default timeouts."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError


def test_domain_certificate_is_replaced_by_update_and_in_use_until_then(aws: None) -> None:
    acm = boto3.client("acm", "us-east-1")
    apigw = boto3.client("apigateway", "us-east-1")
    old = acm.request_certificate(DomainName="api.example.com")["CertificateArn"]
    new = acm.request_certificate(DomainName="api.example.com")["CertificateArn"]
    apigw.create_domain_name(
        domainName="api.example.com",
        regionalCertificateArn=old,
        endpointConfiguration={"types": ["REGIONAL"]},
    )

    with pytest.raises(ClientError) as refused:
        acm.delete_certificate(CertificateArn=old)
    assert refused.value.response["Error"]["Code"] == "ResourceInUseException"

    updated = apigw.update_domain_name(
        domainName="api.example.com",
        patchOperations=[{"op": "replace", "path": "/regionalCertificateArn", "value": new}],
    )
    assert updated["regionalCertificateArn"] == new
    assert apigw.get_domain_name(domainName="api.example.com")["regionalCertificateArn"] == new
    acm.delete_certificate(CertificateArn=old)  # no longer used
    with pytest.raises(ClientError):
        apigw.update_domain_name(
            domainName="api.example.com",
            patchOperations=[{"op": "replace", "path": "/noSuchField", "value": "x"}],
        )


def test_integration_reports_the_default_timeout_as_aws_does(aws: None) -> None:
    apigw = boto3.client("apigateway", "us-east-1")
    api = apigw.create_rest_api(name="timeouts")["id"]
    root = apigw.get_resources(restApiId=api)["items"][0]["id"]
    for method, timeout in (("GET", None), ("POST", 5000)):
        apigw.put_method(
            restApiId=api, resourceId=root, httpMethod=method, authorizationType="NONE"
        )
        apigw.put_integration(
            restApiId=api,
            resourceId=root,
            httpMethod=method,
            type="MOCK",
            **({"timeoutInMillis": timeout} if timeout else {}),
        )
    get = apigw.get_integration(restApiId=api, resourceId=root, httpMethod="GET")
    post = apigw.get_integration(restApiId=api, resourceId=root, httpMethod="POST")
    assert get["timeoutInMillis"] == 29000
    assert post["timeoutInMillis"] == 5000
