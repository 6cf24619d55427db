"""The account: who the deployer runs as, which key policies and ARNs are built from.

Nothing here is created: `data.aws_caller_identity.current` reads the caller's account once
per workspace, and every ARN the stack writes before the resource exists (policies naming
tables, log groups, keys) takes its account from that read rather than from the spec.
"""

from __future__ import annotations

from collections.abc import Iterator

from deployer.model import Interp, Node, Ref
from deployer.resource import blueprint
from deployer.spec import Spec

# The file of the Terraform export that holds this component's blocks.
TERRAFORM_FILE = "locals.tf"

CALLER = "data.aws_caller_identity.current"
ACCOUNT_ID = Ref(CALLER, "account_id")


def account_arn(*parts: str | Ref) -> Interp:
    """`arn:aws:SERVICE:REGION:ACCOUNT:rest` with the account filled in from the caller."""
    service, region, *rest = parts
    return Interp(("arn:aws:", service, ":", region, ":", ACCOUNT_ID, ":", *rest))


def root_principal() -> Interp:
    return Interp(("arn:aws:iam::", ACCOUNT_ID, ":root"))


@blueprint
def caller_identity(spec: Spec, workspace: str) -> Iterator[Node]:
    yield Node("aws_caller_identity", "current", workspace, {}, data=True)
