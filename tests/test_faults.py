"""Injected faults look like AWS's own answers: retried when transient, raised otherwise."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from deployer.aws import Clients
from deployer.faults import FaultInjector


@pytest.mark.parametrize(
    ("service", "call"),
    [
        ("ec2", lambda c: c.describe_vpcs()),
        ("iam", lambda c: c.list_roles()),
        ("s3", lambda c: c.list_buckets()),
        ("dynamodb", lambda c: c.list_tables()),
        ("lambda", lambda c: c.list_functions()),
    ],
)
def test_throttling_is_retried_until_it_passes(aws: None, service: str, call: Any) -> None:
    # Half the calls throttled: standard retry mode (8 attempts) gets through.
    faults = FaultInjector(0.5, ("Throttling",), seed=7)
    clients = Clients(hooks=[faults.hook()])
    call(clients(service, "us-east-1"))
    assert sum(faults.injected.values()) >= 1
    assert clients.counter.calls  # the call went through in the end


@pytest.mark.parametrize("service", ["ec2", "iam", "s3", "dynamodb", "apigateway"])
def test_non_retryable_error_is_raised_with_its_code(aws: None, service: str) -> None:
    faults = FaultInjector(1.0, ("AccessDenied",))
    clients = Clients(hooks=[faults.hook()])
    client = clients(service, "us-east-1")
    operation = {
        "ec2": "describe_vpcs",
        "iam": "list_roles",
        "s3": "list_buckets",
        "dynamodb": "list_tables",
        "apigateway": "get_rest_apis",
    }[service]
    with pytest.raises(ClientError) as raised:
        getattr(client, operation)()
    assert raised.value.response["Error"]["Code"] == "AccessDenied"
    assert sum(faults.injected.values()) == 1  # not retried


def test_operation_prefix_limits_the_faults(aws: None) -> None:
    faults = FaultInjector(1.0, ("AccessDenied",), operation_prefix="Create")
    kms = Clients(hooks=[faults.hook()])("kms", "us-east-1")
    kms.list_keys()
    with pytest.raises(ClientError):
        kms.create_key()
