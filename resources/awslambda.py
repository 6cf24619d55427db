"""Lambda: zip-packaged functions, and the resource-policy statements (permissions) that let
other services invoke them.

A function's package is the file its `filename` names among the node's `files` (the bytes ride
along with the node, never in state): `source_code_hash` (Lambda's `CodeSha256`) is what is
compared, and the HCL export writes the same bytes beside the configuration and says
`source_code_hash = filebase64sha256(filename)`.

Lambda changes a function asynchronously: a VPC function is `Pending` for a minute or more while
its network interfaces are made, and an update leaves `LastUpdateStatus` `InProgress`. AWS refuses
the next change meanwhile (ResourceConflictException), so every change waits for the function to
settle first and the configuration follows the code, never races it. The table says which call
changes what: UpdateFunctionConfiguration for most rows, UpdateFunctionCode for the code rows
(their `Setter`s name that call), PutFunctionConcurrency for the reservation.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

from deployer.attributes import Attr, Setter, Table
from deployer.aws import DeployerError, iam_propagation_error, poll, retry_while
from deployer.blocks import first_block
from deployer.errors import Conflict, NotFound, ignore_missing, is_kind, or_none
from deployer.packaging import code_sha256
from deployer.resource import Context, Resource, render_value, resource
from deployer.tagging import Tagging
from deployer.unmanaged import Managed, UnmanagedItem
from deployer.waiting import delete_when_released, wait_gone

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

# The call that changes a function's code: the rows whose `Setter` names it are the code rows.
CODE_CALL = "UpdateFunctionCode"
# The parameter (of CreateFunction's `Code` and of CODE_CALL) that carries the package itself,
# the bytes `source_code_hash` is the hash of.
PACKAGE_PARAMETER = "ZipFile"
RESERVED = "reserved_concurrent_executions"
# `reserved_concurrent_executions = -1` is Terraform's spelling of "no reservation".
UNRESERVED = -1


# ---------------------------------------------------------------------------------------------
# The provider's blocks and Lambda's structures
# ---------------------------------------------------------------------------------------------


def text(value: Any) -> str:
    """Lambda leaves empty strings out of its answers; the provider reads them as ""."""
    return str(value) if value else ""


def environment_to_api(blocks: Any) -> dict[str, Any]:
    """An emptied block is sent as its empty form: an update leaves omitted settings as they
    are."""
    variables = first_block(blocks).get("variables") or {}
    return {"Variables": {k: str(v) for k, v in variables.items()}}


def environment_from_api(environment: Any) -> list[dict[str, Any]]:
    variables = (environment or {}).get("Variables") or {}
    return [{"variables": dict(variables)}] if variables else []


def vpc_to_api(blocks: Any) -> dict[str, Any]:
    block = first_block(blocks)
    vpc: dict[str, Any] = {
        "SubnetIds": sorted(block.get("subnet_ids") or []),
        "SecurityGroupIds": sorted(block.get("security_group_ids") or []),
    }
    if block.get("ipv6_allowed_for_dual_stack") is not None:
        vpc["Ipv6AllowedForDualStack"] = bool(block["ipv6_allowed_for_dual_stack"])
    return vpc


def vpc_from_api(vpc: Any) -> list[dict[str, Any]]:
    if not (vpc or {}).get("SubnetIds"):
        return []
    return [
        {
            "subnet_ids": sorted(vpc["SubnetIds"]),
            "security_group_ids": sorted(vpc.get("SecurityGroupIds") or []),
            "vpc_id": vpc.get("VpcId", ""),
            "ipv6_allowed_for_dual_stack": bool(vpc.get("Ipv6AllowedForDualStack")),
        }
    ]


def tracing_to_api(blocks: Any) -> dict[str, str]:
    return {"Mode": first_block(blocks).get("mode") or "PassThrough"}


def tracing_from_api(tracing: Any) -> list[dict[str, str]]:
    return [{"mode": (tracing or {}).get("Mode", "PassThrough")}]


def ephemeral_storage_to_api(blocks: Any) -> dict[str, int] | None:
    return {"Size": int(first_block(blocks)["size"])} if blocks else None


def ephemeral_storage_from_api(storage: Any) -> list[dict[str, int]]:
    return [{"size": (storage or {}).get("Size", 512)}]


def dead_letter_to_api(blocks: Any) -> dict[str, str]:
    return {"TargetArn": first_block(blocks).get("target_arn", "")}


def dead_letter_from_api(config: Any) -> list[dict[str, str]]:
    target = (config or {}).get("TargetArn")
    return [{"target_arn": target}] if target else []


# The logging block's keys and LoggingConfig's, both ways.
LOGGING_KEYS = {
    "log_format": "LogFormat",
    "application_log_level": "ApplicationLogLevel",
    "system_log_level": "SystemLogLevel",
    "log_group": "LogGroup",
}


def logging_to_api(blocks: Any) -> dict[str, str] | None:
    block = first_block(blocks)
    return {api: block[key] for key, api in LOGGING_KEYS.items() if block.get(key)} or None


def logging_from_api(logging: Any) -> list[dict[str, str]] | None:
    """None when Lambda reports no logging configuration (nothing to compare)."""
    if not logging:
        return None
    block = {key: logging.get(api) or "" for key, api in LOGGING_KEYS.items()}
    return [{**block, "log_format": block["log_format"] or "Text"}]


def invoke_arn(function_arn: str) -> str:
    """What API Gateway integrations call: Lambda's Invoke action on the function."""
    _, partition, _, region, *_ = function_arn.split(":")
    return (
        f"arn:{partition}:apigateway:{region}:lambda:path/2015-03-31/functions/"
        f"{function_arn}/invocations"
    )


