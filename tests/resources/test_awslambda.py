"""The payment function and its API Gateway permissions, against moto (never invoked: no Docker)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from deployer.aws import DeployerError
from deployer.graph import build_graph
from deployer.model import Ref
from deployer.packaging import build_lambda_zip, code_sha256
from resources import awslambda
from stack.function import PACKAGE_FILENAME

REPO = Path(__file__).resolve().parents[2]
FUNCTION = "primary:aws_lambda_function.payment_processor"
SECONDARY_FUNCTION = "secondary:aws_lambda_function.payment_processor"
LOG_GROUP = "primary:aws_cloudwatch_log_group.lambda"
HEALTH_PERMISSION = "primary:aws_lambda_permission.health"
NAME = "payments-payment-processor-dev"


def live_id(deployment: Any, key: str) -> str:
    """The live id of a resource other modules made (from its read-back attributes)."""
    return str(deployment.entry(key)["attributes"]["id"])


def client_error(code: str, message: str, operation: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, operation)


def fail_first(
    client: Any, operation: str, error: ClientError, times: int = 1
) -> Callable[[], int]:
    """Make the next `times` calls of an operation fail as AWS would; returns a call counter."""
    calls = {"n": 0}

    def hook(**_: Any) -> None:
        calls["n"] += 1
        if calls["n"] <= times:
            raise error

    service = client.meta.service_model.service_id.hyphenize()
    client.meta.events.register(f"before-call.{service}.{operation}", hook)
    return lambda: calls["n"]


def test_function_round_trip(deployment: Any, client_for: Any, spec: Any) -> None:
    deployment.apply(FUNCTION)
    assert deployment.diff(FUNCTION) == {}
    function = client_for("lambda").get_function(FunctionName=NAME)
    config = function["Configuration"]
    assert config["Runtime"] == spec.lambda_.runtime == "python3.12"
    assert config["Handler"] == "payment_processor.handler"
    assert config["MemorySize"] == spec.lambda_.memory_mb
    assert config["Timeout"] == spec.lambda_.timeout_s
    assert config["Architectures"] == ["arm64"]
    assert config["TracingConfig"]["Mode"] == "Active"
    assert (
        config["Role"] == deployment.entry("primary:aws_iam_role.lambda_exec")["attributes"]["arn"]
    )
    private_subnets = {live_id(deployment, f"primary:aws_subnet.private_{s}") for s in "abc"}
    assert set(config["VpcConfig"]["SubnetIds"]) == private_subnets
    assert config["VpcConfig"]["SecurityGroupIds"] == [
        live_id(deployment, "primary:aws_security_group.lambda")
    ]
    assert config["CodeSha256"] == code_sha256(build_lambda_zip(REPO / "lambda"))
    assert function["Tags"]["deployer:address"] == "aws_lambda_function.payment_processor"
    variables = config["Environment"]["Variables"]
    assert variables["DEPLOY_REGION"] == "us-east-1"
    assert variables["LOG_LEVEL"] == "INFO"
    assert variables["IDEMPOTENCY_TTL_SECONDS"] == "86400"
    # The log group the function writes to is ours (retention, KMS), made before it.
    group = client_for("logs").describe_log_groups(logGroupNamePrefix=f"/aws/lambda/{NAME}")
    assert [g["retentionInDays"] for g in group["logGroups"]] == [365]
    # The environment is encrypted with the region's own Lambda key; concurrency is reserved.
    lambda_key = deployment.entry("primary:aws_kms_key.lambda")["attributes"]["arn"]
    assert config["KMSKeyArn"] == lambda_key
    concurrency = client_for("lambda").get_function_concurrency(FunctionName=NAME)
    assert concurrency["ReservedConcurrentExecutions"] == spec.lambda_.reserved_concurrency == 100
    live = deployment.read(FUNCTION)
    assert live["invoke_arn"] == (
        "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
        f"{config['FunctionArn']}/invocations"
    )


def test_each_region_names_its_own_tables(deployment: Any, client_for: Any) -> None:
    deployment.apply(FUNCTION, SECONDARY_FUNCTION)
    codes = set()
    for workspace, region in (("primary", "us-east-1"), ("secondary", "eu-west-1")):
        config = client_for("lambda", region).get_function_configuration(FunctionName=NAME)
        variables = config["Environment"]["Variables"]
        assert variables["DEPLOY_REGION"] == region
        for variable, table in (
            ("TRANSACTIONS_TABLE", "transactions"),
            ("IDEMPOTENCY_TABLE", "idempotency"),
        ):
            # The primary's table, or in the secondary its replica (a global table: one name).
            own = "aws_dynamodb_table" if workspace == "primary" else "aws_dynamodb_table_replica"
            table_name = deployment.entry(f"primary:aws_dynamodb_table.{table}")["attributes"][
                "name"
            ]
            assert variables[variable] == table_name
            # ...and that table is in the function's own region.
            described = client_for("dynamodb", region).describe_table(TableName=table_name)
            arn = described["Table"]["TableArn"]
            assert f":{region}:" in arn
            assert deployment.entry(f"{workspace}:{own}.{table}")["attributes"]["arn"] == arn
        codes.add(config["CodeSha256"])
    assert len(codes) == 1  # byte-identical code in both regions
    assert deployment.diff(SECONDARY_FUNCTION) == {}


@pytest.mark.parametrize(
    ("attribute", "field", "value"),
    [
        ("memory_size", "MemorySize", 512),
        ("timeout", "Timeout", 20),
    ],
)
def test_configuration_updates_in_place(
    deployment: Any, client_for: Any, clients: Any, attribute: str, field: str, value: int
) -> None:
    deployment.apply(FUNCTION)
    arn = deployment.read(FUNCTION)["arn"]
    deployment.graph.node(FUNCTION).attributes[attribute] = value
    plan = deployment.plan(FUNCTION)
    assert plan.changes[FUNCTION].action.value == "update"
    assert set(plan.changes[FUNCTION].diffs) == {attribute}
    deployment.apply(FUNCTION)
    config = client_for("lambda").get_function_configuration(FunctionName=NAME)
    assert config[field] == value
    assert config["FunctionArn"] == arn
    assert deployment.entry(FUNCTION)["id"] == NAME
    assert clients.counter.calls["lambda:UpdateFunctionCode"] == 0
    assert deployment.diff(FUNCTION) == {}


def test_environment_key_changes_in_place(deployment: Any, client_for: Any) -> None:
    deployment.apply(FUNCTION)
    deployment.graph.node(FUNCTION).attributes["kms_key_arn"] = Ref("aws_kms_key.dynamodb", "arn")
    plan = deployment.plan(FUNCTION)
    assert plan.changes[FUNCTION].action.value == "update"
    assert set(plan.changes[FUNCTION].diffs) == {"kms_key_arn"}
    deployment.apply(FUNCTION)
    config = client_for("lambda").get_function_configuration(FunctionName=NAME)
    dynamodb_key = deployment.entry("primary:aws_kms_key.dynamodb")["attributes"]["arn"]
    assert config["KMSKeyArn"] == dynamodb_key
    assert deployment.diff(FUNCTION) == {}


def test_changed_handler_code_is_redeployed(
    deployment: Any, client_for: Any, clients: Any, tmp_path: Path
) -> None:
    deployment.apply(FUNCTION)
    changed_sources = tmp_path / "lambda"
    shutil.copytree(REPO / "lambda", changed_sources)
    handler = changed_sources / "payment_processor.py"
    handler.write_text(handler.read_text() + "\n# a changed handler\n")
    package = build_lambda_zip(changed_sources)
    node = deployment.graph.node(FUNCTION)
    node.files[PACKAGE_FILENAME] = package
    node.attributes["source_code_hash"] = code_sha256(package)
    plan = deployment.plan(FUNCTION)
    assert plan.changes[FUNCTION].action.value == "update"
    assert set(plan.changes[FUNCTION].diffs) == {"source_code_hash"}
    deployment.apply(FUNCTION)
    config = client_for("lambda").get_function_configuration(FunctionName=NAME)
    assert config["CodeSha256"] == code_sha256(package)
    assert clients.counter.calls["lambda:UpdateFunctionCode"] == 1
    assert clients.counter.calls["lambda:UpdateFunctionConfiguration"] == 0
    assert deployment.diff(FUNCTION) == {}


def test_unchanged_code_plans_nothing(deployment: Any, clients: Any) -> None:
    deployment.apply(FUNCTION)
    deployment.graph = build_graph(deployment.spec)  # a new run: the package is rebuilt
    plan = deployment.plan(FUNCTION)
    assert plan.changes[FUNCTION].action.value == "no-op"
    deployment.apply(FUNCTION)
    assert clients.counter.calls["lambda:UpdateFunctionCode"] == 0


def test_configuration_waits_for_the_code_update_to_finish(
    deployment: Any, client_for: Any, clients: Any, tmp_path: Path
) -> None:
    """AWS refuses a configuration change while a code update is InProgress: the driver waits
    for LastUpdateStatus to settle, and retries if Lambda still answers ResourceConflict."""
    deployment.apply(FUNCTION)
    lam = clients("lambda", "us-east-1")
    events: list[str] = []
    still_updating = {"reads": 0}

    def code_updated(**_: Any) -> None:
        events.append("code")
        still_updating["reads"] = 2  # the next two reads see the update still running

    def configuration_read(parsed: dict[str, Any], **_: Any) -> None:
        if still_updating["reads"]:
            still_updating["reads"] -= 1
            parsed["LastUpdateStatus"] = "InProgress"
        events.append(parsed["LastUpdateStatus"])

    lam.meta.events.register("after-call.lambda.UpdateFunctionCode", code_updated)
    lam.meta.events.register("after-call.lambda.GetFunctionConfiguration", configuration_read)
    lam.meta.events.register(
        "before-call.lambda.UpdateFunctionConfiguration", lambda **_: events.append("config")
    )
    conflicts = fail_first(
        lam,
        "UpdateFunctionConfiguration",
        client_error(
            "ResourceConflictException",
            "The operation cannot be performed at this time. An update is in progress for "
            f"resource: {NAME}",
            "UpdateFunctionConfiguration",
        ),
    )
    changed = tmp_path / "lambda"
    shutil.copytree(REPO / "lambda", changed)
    handler = changed / "payment_processor.py"
    handler.write_text(handler.read_text() + "\n# v2\n")
    package = build_lambda_zip(changed)
    node = deployment.graph.node(FUNCTION)
    node.files[PACKAGE_FILENAME] = package
    node.attributes["source_code_hash"] = code_sha256(package)
    node.attributes["memory_size"] = 384
    deployment.apply(FUNCTION)
    after_code = events[events.index("code") + 1 :]
    assert after_code[:3] == ["InProgress", "InProgress", "Successful"]
    assert after_code.index("config") > 2
    assert conflicts() == 2  # refused once, then accepted
    config = client_for("lambda").get_function_configuration(FunctionName=NAME)
    assert (config["CodeSha256"], config["MemorySize"]) == (code_sha256(package), 384)


def test_create_retries_while_the_new_role_cannot_be_assumed(
    deployment: Any, client_for: Any, clients: Any
) -> None:
    calls = fail_first(
        clients("lambda", "us-east-1"),
        "CreateFunction",
        client_error(
            "InvalidParameterValueException",
            "The role defined for the function cannot be assumed by Lambda.",
            "CreateFunction",
        ),
        times=2,
    )
    deployment.apply(FUNCTION)
    assert calls() == 3
    names = [f["FunctionName"] for f in client_for("lambda").list_functions()["Functions"]]
    assert names == [NAME]


def test_a_package_that_does_not_match_its_hash_is_refused(deployment: Any) -> None:
    deployment.apply(FUNCTION)
    driver, ctx = deployment.driver_and_context(FUNCTION)
    desired = {**deployment.desired(FUNCTION), "function_name": "payments-other-dev"}
    ctx.node.files[PACKAGE_FILENAME] = b"not the package the hash names"
    with pytest.raises(DeployerError, match="source_code_hash"):
        driver.create(ctx, desired)


def test_reserved_concurrency_round_trip(deployment: Any, client_for: Any) -> None:
    deployment.apply(FUNCTION)
    deployment.graph.node(FUNCTION).attributes["reserved_concurrent_executions"] = 5
    deployment.apply(FUNCTION)
    concurrency = client_for("lambda").get_function_concurrency(FunctionName=NAME)
    assert concurrency["ReservedConcurrentExecutions"] == 5
    assert deployment.diff(FUNCTION) == {}


def test_deleted_function_reads_as_gone(deployment: Any, client_for: Any) -> None:
    deployment.apply(FUNCTION)
    driver, ctx = deployment.driver_and_context(FUNCTION)
    driver.delete(ctx, NAME, deployment.read(FUNCTION))
    assert driver.read(ctx, NAME) is None
    with pytest.raises(ClientError):
        client_for("lambda").get_function(FunctionName=NAME)
    driver.delete(ctx, NAME, None)  # idempotent


def test_delete_waits_until_lambda_released_its_network_interfaces(
    deployment: Any, client_for: Any, clients: Any
) -> None:
    deployment.apply(FUNCTION)
    ec2 = client_for("ec2")
    interface = ec2.create_network_interface(
        SubnetId=live_id(deployment, "primary:aws_subnet.private_a"),
        Description=f"AWS Lambda VPC ENI-{NAME}-8d2a1d8e",
    )["NetworkInterface"]["NetworkInterfaceId"]
    looks: list[int] = []

    def lambda_releases_it(parsed: dict[str, Any], **_: Any) -> None:
        looks.append(len(parsed["NetworkInterfaces"]))
        if len(looks) == 2:  # Lambda lets go of it while we wait
            ec2.delete_network_interface(NetworkInterfaceId=interface)

    clients("ec2", "us-east-1").meta.events.register(
        "after-call.ec2.DescribeNetworkInterfaces", lambda_releases_it
    )
    driver, ctx = deployment.driver_and_context(FUNCTION)
    driver.delete(ctx, NAME, deployment.read(FUNCTION))
    assert looks == [1, 1, 0]


def test_function_deleted_outside_is_planned_for_creation(deployment: Any, client_for: Any) -> None:
    deployment.apply(FUNCTION)
    client_for("lambda").delete_function(FunctionName=NAME)
    plan = deployment.plan(FUNCTION)
    assert plan.changes[FUNCTION].action.value == "create"
    deployment.apply(FUNCTION)
    assert client_for("lambda").get_function(FunctionName=NAME)["Configuration"]["State"] == (
        "Active"
    )


def test_interrupted_create_adopts_the_function(deployment: Any, client_for: Any) -> None:
    deployment.apply(FUNCTION)
    entry = deployment.entry(FUNCTION)
    deployment.states()["primary"].record(
        "aws_lambda_function.payment_processor",
        {"type": "aws_lambda_function", "status": "creating", "applied": entry["applied"]},
    )
    deployment.apply(FUNCTION)
    assert deployment.entry(FUNCTION)["id"] == NAME
    assert len(client_for("lambda").list_functions()["Functions"]) == 1


def test_function_name_change_forces_replacement(deployment: Any) -> None:
    deployment.apply(FUNCTION)
    deployment.graph.node(FUNCTION).attributes["function_name"] = "payments-renamed-dev"
    change = deployment.plan(FUNCTION).changes[FUNCTION]
    assert change.action.value == "replace"
    assert change.forces == ["function_name"]


# --- permissions -----------------------------------------------------------------------------


def test_permission_round_trip(deployment: Any, client_for: Any) -> None:
    deployment.apply(HEALTH_PERMISSION)
    assert deployment.entry(HEALTH_PERMISSION)["id"] == f"{NAME}/apigateway-health"
    assert deployment.diff(HEALTH_PERMISSION) == {}
    policy = json.loads(client_for("lambda").get_policy(FunctionName=NAME)["Policy"])
    (statement,) = [s for s in policy["Statement"] if s["Sid"] == "apigateway-health"]
    assert statement["Principal"] == {"Service": "apigateway.amazonaws.com"}
    assert statement["Action"] == "lambda:InvokeFunction"
    api_id = live_id(deployment, "primary:aws_api_gateway_rest_api.payments")
    assert statement["Condition"]["ArnLike"]["AWS:SourceArn"] == (
        f"arn:aws:execute-api:us-east-1:123456789012:{api_id}/*/GET/health"
    )


def test_payment_permissions_are_scoped_to_their_routes(deployment: Any) -> None:
    get_payment = "primary:aws_lambda_permission.get_payment"
    create_payment = "primary:aws_lambda_permission.create_payment"
    deployment.apply(get_payment, create_payment)
    assert deployment.read(get_payment)["source_arn"].endswith("/*/GET/payments/*")
    assert deployment.read(create_payment)["source_arn"].endswith("/*/POST/payments")


def test_deleted_permission_reads_as_gone(deployment: Any, client_for: Any) -> None:
    deployment.apply(HEALTH_PERMISSION)
    driver, ctx = deployment.driver_and_context(HEALTH_PERMISSION)
    permission_id = deployment.entry(HEALTH_PERMISSION)["id"]
    driver.delete(ctx, permission_id, None)
    assert driver.read(ctx, permission_id) is None
    with pytest.raises(ClientError):  # the function has no policy statement left
        client_for("lambda").get_policy(FunctionName=NAME)
    driver.delete(ctx, permission_id, None)  # idempotent
    assert driver.read(ctx, "payments-no-such-function-dev/apigateway-health") is None


def test_permission_removed_outside_is_planned_for_creation(
    deployment: Any, client_for: Any
) -> None:
    deployment.apply(HEALTH_PERMISSION)
    client_for("lambda").remove_permission(FunctionName=NAME, StatementId="apigateway-health")
    assert deployment.plan(HEALTH_PERMISSION).changes[HEALTH_PERMISSION].action.value == "create"
    deployment.apply(HEALTH_PERMISSION)
    assert deployment.diff(HEALTH_PERMISSION) == {}


def test_permission_ids_round_trip() -> None:
    assert awslambda.parse_permission_id("fn/sid") == ("fn", None, "sid")
    assert awslambda.parse_permission_id("fn:live/sid") == ("fn", "live", "sid")
    arn = "arn:aws:lambda:us-east-1:123456789012:function:fn"
    assert awslambda.parse_permission_id(f"{arn}/sid") == (arn, None, "sid")


# --- provider defaults -----------------------------------------------------------------------


def test_a_defaulted_timeout_changed_outside_is_put_back(deployment: Any, client_for: Any) -> None:
    """A function whose node leaves `timeout` unset gets the provider's default, and a change
    behind our back is planned as an in-place update back to it."""
    default = awslambda.Function.table.rows["timeout"].default
    del deployment.graph.node(FUNCTION).attributes["timeout"]
    deployment.apply(FUNCTION)
    lam = client_for("lambda")
    assert lam.get_function_configuration(FunctionName=NAME)["Timeout"] == default
    lam.update_function_configuration(FunctionName=NAME, Timeout=default + 27)
    change = deployment.plan(FUNCTION).changes[FUNCTION]
    assert change.action.value == "update"
    assert change.diffs == {"timeout": (default + 27, default)}
    deployment.apply(FUNCTION)
    assert lam.get_function_configuration(FunctionName=NAME)["Timeout"] == default
    assert deployment.diff(FUNCTION) == {}


def test_a_reservation_made_outside_is_removed_again(
    deployment: Any, client_for: Any, spec: Any
) -> None:
    """Unset, `reserved_concurrent_executions` is the provider's -1 (no reservation): one put
    behind our back is planned away, and apply deletes it."""
    spec.lambda_.reserved_concurrency = None
    deployment.graph = build_graph(spec)
    deployment.apply(FUNCTION)
    lam = client_for("lambda")
    assert "ReservedConcurrentExecutions" not in lam.get_function_concurrency(FunctionName=NAME)
    lam.put_function_concurrency(FunctionName=NAME, ReservedConcurrentExecutions=7)
    change = deployment.plan(FUNCTION).changes[FUNCTION]
    assert change.action.value == "update"
    assert set(change.diffs) == {"reserved_concurrent_executions"}
    deployment.apply(FUNCTION)
    assert "ReservedConcurrentExecutions" not in lam.get_function_concurrency(FunctionName=NAME)
    assert deployment.diff(FUNCTION) == {}


def test_a_permission_added_out_of_band_is_reported_as_unmanaged(
    deployment: Any, client_for: Callable[..., Any]
) -> None:
    """An AddPermission behind our back (S3, from a bucket not ours, may invoke the function)
    is an unmanaged permission of the managed function, saying who may invoke it; the managed
    statements are not reported. It is not drift (apply leaves it): removed, drift is clean."""
    from deployer.drift import detect_drift

    routes = ("health", "get_payment", "create_payment")
    deployment.apply(*(f"primary:aws_lambda_permission.{route}" for route in routes))
    lam = client_for("lambda")
    lam.add_permission(
        FunctionName=NAME,
        StatementId="debug-anyone",
        Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com",
        SourceArn="arn:aws:s3:::someone-elses-bucket",
    )

    def unmanaged() -> list[Any]:
        report = detect_drift(
            deployment.graph, deployment.states(), deployment.clients, ["primary"]
        )
        return [u for u in report.unmanaged if u.kind == "aws_lambda_permission"]

    found = unmanaged()
    assert [(u.id, u.workspace) for u in found] == [(f"{NAME}/debug-anyone", "primary")]
    assert found[0].reason.endswith(
        "lets s3.amazonaws.com lambda:InvokeFunction from arn:aws:s3:::someone-elses-bucket"
    )
    lam.remove_permission(FunctionName=NAME, StatementId="debug-anyone")
    assert unmanaged() == []
