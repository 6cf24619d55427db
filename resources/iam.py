"""IAM: roles in the primary workspace only; the secondary looks them up by name.

IAM is global: the primary creates every role once, and the secondary workspace refers to them
through `aws_iam_role` data sources, so that its apply makes no IAM write call.

Policies are least-privilege inline documents wherever a narrower resource scope exists; an
AWS-managed policy is attached only where it is AWS's standard answer and nothing narrower helps
(API Gateway's logging role, RDS enhanced monitoring). A `"*"` resource appears only for actions
that AWS authorises on no narrower resource, each with a comment saying so.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Callable, Iterator
from datetime import datetime
from functools import partial
from typing import Any

from deployer.aws import (
    DeployerError,
    error_code,
    is_not_found,
    paginate,
    retry_while,
    tag_changes,
    tag_dict,
    tag_list,
    user_tags,
)
from deployer.diff import diff_attributes
from deployer.graph import ADDRESS_TAG
from deployer.model import WORKSPACES, Json, Node, Output, Ref
from deployer.resource import Context, DataSource, Resource, blueprint, data_source, resource
from deployer.spec import Spec
from resources.sts import ACCOUNT_ID, account_arn

# The file of the Terraform export that holds this module's blocks.
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

# How long IAM's own eventual consistency is waited out (a role a few seconds old unknown to
# PutRolePolicy, a detached policy still blocking DeleteRole): Terraform's IAM propagation
# timeout, since AWS documents no bound beyond "changes can take time to propagate".
IAM_PROPAGATION_TIMEOUT_S = 120.0

POLICY_VERSION = "2012-10-17"


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


def _regions(spec: Spec) -> list[str]:
    return [spec.region(ws) for ws in WORKSPACES]


def _sid(*words: str) -> str:
    """Statement ids allow only letters and digits: `("Keys", "us-east-1")` → `KeysUsEast1`."""
    return "".join(part[:1].upper() + part[1:] for word in words for part in word.split("-"))


def _statement(
    sid: str, actions: list[str], resources: list[Any], condition: dict[str, Any] | None = None
) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "Sid": sid,
        "Effect": "Allow",
        "Action": sorted(actions),
        "Resource": resources[0] if len(resources) == 1 else resources,
    }
    if condition:
        statement["Condition"] = condition
    return statement


def lambda_exec_policy(spec: Spec) -> Json:
    """What the payment handler does in either region, and what Lambda needs around it."""
    # Imported here, not at the top: these modules import `role_ref` from this one.
    from resources.awslambda import log_group_name
    from resources.dynamodb import HANDLER_ACTIONS, table_arns

    regions = _regions(spec)
    log_group = log_group_name(spec)
    statements = [
        _statement(
            "PaymentTables",
            list(HANDLER_ACTIONS),
            [arn for region in regions for arn in table_arns(spec, region)],
        ),
        # Each region's table key, used only through that region's DynamoDB: the secondary's
        # key ids are unknown to the primary workspace, the condition narrows the wildcard.
        *(
            _statement(
                _sid("TableKeys", region),
                ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"],
                [account_arn("kms", region, "key/*")],
                {"StringEquals": {"kms:ViaService": f"dynamodb.{region}.amazonaws.com"}},
            )
            for region in regions
        ),
        _statement(
            "FunctionLogs",
            ["logs:CreateLogStream", "logs:PutLogEvents"],
            [account_arn("logs", region, f"log-group:{log_group}:*") for region in regions],
        ),
        # X-Ray's PutTraceSegments and PutTelemetryRecords support no resource-level
        # permissions: "*" is the only resource AWS accepts.
        _statement("XRayTraces", ["xray:PutTelemetryRecords", "xray:PutTraceSegments"], ["*"]),
        # EC2 Describe* actions support no resource-level permissions: "*" is the only choice.
        _statement(
            "DescribeVpcNetwork",
            ["ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"],
            ["*"],
        ),
        # Lambda manages its VPC network interfaces with the function's role; these actions do
        # support resource ARNs, so they are held to this account's interfaces, subnets and
        # security groups in the two regions.
        _statement(
            "ManageFunctionNetworkInterfaces",
            [
                "ec2:AssignPrivateIpAddresses",
                "ec2:CreateNetworkInterface",
                "ec2:DeleteNetworkInterface",
                "ec2:UnassignPrivateIpAddresses",
            ],
            [
                account_arn("ec2", region, f"{kind}/*")
                for region in regions
                for kind in ("network-interface", "subnet", "security-group")
            ],
        ),
    ]
    return Json({"Version": POLICY_VERSION, "Statement": statements})


def s3_replication_policy(spec: Spec) -> Json:
    """Read the primary bucket's versions, write replicas into the secondary bucket, and use
    each region's S3 key only through that region's S3 for that bucket."""
    from resources.s3 import bucket_name

    source, destination = (bucket_name(spec, ws) for ws in WORKSPACES)
    source_region, destination_region = _regions(spec)

    def bucket_objects(bucket: str) -> list[str]:
        # With an S3 Bucket Key the encryption context is the bucket's ARN, else the object's.
        return [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]

    statements = [
        _statement(
            "SourceBucket",
            ["s3:GetReplicationConfiguration", "s3:ListBucket"],
            [f"arn:aws:s3:::{source}"],
        ),
        _statement(
            "SourceObjectVersions",
            [
                "s3:GetObjectVersionAcl",
                "s3:GetObjectVersionForReplication",
                "s3:GetObjectVersionTagging",
            ],
            [f"arn:aws:s3:::{source}/*"],
        ),
        _statement(
            "DestinationReplicas",
            ["s3:ReplicateDelete", "s3:ReplicateObject", "s3:ReplicateTags"],
            [f"arn:aws:s3:::{destination}/*"],
        ),
        _statement(
            "DecryptSourceObjects",
            ["kms:Decrypt"],
            [account_arn("kms", source_region, "key/*")],
            {
                "StringEquals": {"kms:ViaService": f"s3.{source_region}.amazonaws.com"},
                "StringLike": {"kms:EncryptionContext:aws:s3:arn": bucket_objects(source)},
            },
        ),
        _statement(
            "EncryptReplicas",
            ["kms:Encrypt"],
            [account_arn("kms", destination_region, "key/*")],
            {
                "StringEquals": {"kms:ViaService": f"s3.{destination_region}.amazonaws.com"},
                "StringLike": {"kms:EncryptionContext:aws:s3:arn": bucket_objects(destination)},
            },
        ),
    ]
    return Json({"Version": POLICY_VERSION, "Statement": statements})


def flow_logs_policy(spec: Spec) -> Json:
    """Deliver flow logs into the flow-log group of either region, and nothing else."""
    from resources.ec2 import flow_log_group_name

    regions = _regions(spec)
    group = flow_log_group_name(spec)
    statements = [
        _statement(
            "DeliverFlowLogs",
            ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
            [account_arn("logs", region, f"log-group:{group}:*") for region in regions],
        ),
        # DescribeLogGroups is authorised on the account's whole log-group space: AWS
        # documents `log-group:*` as the narrowest resource that works.
        _statement(
            "FindFlowLogGroup",
            ["logs:DescribeLogGroups"],
            [account_arn("logs", region, "log-group:*") for region in regions],
        ),
    ]
    return Json({"Version": POLICY_VERSION, "Statement": statements})


INLINE_POLICIES: dict[str, Callable[[Spec], Json]] = {
    "lambda_exec": lambda_exec_policy,
    "s3_replication": s3_replication_policy,
    "flow_logs": flow_logs_policy,
}


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
        if role in INLINE_POLICIES:
            yield Node(
                "aws_iam_role_policy",
                role,
                workspace,
                {
                    "name": policy_name(spec, role),
                    "role": role_ref(workspace, role, "name"),
                    "policy": INLINE_POLICIES[role](spec),
                },
            )
        for short, arn in MANAGED_POLICIES.get(role, {}).items():
            yield Node(
                "aws_iam_role_policy_attachment",
                attachment_name(role, short),
                workspace,
                {"role": role_ref(workspace, role, "name"), "policy_arn": arn},
            )
        yield Output(
            f"{role}_role_arn",
            workspace,
            role_ref(workspace, role),
            description=f"ARN of the IAM role for {purpose}",
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


# --- drivers ------------------------------------------------------------------------------


@resource
class Role(Resource):
    """A role; id = its name, Terraform's import id. Called in us-east-1 (IAM is global)."""

    type = "aws_iam_role"
    arn_kind = ("iam", "role")
    policy_attributes = frozenset({"assume_role_policy", "inline_policy"})
    global_service = True
    lookup_by = {"name": "name"}
    force_new = frozenset({"name", "path"})
    # A Terraform-side switch, not an AWS attribute: our delete always behaves as if it is on.
    write_only = frozenset({"force_detach_policies"})

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        iam = ctx.client("iam")
        name = desired["name"]
        extra: dict[str, Any] = {}
        if desired.get("description") is not None:
            extra["Description"] = desired["description"]
        if desired.get("max_session_duration") is not None:
            extra["MaxSessionDuration"] = int(desired["max_session_duration"])
        try:
            iam.create_role(
                RoleName=name,
                Path=desired.get("path") or "/",
                AssumeRolePolicyDocument=desired["assume_role_policy"],
                Tags=tag_list(desired.get("tags") or {}),
                **extra,
            )
        except Exception as exc:
            if error_code(exc) != "EntityAlreadyExists":
                raise
            # No state (or a lost one) but our tags on it: ours, adopt it. Otherwise refuse.
            if self.find(ctx, desired) is None:
                raise DeployerError(
                    f"IAM role {name} already exists and is not tagged as "
                    f"{ADDRESS_TAG}={desired.get('tags', {}).get(ADDRESS_TAG)}: it was not made "
                    "by this deployment; rename or delete it"
                ) from exc
        return str(name)

    def read(self, ctx: Context, id: str) -> dict[str, Any] | None:
        role = find_role(ctx.client("iam"), id)
        return None if role is None else role_attributes(role)

    def update(self, ctx: Context, id: str, desired: dict[str, Any], live: dict[str, Any]) -> None:
        iam = ctx.client("iam")
        changed = diff_attributes(desired, live, self.write_only)
        if "assume_role_policy" in changed:
            iam.update_assume_role_policy(RoleName=id, PolicyDocument=desired["assume_role_policy"])
        settings: dict[str, Any] = {}
        if "description" in changed:
            settings["Description"] = desired["description"]
        if "max_session_duration" in changed:
            settings["MaxSessionDuration"] = int(desired["max_session_duration"])
        if settings:
            iam.update_role(RoleName=id, **settings)
        if "tags" in changed:
            to_set, to_remove = tag_changes(desired.get("tags") or {}, live.get("tags"))
            if to_set:
                iam.tag_role(RoleName=id, Tags=tag_list(to_set))
            if to_remove:
                iam.untag_role(RoleName=id, TagKeys=to_remove)

    def delete(self, ctx: Context, id: str, live: dict[str, Any] | None) -> None:
        """DeleteRole refuses a role that still has policies or instance profiles: remove them
        in Terraform's order (instance profiles, managed policies, inline policies), then
        delete, waiting out IAM's lag in seeing those removals."""
        iam = ctx.client("iam")
        try:
            for profile in paginate(
                iam, "list_instance_profiles_for_role", "InstanceProfiles", RoleName=id
            ):
                _ignore_not_found(
                    partial(
                        iam.remove_role_from_instance_profile,
                        InstanceProfileName=profile["InstanceProfileName"],
                        RoleName=id,
                    )
                )
            for policy in paginate(
                iam, "list_attached_role_policies", "AttachedPolicies", RoleName=id
            ):
                _detach(iam, id, policy["PolicyArn"])
            for name in paginate(iam, "list_role_policies", "PolicyNames", RoleName=id):
                _ignore_not_found(partial(iam.delete_role_policy, RoleName=id, PolicyName=name))
            retry_while(
                lambda: iam.delete_role(RoleName=id),
                retryable=_removal_not_yet_seen,
                timeout=IAM_PROPAGATION_TIMEOUT_S,
            )
        except Exception as exc:
            if not is_not_found(exc):
                raise

    def find(self, ctx: Context, desired: dict[str, Any]) -> str | None:
        """CreateRole has no idempotency token; a role carrying our address tag is ours."""
        role = find_role(ctx.client("iam"), desired["name"])
        if role is None:
            return None
        tags = tag_dict(role.get("Tags"))
        wanted = (desired.get("tags") or {}).get(ADDRESS_TAG)
        return str(role["RoleName"]) if wanted and tags.get(ADDRESS_TAG) == wanted else None


