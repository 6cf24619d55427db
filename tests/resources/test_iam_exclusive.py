"""The exclusive sets of a role's policies, and a role's trust policy, as drift sees them.

Each test applies the role's nodes (moto in-process), changes the role behind the deployer's
back with boto3, and checks what drift reports, what the plan does and that apply heals it.
"""

from __future__ import annotations

import json
from typing import Any

from deployer.aws import Clients, is_read_operation
from deployer.drift import DRIFTED, IN_SYNC, detect_drift
from deployer.resource import DETAILS, resource_driver

ROLE_NAME = "payments-lambda-exec-dev"
ROLE = "primary:aws_iam_role.lambda_exec"
INLINE = "primary:aws_iam_role_policies_exclusive.lambda_exec"
ATTACHED = "primary:aws_iam_role_policy_attachments_exclusive.lambda_exec"
MONITORING_ATTACHED = "primary:aws_iam_role_policy_attachments_exclusive.rds_monitoring"
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
ESCALATION = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}


def _drift(deployment: Any, clients: Clients | None = None) -> Any:
    return detect_drift(
        deployment.graph, deployment.states(), clients or deployment.clients, ["primary"]
    )


def _result(report: Any, key: str) -> Any:
    return next(r for r in report.resources if r.key == key)


def _changes(result: Any) -> dict[str, tuple[Any, Any]]:
    return {c.name: (c.expected, c.actual) for c in result.changes}


class Recorder:
    def __init__(self) -> None:
        self.operations: list[str] = []

    def __call__(self, model: Any, **_: Any) -> None:
        self.operations.append(f"{model.service_model.service_name}:{model.name}")


def test_the_sets_are_the_roles_own_policies(deployment: Any) -> None:
    deployment.apply(INLINE, ATTACHED, MONITORING_ATTACHED)
    assert deployment.diff(INLINE) == {} and deployment.diff(ATTACHED) == {}
    inline = deployment.read(INLINE)
    assert inline is not None
    assert inline["policy_names"] == ["payments-lambda-exec-policy-dev"]
    assert deployment.read(ATTACHED)["policy_arns"] == []  # type: ignore[index]
    monitoring = deployment.read(MONITORING_ATTACHED)
    assert monitoring is not None
    assert monitoring["policy_arns"] == [
        "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
    ]
    assert deployment.entry(INLINE)["id"] == ROLE_NAME


def test_an_extra_inline_policy_is_drift_described_and_removed_by_apply(
    deployment: Any, client_for: Any
) -> None:
    deployment.apply(INLINE)
    iam = client_for("iam")
    iam.put_role_policy(
        RoleName=ROLE_NAME, PolicyName="debug-admin", PolicyDocument=json.dumps(ESCALATION)
    )

    result = _result(_drift(deployment), INLINE)
    assert result.status == DRIFTED
    assert _changes(result) == {
        "policy_names": (
            ["payments-lambda-exec-policy-dev"],
            ["debug-admin", "payments-lambda-exec-policy-dev"],
        )
    }
    live = deployment.read(INLINE)
    words = resource_driver(result.type).describe_value("policy_names", ["debug-admin"], live)
    assert words == "debug-admin: Allow * on *"

    change = deployment.plan(INLINE).changes[INLINE]
    assert change.action.value == "update" and list(change.diffs) == ["policy_names"]
    deployment.apply(INLINE)
    assert iam.list_role_policies(RoleName=ROLE_NAME)["PolicyNames"] == [
        "payments-lambda-exec-policy-dev"
    ]
    assert _result(_drift(deployment), INLINE).status == IN_SYNC


def test_an_extra_attached_policy_is_drift_named_and_detached_by_apply(
    deployment: Any, client_for: Any
) -> None:
    deployment.apply(ATTACHED)
    iam = client_for("iam")
    policy = iam.create_policy(PolicyName="debug-admin", PolicyDocument=json.dumps(ESCALATION))
    arn = policy["Policy"]["Arn"]
    iam.attach_role_policy(RoleName=ROLE_NAME, PolicyArn=arn)

    result = _result(_drift(deployment), ATTACHED)
    assert result.status == DRIFTED
    assert _changes(result) == {"policy_arns": ([], [arn])}
    words = resource_driver(result.type).describe_value(
        "policy_arns", [arn], deployment.read(ATTACHED)
    )
    assert words == f"{arn}: managed policy debug-admin"

    deployment.apply(ATTACHED)
    assert iam.list_attached_role_policies(RoleName=ROLE_NAME)["AttachedPolicies"] == []
    assert _result(_drift(deployment), ATTACHED).status == IN_SYNC


def test_a_missing_attachment_is_attached_again(deployment: Any, client_for: Any) -> None:
    """The set names the managed policy: detached behind our back, apply attaches it back
    (the attachment resource, and the set, which attaches what it names, as Terraform's)."""
    deployment.apply(MONITORING_ATTACHED)
    iam = client_for("iam")
    role = "payments-rds-monitoring-dev"
    arn = "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
    iam.detach_role_policy(RoleName=role, PolicyArn=arn)
    assert _result(_drift(deployment), MONITORING_ATTACHED).status == DRIFTED
    deployment.apply(MONITORING_ATTACHED)
    attached = iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == [arn]


