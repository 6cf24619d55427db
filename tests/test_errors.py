"""Typed AWS errors: the classes the engine's clients raise for the codes of the one table."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from deployer.errors import (
    AlreadyExists,
    Conflict,
    NotFound,
    ignore_missing,
    is_not_found,
    kind_of,
    or_none,
)


def test_a_missing_key_raises_not_found_and_stays_the_modeled_error(clients: Any) -> None:
    kms = clients("kms", "us-east-1")
    with pytest.raises(NotFound) as caught:
        kms.describe_key(KeyId="11111111-2222-3333-4444-555555555555")
    assert isinstance(caught.value, kms.exceptions.NotFoundException)
    assert isinstance(caught.value, ClientError)
    assert is_not_found(caught.value)


def test_a_vpc_still_in_use_raises_conflict(clients: Any) -> None:
    ec2 = clients("ec2", "eu-west-1")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.1.0/24")
    with pytest.raises(Conflict) as caught:
        ec2.delete_vpc(VpcId=vpc)
    assert not isinstance(caught.value, NotFound)
    with pytest.raises(NotFound):  # EC2's `InvalidVpcID.NotFound` spelling
        ec2.delete_vpc(VpcId="vpc-00000000000000000")


def test_a_second_log_group_of_the_name_raises_already_exists(clients: Any) -> None:
    logs = clients("logs", "us-east-1")
    logs.create_log_group(logGroupName="twice")
    with pytest.raises(AlreadyExists):
        logs.create_log_group(logGroupName="twice")


def test_or_none_and_ignore_missing(clients: Any) -> None:
    iam = clients("iam", "us-east-1")
    assert or_none(lambda: iam.get_role(RoleName="nobody")) is None
    ignore_missing(lambda: iam.delete_role(RoleName="nobody"))
    trust = '{"Version": "2012-10-17", "Statement": []}'
    iam.create_role(RoleName="x", AssumeRolePolicyDocument=trust)
    with pytest.raises(AlreadyExists):  # other errors pass through
        or_none(lambda: iam.create_role(RoleName="x", AssumeRolePolicyDocument=trust))


def test_codes_map_to_one_kind_each() -> None:
    assert kind_of("InvalidSubnetID.NotFound") is NotFound
    assert kind_of("NoSuchBucketPolicy") is NotFound
    assert kind_of("AWS.SimpleQueueService.NonExistentQueue") is NotFound
    assert kind_of("DependencyViolation") is Conflict
    assert kind_of("InvalidPermission.Duplicate") is AlreadyExists
    assert kind_of("ThrottlingException") is None
    assert kind_of(None) is None