@resource
class RolePolicy(Resource):
    """An inline policy; id `role:policy`, Terraform's import id."""

    type = "aws_iam_role_policy"
    policy_attributes = frozenset({"policy"})
    taggable = False
    global_service = True
    force_new = frozenset({"name", "role"})

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        # PutRolePolicy replaces the document whole: creating and updating are one call.
        _put_role_policy(ctx.client("iam"), desired["role"], desired["name"], desired["policy"])
        return role_policy_id(desired["role"], desired["name"])

    def read(self, ctx: Context, id: str) -> dict[str, Any] | None:
        role, name = parse_role_policy_id(id)
        try:
            found = ctx.client("iam").get_role_policy(RoleName=role, PolicyName=name)
        except Exception as exc:
            if is_not_found(exc):
                return None
            raise
        return {
            "id": id,
            "role": found["RoleName"],
            "name": found["PolicyName"],
            "policy": policy_json(found["PolicyDocument"]),
        }

    def update(self, ctx: Context, id: str, desired: dict[str, Any], live: dict[str, Any]) -> None:
        role, name = parse_role_policy_id(id)
        _put_role_policy(ctx.client("iam"), role, name, desired["policy"])

    def delete(self, ctx: Context, id: str, live: dict[str, Any] | None) -> None:
        role, name = parse_role_policy_id(id)
        iam = ctx.client("iam")
        _ignore_not_found(lambda: iam.delete_role_policy(RoleName=role, PolicyName=name))

    def find(self, ctx: Context, desired: dict[str, Any]) -> str | None:
        id = role_policy_id(desired["role"], desired["name"])
        return id if self.read(ctx, id) is not None else None


