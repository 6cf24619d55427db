"""Lambda: zip-packaged functions, and the resource-policy statements (permissions) that let
other services invoke them.

A function's package is the file its `filename` names among the node's `files` (the bytes ride
along with the node, never in state): `source_code_hash` (Lambda's `CodeSha256`) is what is
compared, and the HCL export writes the same bytes beside the configuration and says
`source_code_hash = filebase64sha256(filename)`.

Lambda changes a function asynchronously: a VPC function is `Pending` for a minute or more while
its network interfaces are made, and an update leaves `LastUpdateStatus` `InProgress`. AWS refuses
the next change meanwhile (ResourceConflictException), so every change waits for the function to
settle first and the configuration follows the code, never races it.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from deployer.aws import (
    DeployerError,
    error_code,
    iam_propagation_error,
    is_not_found,
    poll,
    retry_while,
    tag_changes,
    user_tags,
)
from deployer.blocks import first_block
from deployer.diff import diff_attributes
from deployer.packaging import code_sha256
from deployer.resource import Context, Resource, resource

# Lambda documents no bound for Pending → Active; a VPC function sets up its Hyperplane network
# interfaces first, which takes minutes. These are the Terraform provider's defaults for
# aws_lambda_function (create and update 10 min).
FUNCTION_ACTIVE_TIMEOUT = 10 * 60.0
FUNCTION_UPDATE_TIMEOUT = 10 * 60.0
FUNCTION_POLL_DELAY = 5.0
# A role (or its policy) a few seconds old may not be assumable by Lambda yet; Terraform waits
# out IAM propagation for 2 minutes, AWS documents no bound.
IAM_PROPAGATION_TIMEOUT = 120.0
# After DeleteFunction, Lambda releases the function's Hyperplane network interfaces
# asynchronously; the Lambda team's figure (as adopted by the Terraform provider for ENI
# clean-up) is up to 45 minutes. Until then the subnets and security group cannot be deleted.
ENI_RELEASE_TIMEOUT = 45 * 60.0
ENI_POLL_DELAY = 15.0
# How Lambda describes the network interfaces it makes for a function.
LAMBDA_ENI_DESCRIPTION = "AWS Lambda VPC ENI-{function}*"

# `reserved_concurrent_executions = -1` is Terraform's spelling of "no reservation".
UNRESERVED = -1

# Terraform attribute → CreateFunction/UpdateFunctionConfiguration parameter builder.
CONFIGURATION_ATTRIBUTES = (
    "role",
    "handler",
    "runtime",
    "description",
    "memory_size",
    "timeout",
    "environment",
    "vpc_config",
    "tracing_config",
    "kms_key_arn",
    "layers",
    "ephemeral_storage",
    "dead_letter_config",
    "logging_config",
)
# Attributes that only UpdateFunctionCode changes.
CODE_ATTRIBUTES = frozenset({"source_code_hash", "architectures"})


# ---------------------------------------------------------------------------------------------
# Drivers
# ---------------------------------------------------------------------------------------------


@resource
class Function(Resource):
    """A zip-packaged function; id = its name (Terraform's import id)."""

    type = "aws_lambda_function"
    arn_kind = ("lambda", "function")
    expected_seconds = 30.0
    force_new = frozenset({"function_name", "package_type"})
    # `filename` names the local package (its hash is what is compared), `publish` is a request
    # to publish a version on change, and the last two steer Terraform's destroy.
    write_only = frozenset(
        {"filename", "publish", "skip_destroy", "replace_security_groups_on_destroy"}
    )

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        lam = ctx.client("lambda")
        name: str = desired["function_name"]
        params: dict[str, Any] = {
            "FunctionName": name,
            "PackageType": "Zip",
            "Code": {"ZipFile": package_of(ctx, desired)},
            "Publish": bool(desired.get("publish")),
            **configuration_params(desired, CONFIGURATION_ATTRIBUTES),
        }
        if desired.get("architectures"):
            params["Architectures"] = list(desired["architectures"])
        if desired.get("tags"):
            params["Tags"] = dict(desired["tags"])
        retry_while(
            lambda: lam.create_function(**params),
            retryable=iam_propagation_error,
            timeout=IAM_PROPAGATION_TIMEOUT,
        )
        try:
            set_reserved_concurrency(lam, name, desired.get("reserved_concurrent_executions"))
        except Exception:
            lam.delete_function(FunctionName=name)  # a failed create leaves nothing behind
            raise
        return name

    def read(self, ctx: Context, id: str) -> dict[str, Any] | None:
        try:
            function = ctx.client("lambda").get_function(FunctionName=id)
        except ClientError as exc:
            if is_not_found(exc):
                return None
            raise
        return function_attributes(function)

    def update(self, ctx: Context, id: str, desired: dict[str, Any], live: dict[str, Any]) -> None:
        lam = ctx.client("lambda")
        changed = set(diff_attributes(desired, live, self.write_only))
        if changed & CODE_ATTRIBUTES:
            code: dict[str, Any] = {"ZipFile": package_of(ctx, desired)}
            if desired.get("architectures"):
                code["Architectures"] = list(desired["architectures"])
            change_function(lam, id, lambda: lam.update_function_code(FunctionName=id, **code))
        configuration = configuration_params(
            desired, [a for a in CONFIGURATION_ATTRIBUTES if a in changed]
        )
        if configuration:
            change_function(
                lam,
                id,
                lambda: lam.update_function_configuration(FunctionName=id, **configuration),
            )
        if "reserved_concurrent_executions" in changed:
            set_reserved_concurrency(lam, id, desired["reserved_concurrent_executions"])
        to_set, to_remove = tag_changes(desired.get("tags") or {}, live.get("tags"))
        if to_set:
            lam.tag_resource(Resource=live["arn"], Tags=to_set)
        if to_remove:
            lam.untag_resource(Resource=live["arn"], TagKeys=to_remove)

    def delete(self, ctx: Context, id: str, live: dict[str, Any] | None) -> None:
        """Delete, then wait until Lambda has released the function's network interfaces:
        the subnets and security group (deleted after this, by the graph's edges) cannot go
        while an interface is in them, and Lambda needs the execution role to release them."""
        if ctx.node.attributes.get("skip_destroy"):
            return
        try:
            ctx.client("lambda").delete_function(FunctionName=id)
        except ClientError as exc:
            if not is_not_found(exc):
                raise
        wait_network_interfaces_released(ctx.client("ec2"), id)

    def find(self, ctx: Context, desired: dict[str, Any]) -> str | None:
        """The name is deterministic: an interrupted create left a function of that name."""
        name: str = desired["function_name"]
        return name if self.read(ctx, name) is not None else None

    def wait_ready(self, ctx: Context, id: str) -> None:
        wait_function_ready(ctx.client("lambda"), id)


@resource
class Permission(Resource):
    """One statement of a function's resource policy; id = `function[:qualifier]/statement`."""

    type = "aws_lambda_permission"
    taggable = False
    # AWS has no call that changes a statement: every attribute is fixed once added.
    force_new = frozenset(
        {
            "action",
            "event_source_token",
            "function_name",
            "function_url_auth_type",
            "principal",
            "principal_org_id",
            "qualifier",
            "source_account",
            "source_arn",
            "statement_id",
        }
    )

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        lam = ctx.client("lambda")
        params: dict[str, Any] = {
            "FunctionName": desired["function_name"],
            "StatementId": desired["statement_id"],
            "Action": desired["action"],
            "Principal": desired["principal"],
        }
        optional = {
            "source_arn": "SourceArn",
            "source_account": "SourceAccount",
            "qualifier": "Qualifier",
            "event_source_token": "EventSourceToken",
            "principal_org_id": "PrincipalOrgID",
            "function_url_auth_type": "FunctionUrlAuthType",
        }
        params.update({api: desired[tf] for tf, api in optional.items() if desired.get(tf)})
        # AddPermission is refused while the function is being created or updated.
        retry_while(
            lambda: lam.add_permission(**params),
            retryable=function_busy,
            timeout=FUNCTION_UPDATE_TIMEOUT,
        )
        return permission_id(desired["function_name"], desired["statement_id"], desired)

    def read(self, ctx: Context, id: str) -> dict[str, Any] | None:
        function, qualifier, statement_id = parse_permission_id(id)
        extra = {"Qualifier": qualifier} if qualifier else {}
        try:
            policy = ctx.client("lambda").get_policy(FunctionName=function, **extra)
        except ClientError as exc:
            if is_not_found(exc):  # the function is gone, or has no policy at all
                return None
            raise
        for statement in json.loads(policy["Policy"]).get("Statement", []):
            if statement.get("Sid") == statement_id:
                return permission_attributes(function, qualifier, statement)
        return None

    def delete(self, ctx: Context, id: str, live: dict[str, Any] | None) -> None:
        function, qualifier, statement_id = parse_permission_id(id)
        extra = {"Qualifier": qualifier} if qualifier else {}
        lam = ctx.client("lambda")
        try:
            retry_while(
                lambda: lam.remove_permission(
                    FunctionName=function, StatementId=statement_id, **extra
                ),
                retryable=function_busy,
                timeout=FUNCTION_UPDATE_TIMEOUT,
            )
        except ClientError as exc:
            if not is_not_found(exc):
                raise

    def find(self, ctx: Context, desired: dict[str, Any]) -> str | None:
        """Statement ids are deterministic: a statement an interrupted create added is ours."""
        id = permission_id(desired["function_name"], desired["statement_id"], desired)
        return id if self.read(ctx, id) is not None else None


# ---------------------------------------------------------------------------------------------
# Mapping between the provider's attributes and Lambda's API
# ---------------------------------------------------------------------------------------------


def package_of(ctx: Context, desired: dict[str, Any]) -> bytes:
    """The zip the node ships as `filename`, checked against the hash the node declares (a
    mismatch would redeploy on every run, or worse, deploy code the plan did not show)."""
    filename = desired.get("filename") or only_file(ctx.node.files)
    package = ctx.node.files.get(filename)
    if not isinstance(package, bytes):
        raise DeployerError(f"{ctx.node.key}: the node ships no deployment package {filename!r}")
    if desired.get("source_code_hash") and code_sha256(package) != desired["source_code_hash"]:
        raise DeployerError(
            f"{ctx.node.key}: the package's SHA-256 ({code_sha256(package)}) is not the "
            f"source_code_hash the node declares ({desired['source_code_hash']})"
        )
    return package


def only_file(files: dict[str, bytes]) -> str:
    """The name of the one file a node ships, when `filename` leaves it unsaid ("" if not one)."""
    return next(iter(files)) if len(files) == 1 else ""


def configuration_params(desired: dict[str, Any], attributes: Any) -> dict[str, Any]:
    """The configuration parameters for the given attributes; an emptied block is sent as
    its empty form, since UpdateFunctionConfiguration leaves omitted settings unchanged."""
    params: dict[str, Any] = {}
    for attribute in attributes:
        if attribute not in desired or desired[attribute] is None:
            continue
        value = desired[attribute]
        if attribute == "role":
            params["Role"] = value
        elif attribute == "handler":
            params["Handler"] = value
        elif attribute == "runtime":
            params["Runtime"] = value
        elif attribute == "description":
            params["Description"] = value
        elif attribute == "memory_size":
            params["MemorySize"] = int(value)
        elif attribute == "timeout":
            params["Timeout"] = int(value)
        elif attribute == "kms_key_arn":
            params["KMSKeyArn"] = value
        elif attribute == "layers":
            params["Layers"] = list(value)
        elif attribute == "environment":
            variables = first_block(value).get("variables") or {}
            params["Environment"] = {"Variables": {k: str(v) for k, v in variables.items()}}
        elif attribute == "vpc_config":
            block = first_block(value)
            vpc: dict[str, Any] = {
                "SubnetIds": sorted(block.get("subnet_ids") or []),
                "SecurityGroupIds": sorted(block.get("security_group_ids") or []),
            }
            if block.get("ipv6_allowed_for_dual_stack") is not None:
                vpc["Ipv6AllowedForDualStack"] = bool(block["ipv6_allowed_for_dual_stack"])
            params["VpcConfig"] = vpc
        elif attribute == "tracing_config":
            params["TracingConfig"] = {"Mode": first_block(value).get("mode") or "PassThrough"}
        elif attribute == "ephemeral_storage" and value:
            params["EphemeralStorage"] = {"Size": int(first_block(value)["size"])}
        elif attribute == "dead_letter_config":
            params["DeadLetterConfig"] = {"TargetArn": first_block(value).get("target_arn", "")}
        elif attribute == "logging_config" and value:
            block = first_block(value)
            logging: dict[str, Any] = {"LogFormat": block["log_format"]}
            for tf, api in (
                ("application_log_level", "ApplicationLogLevel"),
                ("system_log_level", "SystemLogLevel"),
                ("log_group", "LogGroup"),
            ):
                if block.get(tf):
                    logging[api] = block[tf]
            params["LoggingConfig"] = logging
    return params


def invoke_arn(function_arn: str) -> str:
    """What API Gateway integrations call: Lambda's Invoke action on the function."""
    _, partition, _, region, *_ = function_arn.split(":")
    return (
        f"arn:{partition}:apigateway:{region}:lambda:path/2015-03-31/functions/"
        f"{function_arn}/invocations"
    )


def function_attributes(function: dict[str, Any]) -> dict[str, Any]:
    """GetFunction in the provider's attribute names and block shapes."""
    config = function["Configuration"]
    arn: str = config["FunctionArn"]
    version = config.get("Version", "$LATEST")
    qualified_arn = f"{arn}:{version}"
    vpc = config.get("VpcConfig") or {}
    variables = (config.get("Environment") or {}).get("Variables") or {}
    concurrency = function.get("Concurrency") or {}
    logging = config.get("LoggingConfig") or {}
    attributes: dict[str, Any] = {
        "id": config["FunctionName"],
        "function_name": config["FunctionName"],
        "arn": arn,
        "invoke_arn": invoke_arn(arn),
        "qualified_arn": qualified_arn,
        "qualified_invoke_arn": invoke_arn(qualified_arn),
        "version": version,
        "role": config["Role"],
        "handler": config.get("Handler", ""),
        "runtime": config.get("Runtime", ""),
        "description": config.get("Description", ""),
        "memory_size": config.get("MemorySize"),
        "timeout": config.get("Timeout"),
        "package_type": config.get("PackageType", "Zip"),
        "architectures": list(config.get("Architectures") or ["x86_64"]),
        "source_code_hash": config.get("CodeSha256", ""),
        "code_sha256": config.get("CodeSha256", ""),
        "source_code_size": config.get("CodeSize", 0),
        "last_modified": config.get("LastModified", ""),
        "kms_key_arn": config.get("KMSKeyArn") or "",
        "layers": [layer["Arn"] for layer in config.get("Layers") or []],
        "environment": [{"variables": dict(variables)}] if variables else [],
        "tracing_config": [
            {"mode": (config.get("TracingConfig") or {}).get("Mode", "PassThrough")}
        ],
        "vpc_config": [
            {
                "subnet_ids": sorted(vpc.get("SubnetIds") or []),
                "security_group_ids": sorted(vpc.get("SecurityGroupIds") or []),
                "vpc_id": vpc.get("VpcId", ""),
                "ipv6_allowed_for_dual_stack": bool(vpc.get("Ipv6AllowedForDualStack")),
            }
        ]
        if vpc.get("SubnetIds")
        else [],
        "ephemeral_storage": [{"size": (config.get("EphemeralStorage") or {}).get("Size", 512)}],
        "dead_letter_config": [{"target_arn": config["DeadLetterConfig"]["TargetArn"]}]
        if (config.get("DeadLetterConfig") or {}).get("TargetArn")
        else [],
        "reserved_concurrent_executions": concurrency.get(
            "ReservedConcurrentExecutions", UNRESERVED
        ),
        "tags": user_tags(function.get("Tags") or {}),
    }
    if logging:
        attributes["logging_config"] = [
            {
                "log_format": logging.get("LogFormat", "Text"),
                "log_group": logging.get("LogGroup", ""),
                "application_log_level": logging.get("ApplicationLogLevel", ""),
                "system_log_level": logging.get("SystemLogLevel", ""),
            }
        ]
    return attributes


def set_reserved_concurrency(lam: Any, name: str, reserved: Any) -> None:
    if reserved is None:
        return
    if int(reserved) == UNRESERVED:
        lam.delete_function_concurrency(FunctionName=name)
    else:
        lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=int(reserved))


