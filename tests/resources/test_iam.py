from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from deployer.aws import DeployerError
from deployer.model import Json, Ref, resolve
from deployer.schema import validate_attributes
from stack.roles import MANAGED_POLICIES, ROLES, role_name

ROLE = "primary:aws_iam_role.lambda_exec"
POLICY = "primary:aws_iam_role_policy.lambda_exec"
ATTACHMENT = "primary:aws_iam_role_policy_attachment.rds_monitoring_enhanced_monitoring"
LOOKUP = "secondary:data.aws_iam_role.lambda_exec"
RDS_MONITORING = "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"

# Actions AWS authorises on no narrower resource than "*".
STAR_RESOURCE_ACTIONS = frozenset(
    {
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeSubnets",
    }
)


def _iam(client_for: Any) -> Any:
    return client_for("iam")


def _account(client_for: Any) -> str:
    return str(client_for("sts").get_caller_identity()["Account"])


def _inject(deployment: Any, operation: str, handler: Callable[..., Any]) -> None:
    """Run `handler` before every call of an IAM operation (it may raise, as AWS would)."""
    deployment.clients("iam", "us-east-1").meta.events.register(
        f"before-call.iam.{operation}", handler
    )


def _fail_times(code: str, operation: str, times: int) -> Callable[..., None]:
    left = [times]

    def handler(**_: Any) -> None:
        if left[0] > 0:
            left[0] -= 1
            raise ClientError({"Error": {"Code": code, "Message": "injected"}}, operation)

    return handler