@resource
class RolePolicyAttachment(Resource):
    """A managed policy attached to a role; id `role/policy-arn`, Terraform's import id."""

    type = "aws_iam_role_policy_attachment"
    taggable = False
    global_service = True
    force_new = frozenset({"role", "policy_arn"})

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        iam = ctx.client("iam")
        role, arn = desired["role"], desired["policy_arn"]
        retry_while(
            lambda: iam.attach_role_policy(RoleName=role, PolicyArn=arn),
            # A missing policy (its ARN in the message) is a mistake, not lag: fail at once.
            retryable=lambda exc: _iam_lag(exc) and arn not in str(exc),
            timeout=IAM_PROPAGATION_TIMEOUT_S,
        )
        return attachment_id(role, arn)

    def read(self, ctx: Context, id: str) -> dict[str, Any] | None:
        role, arn = parse_attachment_id(id)
        if not is_attached(ctx.client("iam"), role, arn):
            return None
        return {"id": id, "role": role, "policy_arn": arn}

    def delete(self, ctx: Context, id: str, live: dict[str, Any] | None) -> None:
        role, arn = parse_attachment_id(id)
        _detach(ctx.client("iam"), role, arn)

    def find(self, ctx: Context, desired: dict[str, Any]) -> str | None:
        id = attachment_id(desired["role"], desired["policy_arn"])
        return id if self.read(ctx, id) is not None else None


