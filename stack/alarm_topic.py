"""The alarm topic: each region's SNS topic for alarms, encrypted with the region's `logs` key.

The key's policy lets CloudWatch use it (see `stack/keys.py`); without that, alarms could not
publish to an encrypted topic. The alarms themselves are `stack/alarms.py`.

The topic's access policy is declared (`topic_policy`), not left to SNS's default: drift then
compares it as a document, so a statement widened behind the deployer's back is reported and
apply puts the declared one back.
"""

from __future__ import annotations

from collections.abc import Iterator

from deployer.model import Json, Node, Output, Ref
from deployer.resource import blueprint
from deployer.spec import Spec
from stack.account import ACCOUNT_ID, account_arn, root_principal
from stack.keys import key_ref
from stack.permissions import POLICY_VERSION

# The file of the Terraform export that holds this component's blocks.
TERRAFORM_FILE = "cloudwatch.tf"

TOPIC = "aws_sns_topic.alarms"


def topic_name(spec: Spec) -> str:
    return spec.name("alarms")


def topic_ref(workspace: str | None = None) -> Ref:
    """The alarm topic's ARN; `workspace="primary"` from the secondary (us-east-1 alarms)."""
    return Ref(TOPIC, "arn", workspace)


# What SNS's default topic policy lets the owning account do: the account administers its topic.
OWNER_ACTIONS = [
    "SNS:GetTopicAttributes",
    "SNS:SetTopicAttributes",
    "SNS:AddPermission",
    "SNS:RemovePermission",
    "SNS:DeleteTopic",
    "SNS:Subscribe",
    "SNS:ListSubscriptionsByTopic",
    "SNS:Publish",
]


def topic_policy(spec: Spec, workspace: str) -> Json:
    """SNS's default (the account administers its topic), plus CloudWatch publishing on behalf
    of this account's alarms only (the confused-deputy condition)."""
    arn = account_arn("sns", spec.region(workspace), topic_name(spec))
    return Json(
        {
            "Version": POLICY_VERSION,
            "Statement": [
                {
                    "Sid": "AccountAdministers",
                    "Effect": "Allow",
                    "Principal": {"AWS": root_principal()},
                    "Action": OWNER_ACTIONS,
                    "Resource": arn,
                },
                {
                    "Sid": "CloudWatchAlarmsPublish",
                    "Effect": "Allow",
                    "Principal": {"Service": "cloudwatch.amazonaws.com"},
                    "Action": "SNS:Publish",
                    "Resource": arn,
                    "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT_ID}},
                },
            ],
        }
    )


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
            "policy": topic_policy(spec, workspace),
            "tags": {"Name": name},
        },
    )
    yield Output("alarm_topic_arn", workspace, topic_ref(), "Where this region's alarms go")