def permission_id(function: str, statement_id: str, desired: dict[str, Any]) -> str:
    qualifier = desired.get("qualifier")
    return f"{function}:{qualifier}/{statement_id}" if qualifier else f"{function}/{statement_id}"


def parse_permission_id(id: str) -> tuple[str, str | None, str]:
    """`function[:qualifier]/statement` → (function, qualifier, statement). A function given
    by ARN keeps its colons; only a qualifier after a bare name is split off."""
    function, _, statement_id = id.rpartition("/")
    if not function.startswith("arn:") and ":" in function:
        name, _, qualifier = function.partition(":")
        return name, qualifier, statement_id
    return function, None, statement_id


def permission_attributes(
    function: str, qualifier: str | None, statement: dict[str, Any]
) -> dict[str, Any]:
    """A resource-policy statement in the provider's attribute names."""
    principal = statement.get("Principal")
    if isinstance(principal, dict):
        principal = principal.get("Service") or principal.get("AWS") or principal
    condition = statement.get("Condition") or {}
    action = statement.get("Action")
    return {
        "id": statement["Sid"],
        "statement_id": statement["Sid"],
        "function_name": function,
        "qualifier": qualifier or "",
        "action": action[0] if isinstance(action, list) and len(action) == 1 else action,
        "principal": principal,
        "source_arn": (condition.get("ArnLike") or {}).get("AWS:SourceArn", ""),
        "source_account": (condition.get("StringEquals") or {}).get("AWS:SourceAccount", ""),
        "principal_org_id": (condition.get("StringEquals") or {}).get("aws:PrincipalOrgID", ""),
        "event_source_token": (condition.get("StringEquals") or {}).get(
            "lambda:EventSourceToken", ""
        ),
    }


