"""The roles: every IAM role of the stack, made in the primary workspace only.

Each role owns the whole set of its inline policies and of its attached managed policies
(`aws_iam_role_policies_exclusive`, `aws_iam_role_policy_attachments_exclusive`): one added
behind the deployer's back is drift, and apply removes it.

IAM is global: the primary creates each role once, and the secondary workspace refers to them
through `aws_iam_role` data sources, so that its apply makes no IAM write call.

This module owns what a role is: its name, the service that may assume it (with a confused-deputy
condition where the service passes its caller's account), the AWS-managed policies attached where
they are AWS's standard answer and nothing narrower helps (API Gateway's logging role, RDS
enhanced monitoring), and `role_ref` for its users. What a role may do is declared by the
components that use it, through `stack/permissions.py`; its inline policy is assembled from
those declarations here, without importing them. Policies are least-privilege: a `"*"` resource
appears only for actions that AWS authorises on no narrower resource, each with a comment saying
so where it is declared.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from deployer.model import WORKSPACES, Json, Node, Output, Ref
from deployer.resource import blueprint
from deployer.spec import Spec
from stack.account import ACCOUNT_ID, account_arn
from stack.permissions import POLICY_VERSION, granted_roles, policy_document

# The file of the Terraform export that holds this component's blocks.
TERRAFORM_FILE = "iam.tf"

# Logical role → what it is for. The role's name is `spec.name(<role with - for _>)`.
ROLES: dict[str, str] = {
    "lambda_exec": "the payment Lambda: its tables, keys, logs, X-Ray and VPC network interfaces",
    "s3_replication": "S3 replication from the primary bucket to the secondary one",
    "apigw_cloudwatch": "API Gateway access and execution logging to CloudWatch Logs",
    "rds_monitoring": "RDS enhanced monitoring",
    "flow_logs": "VPC flow logs delivery to CloudWatch Logs",
}

# The service principal that assumes each role.
TRUSTED_SERVICES: dict[str, str] = {
    "lambda_exec": "lambda.amazonaws.com",
    "s3_replication": "s3.amazonaws.com",
    "apigw_cloudwatch": "apigateway.amazonaws.com",
    "rds_monitoring": "monitoring.rds.amazonaws.com",
    "flow_logs": "vpc-flow-logs.amazonaws.com",
}

SERVICE_ROLE_POLICIES = "arn:aws:iam::aws:policy/service-role/"

# Role → {short name → AWS-managed policy}, where the managed policy is AWS's standard answer.
MANAGED_POLICIES: dict[str, dict[str, str]] = {
    "apigw_cloudwatch": {
        "push_logs": SERVICE_ROLE_POLICIES + "AmazonAPIGatewayPushToCloudWatchLogs",
    },
    "rds_monitoring": {
        "enhanced_monitoring": SERVICE_ROLE_POLICIES + "AmazonRDSEnhancedMonitoringRole",
    },
}

# AWS's default and minimum: service roles are assumed by services for short sessions.
MAX_SESSION_SECONDS = 3600


def role_name(spec: Spec, role: str) -> str:
    return spec.name(role.replace("_", "-"))


def role_ref(workspace: str, role: str, attribute: str = "arn") -> Ref:
    """The role's attribute: the resource in primary, its look-up in secondary."""
    if workspace == "primary":
        return Ref(f"aws_iam_role.{role}", attribute)
    return Ref(f"data.aws_iam_role.{role}", attribute)


def policy_name(spec: Spec, role: str) -> str:
    """The name of a role's inline policy (unique per role, so the role's name will do)."""
    return spec.name(role.replace("_", "-"), "policy")


def attachment_name(role: str, short: str) -> str:
    return f"{role}_{short}"


# --- policy documents ---------------------------------------------------------------------


