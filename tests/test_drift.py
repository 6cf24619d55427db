"""Drift: three-way comparison, unmanaged resources, region parity, renderers (moto in-process).

Each deploying test applies the whole graph once (`deployment.apply()`), then changes things
behind the deployer's back with boto3 directly against moto and checks what drift reports.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from deployer.aws import Clients, is_read_operation
from deployer.drift import (
    DRIFTED,
    IN_SYNC,
    MISSING,
    PENDING,
    AttributeChange,
    DriftError,
    DriftReport,
    ParityBreak,
    ResourceDrift,
    Unmanaged,
    _narrow,
    _ParityChecker,
    _parse_arn,
    detect_drift,
    render_json,
    render_markdown,
    render_table,
)
from deployer.model import Json, Node, Ref
from deployer.resource import resource_driver

P, S = "us-east-1", "eu-west-1"
BOTH = ["primary", "secondary"]
PRIMARY_BUCKET = "payments-data-us-east-1-dev"
FUNCTION = "payments-payment-processor-dev"
LAMBDA = "aws_lambda_function.payment_processor"
JSON_KEYS = {
    "format_version",
    "workspaces",
    "has_drift",
    "summary",
    "api_calls",
    "api_calls_by_operation",
    "resources",
    "unmanaged",
    "parity",
}
RESOURCE_KEYS = {
    "workspace",
    "address",
    "type",
    "id",
    "status",
    "severity",
    "reason",
    "changes",
    "planned",
    "unchecked",
}


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


class Recorder:
    """Every operation botocore sends through the clients it is hooked into."""

    def __init__(self) -> None:
        self.operations: list[str] = []

    def __call__(self, model: Any, **_: Any) -> None:
        self.operations.append(f"{model.service_model.service_name}:{model.name}")

    def clients(self) -> Clients:
        return Clients(hooks=[("before-call", self)])


def documented_schema() -> dict[str, Any]:
    """The JSON Schema in docs/drift.md (the first ```json block after its heading)."""
    from pathlib import Path

    text = (Path(__file__).resolve().parent.parent / "docs" / "drift.md").read_text()
    after = text.split("The same as a JSON Schema", 1)[1]
    block = after.split("```json\n", 1)[1].split("\n```", 1)[0]
    schema: dict[str, Any] = json.loads(block)
    return schema


def validate(doc: dict[str, Any]) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.validate(doc, documented_schema())


def drift(deployment: Any, workspaces: list[str] = BOTH, clients: Clients | None = None) -> Any:
    return detect_drift(
        deployment.graph, deployment.states(), clients or deployment.clients, workspaces
    )


def by_key(report: DriftReport) -> dict[str, ResourceDrift]:
    return {r.key: r for r in report.resources}


def changes(result: ResourceDrift) -> dict[str, tuple[Any, Any]]:
    return {c.name: (c.expected, c.actual) for c in result.changes}


def not_in_sync(report: DriftReport) -> dict[str, str]:
    return {r.key: r.status for r in report.resources if r.status != IN_SYNC}


def entry_id(deployment: Any, key: str) -> str:
    return str(deployment.entry(key)["id"])


# ---------------------------------------------------------------------------------------------
# Against a deployed environment
# ---------------------------------------------------------------------------------------------


def test_drift_right_after_a_full_apply_is_clean(deployment: Any) -> None:
    deployment.apply()
    recorder = Recorder()
    report = drift(deployment, clients=recorder.clients())

    assert not_in_sync(report) == {}
    assert report.unmanaged == []
    assert report.parity == []
    assert not report.has_drift
    stored = [n for n in deployment.graph.nodes() if n.stored]
    assert len(report.resources) == len(stored)
    # Unchecked attributes are listed per resource, of two kinds: applied but absent from the
    # live read (nothing to compare with), or read but neither set by the spec nor defaulted
    # by the driver's table (nothing to compare against).
    assert report.unchecked_count == sum(len(r.unchecked) for r in report.resources)
    for result in report.resources:
        driver = resource_driver(result.type)
        applied = driver.with_defaults(deployment.entry(result.key)["applied"])
        live = deployment.read(result.key) or {}
        for name in result.unchecked:
            assert (name in applied) != (name in live), (result.key, name)
    key = next(r for r in report.resources if r.type == "aws_kms_key")
    assert "is_enabled" not in key.unchecked  # the table's default makes it compared

    # Only reads, each of them counted; discovery is batched (one tagging call per region
    # and page, one describe per kind and VPC).
    assert recorder.operations
    assert all(is_read_operation(op.split(":")[1]) for op in recorder.operations)
    assert report.api_calls == len(recorder.operations)
    assert sum(report.calls.values()) == report.api_calls
    # (moto pages the tagging API by 100 tags whatever ResourcesPerPage says: a few pages.)
    assert 2 <= report.calls["resourcegroupstaggingapi:GetResources"] <= 10
    # Per region: the managed rules by id (one batched call) and the rules of the default
    # group and of the groups whose rule sets are owned (one batched call by group): never one
    # call per rule. The unmanaged scan of the VPC reads no rule of an owned group.
    assert report.calls["ec2:DescribeSecurityGroupRules"] == 2 * 2

    doc = json.loads(render_json(report))
    validate(doc)
    assert doc["format_version"] == 2
    assert set(doc) == JSON_KEYS
    assert doc["has_drift"] is False
    assert doc["summary"][IN_SYNC] == len(stored)
    assert "No drift" in render_table(report, colour=False)

    # --region secondary: one workspace, the other's state only resolves references.
    from deployer.graph import build_graph

    only = detect_drift(
        build_graph(deployment.spec, ["secondary"]), deployment.states(), Clients(), ["secondary"]
    )
    assert {r.workspace for r in only.resources} == {"secondary"}
    assert not only.has_drift and not_in_sync(only) == {}
    assert only.parity == []
    assert 0 < only.api_calls < report.api_calls


def test_a_key_disabled_out_of_band_is_drift(deployment: Any) -> None:
    """`is_enabled` is left to its default by the spec; the table's default makes it compared:
    every write to what the key encrypts would fail, and drift says so."""
    key = "primary:aws_kms_key.s3"
    deployment.apply(key)
    deployment.clients("kms", P).disable_key(KeyId=entry_id(deployment, key))
    result = by_key(drift(deployment))[key]
    assert result.status == DRIFTED
    assert changes(result) == {"is_enabled": (True, False)}
    deployment.apply(key)
    assert by_key(drift(deployment))[key].status == IN_SYNC


def test_out_of_band_changes_are_detected_then_healed_by_apply(deployment: Any) -> None:
    deployment.apply()
    c = deployment.clients
    db_group = entry_id(deployment, "primary:aws_security_group.db")
    primary_vpc = entry_id(deployment, "primary:aws_vpc.main")
    secondary_vpc = entry_id(deployment, "secondary:aws_vpc.main")
    route_table, destination = entry_id(deployment, "primary:aws_route.private_a_nat").split("_", 1)

    # S3: versioning suspended; the replication rule removed.
    c("s3", P).put_bucket_versioning(
        Bucket=PRIMARY_BUCKET, VersioningConfiguration={"Status": "Suspended"}
    )
    c("s3", P).delete_bucket_replication(Bucket=PRIMARY_BUCKET)
    # EC2: an ingress rule on the database group, a route removed, an extra subnet and an
    # extra security group in managed VPCs.
    c("ec2", P).authorize_security_group_ingress(
        GroupId=db_group,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432,
             "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}
        ],
    )  # fmt: skip
    c("ec2", P).delete_route(RouteTableId=route_table, DestinationCidrBlock=destination)
    extra_subnet = c("ec2", S).create_subnet(VpcId=secondary_vpc, CidrBlock="10.20.200.0/24")[
        "Subnet"
    ]["SubnetId"]
    extra_group = c("ec2", P).create_security_group(
        GroupName="debug", Description="added by hand", VpcId=primary_vpc
    )["GroupId"]
    # Lambda (secondary): memory, a literal variable, a region-specific one, a new one.
    lam = c("lambda", S)
    variables = dict(
        lam.get_function_configuration(FunctionName=FUNCTION)["Environment"]["Variables"]
    )
    variables.update(LOG_LEVEL="DEBUG", TRANSACTIONS_TABLE="someone-elses-table", EXTRA="1")
    lam.update_function_configuration(
        FunctionName=FUNCTION, MemorySize=512, Environment={"Variables": variables}
    )
    # CloudWatch: an alarm deleted. KMS: rotation off. DynamoDB: PITR off.
    c("cloudwatch", P).delete_alarms(AlarmNames=["payments-lambda-errors-primary-dev"])
    c("kms", P).disable_key_rotation(KeyId=entry_id(deployment, "primary:aws_kms_key.s3"))
    c("dynamodb", S).update_continuous_backups(
        TableName="payments-transactions-dev",
        PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False},
    )
    # Route 53: the health check's path.
    c("route53", P).update_health_check(
        HealthCheckId=entry_id(deployment, "primary:aws_route53_health_check.api"),
        ResourcePath="/prod/other",
    )
    # A bucket carrying the project's tags, made outside.
    c("s3", S).create_bucket(
        Bucket="payments-stray-dev", CreateBucketConfiguration={"LocationConstraint": S}
    )
    c("s3", S).put_bucket_tagging(
        Bucket="payments-stray-dev",
        Tagging={"TagSet": [{"Key": "Project", "Value": "payments"},
                            {"Key": "Environment", "Value": "dev"}]},
    )  # fmt: skip

    topic = c("sns", P).create_topic(
        Name="payments-debug-dev",
        Tags=[{"Key": "Project", "Value": "payments"}, {"Key": "Environment", "Value": "dev"}],
    )["TopicArn"]

    recorder = Recorder()
    report = drift(deployment, clients=recorder.clients())
    results = by_key(report)

    assert not_in_sync(report) == {
        "primary:aws_s3_bucket_versioning.payments": DRIFTED,
        "primary:aws_kms_key.s3": DRIFTED,
        "primary:aws_route53_health_check.api": DRIFTED,
        "primary:aws_vpc_security_group_rules_exclusive.db": DRIFTED,
        "primary:aws_cloudwatch_metric_alarm.lambda_errors": MISSING,
        "primary:aws_route.private_a_nat": MISSING,
        f"secondary:{LAMBDA}": DRIFTED,
        "secondary:aws_dynamodb_table_replica.transactions": DRIFTED,
        "secondary:aws_s3_bucket_replication_configuration.payments": MISSING,
    }
    assert changes(results["primary:aws_s3_bucket_versioning.payments"]) == {
        "versioning_configuration[0].status": ("Enabled", "Suspended")
    }
    assert changes(results["primary:aws_kms_key.s3"]) == {
        "enable_key_rotation": (True, False),
        "rotation_period_in_days": (365, None),  # AWS has no period without rotation
    }
    assert changes(results["primary:aws_route53_health_check.api"]) == {
        "resource_path": ("/prod/health", "/prod/other")
    }
    assert changes(results[f"secondary:{LAMBDA}"]) == {
        "memory_size": (256, 512),
        "environment[0].variables.LOG_LEVEL": ("INFO", "DEBUG"),
        "environment[0].variables.TRANSACTIONS_TABLE": (
            "payments-transactions-dev",
            "someone-elses-table",
        ),
        "environment[0].variables.EXTRA": (None, "1"),
    }
    assert changes(results["secondary:aws_dynamodb_table_replica.transactions"]) == {
        "point_in_time_recovery": (True, False)
    }
    missing = results["primary:aws_route.private_a_nat"]
    assert missing.id == f"{route_table}_{destination}" and missing.changes == []

    unmanaged = {(u.workspace, u.kind, u.id) for u in report.unmanaged}
    rules = c("ec2", P).describe_security_group_rules(
        Filters=[{"Name": "group-id", "Values": [db_group]}]
    )["SecurityGroupRules"]
    managed_rule = entry_id(
        deployment, "primary:aws_vpc_security_group_ingress_rule.db_postgres_from_lambda"
    )
    added_rule = next(
        r["SecurityGroupRuleId"] for r in rules if r["SecurityGroupRuleId"] != managed_rule
    )
    # The rule opened on the database group is drift of the group's owned rule set (not an
    # unmanaged rule as well), described by what it opens.
    owned = results["primary:aws_vpc_security_group_rules_exclusive.db"]
    assert changes(owned) == {
        "ingress_rule_ids": ([managed_rule], sorted([managed_rule, added_rule]))
    }
    live_rules = deployment.read("primary:aws_vpc_security_group_rules_exclusive.db")
    words = resource_driver(owned.type).describe_value("ingress_rule_ids", [added_rule], live_rules)
    assert words == f"{added_rule}: ingress tcp port 5432 from 10.0.0.0/8"
    assert unmanaged == {
        ("primary", "aws_security_group", extra_group),
        ("secondary", "aws_subnet", extra_subnet),
        ("secondary", "aws_s3_bucket", "arn:aws:s3:::payments-stray-dev"),
        ("primary", "aws_sns_topic", topic),
    }
    stray = next(u for u in report.unmanaged if u.kind == "aws_s3_bucket")
    assert stray.region == S and "tagged" in stray.reason

    # Parity: what the spec makes equal in both regions and now differs, nothing else: not
    # the region-specific table name (a reference), but the new variable's key.
    parity = {(p.address, p.attribute): (p.primary, p.secondary) for p in report.parity}
    assert parity == {
        (LAMBDA, "memory_size"): (256, 512),
        (LAMBDA, "environment[0].variables.LOG_LEVEL"): ("INFO", "DEBUG"),
        (LAMBDA, "environment[0].variables (keys)"): (
            ["DEPLOY_REGION", "IDEMPOTENCY_TABLE", "IDEMPOTENCY_TTL_SECONDS", "LOG_LEVEL",
             "TRANSACTIONS_TABLE"],
            ["DEPLOY_REGION", "EXTRA", "IDEMPOTENCY_TABLE", "IDEMPOTENCY_TTL_SECONDS",
             "LOG_LEVEL", "TRANSACTIONS_TABLE"],
        ),
        ("aws_s3_bucket_versioning.payments", "versioning_configuration[0].status"): (
            "Suspended",
            "Enabled",
        ),
        ("aws_kms_key.s3", "enable_key_rotation"): (False, True),
        ("aws_kms_key.s3", "rotation_period_in_days"): (None, 365),
        # The replica stands for its table (`counterpart_of`), in the table's shape.
        ("aws_dynamodb_table.transactions", "point_in_time_recovery[0].enabled"): (True, False),
        ("aws_route53_health_check.api", "resource_path"): ("/prod/other", "/prod/health"),
    }  # fmt: skip
    assert report.has_drift
    assert all(is_read_operation(op.split(":")[1]) for op in recorder.operations)
    assert report.api_calls == len(recorder.operations)

    # The renderers.
    doc = json.loads(render_json(report))
    validate(doc)
    assert set(doc) == JSON_KEYS and doc["has_drift"] is True
    assert all(set(r) == RESOURCE_KEYS for r in doc["resources"])
    assert doc["summary"][DRIFTED] == 6 and doc["summary"][MISSING] == 3
    assert doc["summary"]["unmanaged"] == 4 and doc["summary"]["parity_breaks"] == 8
    lam_doc = next(
        r for r in doc["resources"] if r["workspace"] == "secondary" and r["address"] == LAMBDA
    )
    assert {
        "name": "memory_size",
        "expected": 256,
        "actual": 512,
        "description": "memory_size changed from 256 to 512",
        "severity": "medium",
    } in lam_doc["changes"]
    markdown = render_markdown(report)
    assert "| Workspace | Address | Status | Attribute | Expected | Actual |" in markdown
    assert "| primary | `aws_route53_health_check.api` | drifted | `resource_path` |" in markdown
    assert "### Unmanaged resources" in markdown and "### Region parity breaks" in markdown
    table = render_table(report, colour=False)
    order = [table.index(h) for h in ("Drifted:", "Missing:", "Unmanaged:", "Region parity")]
    assert order == sorted(order)
    assert '~ resource_path: expected "/prod/health", actual "/prod/other"' in table
    assert "\033[" not in table and "\033[31m" in render_table(report, colour=True)

    # Healing: apply brings every drifted or missing resource back; what nobody manages stays.
    deployment.apply()
    healed = drift(deployment)
    assert not_in_sync(healed) == {}
    assert healed.parity == []
    assert {(u.workspace, u.kind, u.id) for u in healed.unmanaged} == unmanaged
    after = c("ec2", P).describe_security_group_rules(
        Filters=[{"Name": "group-id", "Values": [db_group]}]
    )["SecurityGroupRules"]
    assert [r["SecurityGroupRuleId"] for r in after] == [managed_rule]  # revoked


def test_what_is_not_drift(deployment: Any) -> None:
    """Policies rewritten in another order or form, a spec change, a resource yet to be made
    and one no longer in the spec: none of them is drift."""
    deployment.apply()
    c = deployment.clients
    # The bucket policy: statements reversed, single values as lists, keys reordered.
    s3 = c("s3", P)
    policy = json.loads(s3.get_bucket_policy(Bucket=PRIMARY_BUCKET)["Policy"])
    policy["Statement"].reverse()
    for statement in policy["Statement"]:
        for key in ("Action", "Resource"):
            value = statement[key]
            statement[key] = [value] if isinstance(value, str) else list(reversed(value))
    s3.put_bucket_policy(
        Bucket=PRIMARY_BUCKET, Policy=json.dumps(dict(reversed(policy.items())), indent=4)
    )
    # An inline role policy: statements reversed, one-element lists as single strings.
    iam = c("iam", P)
    names = {
        "RoleName": "payments-lambda-exec-dev",
        "PolicyName": "payments-lambda-exec-policy-dev",
    }
    document = iam.get_role_policy(**names)["PolicyDocument"]
    document["Statement"].reverse()
    for statement in document["Statement"]:
        actions = statement["Action"]
        statement["Action"] = actions[0] if len(actions) == 1 else list(reversed(actions))
    iam.put_role_policy(**names, PolicyDocument=json.dumps(document, separators=(",", ":")))
    # A trust policy with the service principal as a list.
    trust = iam.get_role(RoleName="payments-lambda-exec-dev")["Role"]["AssumeRolePolicyDocument"]
    trust["Statement"][0]["Principal"]["Service"] = ["lambda.amazonaws.com"]
    iam.update_assume_role_policy(
        RoleName="payments-lambda-exec-dev", PolicyDocument=json.dumps(trust, indent=2)
    )
    # A key policy with its statements reversed.
    key_id = entry_id(deployment, "secondary:aws_kms_key.rds")
    kms = c("kms", S)
    key_policy = json.loads(kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"])
    key_policy["Statement"].reverse()
    kms.put_key_policy(KeyId=key_id, PolicyName="default", Policy=json.dumps(key_policy))

    # The spec changes: the primary function's timeout; a new alarm; a retired resource.
    graph = deployment.graph
    graph.node(f"primary:{LAMBDA}").attributes["timeout"] = 30
    alarm = graph.node("primary:aws_cloudwatch_metric_alarm.lambda_errors")
    extra = Node(alarm.type, "lambda_errors_strict", "primary", copy.deepcopy(alarm.attributes))
    extra.attributes["alarm_name"] = "payments-lambda-errors-strict-primary-dev"
    graph.dag.add_node(extra.key, node=extra)
    states = deployment.states()
    states["secondary"].record(
        "aws_sns_topic.retired",
        {"type": "aws_sns_topic", "status": "created", "id": "arn:aws:sns:eu-west-1:1:gone",
         "applied": {"name": "gone"}, "attributes": {}},
    )  # fmt: skip

    report = detect_drift(graph, states, deployment.clients, BOTH)
    assert not_in_sync(report) == {
        f"primary:{LAMBDA}": PENDING,
        extra.key: PENDING,
        "secondary:aws_sns_topic.retired": PENDING,
    }
    results = by_key(report)
    timeout = results[f"primary:{LAMBDA}"]
    assert timeout.changes == []
    assert timeout.planned == [AttributeChange("timeout", 30, 10)]
    assert "spec changed" in timeout.reason
    assert "not applied" in results[extra.key].reason
    assert "no longer in the spec" in results["secondary:aws_sns_topic.retired"].reason
    # The timeout is now declared different per region: not a parity break.
    assert report.parity == [] and report.unmanaged == []
    assert not report.has_drift
    validate(json.loads(render_json(report)))
    assert "### Pending changes" in render_markdown(report)
    assert "Pending: the spec changed" in render_table(report, colour=False)


def test_drift_refuses_to_make_a_write_call(
    deployment: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    deployment.apply("primary:aws_vpc.main")
    # Half an environment: everything else is pending, which is not drift.
    partial = drift(deployment)
    vpc = "primary:aws_vpc.main"
    assert by_key(partial)[vpc].status == IN_SYNC
    assert not_in_sync(partial) == {
        n.key: PENDING for n in deployment.graph.nodes() if n.stored and n.key != vpc
    }
    assert not partial.has_drift

    from resources.ec2 import Vpc

    read = Vpc.read

    def read_and_write(self: Any, ctx: Any, id: str) -> Any:
        ctx.client("ec2").create_tags(Resources=[id], Tags=[{"Key": "touched", "Value": "1"}])
        return read(self, ctx, id)

    monkeypatch.setattr(Vpc, "read", read_and_write)
    with pytest.raises(DriftError, match="ec2:CreateTags"):
        drift(deployment, ["primary"])


# ---------------------------------------------------------------------------------------------
# Without AWS
# ---------------------------------------------------------------------------------------------


def report_with(**findings: Any) -> DriftReport:
    report = DriftReport(BOTH, api_calls=3, calls={"s3:GetBucketPolicy": 3})
    for status in findings.get("statuses", []):
        report.resources.append(
            ResourceDrift("primary", f"aws_s3_bucket.{status.replace('-', '_')}", "aws_s3_bucket",
                          status, id="b")
        )  # fmt: skip
    report.unmanaged = findings.get("unmanaged", [])
    report.parity = findings.get("parity", [])
    return report


def test_exit_semantics_pending_and_unchecked_alone_are_not_drift() -> None:
    quiet = report_with(statuses=[IN_SYNC, PENDING, "unchecked"])
    quiet.resources[0].unchecked = ["policy"]
    assert not quiet.has_drift
    assert report_with(statuses=[DRIFTED]).has_drift
    assert report_with(statuses=[MISSING]).has_drift
    assert report_with(unmanaged=[Unmanaged("primary", P, "aws_subnet", "subnet-1", "x")]).has_drift
    assert report_with(parity=[ParityBreak("aws_x.y", "a", 1, 2)]).has_drift


def test_changes_are_named_as_precisely_as_possible() -> None:
    assert _narrow("tags", {"a": "1", "b": "2"}, {"a": "1", "c": "3", "aws:x": "y"}) == [
        AttributeChange("tags.b", "2", None),
        AttributeChange("tags.c", None, "3"),
    ]
    assert _narrow(
        "rule", [{"status": "Enabled", "filter": [{"prefix": ""}]}],
        [{"status": "Disabled", "filter": [{"prefix": ""}], "id": "x"}],
    ) == [AttributeChange("rule[0].status", "Enabled", "Disabled")]  # fmt: skip
    two = [{"name": "a"}, {"name": "b"}]
    assert _narrow("attribute", two, two[:1]) == [AttributeChange("attribute", two, two[:1])]


def test_parity_compares_what_the_spec_makes_equal() -> None:
    checker = _ParityChecker("aws_lambda_function.f", P, S)

    def compare(name: str, want: tuple[Any, Any], live: tuple[Any, Any]) -> None:
        checker.compare(name, want[0], want[1], want[0], want[1], live[0], live[1], True)

    ref = Ref("aws_dynamodb_table.t", "name")
    compare("memory_size", (256, 256), (256, 512))  # a break
    compare("timeout", (10, 20), (10, 20))  # declared different: skipped
    compare("role", (ref, ref), ("arn:1", "arn:2"))  # a reference: skipped
    compare("policy", (Json({"a": ref}), Json({"a": ref})), ("{}", '{"b": 1}'))  # skipped
    compare("bucket", (f"b-{P}", f"b-{S}"), (f"b-{P}", f"b-{S}"))  # equal but for the region
    compare("arn", (f"arn:aws:x:{P}:1:y", f"arn:aws:x:{S}:1:y"), (f"arn:aws:x:{P}:1:y", "z"))
    compare(
        "environment",
        ([{"variables": {"T": ref, "L": "INFO", "R": P}}],
         [{"variables": {"T": ref, "L": "INFO", "R": S}}]),
        ([{"variables": {"T": "t1", "L": "INFO", "R": P}}],
         [{"variables": {"T": "t2", "L": "INFO", "R": S, "X": "1"}}]),
    )  # fmt: skip
    compare(
        "tags",
        ({"Workspace": "primary", "Owner": "o"}, {"Workspace": "secondary", "Owner": "o"}),
        ({"Workspace": "primary", "Owner": "o", "aws:cf": "1"},
         {"Workspace": "secondary", "Owner": "p"}),
    )  # fmt: skip
    assert [(b.attribute, b.primary, b.secondary) for b in checker.breaks] == [
        ("memory_size", 256, 512),
        ("arn", f"arn:aws:x:{P}:1:y", "z"),
        ("environment[0].variables (keys)", ["L", "R", "T"], ["L", "R", "T", "X"]),
        ("tags.Owner", "o", "p"),
    ]


def test_a_replica_is_its_tables_counterpart(spec: Any) -> None:
    from deployer.drift.parity import counterpart
    from deployer.graph import build_graph

    graph = build_graph(spec)
    for name in ("transactions", "idempotency"):
        table = graph.node(f"primary:aws_dynamodb_table.{name}")
        other = counterpart(graph, table)
        assert other is not None and other.key == f"secondary:aws_dynamodb_table_replica.{name}"
    function = graph.node(f"primary:{LAMBDA}")
    assert getattr(counterpart(graph, function), "key", None) == f"secondary:{LAMBDA}"
    database = graph.node("primary:aws_db_instance.main")
    assert counterpart(graph, database) is None  # the secondary's is the replica, not its peer


def test_arns_are_parsed_for_discovery() -> None:
    assert _parse_arn("arn:aws:s3:::bucket") == ("s3", "", "", "bucket")
    assert _parse_arn("arn:aws:ec2:us-east-1:1:subnet/subnet-1") == (
        "ec2", "us-east-1", "subnet", "subnet-1",
    )  # fmt: skip
    assert _parse_arn("arn:aws:logs:us-east-1:1:log-group:/aws/x:*") == (
        "logs", "us-east-1", "log-group", "/aws/x",
    )  # fmt: skip
    assert _parse_arn("arn:aws:apigateway:us-east-1::/restapis/abc") == (
        "apigateway", "us-east-1", "restapis", "abc",
    )  # fmt: skip
    assert _parse_arn("not-an-arn") is None


def test_renderers_structure() -> None:
    report = report_with(
        statuses=[DRIFTED, MISSING, PENDING, IN_SYNC],
        unmanaged=[Unmanaged("secondary", S, "aws_subnet", "subnet-1", "in managed VPC v")],
        parity=[ParityBreak("aws_lambda_function.f", "memory_size", 256, 512)],
    )
    report.resources[0].changes = [AttributeChange("policy", '{"a": "|"}', None)]
    report.resources[2].planned = [AttributeChange("timeout", 30, 10)]
    report.resources[3].unchecked = ["acl"]

    doc = json.loads(render_json(report))
    validate(doc)
    assert set(doc) == JSON_KEYS
    assert doc["summary"] == {
        "resources": 4, DRIFTED: 1, MISSING: 1, PENDING: 1, "unchecked": 0, IN_SYNC: 1,
        "unmanaged": 1, "parity_breaks": 1, "unchecked_attributes": 1, "unchecked_resources": 1,
        "high": 1, "medium": 3, "low": 0,
    }  # fmt: skip
    assert doc["resources"][0]["changes"] == [
        {"name": "policy", "expected": '{"a": "|"}', "actual": None, "description": "",
         "severity": None}
    ]  # fmt: skip
    assert render_json(report) == json.dumps(doc, indent=2, sort_keys=True)

    markdown = render_markdown(report)
    assert markdown.startswith("## Drift report")
    assert "| Finding | Count |" in markdown
    assert '| `policy` | `"{\\"a\\": \\"\\|\\"}"` | `null` |' in markdown  # pipes escaped
    assert "| secondary | eu-west-1 | `aws_subnet` | `subnet-1` | in managed VPC v |" in markdown

    table = render_table(report, colour=False)
    headings = ["Drifted:", "Missing:", "Unmanaged:", "Region parity", "Pending:", "Unchecked:",
                "In sync (1)"]  # fmt: skip
    positions = [table.index(h) for h in headings]
    assert positions == sorted(positions)
    assert "~ timeout: 10 -> 30" in table
    assert table.splitlines()[-1].startswith("Drift detected")
    coloured = render_table(report, colour=True)
    assert "\033[31m" in coloured and "\033[0m" in coloured