# ---------------------------------------------------------------------------------------------
# Finders, status functions and waiters
# ---------------------------------------------------------------------------------------------


def function_busy(exc: BaseException) -> bool:
    """Lambda refuses a change while the function is being created or updated."""
    return error_code(exc) == "ResourceConflictException" and (
        "in progress" in str(exc).lower() or "pending" in str(exc).lower()
    )


def get_configuration(lam: Any, name: str) -> dict[str, Any]:
    try:
        config: dict[str, Any] = lam.get_function_configuration(FunctionName=name)
    except ClientError as exc:
        if is_not_found(exc):
            raise DeployerError(f"Lambda function {name} disappeared while waiting for it") from exc
        raise
    return config


def function_settled(lam: Any, name: str) -> dict[str, Any] | None:
    """The configuration once the function accepts a change: not Pending, no update running.

    Raises when it failed to become Active: waiting longer will not help.
    """
    config = get_configuration(lam, name)
    if config.get("State") == "Failed":
        raise DeployerError(
            f"Lambda function {name} failed: {config.get('StateReasonCode', '')} "
            f"{config.get('StateReason', '')}".strip()
        )
    if config.get("State") == "Pending" or config.get("LastUpdateStatus") == "InProgress":
        return None
    return config


def wait_function_settled(lam: Any, name: str, timeout: float = FUNCTION_UPDATE_TIMEOUT) -> None:
    poll(
        lambda: function_settled(lam, name),
        what=f"Lambda function {name} to finish its current change",
        timeout=timeout,
        delay=FUNCTION_POLL_DELAY,
    )