@data_source
class RoleLookup(DataSource):
    """The secondary's read of a primary role: GetRole only, never a write."""

    type = "aws_iam_role"
    global_service = True

    def read(self, ctx: Context, desired: dict[str, Any]) -> dict[str, Any] | None:
        role = find_role(ctx.client("iam"), desired["name"])
        return None if role is None else role_attributes(role)


# --- ids, finders, helpers ----------------------------------------------------------------


def role_policy_id(role: str, name: str) -> str:
    return f"{role}:{name}"


def parse_role_policy_id(id: str) -> tuple[str, str]:
    # Neither role names nor policy names may contain ":".
    role, _, name = id.partition(":")
    return role, name


def attachment_id(role: str, policy_arn: str) -> str:
    return f"{role}/{policy_arn}"


def parse_attachment_id(id: str) -> tuple[str, str]:
    # Role names may not contain "/"; policy ARNs do.
    role, _, arn = id.partition("/")
    return role, arn


def find_role(iam: Any, name: str) -> dict[str, Any] | None:
    try:
        role: dict[str, Any] = iam.get_role(RoleName=name)["Role"]
    except Exception as exc:
        if is_not_found(exc):
            return None
        raise
    return role


def role_attributes(role: dict[str, Any]) -> dict[str, Any]:
    """GetRole's answer in the provider's attribute names (shared by resource and data source)."""
    boundary = role.get("PermissionsBoundary") or {}
    created = role.get("CreateDate")
    return {
        "id": role["RoleName"],
        "name": role["RoleName"],
        "arn": role["Arn"],
        "unique_id": role["RoleId"],
        "path": role["Path"],
        # GetRole omits an empty description.
        "description": role.get("Description", ""),
        "max_session_duration": role.get("MaxSessionDuration"),
        "assume_role_policy": policy_json(role["AssumeRolePolicyDocument"]),
        "permissions_boundary": boundary.get("PermissionsBoundaryArn"),
        "create_date": created.isoformat() if isinstance(created, datetime) else created,
        "tags": user_tags(tag_dict(role.get("Tags"))),
    }


