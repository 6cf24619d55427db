"""`sandbox_override.tf`: the exported configuration pointed at the local emulator.

Terraform merges a `*_override.tf` file into the blocks it names, so the exported files stay
exactly as a user gets them while every provider (the default one and each alias) talks to the
sandbox with its fixed credentials. Deleting the file points the configuration back at AWS.
"""

from __future__ import annotations

from collections.abc import Iterable

from deployer.model import WORKSPACES
from deployer.sandbox import SANDBOX_CREDENTIALS
from export.hcl import Attribute, Block, BodyItem, Comment, render_file

FILE_NAME = "sandbox_override.tf"

#: The provider's `endpoints` keys for every service the exported resources and look-ups call.
ENDPOINT_SERVICES = (
    "acm",
    "apigateway",
    "cloudwatch",
    "dynamodb",
    "ec2",
    "iam",
    "kms",
    "lambda",
    "logs",
    "rds",
    "route53",
    "s3",
    "secretsmanager",
    "sns",
    "sts",
)


def sandbox_override(endpoint: str, aliases: Iterable[str]) -> str:
    """Provider blocks (default, then one per alias in use) that send every call to `endpoint`.

    The account id is still asked of STS (the emulator answers), so ARNs the configuration
    builds match the ones the emulator made.
    """
    settings: list[BodyItem] = [
        Attribute("access_key", SANDBOX_CREDENTIALS["AWS_ACCESS_KEY_ID"]),
        Attribute("secret_key", SANDBOX_CREDENTIALS["AWS_SECRET_ACCESS_KEY"]),
        Attribute("skip_credentials_validation", True),
        Attribute("skip_metadata_api_check", True),
        Attribute("s3_use_path_style", True),
        Block("endpoints", (), [Attribute(name, endpoint) for name in ENDPOINT_SERVICES]),
    ]
    wanted = set(aliases)
    blocks: list[BodyItem] = [
        Comment(
            f"Points the providers at the local emulator ({endpoint}); delete this file to "
            "deploy to AWS."
        ),
        Block("provider", ("aws",), settings),
    ]
    blocks += [
        Block("provider", ("aws",), [Attribute("alias", ws), *settings])
        for ws in WORKSPACES
        if ws in wanted
    ]
    return render_file(blocks)
