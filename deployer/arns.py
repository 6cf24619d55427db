"""How AWS names things per region: the partition an ARN starts with, the DNS suffix of its
endpoints.

Regions outside the commercial partition (China, GovCloud) spell both differently; drivers that
build ARNs or endpoint hosts themselves (API Gateway's, which its API never returns) ask here
rather than writing `arn:aws:` and `amazonaws.com`.
"""

from __future__ import annotations


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