def configuration(name: str, field: str, **row: Any) -> Attr:
    """A row of the function's configuration: read from GetFunction's `Configuration`, sent as
    the create call's (and the update call's) parameter of the same name."""
    return Attr(name, f"Configuration.{field}", create=field, **row)


def reserved_from_api(reserved: Any) -> int:
    return UNRESERVED if reserved is None else int(reserved)


# ---------------------------------------------------------------------------------------------
# Drivers
# ---------------------------------------------------------------------------------------------


@resource
class Function(Resource):
    """A zip-packaged function; id = its name (Terraform's import id)."""

    type = "aws_lambda_function"
    arn_kind = ("lambda", "function")
    expected_seconds = 30.0
    # GetFunction reports the tags with the configuration: no listing call (see `read`).
    tagging = Tagging("Resource", list_call=None, as_map=True)
    tags_on = "arn"
    table = Table(
        configuration("function_name", "FunctionName", force_new=True),
        configuration("package_type", "PackageType", force_new=True, default="Zip"),
        configuration("role", "Role", update=True),
        configuration("handler", "Handler", update=True, from_api=text),
        configuration("runtime", "Runtime", update=True, from_api=text),
        configuration("description", "Description", update=True, from_api=text),
        configuration("memory_size", "MemorySize", update=True, default=128, to_api=int),
        configuration("timeout", "Timeout", update=True, default=3, to_api=int),
        configuration(
            "environment",
            "Environment",
            update=True,
            from_api=environment_from_api,
            to_api=environment_to_api,
        ),
        configuration(
            "vpc_config", "VpcConfig", update=True, from_api=vpc_from_api, to_api=vpc_to_api
        ),
        configuration(
            "tracing_config",
            "TracingConfig",
            update=True,
            from_api=tracing_from_api,
            to_api=tracing_to_api,
        ),
        configuration("kms_key_arn", "KMSKeyArn", update=True, from_api=text),
        configuration(
            "layers",
            "Layers",
            update=True,
            from_api=lambda layers: [layer["Arn"] for layer in layers or []],
            to_api=list,
        ),
        configuration(
            "ephemeral_storage",
            "EphemeralStorage",
            update=True,
            from_api=ephemeral_storage_from_api,
            to_api=ephemeral_storage_to_api,
        ),
        configuration(
            "dead_letter_config",
            "DeadLetterConfig",
            update=True,
            from_api=dead_letter_from_api,
            to_api=dead_letter_to_api,
        ),
        configuration(
            "logging_config",
            "LoggingConfig",
            update=True,
            from_api=logging_from_api,
            to_api=logging_to_api,
        ),
        # The code rows: UpdateFunctionCode changes them, with the package (see `update`).
        configuration(
            "architectures",
            "Architectures",
            update=Setter(CODE_CALL, "Architectures"),
            from_api=lambda archs: list(archs or ["x86_64"]),
            to_api=list,
        ),
        # Sent as the package it is the hash of (CreateFunction's `Code`, CODE_CALL's ZipFile).
        Attr(
            "source_code_hash",
            "Configuration.CodeSha256",
            create=False,
            update=Setter(CODE_CALL, PACKAGE_PARAMETER),
            from_api=text,
        ),
        # -1 (no reservation) is DeleteFunctionConcurrency, not a value to put (see `update`).
        Attr(
            RESERVED,
            "Concurrency.ReservedConcurrentExecutions",
            create=False,
            update=Setter("PutFunctionConcurrency", "ReservedConcurrentExecutions"),
            default=UNRESERVED,
            from_api=reserved_from_api,
        ),
        # A request to publish a version with the code; AWS reports versions, not the request.
        Attr("publish", create="Publish", write_only=True, default=False, to_api=bool),
        # The local package's name (its hash is what is compared) and Terraform's own steering
        # of destroy: nothing AWS holds.
        Attr("filename", create=False, write_only=True),
        Attr("skip_destroy", create=False, write_only=True, default=False),
        Attr("replace_security_groups_on_destroy", create=False, write_only=True),
        Attr("arn", "Configuration.FunctionArn", computed=True),
        Attr("invoke_arn", "Configuration.FunctionArn", computed=True, from_api=invoke_arn),
        Attr("version", "Configuration.Version", computed=True, from_api=lambda v: v or "$LATEST"),
        # The ARN and the version together: `read` makes them.
        Attr("qualified_arn", computed=True),
        Attr("qualified_invoke_arn", computed=True),
        Attr("code_sha256", "Configuration.CodeSha256", computed=True, from_api=text),
        Attr(
            "source_code_size", "Configuration.CodeSize", computed=True, from_api=lambda v: v or 0
        ),
        Attr("last_modified", "Configuration.LastModified", computed=True, from_api=text),
        service="lambda",
        create_call="CreateFunction",
        update_call="UpdateFunctionConfiguration",
        described="GetFunctionResponse",
        id_parameter="FunctionName",
    )

    @property
    def code_attributes(self) -> frozenset[str]:
        """The rows UpdateFunctionCode changes (their `Setter` names it)."""
        return self.table.names(
            lambda row: row.setter is not None and row.setter.operation == CODE_CALL
        )

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        lam = ctx.client("lambda")
        name: str = desired["function_name"]
        request: dict[str, Any] = {
            **self.table.create_parameters(desired),
            "Code": {PACKAGE_PARAMETER: package_of(ctx, desired)},
        }
        if desired.get("tags"):
            request["Tags"] = self.tagging.to_api(desired["tags"])
        retry_while(
            lambda: lam.create_function(**request),
            retryable=iam_propagation_error,
            timeout=IAM_PROPAGATION_TIMEOUT,
        )
        reserved = desired.get(RESERVED)
        if reserved is not None and int(reserved) != UNRESERVED:
            try:
                set_reserved_concurrency(lam, name, reserved)
            except Exception:
                lam.delete_function(FunctionName=name)  # a failed create leaves nothing behind
                raise
        return name

    def describe(self, ctx: Context, id: str) -> dict[str, Any] | None:
        found: dict[str, Any] | None = or_none(
            lambda: ctx.client("lambda").get_function(FunctionName=id)
        )
        return found

    def read(self, ctx: Context, id: str) -> dict[str, Any] | None:
        """The table's attributes, the qualified ARNs (ARN and version together) and the tags
        GetFunction reports with the configuration (one call, where the generic read lists the
        tags with another)."""
        described = self.describe(ctx, id)
        if described is None:
            return None
        live: dict[str, Any] = {"id": id, **self.table.read(described)}
        live["qualified_arn"] = f"{live['arn']}:{live['version']}"
        live["qualified_invoke_arn"] = invoke_arn(live["qualified_arn"])
        live["tags"] = self.tagging.from_api(described.get("Tags"))
        return live

    def update(self, ctx: Context, id: str, desired: dict[str, Any], live: dict[str, Any]) -> None:
        """The code first, then the configuration, each once the function has settled; then the
        reservation (put, or deleted for -1) and the tags."""
        lam = ctx.client("lambda")
        changed = self.changed(desired, live)
        if changed & self.code_attributes:
            code = self.code_parameters(ctx, desired)
            change_function(lam, id, lambda: lam.update_function_code(FunctionName=id, **code))
        configuration = self.table.update_parameters(desired, changed)
        if configuration:
            change_function(
                lam,
                id,
                lambda: lam.update_function_configuration(FunctionName=id, **configuration),
            )
        if RESERVED in changed:
            set_reserved_concurrency(lam, id, desired[RESERVED])
        if "tags" in changed:
            self.update_tags(ctx, id, desired, live)

    def code_parameters(self, ctx: Context, desired: dict[str, Any]) -> dict[str, Any]:
        """UpdateFunctionCode's request: every code row's parameter, and the package itself in
        the parameter its hash's row names. Lambda takes no code change without a package."""
        request: dict[str, Any] = {}
        for name in self.code_attributes:
            row = self.table.rows[name]
            if row.setter is not None and desired.get(name) is not None:
                request[row.setter.parameter] = row.api_value(desired[name])
        request[PACKAGE_PARAMETER] = package_of(ctx, desired)
        return request

    def delete(self, ctx: Context, id: str, live: dict[str, Any] | None) -> None:
        """Delete, then wait until Lambda has released the function's network interfaces:
        the subnets and security group (deleted after this, by the graph's edges) cannot go
        while an interface is in them, and Lambda needs the execution role to release them."""
        if ctx.node.attributes.get("skip_destroy"):
            return
        ignore_missing(lambda: ctx.client("lambda").delete_function(FunctionName=id))
        ec2 = ctx.client("ec2")
        wait_gone(
            lambda: lambda_network_interfaces(ec2, id) or None,
            what=f"the network interfaces Lambda made for {id}",
            timeout=ENI_RELEASE_TIMEOUT,
            delay=ENI_POLL_DELAY,
        )

    def find(self, ctx: Context, desired: dict[str, Any]) -> str | None:
        """The name is deterministic: an interrupted create left a function of that name."""
        name: str = desired["function_name"]
        return name if self.describe(ctx, name) is not None else None

    def unmanaged(self, ctx: Context, id: str, managed: Managed) -> Iterator[UnmanagedItem]:
        """Statements of the function's resource policy that no `aws_lambda_permission` in
        state made (an AddPermission behind our back): each names who may now invoke the
        function, and from where. Reported as unmanaged, not as drift: each statement is a
        resource of its own (the provider has no exclusive type for them), so apply leaves
        it; RemovePermission takes it away."""
        policy = or_none(lambda: ctx.client("lambda").get_policy(FunctionName=id))
        if policy is None:  # no statement at all
            return
        ours = {
            str(applied.get("statement_id"))
            for applied in managed.of_type(Permission.type)
            if str(applied.get("function_name", "")).rsplit(":", 1)[-1] == id
            and not applied.get("qualifier")
        }
        for statement in json.loads(policy["Policy"]).get("Statement", []):
            sid = str(statement.get("Sid", ""))
            if sid in ours or permission_id(id, sid, {}) in managed:
                continue
            yield UnmanagedItem(
                Permission.type,
                permission_id(id, sid, {}),
                f"a statement of managed Lambda function {id}'s policy in no state: "
                + permission_words(permission_attributes(id, None, statement)),
            )

    def wait_ready(self, ctx: Context, id: str) -> None:
        wait_function_ready(ctx.client("lambda"), id)


