"""The checkov skip file is well-formed, and the gate judges a checkov report by it.

checkov itself runs in scripts/security-scan.sh (its own venv); these tests need neither checkov
nor AWS: they read security/checkov-skips.yaml and feed scripts/checkov_gate.py small reports.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
SKIPS = REPO / "security" / "checkov-skips.yaml"
SCAN = REPO / "scripts" / "security-scan.sh"


def load_gate() -> ModuleType:
    spec = importlib.util.spec_from_file_location("checkov_gate", REPO / "scripts/checkov_gate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["checkov_gate"] = module  # dataclasses look their module up while defining
    spec.loader.exec_module(module)
    return module


gate = load_gate()


def write(tmp_path: Path, entries: list[dict[str, Any]]) -> Path:
    path = tmp_path / "skips.yaml"
    path.write_text(yaml.safe_dump({"skips": entries}))
    return path


def report(*failures: tuple[str, str], resources: int = 10) -> dict[str, Any]:
    return {
        "check_type": "terraform",
        "results": {
            "failed_checks": [
                {"check_id": c, "resource": r, "file_path": "/x.tf", "check_name": "a check"}
                for c, r in failures
            ]
        },
        "summary": {"passed": 5, "failed": len(failures), "parsing_errors": 0,
                    "resource_count": resources},
    }  # fmt: skip


# ---------------------------------------------------------------- the project's skip file


def test_every_skip_has_a_check_id_and_a_reason() -> None:
    entries = yaml.safe_load(SKIPS.read_text())["skips"]
    assert entries, "an empty skip file needs no entries list"
    for entry in entries:
        assert re.fullmatch(r"CKV2?_AWS_[0-9]+", entry["id"]), entry
        assert isinstance(entry.get("reason"), str) and entry["reason"].strip(), entry
    gate.load_skips(SKIPS)  # the gate's own, stricter validation


def test_the_scan_uses_this_file_and_a_pinned_checkov() -> None:
    script = SCAN.read_text()
    assert "SKIPS=security/checkov-skips.yaml" in script
    assert re.search(r"^CHECKOV_VERSION=\d+\.\d+\.\d+$", script, re.MULTILINE)


# ---------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("entry", "complaint"),
    [
        ({"id": "CKV_AWS_18"}, "needs a reason"),
        ({"id": "CKV_AWS_18", "reason": "   "}, "needs a reason"),
        ({"id": "CKV_AWS_18", "reason": "not needed"}, "needs a reason"),
        ({"id": "AWS_18", "reason": "a reason of enough words here"}, "not a checkov check id"),
        ({"reason": "a reason of enough words here"}, "not a checkov check id"),
        (
            {"id": "CKV_AWS_18", "reason": "a reason of enough words here", "resources": []},
            "resources must be",
        ),
        (
            {"id": "CKV_AWS_18", "reason": "a reason of enough words here", "why": "x"},
            "unknown keys",
        ),
    ],
)
def test_a_malformed_skip_is_refused(tmp_path: Path, entry: dict[str, Any], complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint):
        gate.load_skips(write(tmp_path, [entry]))


def test_a_check_skipped_twice_is_refused(tmp_path: Path) -> None:
    entry = {"id": "CKV_AWS_18", "reason": "a reason of enough words here"}
    with pytest.raises(ValueError, match="listed twice"):
        gate.load_skips(write(tmp_path, [entry, entry]))


# ---------------------------------------------------------------- judging a report


def test_only_listed_failures_pass(tmp_path: Path) -> None:
    skips = gate.load_skips(
        write(
            tmp_path,
            [
                {"id": "CKV_AWS_18", "reason": "a reason of enough words here"},
                {
                    "id": "CKV_AWS_59",
                    "reason": "a reason of enough words here",
                    "resources": ["aws_api_gateway_method.health"],
                },
            ],
        )
    )
    covered = report(
        ("CKV_AWS_18", "aws_s3_bucket.payments"),
        ("CKV_AWS_59", "aws_api_gateway_method.health"),
    )
    assert gate.judge(skips, covered)[0] == []

    # A skip limited to resources does not cover another resource.
    problems, _ = gate.judge(
        skips,
        report(
            ("CKV_AWS_18", "aws_s3_bucket.payments"),
            ("CKV_AWS_59", "aws_api_gateway_method.health"),
            ("CKV_AWS_59", "aws_api_gateway_method.create_payment"),
        ),
    )
    assert problems == ["FAILED CKV_AWS_59 aws_api_gateway_method.create_payment (/x.tf): a check"]


def test_a_stale_skip_fails_the_scan(tmp_path: Path) -> None:
    skips = gate.load_skips(
        write(tmp_path, [{"id": "CKV_AWS_18", "reason": "a reason of enough words here"}])
    )
    problems, _ = gate.judge(skips, report())
    assert len(problems) == 1 and problems[0].startswith("stale skip CKV_AWS_18")


def test_parsing_errors_and_empty_scans_fail(tmp_path: Path) -> None:
    skips = gate.load_skips(write(tmp_path, []))
    broken = report()
    broken["summary"]["parsing_errors"] = 1
    assert gate.judge(skips, broken)[0]
    assert gate.judge(skips, report(resources=0))[0]
    # checkov writes a list when it ran several frameworks.
    assert gate.judge(skips, [report(), report()])[0] == []
