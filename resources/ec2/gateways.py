"""The VPC's way out: the internet gateway, Elastic IPs and NAT gateways."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from deployer.attributes import Attr, Setter, Table
from deployer.aws import poll, retry_while
from deployer.batch import Item
from deployer.errors import DeployerError, error_code
from deployer.resource import Context, resource
from deployer.waiting import delete_and_wait_gone, delete_when_released
from resources.ec2.shared import (
    ADDRESSES,
    EC2_PROPAGATION_TIMEOUT,
    INTERNET_GATEWAYS,
    NAT_GATEWAYS,
    TAGS,
    Ec2Resource,
    empty_as_none,
    value_filters,
)

# AWS: a NAT gateway takes "a few minutes" to become available and to be deleted (Terraform's
# defaults: 10 and 30 min). Detaching a gateway waits while the VPC's public addresses (NAT
# gateways' EIPs) are released, as Terraform's 20 min delete timeout does.
NAT_GATEWAY_AVAILABLE_TIMEOUT = 600.0
NAT_GATEWAY_DELETE_TIMEOUT = 1800.0
INTERNET_GATEWAY_DETACH_TIMEOUT = 1200.0
# A NAT gateway's deletion releases its EIP a moment after the gateway reads `deleted`.
EIP_RELEASE_TIMEOUT = 300.0


def attached_vpc(attachments: list[dict[str, Any]] | None) -> str | None:
    """The VPC an internet gateway is attached (or attaching) to."""
    attached = [
        a["VpcId"]
        for a in attachments or []
        if a.get("State") in ("available", "attached", "attaching")
    ]
    return attached[0] if attached else None


@resource
class InternetGateway(Ec2Resource):
    """Attached on create, detached before delete; moving it to another VPC is an update."""

    type = "aws_internet_gateway"
    arn_kind = ("ec2", "internet-gateway")
    table = Table(
        Attr("arn", computed=True),
        # CreateInternetGateway takes no VPC: Attach / DetachInternetGateway (the driver's).
        Attr("vpc_id", "Attachments", create=False, update=True, from_api=attached_vpc),
        Attr("owner_id", "OwnerId", computed=True),
        TAGS,
        service="ec2",
        create_call="CreateInternetGateway",
        described="InternetGateway",
        id_parameter="InternetGatewayId",
    )
    batched_read = (INTERNET_GATEWAYS, "internet-gateway-id")

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        ec2 = ctx.client("ec2")
        igw_id = self.create_call(ctx, desired)
        if desired.get("vpc_id"):
            try:
                attach_internet_gateway(ec2, igw_id, desired["vpc_id"])
            except Exception:
                ec2.delete_internet_gateway(InternetGatewayId=igw_id)
                raise
        return igw_id

    def read(self, ctx: Context, id: str) -> dict[str, Any] | None:
        live = super().read(ctx, id)
        return None if live is None else {**live, "arn": self.arn(ctx, live["owner_id"], id)}

    def update(self, ctx: Context, id: str, desired: dict[str, Any], live: dict[str, Any]) -> None:
        changed = self.changed(desired, live)
        if "vpc_id" in changed:
            ec2 = ctx.client("ec2")
            if live.get("vpc_id"):
                detach_internet_gateway(ec2, id, live["vpc_id"])
            attach_internet_gateway(ec2, id, desired["vpc_id"])
        self.apply_changes(ctx, id, desired, live, changed - {"vpc_id"})

    def delete(self, ctx: Context, id: str, live: dict[str, Any] | None) -> None:
        ec2 = ctx.client("ec2")
        current = self.read(ctx, id)
        if current is None:
            return
        if current.get("vpc_id"):
            detach_internet_gateway(ec2, id, current["vpc_id"])
        delete_when_released(
            lambda: ec2.delete_internet_gateway(InternetGatewayId=id),
            what=f"internet gateway {id}",
            timeout=INTERNET_GATEWAY_DETACH_TIMEOUT,
        )


def associate(parameter: str) -> Setter:
    """Associating an address with an instance or a network interface (AssociateAddress)."""
    return Setter("AssociateAddress", parameter, id_parameter="AllocationId")


@resource
class ElasticIp(Ec2Resource):
    """id = allocation id. Released on delete (after its NAT gateway is gone)."""

    type = "aws_eip"
    arn_kind = ("ec2", "elastic-ip")
    table = Table(
        Attr("allocation_id", "AllocationId", computed=True),
        Attr("domain", "Domain", force_new=True),
        # A specific address to allocate: Terraform keeps it in state only.
        Attr("address", create="Address", force_new=True, write_only=True),
        Attr("public_ip", "PublicIp", computed=True),
        Attr("public_ipv4_pool", "PublicIpv4Pool", force_new=True),
        Attr("network_border_group", "NetworkBorderGroup", force_new=True),
        Attr("association_id", "AssociationId", computed=True, from_api=empty_as_none),
        # Set when the spec associates the address (a NAT gateway's is AWS's doing).
        Attr(
            "instance",
            "InstanceId",
            create=False,
            update=associate("InstanceId"),
            from_api=empty_as_none,
        ),
        Attr(
            "network_interface",
            "NetworkInterfaceId",
            create=False,
            update=associate("NetworkInterfaceId"),
            from_api=empty_as_none,
        ),
        Attr("private_ip", "PrivateIpAddress", computed=True, from_api=empty_as_none),
        TAGS,
        service="ec2",
        create_call="AllocateAddress",
        described="Address",
        id_parameter="AllocationId",
    )
    batched_read = (ADDRESSES, "allocation-id")

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        # Addresses are for VPCs since EC2-Classic's retirement: AWS's own default.
        params = {"Domain": "vpc", **self.table.create_parameters(desired)}
        allocation = ctx.client("ec2").allocate_address(
            **params, **self.tag_specifications(desired)
        )
        allocation_id = str(allocation["AllocationId"])
        self.set_after_create(ctx, allocation_id, desired, NEW_ADDRESS)
        return allocation_id

    def delete(self, ctx: Context, id: str, live: dict[str, Any] | None) -> None:
        """Released once its NAT gateway lets go of it (`InvalidIPAddress.InUse` until then)."""
        ec2 = ctx.client("ec2")
        delete_when_released(
            lambda: ec2.release_address(AllocationId=id),
            what=f"Elastic IP {id}",
            timeout=EIP_RELEASE_TIMEOUT,
        )


# A new address is associated with nothing.
NEW_ADDRESS: dict[str, Any] = {"instance": None, "network_interface": None}


def primary_address(field: str) -> Callable[[list[dict[str, Any]] | None], Any]:
    """A field of the NAT gateway's primary address (the only one, for ours)."""

    def read(addresses: list[dict[str, Any]] | None) -> Any:
        addresses = addresses or [{}]
        primary = next((a for a in addresses if a.get("IsPrimary")), addresses[0])
        return primary.get(field)

    return read