def _iam_documents(deployment: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every IAM policy document of the graph, resolved with a stand-in account id."""
    for node in deployment.graph.nodes():
        if not node.type.startswith("aws_iam_"):
            continue
        for name, value in node.attributes.items():
            if isinstance(value, Json):
                text = resolve(value, lambda ref: "123456789012")
                yield f"{node.key}.{name}", json.loads(text)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


# --- roles -------------------------------------------------------------------------------


def test_role_round_trip(deployment: Any, client_for: Any) -> None:
    deployment.apply(ROLE)
    assert deployment.diff(ROLE) == {}
    name = role_name(deployment.spec, "lambda_exec")
    assert deployment.entry(ROLE)["id"] == name == "payments-lambda-exec-dev"
    role = _iam(client_for).get_role(RoleName=name)["Role"]
    assert role["Path"] == "/"
    assert role["MaxSessionDuration"] == 3600
    assert role["Description"].startswith("Deployer-managed role for the payment Lambda")
    (statement,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "lambda.amazonaws.com"}
    assert statement["Action"] == "sts:AssumeRole"
    tags = {t["Key"]: t["Value"] for t in role["Tags"]}
    assert tags["deployer:address"] == "aws_iam_role.lambda_exec"
    assert tags["Workspace"] == "primary"
    live = deployment.read(ROLE)
    assert live is not None and live["arn"] == role["Arn"]
    assert live["unique_id"] == role["RoleId"]


@pytest.mark.parametrize(
    ("role", "service"),
    [
        ("s3_replication", "s3.amazonaws.com"),
        ("apigw_cloudwatch", "apigateway.amazonaws.com"),
        ("rds_monitoring", "monitoring.rds.amazonaws.com"),
        ("flow_logs", "vpc-flow-logs.amazonaws.com"),
    ],
)
def test_each_role_trusts_its_service(
    deployment: Any, client_for: Any, role: str, service: str
) -> None:
    key = f"primary:aws_iam_role.{role}"
    deployment.apply(key)
    assert deployment.diff(key) == {}
    trust = _iam(client_for).get_role(RoleName=role_name(deployment.spec, role))["Role"][
        "AssumeRolePolicyDocument"
    ]
    (statement,) = trust["Statement"]
    assert statement["Principal"] == {"Service": service}


def test_flow_logs_trust_is_limited_to_our_account(deployment: Any, client_for: Any) -> None:
    deployment.apply("primary:aws_iam_role.flow_logs")
    account = _account(client_for)
    trust = _iam(client_for).get_role(RoleName=role_name(deployment.spec, "flow_logs"))["Role"][
        "AssumeRolePolicyDocument"
    ]
    condition = trust["Statement"][0]["Condition"]
    assert condition["StringEquals"] == {"aws:SourceAccount": account}
    assert sorted(condition["ArnLike"]["aws:SourceArn"]) == [
        f"arn:aws:ec2:eu-west-1:{account}:vpc-flow-log/*",
        f"arn:aws:ec2:us-east-1:{account}:vpc-flow-log/*",
    ]


def test_assume_role_policy_updates_in_place(deployment: Any, client_for: Any) -> None:
    deployment.apply(ROLE)
    unique_id = deployment.read(ROLE)["unique_id"]
    condition = {"StringEquals": {"aws:SourceAccount": "123456789012"}}
    trust = deployment.graph.node(ROLE).attributes["assume_role_policy"].value
    trust["Statement"][0]["Condition"] = condition
    plan = deployment.plan(ROLE)
    assert plan.changes[ROLE].action.value == "update"
    assert list(plan.changes[ROLE].diffs) == ["assume_role_policy"]
    deployment.apply(ROLE)
    role = _iam(client_for).get_role(RoleName=deployment.entry(ROLE)["id"])["Role"]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Condition"] == condition
    assert role["RoleId"] == unique_id
    assert deployment.diff(ROLE) == {}


@pytest.mark.parametrize(
    ("attribute", "value", "field"),
    [
        ("description", "changed description", "Description"),
        ("max_session_duration", 7200, "MaxSessionDuration"),
    ],
)
def test_role_settings_update_in_place(
    deployment: Any, client_for: Any, attribute: str, value: Any, field: str
) -> None:
    deployment.apply(ROLE)
    unique_id = deployment.read(ROLE)["unique_id"]
    deployment.graph.node(ROLE).attributes[attribute] = value
    assert deployment.plan(ROLE).changes[ROLE].action.value == "update"
    deployment.apply(ROLE)
    role = _iam(client_for).get_role(RoleName=deployment.entry(ROLE)["id"])["Role"]
    assert role[field] == value
    assert role["RoleId"] == unique_id


def test_a_session_duration_left_to_its_default_is_planned_back(
    deployment: Any, client_for: Any
) -> None:
    """`max_session_duration` left unset means the provider's 3600 s: lengthened behind our
    back, it is an in-place update back, and apply shortens it again (keeping the rest)."""
    del deployment.graph.node(ROLE).attributes["max_session_duration"]
    deployment.apply(ROLE)
    name = deployment.entry(ROLE)["id"]
    iam = _iam(client_for)
    role = iam.get_role(RoleName=name)["Role"]
    assert role["MaxSessionDuration"] == 3600
    iam.update_role(RoleName=name, Description=role["Description"], MaxSessionDuration=7200)
    change = deployment.plan(ROLE).changes[ROLE]
    assert change.action.value == "update"
    assert list(change.diffs) == ["max_session_duration"]
    deployment.apply(ROLE)
    healed = iam.get_role(RoleName=name)["Role"]
    assert healed["MaxSessionDuration"] == 3600
    assert healed["Description"] == role["Description"]
    assert healed["RoleId"] == role["RoleId"]


def test_a_new_role_is_believed_once_iam_shows_it_twice_in_a_row(deployment: Any) -> None:
    """IAM's reads may come from a replica that lags the create: the role found, then not
    found again. The read after the create asks until two answers in a row find it."""
    iam = deployment.clients("iam", "us-east-1")
    reads: list[str] = []

    def lagging(**_: Any) -> None:
        reads.append("GetRole")
        if len(reads) == 2:
            error = {"Error": {"Code": "NoSuchEntity", "Message": "injected: not yet"}}
            raise iam.exceptions.from_code("NoSuchEntity")(error, "GetRole")

    _inject(deployment, "GetRole", lagging)
    deployment.apply(ROLE)
    assert len(reads) == 4  # found, lost, then found twice in a row
    assert deployment.diff(ROLE) == {}


def test_role_tags_are_set_and_removed(deployment: Any, client_for: Any) -> None:
    deployment.apply(ROLE)
    tags = deployment.graph.node(ROLE).attributes["tags"]
    tags["Owner"] = "someone-else"
    del tags["CostCenter"]
    deployment.apply(ROLE)
    listed = _iam(client_for).list_role_tags(RoleName=deployment.entry(ROLE)["id"])["Tags"]
    live = {t["Key"]: t["Value"] for t in listed}
    assert live["Owner"] == "someone-else"
    assert "CostCenter" not in live
    assert deployment.diff(ROLE) == {}


@pytest.mark.parametrize("attribute", ["name", "path"])
def test_name_or_path_change_forces_replacement(deployment: Any, attribute: str) -> None:
    deployment.apply(ROLE)
    new = {"name": "payments-lambda-exec-renamed-dev", "path": "/payments/"}[attribute]
    deployment.graph.node(ROLE).attributes[attribute] = new
    change = deployment.plan(ROLE).changes[ROLE]
    assert change.action.value == "replace"
    assert change.forces == [attribute]


def test_role_rename_replaces_role_and_its_policy(deployment: Any, client_for: Any) -> None:
    deployment.apply(POLICY)
    old = deployment.entry(ROLE)["id"]
    deployment.graph.node(ROLE).attributes["name"] = "payments-lambda-exec-renamed-dev"
    plan = deployment.plan(POLICY)
    assert plan.changes[POLICY].action.value == "replace"
    deployment.apply(POLICY)
    iam = _iam(client_for)
    with pytest.raises(ClientError, match="NoSuchEntity"):
        iam.get_role(RoleName=old)
    names = iam.list_role_policies(RoleName="payments-lambda-exec-renamed-dev")["PolicyNames"]
    assert names == ["payments-lambda-exec-policy-dev"]


def test_deleting_a_role_detaches_and_deletes_its_policies_first(
    deployment: Any, client_for: Any
) -> None:
    deployment.apply(POLICY)
    name = deployment.entry(ROLE)["id"]
    iam = _iam(client_for)
    iam.attach_role_policy(RoleName=name, PolicyArn=RDS_MONITORING)
    iam.put_role_policy(
        RoleName=name,
        PolicyName="added-by-hand",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}
                ],
            }
        ),
    )
    iam.create_instance_profile(InstanceProfileName="profile")
    iam.add_role_to_instance_profile(InstanceProfileName="profile", RoleName=name)
    calls: list[str] = []
    _inject(deployment, "*", lambda model, **_: calls.append(model.name))

    driver, ctx = deployment.driver_and_context(ROLE)
    driver.delete(ctx, name, None)

    with pytest.raises(ClientError, match="NoSuchEntity"):
        iam.get_role(RoleName=name)
    assert iam.get_instance_profile(InstanceProfileName="profile")["InstanceProfile"]["Roles"] == []
    writes = [c for c in calls if not c.startswith(("List", "Get"))]
    assert writes == [
        "RemoveRoleFromInstanceProfile",
        "DetachRolePolicy",
        "DeleteRolePolicy",
        "DeleteRolePolicy",
        "DeleteRole",
    ]
    assert driver.read(ctx, name) is None
    driver.delete(ctx, name, None)  # idempotent


def test_delete_waits_out_a_lagging_delete_conflict(deployment: Any, client_for: Any) -> None:
    deployment.apply(ROLE)
    name = deployment.entry(ROLE)["id"]
    _inject(deployment, "DeleteRole", _fail_times("DeleteConflict", "DeleteRole", 2))
    driver, ctx = deployment.driver_and_context(ROLE)
    driver.delete(ctx, name, None)
    assert driver.read(ctx, name) is None


def test_role_deleted_outside_is_recreated(deployment: Any, client_for: Any) -> None:
    deployment.apply(ROLE)
    old = deployment.read(ROLE)["unique_id"]
    _iam(client_for).delete_role(RoleName=deployment.entry(ROLE)["id"])
    change = deployment.plan(ROLE).changes[ROLE]
    assert change.action.value == "create"
    deployment.apply(ROLE)
    assert deployment.read(ROLE)["unique_id"] != old


def test_interrupted_create_adopts_the_tagged_role(deployment: Any, client_for: Any) -> None:
    deployment.apply(ROLE)
    entry = deployment.entry(ROLE)
    state = deployment.states()["primary"]
    state.record(
        "aws_iam_role.lambda_exec",
        {"type": "aws_iam_role", "status": "creating", "applied": entry["applied"]},
    )
    deployment.apply(ROLE)
    assert deployment.entry(ROLE)["id"] == entry["id"]
    assert [r["RoleName"] for r in _iam(client_for).list_roles()["Roles"]] == [entry["id"]]


def test_a_role_of_the_same_name_not_ours_is_not_adopted(deployment: Any, client_for: Any) -> None:
    name = role_name(deployment.spec, "lambda_exec")
    _iam(client_for).create_role(
        RoleName=name,
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "sts:AssumeRole",
                        "Principal": {"Service": "ec2.amazonaws.com"},
                    }
                ],
            }
        ),
    )
    driver, ctx = deployment.driver_and_context(ROLE)
    desired = resolve(deployment.graph.node(ROLE).attributes, lambda ref: "123456789012")
    assert driver.find(ctx, desired) is None
    with pytest.raises(DeployerError, match="not made by this deployment"):
        driver.create(ctx, desired)


# --- inline policies ---------------------------------------------------------------------


def test_lambda_policy_round_trip(deployment: Any, client_for: Any) -> None:
    deployment.apply(POLICY)
    assert deployment.diff(POLICY) == {}
    role = deployment.entry(ROLE)["id"]
    assert deployment.entry(POLICY)["id"] == f"{role}:payments-lambda-exec-policy-dev"
    document = _iam(client_for).get_role_policy(
        RoleName=role, PolicyName="payments-lambda-exec-policy-dev"
    )["PolicyDocument"]
    account = _account(client_for)
    statements = {s["Sid"]: s for s in document["Statement"]}
    tables = statements["PaymentTables"]["Resource"]
    for region in ("us-east-1", "eu-west-1"):
        for table in ("payments-transactions-dev", "payments-idempotency-dev"):
            assert f"arn:aws:dynamodb:{region}:{account}:table/{table}" in tables
    assert statements["TableKeysEuWest1"]["Condition"] == {
        "StringEquals": {"kms:ViaService": "dynamodb.eu-west-1.amazonaws.com"}
    }
    assert statements["TableKeysEuWest1"]["Resource"] == f"arn:aws:kms:eu-west-1:{account}:key/*"
    assert (
        f"arn:aws:logs:us-east-1:{account}:log-group:/aws/lambda/payments-payment-processor-dev:*"
        in statements["FunctionLogs"]["Resource"]
    )
    assert "ec2:CreateNetworkInterface" in statements["ManageFunctionNetworkInterfaces"]["Action"]


def test_replication_policy_reads_the_primary_and_writes_the_secondary(
    deployment: Any, client_for: Any
) -> None:
    key = "primary:aws_iam_role_policy.s3_replication"
    deployment.apply(key)
    assert deployment.diff(key) == {}
    role, name = deployment.entry(key)["id"].split(":")
    document = _iam(client_for).get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
    statements = {s["Sid"]: s for s in document["Statement"]}
    assert statements["SourceBucket"]["Resource"] == "arn:aws:s3:::payments-data-us-east-1-dev"
    assert statements["DestinationReplicas"]["Resource"] == (
        "arn:aws:s3:::payments-data-eu-west-1-dev/*"
    )
    decrypt, encrypt = statements["DecryptSourceObjects"], statements["EncryptReplicas"]
    assert decrypt["Action"] == ["kms:Decrypt"]
    assert decrypt["Condition"]["StringEquals"] == {"kms:ViaService": "s3.us-east-1.amazonaws.com"}
    assert encrypt["Action"] == ["kms:Encrypt"]
    assert encrypt["Condition"]["StringEquals"] == {"kms:ViaService": "s3.eu-west-1.amazonaws.com"}
    assert ":eu-west-1:" in encrypt["Resource"]


def test_flow_logs_policy_targets_the_flow_log_groups(deployment: Any, client_for: Any) -> None:
    key = "primary:aws_iam_role_policy.flow_logs"
    deployment.apply(key)
    assert deployment.diff(key) == {}
    role, name = deployment.entry(key)["id"].split(":")
    document = _iam(client_for).get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
    deliver = {s["Sid"]: s for s in document["Statement"]}["DeliverFlowLogs"]
    account = _account(client_for)
    assert sorted(deliver["Resource"]) == [
        f"arn:aws:logs:{region}:{account}:log-group:/aws/vpc/flow-logs/payments-vpc-dev:*"
        for region in ("eu-west-1", "us-east-1")
    ]


def test_inline_policy_updates_in_place(deployment: Any, client_for: Any) -> None:
    deployment.apply(POLICY)
    policy_id = deployment.entry(POLICY)["id"]
    document = deployment.graph.node(POLICY).attributes["policy"].value
    document["Statement"] = [s for s in document["Statement"] if s["Sid"] != "XRayTraces"]
    assert deployment.plan(POLICY).changes[POLICY].action.value == "update"
    deployment.apply(POLICY)
    role, name = policy_id.split(":")
    live = _iam(client_for).get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
    assert "XRayTraces" not in {s["Sid"] for s in live["Statement"]}
    assert deployment.entry(POLICY)["id"] == policy_id
    assert deployment.diff(POLICY) == {}


def test_inline_policy_waits_for_a_new_role_to_propagate(deployment: Any) -> None:
    _inject(deployment, "PutRolePolicy", _fail_times("NoSuchEntity", "PutRolePolicy", 2))
    deployment.apply(POLICY)
    assert deployment.diff(POLICY) == {}


def test_inline_policy_deleted_outside_is_recreated(deployment: Any, client_for: Any) -> None:
    deployment.apply(POLICY)
    role, name = deployment.entry(POLICY)["id"].split(":")
    _iam(client_for).delete_role_policy(RoleName=role, PolicyName=name)
    assert deployment.plan(POLICY).changes[POLICY].action.value == "create"
    deployment.apply(POLICY)
    assert _iam(client_for).list_role_policies(RoleName=role)["PolicyNames"] == [name]


def test_inline_policy_delete_is_idempotent(deployment: Any) -> None:
    deployment.apply(POLICY)
    driver, ctx = deployment.driver_and_context(POLICY)
    policy_id = deployment.entry(POLICY)["id"]
    driver.delete(ctx, policy_id, None)
    assert driver.read(ctx, policy_id) is None
    driver.delete(ctx, policy_id, None)


# --- managed policy attachments ----------------------------------------------------------


def test_attachment_round_trip(deployment: Any, client_for: Any) -> None:
    deployment.apply(ATTACHMENT)
    assert deployment.diff(ATTACHMENT) == {}
    role = role_name(deployment.spec, "rds_monitoring")
    assert deployment.entry(ATTACHMENT)["id"] == f"{role}/{RDS_MONITORING}"
    attached = _iam(client_for).list_attached_role_policies(RoleName=role)["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == [RDS_MONITORING]


def test_api_gateway_role_gets_the_push_to_logs_policy(deployment: Any, client_for: Any) -> None:
    deployment.apply("primary:aws_iam_role_policy_attachment.apigw_cloudwatch_push_logs")
    role = role_name(deployment.spec, "apigw_cloudwatch")
    attached = _iam(client_for).list_attached_role_policies(RoleName=role)["AttachedPolicies"]
    assert [p["PolicyName"] for p in attached] == ["AmazonAPIGatewayPushToCloudWatchLogs"]


def test_attachment_policy_change_forces_replacement(deployment: Any) -> None:
    deployment.apply(ATTACHMENT)
    node = deployment.graph.node(ATTACHMENT)
    node.attributes["policy_arn"] = "arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess"
    change = deployment.plan(ATTACHMENT).changes[ATTACHMENT]
    assert change.action.value == "replace"
    assert change.forces == ["policy_arn"]


def test_attachment_detached_outside_is_reattached(deployment: Any, client_for: Any) -> None:
    deployment.apply(ATTACHMENT)
    role = role_name(deployment.spec, "rds_monitoring")
    _iam(client_for).detach_role_policy(RoleName=role, PolicyArn=RDS_MONITORING)
    assert deployment.plan(ATTACHMENT).changes[ATTACHMENT].action.value == "create"
    deployment.apply(ATTACHMENT)
    attached = _iam(client_for).list_attached_role_policies(RoleName=role)["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == [RDS_MONITORING]


def test_attachment_delete_is_idempotent(deployment: Any) -> None:
    deployment.apply(ATTACHMENT)
    driver, ctx = deployment.driver_and_context(ATTACHMENT)
    attachment_id = deployment.entry(ATTACHMENT)["id"]
    driver.delete(ctx, attachment_id, None)
    assert driver.read(ctx, attachment_id) is None
    driver.delete(ctx, attachment_id, None)


# --- the secondary's look-ups ------------------------------------------------------------


def test_secondary_lookup_applies_the_primary_role_first(deployment: Any, client_for: Any) -> None:
    deployment.apply(LOOKUP)
    assert deployment.entry(ROLE)["id"] == "payments-lambda-exec-dev"
    driver, ctx = deployment.driver_and_context(LOOKUP)
    assert ctx.region == "us-east-1"  # IAM is global, whatever the workspace's region
    found = driver.read(ctx, {"name": "payments-lambda-exec-dev"})
    role = _iam(client_for).get_role(RoleName="payments-lambda-exec-dev")["Role"]
    assert found is not None
    assert (found["arn"], found["id"], found["unique_id"]) == (
        role["Arn"],
        role["RoleName"],
        role["RoleId"],
    )
    assert json.loads(found["assume_role_policy"]) == role["AssumeRolePolicyDocument"]
    assert driver.read(ctx, {"name": "no-such-role"}) is None


def test_secondary_apply_makes_no_iam_write_call(deployment: Any) -> None:
    lookups = [f"secondary:data.aws_iam_role.{role}" for role in ROLES]
    deployment.apply(*(f"primary:aws_iam_role.{role}" for role in ROLES))
    deployment.clients.counter.calls.clear()
    deployment.apply(*lookups)
    counter = deployment.clients.counter
    assert counter.calls["iam:GetRole"] >= len(ROLES)
    assert [op for op in counter.write_operations() if op.startswith("iam:")] == []


def test_secondary_holds_only_lookups_of_primary_roles(deployment: Any) -> None:
    secondary = [n for n in deployment.graph.nodes("secondary") if n.type.startswith("aws_iam")]
    assert all(n.data for n in secondary), [n.key for n in secondary if not n.data]
    assert sorted(n.name for n in secondary if n.type == "aws_iam_role") == sorted(ROLES)
    for node in secondary:
        assert node.depends_on == (Ref(f"aws_iam_role.{node.name}", "arn", workspace="primary"),)
        assert node.attributes == {"name": role_name(deployment.spec, node.name)}
        # The engine orders the look-up after the primary's role.
        assert f"primary:aws_iam_role.{node.name}" in deployment.graph.dag.predecessors(node.key)


def test_outputs_are_the_primary_role_arns(deployment: Any) -> None:
    outputs = {o.name: o for o in deployment.graph.outputs if o.name.endswith("_role_arn")}
    assert sorted(outputs) == sorted(f"{role}_role_arn" for role in ROLES)
    for role in ROLES:
        output = outputs[f"{role}_role_arn"]
        assert output.workspace == "primary"
        assert output.value == Ref(f"aws_iam_role.{role}", "arn")


# --- the documents themselves ------------------------------------------------------------


def test_no_policy_grants_a_wildcard_action(deployment: Any) -> None:
    documents = list(_iam_documents(deployment))
    assert len(documents) == len(ROLES) + 3  # five trust policies, three inline policies
    for where, document in documents:
        for statement in document["Statement"]:
            assert "NotAction" not in statement and "NotResource" not in statement, where
            for action in _as_list(statement["Action"]):
                assert action != "*" and not action.endswith(":*"), (where, action)
                assert "*" not in action, (where, action)
            if "*" in _as_list(statement.get("Resource", [])):
                # Only actions AWS authorises on no narrower resource may use "*".
                assert set(_as_list(statement["Action"])) <= STAR_RESOURCE_ACTIONS, where


def test_managed_policies_are_aws_managed(deployment: Any, client_for: Any) -> None:
    iam = _iam(client_for)
    for policies in MANAGED_POLICIES.values():
        for arn in policies.values():
            assert arn.startswith("arn:aws:iam::aws:policy/")
            version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
            document = iam.get_policy_version(PolicyArn=arn, VersionId=version)
            for statement in _as_list(document["PolicyVersion"]["Document"]["Statement"]):
                for action in _as_list(statement["Action"]):
                    assert action != "*" and not action.endswith(":*"), (arn, action)


def test_documents_fit_iam_size_limits(deployment: Any) -> None:
    """AWS's quotas: 2,048 characters per trust policy, 10,240 for a role's inline policies
    (whitespace not counted)."""
    inline = 0
    for where, document in _iam_documents(deployment):
        size = len(json.dumps(document, separators=(",", ":")))
        if where.endswith("assume_role_policy"):
            assert size <= 2048, where
        else:
            inline = max(inline, size)
    assert inline <= 10240


def test_iam_nodes_match_the_provider_schema(deployment: Any) -> None:
    nodes = [n for n in deployment.graph.nodes() if n.type.startswith("aws_iam_")]
    # roles, inline policies, attachments, look-ups, and each role's two exclusive sets
    assert len(nodes) == 5 + 3 + 2 + 5 + 5 * 2
    for node in nodes:
        assert validate_attributes(node.type, node.attributes, data=node.data) == [], node.key
