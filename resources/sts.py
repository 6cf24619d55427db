"""STS: the caller's account, which key policies and ARNs are built from."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from deployer.model import Interp, Node, Ref
from deployer.resource import Context, DataSource, blueprint, data_source
from deployer.spec import Spec

# The file of the Terraform export that holds this module's blocks.
TERRAFORM_FILE = "locals.tf"

CALLER = "data.aws_caller_identity.current"
ACCOUNT_ID = Ref(CALLER, "account_id")


def account_arn(*parts: str | Ref) -> Interp:
    """`arn:aws:SERVICE:REGION:ACCOUNT:rest` with the account filled in from the caller."""
    service, region, *rest = parts
    return Interp(("arn:aws:", service, ":", region, ":", ACCOUNT_ID, ":", *rest))


def root_principal() -> Interp:
    return Interp(("arn:aws:iam::", ACCOUNT_ID, ":root"))


@data_source
class CallerIdentity(DataSource):
    type = "aws_caller_identity"

    def read(self, ctx: Context, desired: dict[str, Any]) -> dict[str, Any] | None:
        who = ctx.client("sts").get_caller_identity()
        return {
            "id": who["Account"],
            "account_id": who["Account"],
            "arn": who["Arn"],
            "user_id": who["UserId"],
        }


@blueprint
def caller_identity(spec: Spec, workspace: str) -> Iterator[Node]:
    yield Node("aws_caller_identity", "current", workspace, {}, data=True)
