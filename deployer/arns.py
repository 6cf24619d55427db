"""ARNs: their parts as drift reads them, what a driver may say about one, and how AWS spells
them (and endpoint hosts) per partition.

Drift names an unmanaged resource that the tagging API found by its ARN. Each driver declares
the kind its ARNs carry (`Resource.arn_kind`); a driver whose ARNs are odd, or for whose
resources AWS makes others, says so through `Resource.arn_claim`, which answers with a
`Claim`. Regions outside the commercial partition (China, GovCloud) spell ARNs and endpoint
domains differently: drivers that build them (API Gateway's, which its API never returns) ask
`partition` and `dns_suffix` rather than writing `arn:aws:` and `amazonaws.com`. This module
knows no service.
"""

from __future__ import annotations

from enum import Enum
from typing import NamedTuple


class Arn(NamedTuple):
    """The parts of an ARN drift uses: `arn:aws:ec2:us-east-1:1:subnet/subnet-1` is
    ("ec2", "us-east-1", "subnet", "subnet-1"); an ARN without a resource type (a bucket's,
    a topic's) has "" as `resource_type` and the whole resource part as `resource_id`."""

    service: str
    region: str
    resource_type: str
    resource_id: str

    @property
    def kind(self) -> tuple[str, str]:
        """(service, resource type): what `Resource.arn_kind` declares."""
        return self.service, self.resource_type


def parse_arn(arn: str) -> Arn | None:
    """The parts of an ARN, None if it is not one.

    The resource part is `type/id` or `type:id` (the first separator cuts), or `id` alone; a
    leading `/` (API Gateway's paths) and a trailing `:*` (log groups) are dropped.
    """
    parts = arn.split(":", 5)
    if len(parts) < 6 or parts[0] != "arn":
        return None
    service, region, resource = parts[2], parts[3], parts[5]
    if resource.endswith(":*"):
        resource = resource[:-2]
    resource = resource.lstrip("/")
    cut = min((i for i in (resource.find("/"), resource.find(":")) if i >= 0), default=-1)
    if cut < 0:
        return Arn(service, region, "", resource)
    return Arn(service, region, resource[:cut], resource[cut + 1 :])


class Claim(Enum):
    """What an ARN is to a driver that claims it (`Resource.arn_claim`)."""

    # One of the type's resources, although its ARN's kind alone does not say so.
    OWN = "own"
    # Made by AWS on behalf of one of the type's resources, which hands it its tags (a
    # database's automated snapshots): nobody's to manage, so never reported as unmanaged.
    DERIVED = "derived"


def partition(region: str) -> str:
    """`aws`, `aws-cn` or `aws-us-gov`: the second field of every ARN in `region`."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def dns_suffix(region: str) -> str:
    """The domain of `region`'s service endpoints (`execute-api.<region>.<suffix>`)."""
    return "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
