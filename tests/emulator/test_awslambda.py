"""Lambda (emulator/awslambda.py): a function's KMSKeyArn is kept and reported."""

from __future__ import annotations

import boto3

PRIMARY = "us-east-1"
SECONDARY = "eu-west-1"


def _zip() -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return {}\n")
    return buffer.getvalue()


def test_lambda_environment_key_is_kept_and_reported(aws: None) -> None:
    from moto.awslambda.models import LambdaFunction

    from emulator.awslambda import LAMBDA_CORRECTIONS

    for correct in LAMBDA_CORRECTIONS:
        correct()  # again: each method is patched once
    assert LambdaFunction.get_configuration._deployer_patches == {"kms-key"}  # type: ignore[attr-defined]

    iam = boto3.client("iam", region_name=PRIMARY)
    role = iam.create_role(
        RoleName="fn", AssumeRolePolicyDocument='{"Version": "2012-10-17", "Statement": []}'
    )["Role"]["Arn"]
    kms = boto3.client("kms", region_name=PRIMARY)
    first, second = (kms.create_key()["KeyMetadata"]["Arn"] for _ in range(2))
    lam = boto3.client("lambda", region_name=PRIMARY)
    lam.create_function(
        FunctionName="fn",
        Runtime="python3.12",
        Role=role,
        Handler="handler.handler",
        Code={"ZipFile": _zip()},
        Environment={"Variables": {"A": "1"}},
        KMSKeyArn=first,
    )
    assert lam.get_function(FunctionName="fn")["Configuration"]["KMSKeyArn"] == first
    lam.update_function_configuration(FunctionName="fn", KMSKeyArn=second)
    assert lam.get_function_configuration(FunctionName="fn")["KMSKeyArn"] == second
    lam.update_function_configuration(FunctionName="fn", KMSKeyArn="")  # back to Lambda's key
    assert "KMSKeyArn" not in lam.get_function_configuration(FunctionName="fn")
    lam.create_function(
        FunctionName="plain",
        Runtime="python3.12",
        Role=role,
        Handler="handler.handler",
        Code={"ZipFile": _zip()},
    )
    assert "KMSKeyArn" not in lam.get_function_configuration(FunctionName="plain")