def trust_policy(spec: Spec, role: str) -> Json:
    """Only the role's own service may assume it; where the service passes its caller's
    account, the condition keeps another account's resources from using it (confused deputy)."""
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"Service": TRUSTED_SERVICES[role]},
        "Action": "sts:AssumeRole",
    }
    if role == "flow_logs":
        statement["Condition"] = {
            "StringEquals": {"aws:SourceAccount": ACCOUNT_ID},
            "ArnLike": {
                "aws:SourceArn": [
                    account_arn("ec2", spec.region(ws), "vpc-flow-log/*") for ws in WORKSPACES
                ]
            },
        }
    elif role == "rds_monitoring":
        # The RDS user guide ("Protecting against the confused deputy problem") documents
        # aws:SourceAccount for the enhanced-monitoring role.
        statement["Condition"] = {"StringEquals": {"aws:SourceAccount": ACCOUNT_ID}}
    return Json({"Version": POLICY_VERSION, "Statement": [statement]})


def inline_policy(spec: Spec, role: str) -> Json | None:
    """What the components that use `role` declared it may do (`stack/permissions.py`), or
    None when none declared anything."""
    unknown = granted_roles() - ROLES.keys()
    if unknown:
        raise ValueError(
            f"permissions declared on roles the stack does not have: {sorted(unknown)}"
        )
    return policy_document(spec, role)


# --- blueprint ----------------------------------------------------------------------------


@blueprint
def iam(spec: Spec, workspace: str) -> Iterator[Node | Output]:
    """Roles, their policies and ARN outputs in the primary; look-ups in the secondary."""
    if workspace != "primary":
        yield from _lookups(spec, workspace)
        return
    for role, purpose in ROLES.items():
        yield Node(
            "aws_iam_role",
            role,
            workspace,
            {
                "name": role_name(spec, role),
                "path": "/",
                "description": f"Deployer-managed role for {purpose}",
                "assume_role_policy": trust_policy(spec, role),
                "max_session_duration": MAX_SESSION_SECONDS,
                # Our delete always detaches and deletes the role's policies first; this makes
                # Terraform's destroy of the exported configuration do the same.
                "force_detach_policies": True,
            },
        )
        policy = inline_policy(spec, role)
        if policy is not None:
            yield Node(
                "aws_iam_role_policy",
                role,
                workspace,
                {
                    "name": policy_name(spec, role),
                    "role": role_ref(workspace, role, "name"),
                    "policy": policy,
                },
            )
        for short, arn in MANAGED_POLICIES.get(role, {}).items():
            yield Node(
                "aws_iam_role_policy_attachment",
                attachment_name(role, short),
                workspace,
                {"role": role_ref(workspace, role, "name"), "policy_arn": arn},
            )
        yield from _exclusive(role, workspace, has_inline=policy is not None)
        yield Output(
            f"{role}_role_arn",
            workspace,
            role_ref(workspace, role),
            description=f"ARN of the IAM role for {purpose}",
        )


def _exclusive(role: str, workspace: str, has_inline: bool) -> Iterator[Node]:
    """The role owns its whole policy sets: an inline policy or attachment put on it behind
    our back is drift, and apply removes it. The sets name the policies above by reference,
    so they are made after them and follow their names."""
    yield Node(
        "aws_iam_role_policies_exclusive",
        role,
        workspace,
        {
            "role_name": role_ref(workspace, role, "name"),
            "policy_names": [Ref(f"aws_iam_role_policy.{role}", "name")] if has_inline else [],
        },
    )
    yield Node(
        "aws_iam_role_policy_attachments_exclusive",
        role,
        workspace,
        {
            "role_name": role_ref(workspace, role, "name"),
            "policy_arns": [
                Ref(f"aws_iam_role_policy_attachment.{attachment_name(role, short)}", "policy_arn")
                for short in MANAGED_POLICIES.get(role, {})
            ],
        },
    )


def _lookups(spec: Spec, workspace: str) -> Iterator[Node]:
    """The secondary's view of the primary's roles: reads only, after the primary made them."""
    for role in ROLES:
        yield Node(
            "aws_iam_role",
            role,
            workspace,
            {"name": role_name(spec, role)},
            data=True,
            depends_on=(Ref(f"aws_iam_role.{role}", "arn", workspace="primary"),),
        )
