"""Tag adapters declared as data, exercised against the emulator for each spelling."""

from __future__ import annotations

from typing import Any

from deployer.tagging import Tagging

KMS = Tagging("KeyId", list_call="list_resource_tags", key="TagKey", value="TagValue")
LOGS = Tagging("resourceArn", tags_param="tags", listed="tags", keys_param="tagKeys", as_map=True)
EC2 = Tagging(
    "Resources",
    list_call=None,
    tag_call="create_tags",
    untag_call="delete_tags",
    keys_param="Tags",
    resource_as_list=True,
    untag_with_pairs=True,
)
ROUTE53 = Tagging(
    "ResourceId",
    listed="ResourceTagSet.Tags",
    tag_call="change_tags_for_resource",
    tags_param="AddTags",
    untag_call="change_tags_for_resource",
    keys_param="RemoveTagKeys",
    fixed={"ResourceType": "healthcheck"},
    per_call=10,
)


def test_pairs_with_their_own_key_names(clients: Any) -> None:
    kms = clients("kms", "us-east-1")
    key = kms.create_key(Tags=KMS.to_api({"a": "1", "b": "2"}))["KeyMetadata"]["KeyId"]
    assert KMS.read(kms, key) == {"a": "1", "b": "2"}
    assert KMS.update(kms, key, {"a": "1", "c": "3"}, KMS.read(kms, key))
    assert KMS.read(kms, key) == {"a": "1", "c": "3"}
    assert not KMS.update(kms, key, {"a": "1", "c": "3"}, KMS.read(kms, key))


def test_maps_by_arn(clients: Any) -> None:
    logs = clients("logs", "us-east-1")
    logs.create_log_group(logGroupName="g", tags=LOGS.to_api({"x": "1"}))
    arn = logs.describe_log_groups(logGroupNamePrefix="g")["logGroups"][0]["arn"]
    arn = arn.removesuffix(":*")
    LOGS.update(logs, arn, {"y": "2"}, LOGS.read(logs, arn))
    assert LOGS.read(logs, arn) == {"y": "2"}


def test_ec2_names_resources_in_a_list(clients: Any) -> None:
    ec2 = clients("ec2", "us-east-1")
    vpc = ec2.create_vpc(CidrBlock="10.7.0.0/16")["Vpc"]["VpcId"]

    def live() -> dict[str, str]:
        return EC2.from_api(ec2.describe_vpcs(VpcIds=[vpc])["Vpcs"][0].get("Tags"))

    EC2.update(ec2, vpc, {"Name": "one", "k": "v"}, live())
    assert live() == {"Name": "one", "k": "v"}
    EC2.update(ec2, vpc, {"Name": "two"}, live())
    assert live() == {"Name": "two"}


def test_route53_sets_at_most_ten_per_call(clients: Any) -> None:
    r53 = clients("route53", "us-east-1")
    check = r53.create_health_check(
        CallerReference="tags",
        HealthCheckConfig={"Type": "HTTPS", "FullyQualifiedDomainName": "example.com"},
    )["HealthCheck"]["Id"]
    calls: list[str] = []
    r53.meta.events.register(
        "before-call.route53.ChangeTagsForResource", lambda **kw: calls.append("change")
    )
    many = {f"k{i:02}": str(i) for i in range(12)}
    ROUTE53.update(r53, check, many, {})
    assert ROUTE53.read(r53, check) == many
    assert len(calls) == 2
    ROUTE53.update(r53, check, {"k00": "0"}, many)
    assert ROUTE53.read(r53, check) == {"k00": "0"}


def test_is_ours_needs_every_identity_tag() -> None:
    from deployer.tagging import is_ours

    desired = {"tags": {"deployer:address": "aws_vpc.main", "Environment": "dev", "Name": "x"}}
    assert is_ours({"deployer:address": "aws_vpc.main", "Environment": "dev"}, desired)
    assert not is_ours({"deployer:address": "aws_vpc.main", "Environment": "prod"}, desired)
    assert not is_ours({"Environment": "dev"}, desired)
    assert not is_ours({"deployer:address": "aws_vpc.main"}, {"tags": {}})
