"""Tests for deployer.schema and scripts/vendor_schema.py."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from deployer import schema
from deployer.schema import block_schema, is_block, resource_schema, validate_attributes

REPO_ROOT = Path(__file__).resolve().parent.parent
SCRIPT = REPO_ROOT / "scripts" / "vendor_schema.py"
VENDORED = REPO_ROOT / "deployer" / "data" / "aws_schema.json.gz"
SHARED = REPO_ROOT.parent / "shared" / "data" / "aws-provider-schema-6.47.0.json.gz"


class Ref:
    """Stand-in for an opaque reference object (e.g. ``aws_s3_bucket.x.id``)."""


def test_provider_version() -> None:
    assert schema.provider_version() == "6.47.0"


def test_known_good_attributes_pass() -> None:
    attrs = {"bucket": "my-bucket", "versioning_configuration": [{"status": "Enabled"}]}
    assert validate_attributes("aws_s3_bucket_versioning", attrs) == []


def test_reference_objects_and_maps_count_as_values() -> None:
    attrs = {
        "bucket": Ref(),
        "versioning_configuration": [{"status": Ref()}],
        "region": "eu-west-1",
    }
    assert validate_attributes("aws_s3_bucket_versioning", attrs) == []
    # maps are plain attributes and are not recursed into
    assert validate_attributes("aws_s3_bucket", {"tags": {"Name": "x", "anything": 1}}) == []


def test_misspelled_attribute_reported() -> None:
    attrs = {"bukket": "b", "bucket": "b", "versioning_configuration": [{"status": "Enabled"}]}
    problems = validate_attributes("aws_s3_bucket_versioning", attrs)
    assert len(problems) == 1
    assert "bukket" in problems[0]
    assert "unknown" in problems[0]
    assert "'bucket'" in problems[0]  # suggestion


def test_missing_required_reported() -> None:
    problems = validate_attributes(
        "aws_s3_bucket_versioning", {"versioning_configuration": [{"status": "Enabled"}]}
    )
    assert problems == ["bucket: required attribute is missing"]


def test_none_counts_as_missing() -> None:
    problems = validate_attributes(
        "aws_s3_bucket_versioning",
        {"bucket": None, "versioning_configuration": [{"status": "Enabled"}]},
    )
    assert problems == ["bucket: required attribute is missing"]


def test_missing_required_in_nested_block_reported_with_path() -> None:
    problems = validate_attributes(
        "aws_s3_bucket_versioning",
        {"bucket": "b", "versioning_configuration": [{"mfa_delete": "Disabled"}]},
    )
    assert problems == ["versioning_configuration[0].status: required attribute is missing"]


def test_nested_required_not_checked_when_optional_block_absent() -> None:
    # server_side_encryption_configuration is optional on aws_s3_bucket; its
    # nested required attributes do not matter when it is not given.
    assert validate_attributes("aws_s3_bucket", {"bucket": "b"}) == []


def test_computed_only_reported() -> None:
    problems = validate_attributes("aws_s3_bucket", {"bucket": "b", "arn": "arn:aws:s3:::b"})
    assert len(problems) == 1
    assert problems[0].startswith("arn:")
    assert "computed" in problems[0]


def test_computed_optional_is_settable() -> None:
    # id and region are computed+optional: allowed.
    assert validate_attributes("aws_s3_bucket", {"bucket": "b", "region": "us-east-1"}) == []


def test_block_count_violations_reported() -> None:
    too_many = validate_attributes(
        "aws_s3_bucket_versioning",
        {
            "bucket": "b",
            "versioning_configuration": [{"status": "Enabled"}, {"status": "Suspended"}],
        },
    )
    assert too_many == ["versioning_configuration: block has 2 item(s), at most 1 allowed"]

    too_few = validate_attributes(
        "aws_s3_bucket_versioning", {"bucket": "b", "versioning_configuration": []}
    )
    assert too_few == ["versioning_configuration: block has 0 item(s), at least 1 expected"]

    absent = validate_attributes("aws_s3_bucket_versioning", {"bucket": "b"})
    assert len(absent) == 1
    assert absent[0].startswith("versioning_configuration: required block is missing")


def test_single_nesting_allows_at_most_one() -> None:
    ok = validate_attributes("aws_security_group", {"timeouts": [{"create": "5m"}]})
    assert ok == []
    problems = validate_attributes(
        "aws_security_group", {"timeouts": [{"create": "5m"}, {"delete": "5m"}]}
    )
    assert problems == ["timeouts: block has 2 item(s), at most 1 allowed"]


def test_block_not_list_of_dicts_reported() -> None:
    as_dict = validate_attributes(
        "aws_s3_bucket_versioning",
        {"bucket": "b", "versioning_configuration": {"status": "Enabled"}},
    )
    assert as_dict == ["versioning_configuration: block must be a list of dicts, got dict"]

    bad_item = validate_attributes(
        "aws_s3_bucket_versioning", {"bucket": "b", "versioning_configuration": ["Enabled"]}
    )
    assert bad_item == ["versioning_configuration[0]: block must be a list of dicts, item is str"]


def test_nested_unknown_name_reported_with_path() -> None:
    attrs = {
        "bucket": "b",
        "rule": [
            {
                "apply_server_side_encryption_by_default": [
                    {"sse_algorithm": "aws:kms", "kms_master_key": "k"},
                ],
            }
        ],
    }
    problems = validate_attributes("aws_s3_bucket_server_side_encryption_configuration", attrs)
    assert len(problems) == 1
    assert problems[0].startswith(
        "rule[0].apply_server_side_encryption_by_default[0].kms_master_key:"
    )
    assert "kms_master_key_id" in problems[0]  # suggestion

    problems = validate_attributes(
        "aws_s3_bucket_versioning",
        {"bucket": "b", "versioning_configuration": [{"staus": "Enabled"}]},
    )
    assert "versioning_configuration[0].staus: unknown attribute or block" in problems[0]
    assert "versioning_configuration[0].status: required attribute is missing" in problems


def test_data_source_lookup() -> None:
    assert validate_attributes("aws_iam_role", {"name": "my-role"}, data=True) == []
    data_schema = resource_schema("aws_iam_role", data=True)
    assert data_schema["block"]["attributes"]["name"]["required"] is True
    # arn is computed-only on the data source
    problems = validate_attributes("aws_iam_role", {"name": "r", "arn": "x"}, data=True)
    assert problems == ["arn: attribute is computed-only and cannot be set"]
    # the resource of the same name has a different schema
    assert "assume_role_policy" in resource_schema("aws_iam_role")["block"]["attributes"]
    assert validate_attributes("aws_iam_role", {"name": "r"}) == [
        "assume_role_policy: required attribute is missing"
    ]


def test_data_sources_without_arguments() -> None:
    for name in ("aws_caller_identity", "aws_region", "aws_partition", "aws_availability_zones"):
        assert validate_attributes(name, {}, data=True) == []


def test_unknown_type_raises_key_error() -> None:
    with pytest.raises(KeyError, match="aws_s3_buckett"):
        resource_schema("aws_s3_buckett")
    with pytest.raises(KeyError, match="unknown data source"):
        resource_schema("aws_s3_bucket_versioning", data=True)
    with pytest.raises(KeyError):
        validate_attributes("aws_ec2_nonexistent", {})
    with pytest.raises(KeyError):
        is_block("aws_ec2_nonexistent", "x")


def test_block_schema_and_is_block() -> None:
    top = block_schema("aws_s3_bucket_server_side_encryption_configuration", ())
    assert "bucket" in top["attributes"]
    assert "rule" in top["block_types"]
    inner = block_schema(
        "aws_s3_bucket_server_side_encryption_configuration",
        ("rule", "apply_server_side_encryption_by_default"),
    )
    assert inner["attributes"]["sse_algorithm"]["required"] is True
    assert is_block("aws_s3_bucket_versioning", "versioning_configuration")
    assert not is_block("aws_s3_bucket_versioning", "bucket")
    assert not is_block("aws_s3_bucket", "tags")
    with pytest.raises(KeyError, match="attribute, not a block"):
        block_schema("aws_s3_bucket_versioning", ("bucket",))
    with pytest.raises(KeyError):
        block_schema("aws_s3_bucket_versioning", ("versioning_configuration", "nope"))


def test_returned_schemas_are_copies() -> None:
    block_schema("aws_s3_bucket_versioning")["attributes"].clear()
    resource_schema("aws_s3_bucket_versioning")["block"].clear()
    assert "bucket" in block_schema("aws_s3_bucket_versioning")["attributes"]


def test_vendor_script_is_deterministic(tmp_path: Path) -> None:
    if not SHARED.is_file():
        pytest.skip(f"shared provider schema not available at {SHARED}")
    outputs = []
    for run in (1, 2):
        out = tmp_path / f"run{run}.json.gz"
        result = subprocess.run(
            [sys.executable, str(SCRIPT), str(SHARED), "--output", str(out)],
            capture_output=True,
            text=True,
            check=True,
        )
        assert "resource types" in result.stdout
        assert "data sources" in result.stdout
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]
    assert outputs[0] == VENDORED.read_bytes(), (
        "vendored schema is stale: rerun scripts/vendor_schema.py"
    )


def test_vendor_script_default_source(tmp_path: Path) -> None:
    if not SHARED.is_file():
        pytest.skip(f"shared provider schema not available at {SHARED}")
    out = tmp_path / "default.json.gz"
    subprocess.run([sys.executable, str(SCRIPT), "-o", str(out)], capture_output=True, check=True)
    assert out.read_bytes() == VENDORED.read_bytes()


def test_vendored_provider_5_schema_is_what_the_mirror_gives(tmp_path: Path) -> None:
    """The 5.100 schema comes from the real Terraform and the offline provider mirror."""
    vendored = REPO_ROOT / "deployer" / "data" / "aws_schema_5.json.gz"
    out = tmp_path / "five.json.gz"
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--provider-version", "5", "-o", str(out)],
        capture_output=True,
        text=True,
        env={**os.environ, "TF_CLI_CONFIG_FILE": os.devnull, "CHECKPOINT_DISABLE": "1"},
    )
    if done.returncode != 0:
        reason = f"cannot vendor the provider 5 schema here: {done.stderr.strip()}"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but {reason}")
        pytest.skip(reason)
    assert "provider 5.100.0" in done.stdout
    assert out.read_bytes() == vendored.read_bytes(), (
        "vendored provider 5 schema is stale: rerun scripts/vendor_schema.py --provider-version 5"
    )
    assert schema.provider_version(5) == "5.100.0"