def is_attached(iam: Any, role: str, policy_arn: str) -> bool:
    try:
        return any(
            policy["PolicyArn"] == policy_arn
            for policy in paginate(
                iam, "list_attached_role_policies", "AttachedPolicies", RoleName=role
            )
        )
    except Exception as exc:
        if is_not_found(exc):
            return False
        raise


def policy_json(document: Any) -> str:
    """A policy document as a JSON string comparable with the desired one.

    IAM returns documents URL-encoded; botocore decodes them into dicts, but leaves a string
    when it cannot parse one, so both forms are handled.
    """
    if isinstance(document, str):
        text = urllib.parse.unquote(document)
        try:
            document = json.loads(text)
        except ValueError:
            return text
    return json.dumps(document, sort_keys=True)


def _put_role_policy(iam: Any, role: str, name: str, document: str) -> None:
    retry_while(
        lambda: iam.put_role_policy(RoleName=role, PolicyName=name, PolicyDocument=document),
        retryable=_iam_lag,
        timeout=IAM_PROPAGATION_TIMEOUT_S,
    )


def _detach(iam: Any, role: str, policy_arn: str) -> None:
    _ignore_not_found(
        lambda: retry_while(
            lambda: iam.detach_role_policy(RoleName=role, PolicyArn=policy_arn),
            retryable=lambda exc: error_code(exc) == "ConcurrentModification",
            timeout=IAM_PROPAGATION_TIMEOUT_S,
        )
    )


def _iam_lag(exc: BaseException) -> bool:
    """A role made seconds ago that IAM does not show everywhere yet, or a concurrent change
    to the same role."""
    return error_code(exc) in ("NoSuchEntity", "ConcurrentModification")


def _removal_not_yet_seen(exc: BaseException) -> bool:
    """DeleteRole still seeing a policy or profile removed a moment ago."""
    return error_code(exc) in ("DeleteConflict", "ConcurrentModification")


def _ignore_not_found(call: Callable[[], Any]) -> None:
    try:
        call()
    except Exception as exc:
        if not is_not_found(exc):
            raise
