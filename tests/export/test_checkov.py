"""export/checkov.py: the skip file's entries as the `# checkov:skip` comments of their blocks."""

from __future__ import annotations

import fnmatch
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from deployer.graph import build_graph
from deployer.spec import load_spec
from export import checkov
from export.checkov import Skip, parse_skips, skip_comments, skips
from export.hcl import Attribute, Block, Comment, render_block

REPO = Path(__file__).resolve().parents[2]
# checkov 3.3.30's own pattern (checkov/common/comment/enum.py), searched in every line that lies
# between a block's first and last line; group 3, less its colon, is the `suppress_comment`.
CHECKOV_COMMENT = re.compile(
    r"(checkov:skip=|bridgecrew:skip=|cortex:skip=) *([A-Za-z_\d-]+(?:,[A-Za-z_\d-]+)*)?(:[^\n]*)?"
)
REASON = "a reason of enough words here"


def entry(**fields: Any) -> dict[str, Any]:
    return {"id": "CKV_AWS_18", "summary": "a short summary", "reason": REASON, **fields}


def ids(comments: list[Comment]) -> list[str]:
    found = [CHECKOV_COMMENT.search(c.text) for c in comments]
    assert all(found), comments
    return [m.group(2) for m in found if m]


# ---------------------------------------------------------------- the comments


def test_a_listed_resource_gets_one_comment_per_check() -> None:
    comments = skip_comments("aws_api_gateway_method", "health")
    # CKV_AWS_59 names this method; CKV2_AWS_53 concerns every aws_api_gateway_method.
    assert ids(comments) == ["CKV_AWS_59", "CKV2_AWS_53"]
    by_id = {s.id: s for s in skips()}
    assert [c.text for c in comments] == [
        f"checkov:skip=CKV_AWS_59:{by_id['CKV_AWS_59'].summary}",
        f"checkov:skip=CKV2_AWS_53:{by_id['CKV2_AWS_53'].summary}",
    ]
    assert ids(skip_comments("aws_api_gateway_method", "create_payment")) == ["CKV2_AWS_53"]


def test_an_unlisted_resource_gets_none() -> None:
    assert skip_comments("aws_vpc", "main") == []
    # CKV_AWS_157 names the replica only: the primary instance stays under the check.
    assert ids(skip_comments("aws_db_instance", "replica")) == ["CKV_AWS_157"]
    assert skip_comments("aws_db_instance", "main") == []


def test_checkov_reads_the_rendered_comment_inside_the_block() -> None:
    block = Block(
        "resource",
        ("aws_api_gateway_method", "health"),
        [*skip_comments("aws_api_gateway_method", "health"), Attribute("http_method", "GET")],
    )
    lines = render_block(block).splitlines()
    assert lines[0] == 'resource "aws_api_gateway_method" "health" {' and lines[-1] == "}"
    by_id = {s.id: s for s in skips()}
    inside = [CHECKOV_COMMENT.search(line) for line in lines[1:-1]]
    read = {m.group(2): m.group(3)[1:] for m in inside if m}
    assert read == {i: by_id[i].summary for i in ("CKV_AWS_59", "CKV2_AWS_53")}


def test_every_reason_and_summary_is_one_line() -> None:
    for skip in skips():
        assert "\n" not in skip.summary and "\n" not in skip.reason, skip.id
        assert skip.summary == " ".join(skip.summary.split()), skip.id
        assert len(skip.summary) <= checkov.MAX_SUMMARY_CHARS, skip.id
        assert len(skip.comment.splitlines()) == 1
    (parsed,) = parse_skips(
        {
            "skips": [
                entry(
                    summary="a  short\n summary ",
                    reason="a reason\n  of enough\nwords",
                    types=["aws_s3_bucket"],
                )
            ]
        }
    )
    assert parsed.summary == "a short summary"
    assert parsed.reason == "a reason of enough words"


def test_the_file_is_read_once_from_the_package() -> None:
    assert skips() is skips()
    assert skips() == tuple(checkov.load_skips(REPO / "export" / checkov.SKIPS_RESOURCE))
    # Installed as package data, so that an installed deployer finds it too.
    package_data = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"
    ]
    assert any(fnmatch.fnmatch(checkov.SKIPS_RESOURCE, p) for p in package_data.get("export", []))


def test_every_entry_names_resources_of_the_export() -> None:
    graph = build_graph(load_spec(REPO / "spec.yaml"))
    resources = {n.address for n in graph.nodes() if not n.data and not n.ephemeral}
    for skip in skips():
        assert set(skip.resources) <= resources, skip
        assert all(any(r.startswith(t + ".") for r in resources) for t in skip.types), skip


# ---------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("fields", "complaint"),
    [
        ({}, "needs either `resources`.*not neither"),
        ({"resources": ["aws_s3_bucket.a"], "types": ["aws_s3_bucket"]}, "not resources and"),
        ({"resources": []}, "resources must be"),
        ({"resources": ["aws_s3_bucket"]}, "resources must be"),
        ({"types": []}, "types must be"),
        ({"types": ["aws_s3_bucket.payments"]}, "types must be"),
        ({"types": ["aws_s3_bucket"], "summary": "   "}, "needs a summary"),
        ({"types": ["aws_s3_bucket"], "summary": "word " * 30}, "needs a summary"),
        ({"types": ["aws_s3_bucket"], "reason": "not needed"}, "needs a reason"),
        ({"types": ["aws_s3_bucket"], "id": "AWS_18"}, "not a checkov check id"),
        ({"types": ["aws_s3_bucket"], "why": "x"}, "unknown keys"),
    ],
)
def test_a_malformed_entry_is_refused(fields: dict[str, Any], complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint):
        parse_skips({"skips": [entry(**fields)]})


def test_a_resource_skipped_twice_for_one_check_is_refused() -> None:
    twice = [entry(types=["aws_s3_bucket"]), entry(resources=["aws_s3_bucket.payments"])]
    with pytest.raises(ValueError, match="listed twice"):
        parse_skips({"skips": twice})
    # The same check on other resources is a separate entry.
    apart = [entry(types=["aws_s3_bucket"]), entry(resources=["aws_db_instance.replica"])]
    assert [s.resources or s.types for s in parse_skips({"skips": apart})] == [
        ("aws_s3_bucket",),
        ("aws_db_instance.replica",),
    ]


def test_covers() -> None:
    by_type = Skip("CKV_AWS_18", "a short summary", REASON, types=("aws_s3_bucket",))
    by_name = Skip("CKV_AWS_18", "a short summary", REASON, resources=("aws_s3_bucket.a",))
    assert by_type.covers("aws_s3_bucket.anything") and not by_type.covers("aws_s3_bucket_x.a")
    assert by_name.covers("aws_s3_bucket.a") and not by_name.covers("aws_s3_bucket.b")