def if_set(value: Any) -> Any:
    """Optional condition values: an empty one is not sent (None is "not sent")."""
    return value or None


@resource
class Permission(Resource):
    """One statement of a function's resource policy; id = `function[:qualifier]/statement`.

    AWS has no call that changes a statement: every attribute is fixed once added. GetPolicy
    reports the statement inside a JSON policy document, which `read` parses itself: no row
    names a field."""

    type = "aws_lambda_permission"
    taggable = False
    table = Table(
        Attr("function_name", create="FunctionName", force_new=True),
        Attr("statement_id", create="StatementId", force_new=True),
        Attr("action", create="Action", force_new=True),
        Attr("principal", create="Principal", force_new=True),
        Attr("source_arn", create="SourceArn", force_new=True, to_api=if_set),
        Attr("source_account", create="SourceAccount", force_new=True, to_api=if_set),
        Attr("qualifier", create="Qualifier", force_new=True, to_api=if_set),
        Attr("event_source_token", create="EventSourceToken", force_new=True, to_api=if_set),
        Attr("principal_org_id", create="PrincipalOrgID", force_new=True, to_api=if_set),
        Attr("function_url_auth_type", create="FunctionUrlAuthType", force_new=True, to_api=if_set),
        service="lambda",
        create_call="AddPermission",
        described="GetPolicyResponse",
    )

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        lam = ctx.client("lambda")
        request = self.table.create_parameters(desired)
        # AddPermission is refused while the function is being created or updated.
        retry_while(
            lambda: lam.add_permission(**request),
            retryable=function_busy,
            timeout=FUNCTION_UPDATE_TIMEOUT,
        )
        return permission_id(desired["function_name"], desired["statement_id"], desired)

    def describe(self, ctx: Context, id: str) -> dict[str, Any] | None:
        """The function's policy (None when the function is gone, or has no policy at all)."""
        function, qualifier, _ = parse_permission_id(id)
        extra = {"Qualifier": qualifier} if qualifier else {}
        policy: dict[str, Any] | None = or_none(
            lambda: ctx.client("lambda").get_policy(FunctionName=function, **extra)
        )
        return policy

    def read(self, ctx: Context, id: str) -> dict[str, Any] | None:
        policy = self.describe(ctx, id)
        if policy is None:
            return None
        function, qualifier, statement_id = parse_permission_id(id)
        for statement in json.loads(policy["Policy"]).get("Statement", []):
            if statement.get("Sid") == statement_id:
                return permission_attributes(function, qualifier, statement)
        return None

    def delete(self, ctx: Context, id: str, live: dict[str, Any] | None) -> None:
        function, qualifier, statement_id = parse_permission_id(id)
        extra = {"Qualifier": qualifier} if qualifier else {}
        lam = ctx.client("lambda")
        # RemovePermission, too, is refused while the function is changing.
        delete_when_released(
            lambda: lam.remove_permission(FunctionName=function, StatementId=statement_id, **extra),
            what=f"Lambda function {function} to take the removal of {statement_id}",
            timeout=FUNCTION_UPDATE_TIMEOUT,
            in_use=function_busy,
        )

    def find(self, ctx: Context, desired: dict[str, Any]) -> str | None:
        """Statement ids are deterministic: a statement an interrupted create added is ours."""
        id = permission_id(desired["function_name"], desired["statement_id"], desired)
        return id if self.read(ctx, id) is not None else None