def test_destroying_the_sets_removes_no_policy(deployment: Any, client_for: Any) -> None:
    deployment.apply(INLINE, MONITORING_ATTACHED)
    for key in (INLINE, MONITORING_ATTACHED):
        driver, ctx = deployment.driver_and_context(key)
        driver.delete(ctx, deployment.entry(key)["id"], deployment.read(key))
    iam = client_for("iam")
    assert iam.list_role_policies(RoleName=ROLE_NAME)["PolicyNames"] == [
        "payments-lambda-exec-policy-dev"
    ]
    attached = iam.list_attached_role_policies(RoleName="payments-rds-monitoring-dev")
    assert len(attached["AttachedPolicies"]) == 1


def test_a_refresh_reads_every_roles_policies_in_one_call(deployment: Any) -> None:
    """Drift of the roles, their policies, attachments and sets: one
    GetAccountAuthorizationDetails answers them all, and the answer is the one the roles' own
    calls give outside a refresh."""
    deployment.apply(INLINE, ATTACHED, MONITORING_ATTACHED)
    recorder = Recorder()
    report = _drift(deployment, Clients(hooks=[("before-call", recorder)]))
    assert not report.has_drift
    assert all(is_read_operation(op.split(":")[1]) for op in recorder.operations)
    assert recorder.operations.count("iam:GetAccountAuthorizationDetails") == 1
    for operation in ("GetRolePolicy", "ListRolePolicies", "ListAttachedRolePolicies"):
        assert f"iam:{operation}" not in recorder.operations

    from deployer.batch import ReadBatch
    from deployer.planner import context_for
    from deployer.resource import driver_for

    batch = ReadBatch()
    for key in (INLINE, ATTACHED, "primary:aws_iam_role_policy.lambda_exec"):
        driver, alone = deployment.driver_and_context(key)
        node = deployment.graph.node(key)
        id = deployment.entry(key)["id"]
        batch.prefetch(deployment.clients, [(alone.region, r) for r in driver.batch_reads(id, {})])
        batched = context_for(deployment.clients, deployment.spec.region, node, batch=batch)
        assert driver_for(node).read(batched, id) == driver.read(alone, id), key


def test_a_changed_trust_policy_is_drift_and_apply_restores_it(
    deployment: Any, client_for: Any
) -> None:
    """The trust policy is compared as a document: another principal allowed to assume the
    role is drift of `assume_role_policy`, and apply puts the declared document back."""
    deployment.apply(ROLE)
    iam = client_for("iam")
    trust = iam.get_role(RoleName=ROLE_NAME)["Role"]["AssumeRolePolicyDocument"]
    widened = json.loads(json.dumps(trust))
    widened["Statement"].append(
        {
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::999999999999:root"},
            "Action": "sts:AssumeRole",
        }
    )
    iam.update_assume_role_policy(RoleName=ROLE_NAME, PolicyDocument=json.dumps(widened))

    result = _result(_drift(deployment), ROLE)
    assert result.status == DRIFTED
    assert list(_changes(result)) == ["assume_role_policy"]
    assert "999999999999" in json.dumps(_changes(result)["assume_role_policy"][1])

    deployment.apply(ROLE)
    restored = iam.get_role(RoleName=ROLE_NAME)["Role"]["AssumeRolePolicyDocument"]
    assert restored == trust
    assert _result(_drift(deployment), ROLE).status == IN_SYNC


def test_the_read_keeps_no_policy_words_in_a_compared_attribute(deployment: Any) -> None:
    """What an extra policy allows is kept beside the read (`DETAILS`), never in an attribute
    the diff compares or the export writes."""
    deployment.apply(INLINE)
    live = deployment.read(INLINE)
    assert live is not None
    assert set(live) == {"id", "role_name", "policy_names", DETAILS}
    assert set(live[DETAILS]) == set(live["policy_names"])


def test_a_policy_in_words() -> None:
    """Effect, actions and resources of each statement, as IAM returns documents (a dict, or
    a URL-encoded string)."""
    from urllib.parse import quote

    from resources.iam.roles import policy_words

    two = {
        "Statement": [
            {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": "b/*"},
            {
                "Effect": "Deny",
                "NotAction": "iam:*",
                "Resource": "*",
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
        ]
    }
    expected = (
        "Allow s3:GetObject, s3:PutObject on b/*; "
        "Deny all but iam:* on * when Bool aws:SecureTransport=false"
    )
    assert policy_words(two) == expected
    assert policy_words(quote(json.dumps(two))) == expected
    assert policy_words({"Statement": []}) == "no statement"
    assert policy_words("%7Bnot json") == "a document that is not JSON"
