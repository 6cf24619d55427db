"""EC2 (emulator/ec2.py): DescribeVpcEndpoints filtered by `vpc-endpoint-id`."""

from __future__ import annotations

import boto3

from emulator import install_extensions

PRIMARY = "us-east-1"


def test_ec2_corrections_patch_each_method_once() -> None:
    from moto.ec2.models.vpcs import VPCEndPoint

    from emulator.ec2 import EC2_CORRECTIONS

    install_extensions()
    before = VPCEndPoint.get_filter_value
    for correct in EC2_CORRECTIONS:
        correct()
    assert VPCEndPoint.get_filter_value is before
    assert before._deployer_patches == {"endpoint-id"}  # type: ignore[attr-defined]


def test_vpc_endpoints_are_filtered_by_id(aws: None) -> None:
    """The deployer's batched reads ask for many endpoints at once by this filter."""
    ec2 = boto3.client("ec2", region_name=PRIMARY)
    vpc = ec2.create_vpc(CidrBlock="10.30.0.0/16")["Vpc"]["VpcId"]
    ids = [
        ec2.create_vpc_endpoint(
            VpcId=vpc, ServiceName=f"com.amazonaws.{PRIMARY}.{service}", VpcEndpointType="Gateway"
        )["VpcEndpoint"]["VpcEndpointId"]
        for service in ("s3", "dynamodb")
    ]

    def by_id(*wanted: str) -> list[str]:
        found = ec2.describe_vpc_endpoints(
            Filters=[{"Name": "vpc-endpoint-id", "Values": list(wanted)}]
        )["VpcEndpoints"]
        return sorted(e["VpcEndpointId"] for e in found)

    assert by_id(ids[1]) == [ids[1]]
    assert by_id(*ids) == sorted(ids)
    assert by_id("vpce-0000000000000000") == []
