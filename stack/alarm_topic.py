"""The alarm topic: each region's SNS topic for alarms, encrypted with the region's `logs` key.

The key's policy lets CloudWatch use it (see `stack/keys.py`); without that, alarms could not
publish to an encrypted topic. The topic's own policy is declared rather than left to AWS's
default, so a statement widened out of band is drift: only the account administers the topic,
and only CloudWatch alarms of this account publish to it. The alarms themselves are
`stack/alarms.py`.
"""

from __future__ import annotations

from collections.abc import Iterator

from deployer.model import Json, Node, Output, Ref
from deployer.resource import blueprint
from deployer.spec import Spec
from stack.account import ACCOUNT_ID, account_arn, root_principal
from stack.keys import key_ref

# The file of the Terraform export that holds this component's blocks.
TERRAFORM_FILE = "cloudwatch.tf"

TOPIC = "aws_sns_topic.alarms"


def topic_name(spec: Spec) -> str:
    return spec.name("alarms")


def topic_ref(workspace: str | None = None) -> Ref:
    """The alarm topic's ARN; `workspace="primary"` from the secondary (us-east-1 alarms)."""
    return Ref(TOPIC, "arn", workspace)


def topic_policy(region: str, name: str) -> Json:
    """The account administers the topic; CloudWatch alarms of the account publish to it."""
    arn = account_arn("sns", region, name)
    return Json(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "AccountAdministration",
                    "Effect": "Allow",
                    "Principal": {"AWS": root_principal()},
                    "Action": [
                        "sns:GetTopicAttributes",
                        "sns:SetTopicAttributes",
                        "sns:AddPermission",
                        "sns:RemovePermission",
                        "sns:DeleteTopic",
                        "sns:Subscribe",
                        "sns:ListSubscriptionsByTopic",
                        "sns:Publish",
                    ],
                    "Resource": arn,
                },
                {
                    "Sid": "CloudWatchAlarms",
                    "Effect": "Allow",
                    "Principal": {"Service": "cloudwatch.amazonaws.com"},
                    "Action": "sns:Publish",
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
            "policy": topic_policy(spec.region(workspace), name),
            "tags": {"Name": name},
        },
    )
    yield Output("alarm_topic_arn", workspace, topic_ref(), "Where this region's alarms go")