def change_function(lam: Any, name: str, call: Any) -> None:
    """One change at a time: wait for the previous one, make it (retrying if Lambda still calls
    the function busy, or a new role is not yet assumable), then wait for it to succeed."""
    wait_function_settled(lam, name)
    retry_while(
        call,
        retryable=lambda exc: function_busy(exc) or iam_propagation_error(exc),
        timeout=FUNCTION_UPDATE_TIMEOUT,
    )
    wait_function_updated(lam, name)


def wait_function_updated(lam: Any, name: str) -> None:
    def check() -> dict[str, Any] | None:
        config = function_settled(lam, name)
        if config is not None and config.get("LastUpdateStatus") == "Failed":
            raise DeployerError(
                f"Lambda function {name}: the update failed: "
                f"{config.get('LastUpdateStatusReasonCode', '')} "
                f"{config.get('LastUpdateStatusReason', '')}".strip()
            )
        return config

    poll(
        check,
        what=f"Lambda function {name} to apply its update",
        timeout=FUNCTION_UPDATE_TIMEOUT,
        delay=FUNCTION_POLL_DELAY,
    )


def wait_function_ready(lam: Any, name: str) -> None:
    """State Active and LastUpdateStatus Successful (the `function_active_v2` and
    `function_updated_v2` waiters' conditions, through the engine's poller)."""

    def check() -> bool | None:
        config = function_settled(lam, name)
        if config is None:
            return None
        if config.get("LastUpdateStatus") == "Failed":
            raise DeployerError(
                f"Lambda function {name}: the last update failed: "
                f"{config.get('LastUpdateStatusReason', '')}"
            )
        # Inactive (idle for weeks) still serves: the first invocation reactivates it.
        return True if config.get("State") in ("Active", "Inactive") else None

    poll(
        check,
        what=f"Lambda function {name} to be Active",
        timeout=FUNCTION_ACTIVE_TIMEOUT,
        delay=FUNCTION_POLL_DELAY,
    )


def lambda_network_interfaces(ec2: Any, name: str) -> list[str]:
    """The network interfaces Lambda made for the function (by the description it gives them)."""
    found = ec2.describe_network_interfaces(
        Filters=[{"Name": "description", "Values": [LAMBDA_ENI_DESCRIPTION.format(function=name)]}]
    )["NetworkInterfaces"]
    return [interface["NetworkInterfaceId"] for interface in found]


def wait_network_interfaces_released(ec2: Any, name: str) -> None:
    poll(
        lambda: True if not lambda_network_interfaces(ec2, name) else None,
        what=f"Lambda to release the network interfaces of {name}",
        timeout=ENI_RELEASE_TIMEOUT,
        delay=ENI_POLL_DELAY,
    )
