"""EC2: DescribeVpcEndpoints filtered by `vpc-endpoint-id` (``EC2_CORRECTIONS``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from emulator.patching import _patch

# --- EC2: DescribeVpcEndpoints by the `vpc-endpoint-id` filter ----------------------------------
# AWS filters endpoints by id (the deployer's batched reads ask for many at once that way);
# moto 5.2 answers "not implemented" for that filter.


def _endpoint_id_filter(original: Any) -> Any:
    def get_filter_value(self: Any, filter_name: str, method_name: str | None = None) -> Any:
        if filter_name == "vpc-endpoint-id":
            return self.id
        return original(self, filter_name, method_name)

    return get_filter_value


def _install_ec2_endpoint_id_filter() -> None:
    from moto.ec2.models.vpcs import VPCEndPoint

    _patch(VPCEndPoint, "get_filter_value", "endpoint-id", _endpoint_id_filter)


EC2_CORRECTIONS: tuple[Callable[[], None], ...] = (_install_ec2_endpoint_id_filter,)
