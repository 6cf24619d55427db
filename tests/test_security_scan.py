"""The security scan: checkov on the exported folder, judged by scripts/checkov_gate.py.

checkov itself runs in scripts/security-scan.sh (its own venv); these tests need neither checkov
nor AWS: they feed the gate small reports shaped like checkov 3.3.30's JSON. The skip file's
own validation, and its comments, are tests/export/test_checkov.py's.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from export.checkov import Skip, load_skips

REPO = Path(__file__).resolve().parents[1]
SKIPS = REPO / "export" / "data" / "checkov-skips.yaml"
SCAN = REPO / "scripts" / "security-scan.sh"
REASON = "a reason of enough words here"


def load_gate() -> ModuleType:
    spec = importlib.util.spec_from_file_location("checkov_gate", REPO / "scripts/checkov_gate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["checkov_gate"] = module
    spec.loader.exec_module(module)
    return module


gate = load_gate()

HEALTH = "aws_api_gateway_method.health"
CREATE = "aws_api_gateway_method.create_payment"
BUCKET = "aws_s3_bucket.payments"
OPEN = Skip("CKV_AWS_59", "open by design here", REASON, resources=(HEALTH,))
VALIDATED = Skip("CKV2_AWS_53", "the handler validates", REASON, types=("aws_api_gateway_method",))
SKIP_LIST = [OPEN, VALIDATED]


def result(check_id: str, resource: str, comment: str | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {
        "check_id": check_id,
        "resource": resource,
        "file_path": "/x.tf",
        "check_name": "a check",
    }
    if comment is not None:
        found["check_result"] = {"result": "SKIPPED", "suppress_comment": comment}
    return found


def report(
    failed: tuple[tuple[str, str], ...] = (),
    skipped: tuple[tuple[str, str, str], ...] = (),
    passed: tuple[tuple[str, str], ...] = (("CKV_AWS_21", BUCKET),),
    resources: int = 10,
) -> dict[str, Any]:
    return {
        "check_type": "terraform",
        "results": {
            "passed_checks": [result(c, r) for c, r in passed],
            "failed_checks": [result(c, r) for c, r in failed],
            "skipped_checks": [result(c, r, s) for c, r, s in skipped],
            "parsing_errors": [],
        },
        "summary": {"passed": len(passed), "failed": len(failed), "skipped": len(skipped),
                    "parsing_errors": 0, "resource_count": resources},
    }  # fmt: skip


# What the export with its comments gives, and the same folder without them.
AS_EXPORTED = report(
    skipped=(
        ("CKV_AWS_59", HEALTH, OPEN.summary),
        ("CKV2_AWS_53", HEALTH, VALIDATED.summary),
        ("CKV2_AWS_53", CREATE, VALIDATED.summary),
    )
)
WITHOUT_COMMENTS = report(
    failed=(("CKV_AWS_59", HEALTH), ("CKV2_AWS_53", HEALTH), ("CKV2_AWS_53", CREATE))
)


# ---------------------------------------------------------------- the scan script


def test_the_scan_uses_the_package_skip_file_and_a_pinned_checkov() -> None:
    script = SCAN.read_text()
    assert "SKIPS=export/data/checkov-skips.yaml" in script
    assert re.search(r"^CHECKOV_VERSION=\d+\.\d+\.\d+$", script, re.MULTILINE)
    # checkov as a user runs it: no skip list of ours, no framework chosen for it.
    checkov_runs = [line for line in script.splitlines() if "/bin/checkov" in line]
    assert checkov_runs and not any(
        option in line
        for line in checkov_runs
        for option in ("--skip-check", "--framework", "--config-file", "--baseline")
    )
    assert "--provider-version 5" in script


def test_the_project_skip_file_is_valid() -> None:
    assert load_skips(SKIPS) == list(load_skips())


# ---------------------------------------------------------------- judging the reports


def test_every_entry_skipped_with_its_summary_passes() -> None:
    problems, skipped = gate.judge(SKIP_LIST, AS_EXPORTED, WITHOUT_COMMENTS)
    assert problems == []
    assert skipped == [
        "skipped CKV_AWS_59 aws_api_gateway_method.health (/x.tf): a check: open by design here",
        "skipped CKV2_AWS_53 aws_api_gateway_method.health (/x.tf): a check: the handler validates",
        "skipped CKV2_AWS_53 aws_api_gateway_method.create_payment (/x.tf): a check: "
        "the handler validates",
    ]


def test_any_failed_check_fails_the_scan() -> None:
    document = report(
        failed=(("CKV_AWS_18", BUCKET), ("CKV_AWS_59", HEALTH)),
        skipped=(
            ("CKV2_AWS_53", HEALTH, VALIDATED.summary),
            ("CKV2_AWS_53", CREATE, VALIDATED.summary),
        ),
    )
    problems, _ = gate.judge(SKIP_LIST, document, WITHOUT_COMMENTS)
    assert problems == [
        "FAILED CKV_AWS_18 aws_s3_bucket.payments (/x.tf): a check",
        "FAILED CKV_AWS_59 aws_api_gateway_method.health (/x.tf): a check: listed in the skip "
        "file, but its block has no skip comment",
    ]


def test_a_types_entry_must_be_skipped_on_every_block_of_its_types() -> None:
    document = report(
        skipped=(("CKV_AWS_59", HEALTH, OPEN.summary), ("CKV2_AWS_53", HEALTH, VALIDATED.summary)),
        passed=(("CKV2_AWS_53", CREATE),),
    )
    problems, _ = gate.judge(SKIP_LIST, document, WITHOUT_COMMENTS)
    assert problems == [
        "stale skip CKV2_AWS_53 aws_api_gateway_method.create_payment: checkov reports no such "
        "check on that resource (not in the export, or the check does not concern it)"
    ]


def test_an_entry_that_matches_nothing_fails_the_scan() -> None:
    renamed = Skip("CKV_AWS_18", "no access logs here", REASON, resources=("aws_s3_bucket.old",))
    no_type = Skip("CKV_AWS_1", "nothing of that type", REASON, types=("aws_gone",))
    problems, _ = gate.judge([*SKIP_LIST, renamed, no_type], AS_EXPORTED, WITHOUT_COMMENTS)
    assert problems == [
        "stale skip CKV_AWS_1 (aws_gone): the export has no resource of those types",
        "stale skip CKV_AWS_18 aws_s3_bucket.old: checkov reports no such check on that resource "
        "(not in the export, or the check does not concern it)",
    ]


def test_a_skipped_check_that_passes_without_its_comment_is_stale() -> None:
    # checkov reports a check skipped by a comment even where it would pass.
    fixed = report(failed=(("CKV2_AWS_53", HEALTH), ("CKV2_AWS_53", CREATE)))
    problems, _ = gate.judge(SKIP_LIST, AS_EXPORTED, fixed)
    assert problems == [
        "stale skip CKV_AWS_59 aws_api_gateway_method.health: the check passes without the "
        "comment; remove the entry from the skip file (or narrow it)"
    ]


def test_a_skip_the_file_does_not_list_or_word_fails_the_scan() -> None:
    document = report(
        skipped=(
            ("CKV_AWS_59", HEALTH, "reworded by hand"),
            ("CKV2_AWS_53", HEALTH, VALIDATED.summary),
            ("CKV2_AWS_53", CREATE, VALIDATED.summary),
            ("CKV_AWS_18", BUCKET, "someone's own comment"),
        )
    )
    problems, _ = gate.judge(SKIP_LIST, document, WITHOUT_COMMENTS)
    assert problems == [
        "skip CKV_AWS_59 aws_api_gateway_method.health: checkov read the comment "
        "'reworded by hand', not the skip file's summary 'open by design here'",
        "unlisted skip CKV_AWS_18 aws_s3_bucket.payments (/x.tf): a check: skipped by a comment "
        '("someone\'s own comment") that the skip file does not list',
    ]


def test_parsing_errors_and_empty_scans_fail() -> None:
    broken = report()
    broken["summary"]["parsing_errors"] = 1
    broken["results"]["parsing_errors"] = ["/x.tf"]
    assert gate.judge([], broken)[0] == ["checkov could not parse 1 file(s): ['/x.tf']"]
    assert gate.judge([], report(resources=0))[0] == [
        "checkov scanned no resource: is the export empty?"
    ]
    # A folder with nothing to scan: checkov writes a bare summary.
    bare = {"passed": 0, "failed": 0, "skipped": 0, "parsing_errors": 0, "resource_count": 0}
    assert gate.judge([], bare)[0] == ["checkov scanned no resource: is the export empty?"]
    # checkov writes a list when several frameworks found something.
    assert gate.judge([], [report(), report()])[0] == []


def test_main_reads_the_file_and_both_reports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "report.json").write_text(json.dumps(AS_EXPORTED))
    (tmp_path / "unskipped.json").write_text(json.dumps(WITHOUT_COMMENTS))
    (tmp_path / "skips.yaml").write_text(
        f"""skips:
  - id: CKV_AWS_59
    resources: [{HEALTH}]
    summary: {OPEN.summary}
    reason: {REASON}
  - id: CKV2_AWS_53
    types: [aws_api_gateway_method]
    summary: {VALIDATED.summary}
    reason: {REASON}
"""
    )
    argv = ["gate", *(str(tmp_path / n) for n in ("skips.yaml", "report.json", "unskipped.json"))]
    assert gate.main(argv) == 0
    assert capsys.readouterr().out.splitlines()[-1] == (
        f"checkov: 1 passed, 0 failed, 3 skipped (3 as {argv[1]} says), 0 problem(s)"
    )
    assert gate.main(argv[:3]) == 2
