"""The alarm topic: each region's SNS topic for alarms, encrypted with the region's `logs` key.

The key's policy lets CloudWatch use it (see `stack/keys.py`); without that, alarms could not
publish to an encrypted topic. The alarms themselves are `stack/alarms.py`.
"""

from __future__ import annotations

from collections.abc import Iterator

from deployer.model import Node, Output, Ref
from deployer.resource import blueprint
from deployer.spec import Spec
from stack.keys import key_ref

# The file of the Terraform export that holds this component's blocks.
TERRAFORM_FILE = "cloudwatch.tf"

TOPIC = "aws_sns_topic.alarms"


def topic_name(spec: Spec) -> str:
    return spec.name("alarms")


def topic_ref(workspace: str | None = None) -> Ref:
    """The alarm topic's ARN; `workspace="primary"` from the secondary (us-east-1 alarms)."""
    return Ref(TOPIC, "arn", workspace)


@blueprint
def sns(spec: Spec, workspace: str) -> Iterator[Node | Output]:
    name = topic_name(spec)
    yield Node(
        "aws_sns_topic",
        "alarms",
        workspace,
        {
            "name": name,
            "display_name": f"{spec.project} {spec.environment_suffix} alarms ({workspace})",
            "kms_master_key_id": key_ref("logs", "arn"),
            "tags": {"Name": name},
        },
    )
    yield Output("alarm_topic_arn", workspace, topic_ref(), "Where this region's alarms go")