@resource
class NatGateway(Ec2Resource):
    """Ready when `available` (minutes on AWS); deleted only once its EIP can be released."""

    type = "aws_nat_gateway"
    arn_kind = ("ec2", "natgateway")
    expected_seconds = 120.0
    table = Table(
        Attr(
            "allocation_id",
            "NatGatewayAddresses",
            create="AllocationId",
            force_new=True,
            from_api=primary_address("AllocationId"),
        ),
        Attr(
            "association_id",
            "NatGatewayAddresses",
            computed=True,
            from_api=primary_address("AssociationId"),
        ),
        Attr(
            "network_interface_id",
            "NatGatewayAddresses",
            computed=True,
            from_api=primary_address("NetworkInterfaceId"),
        ),
        Attr(
            "private_ip",
            "NatGatewayAddresses",
            create="PrivateIpAddress",
            force_new=True,
            from_api=primary_address("PrivateIp"),
        ),
        Attr(
            "public_ip", "NatGatewayAddresses", computed=True, from_api=primary_address("PublicIp")
        ),
        Attr("subnet_id", "SubnetId", force_new=True),
        # moto 5.2 leaves it out for public gateways; AWS always reports it.
        Attr(
            "connectivity_type",
            "ConnectivityType",
            force_new=True,
            default="public",
            from_api=lambda value: value or "public",
        ),
        TAGS,
        service="ec2",
        create_call="CreateNatGateway",
        described="NatGateway",
        id_parameter="NatGatewayId",
    )
    batched_read = (NAT_GATEWAYS, "nat-gateway-id")

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        # botocore fills ClientToken itself, so its own retries of this call cannot duplicate.
        return self.create_call(ctx, desired)

    def describe(self, ctx: Context, id: str) -> Item | None:
        return unless_deleted_nat(super().describe(ctx, id))

    def delete(self, ctx: Context, id: str, live: dict[str, Any] | None) -> None:
        """Its EIP cannot be released, nor its subnet deleted, until it is really gone."""
        ec2 = ctx.client("ec2")
        delete_and_wait_gone(
            lambda: ec2.delete_nat_gateway(NatGatewayId=id),
            lambda: live_nat_gateway(ec2, id),
            what=f"NAT gateway {id}",
            timeout=NAT_GATEWAY_DELETE_TIMEOUT,
            delay=10.0,
        )

    def find(self, ctx: Context, desired: dict[str, Any]) -> str | None:
        return self.find_tagged(
            ctx,
            desired,
            [
                *value_filters({"subnet-id": desired.get("subnet_id")}),
                {"Name": "state", "Values": ["pending", "available"]},
            ],
        )

    def wait_ready(self, ctx: Context, id: str) -> None:
        ec2 = ctx.client("ec2")
        poll(
            lambda: nat_gateway_available(ec2, id),
            what=f"NAT gateway {id} to become available",
            timeout=NAT_GATEWAY_AVAILABLE_TIMEOUT,
            delay=10.0,
        )