# ---------------------------------------------------------------------------------------------
# Packages, reservations and permission statements
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
    """A resource-policy statement in the provider's attribute names: AddPermission's
    parameters become the statement's principal, action and conditions."""
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


def permission_words(permission: dict[str, Any]) -> str:
    """A permission statement in a line: `lets apigateway.amazonaws.com lambda:InvokeFunction
    from arn:...` (with the account or organisation it is limited to, where it is)."""
    words = f"lets {render_value(permission.get('principal'))} {permission.get('action')}"
    for key, label in (
        ("source_arn", "from"),
        ("source_account", "for account"),
        ("principal_org_id", "in organisation"),
    ):
        if permission.get(key):
            words += f" {label} {permission[key]}"
    return words


# ---------------------------------------------------------------------------------------------
# Finders, status functions and waiters
# ---------------------------------------------------------------------------------------------


def function_busy(exc: BaseException) -> bool:
    """Lambda refuses a change while the function is being created or updated."""
    return is_kind(exc, Conflict) and (
        "in progress" in str(exc).lower() or "pending" in str(exc).lower()
    )


def get_configuration(lam: Any, name: str) -> dict[str, Any]:
    try:
        config: dict[str, Any] = lam.get_function_configuration(FunctionName=name)
    except NotFound as exc:
        raise DeployerError(f"Lambda function {name} disappeared while waiting for it") from exc
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


def change_function(lam: Any, name: str, call: Callable[[], Any]) -> None:
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
