"""ACM (emulator/acm.py): a requested certificate's key algorithm, kept and reported."""

from __future__ import annotations

import boto3


def test_the_requested_key_algorithm_is_reported(aws: None) -> None:
    acm = boto3.client("acm", region_name="eu-west-1")
    ec = acm.request_certificate(
        DomainName="api.example.com", ValidationMethod="DNS", KeyAlgorithm="EC_prime256v1"
    )["CertificateArn"]
    plain = acm.request_certificate(DomainName="www.example.com", ValidationMethod="DNS")[
        "CertificateArn"
    ]
    described = acm.describe_certificate(CertificateArn=ec)["Certificate"]
    assert described["KeyAlgorithm"] == "EC_prime256v1"
    assert acm.describe_certificate(CertificateArn=plain)["Certificate"]["KeyAlgorithm"] == (
        "RSA_2048"
    )