# ---------------------------------------------------------------------------------------------
# Finders, status functions and helpers


def attach_internet_gateway(ec2: Any, igw_id: str, vpc_id: str) -> None:
    # The gateway just created may not be visible to AttachInternetGateway for a moment.
    retry_while(
        lambda: ec2.attach_internet_gateway(InternetGatewayId=igw_id, VpcId=vpc_id),
        retryable=lambda exc: error_code(exc) == "InvalidInternetGatewayID.NotFound",
        timeout=EC2_PROPAGATION_TIMEOUT,
    )


def detach_internet_gateway(ec2: Any, igw_id: str, vpc_id: str) -> None:
    """Detach, waiting while the VPC still has public addresses mapped (NAT EIPs releasing)."""

    def detach() -> None:
        try:
            ec2.detach_internet_gateway(InternetGatewayId=igw_id, VpcId=vpc_id)
        except Exception as exc:
            if error_code(exc) != "Gateway.NotAttached":
                raise

    delete_when_released(
        detach,
        what=f"internet gateway {igw_id} to detach from {vpc_id}",
        timeout=INTERNET_GATEWAY_DETACH_TIMEOUT,
    )


def live_nat_gateway(ec2: Any, nat_id: str) -> Item | None:
    return unless_deleted_nat(NAT_GATEWAYS.fetch_one(ec2, "nat-gateway-id", nat_id))


def unless_deleted_nat(nat: Item | None) -> Item | None:
    """The NAT gateway unless it is deleted (AWS lists deleted ones for about an hour)."""
    return None if nat is None or nat.get("State") == "deleted" else nat


def nat_gateway_available(ec2: Any, nat_id: str) -> bool | None:
    nat = live_nat_gateway(ec2, nat_id)
    state = (nat or {}).get("State")
    if nat is None or state in ("failed", "deleting"):
        detail = f"{(nat or {}).get('FailureCode', '')} {(nat or {}).get('FailureMessage', '')}"
        raise DeployerError(f"NAT gateway {nat_id} is {state or 'gone'}: {detail.strip()}")
    return True if state == "available" else None
