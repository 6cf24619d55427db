#!/usr/bin/env python3
"""Judge checkov's JSON reports on the exported Terraform against the skip file.

    checkov_gate.py SKIPS_YAML REPORT_JSON UNSKIPPED_JSON

REPORT_JSON is checkov run on the exported folder as a user runs it; UNSKIPPED_JSON is checkov
run on a copy of that folder without its `# checkov:skip=` comments. Exit 0 only when

- no check failed (each accepted finding is skipped by the comment the export writes from the
  skip file, export/data/checkov-skips.yaml), checkov parsed every file and scanned resources;
- every entry of the skip file is reported skipped, with its summary as the suppress comment,
  for each of its resources (for `types`, each resource of those types in the export), and no
  check is skipped that the file does not list;
- each of those checks really fails without the comment: checkov reports a check skipped by a
  comment whether it would pass or not, so only the run without comments shows an entry that a
  fix made stale (remove it) or that names a resource the check no longer concerns.

Runs in checkov's own venv: needs the standard library, PyYAML and export/checkov.py (whose
`load_skips` validates the file), imported from this repository.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from export.checkov import Skip, load_skips  # noqa: E402

RESULTS = ("passed_checks", "failed_checks", "skipped_checks")


def reports(document: Any) -> list[dict[str, Any]]:
    """checkov writes one report object per framework, a list when there are several."""
    if isinstance(document, list):
        return document
    # With nothing to scan at all, checkov writes a bare summary: no report.
    return [document] if isinstance(document, dict) and "results" in document else []


def results(document: Any, kind: str) -> Iterator[dict[str, Any]]:
    for report in reports(document):
        yield from (report.get("results") or {}).get(kind) or []


def describe(result: dict[str, Any]) -> str:
    return (
        f"{result['check_id']} {result['resource']} ({result.get('file_path', '?')}): "
        f"{result.get('check_name', '')}"
    )


def suppress_comment(result: dict[str, Any]) -> str | None:
    comment = (result.get("check_result") or {}).get("suppress_comment")
    return comment if isinstance(comment, str) else result.get("suppress_comment")


def targets(skip: Skip, resources: set[str]) -> list[str]:
    """The resources of the export that `skip` concerns: its addresses, or those of its types."""
    if skip.resources:
        return list(skip.resources)
    return sorted(r for r in resources if r.count(".") == 1 and skip.covers(r))


def judge(skips: list[Skip], document: Any, unskipped: Any = None) -> tuple[list[str], list[str]]:
    """(problems, skipped): what fails the scan, and what the skip comments excused.

    `unskipped` is the report of the run without comments; without it, whether each skipped
    check still fails is not judged.
    """
    problems: list[str] = []
    scanned = 0
    for report in reports(document):
        summary = report.get("summary") or {}
        scanned += int(summary.get("resource_count") or 0)
        if summary.get("parsing_errors"):
            problems.append(
                f"checkov could not parse {summary['parsing_errors']} file(s): "
                f"{(report.get('results') or {}).get('parsing_errors')}"
            )
    if scanned == 0:
        problems.append("checkov scanned no resource: is the export empty?")

    resources = {r["resource"] for kind in RESULTS for r in results(document, kind)}
    expected: dict[tuple[str, str], Skip] = {}
    for skip in skips:
        found = targets(skip, resources)
        if not found:
            problems.append(
                f"stale skip {skip.id} ({', '.join(skip.types)}): the export has no resource "
                "of those types"
            )
        expected.update(((skip.id, address), skip) for address in found)

    skipped: list[str] = []
    reported: set[tuple[str, str]] = set()
    excused: set[tuple[str, str]] = set()  # skipped as the file says
    for result in results(document, "failed_checks"):
        key = (result["check_id"], result["resource"])
        reported.add(key)
        missing = ": listed in the skip file, but its block has no skip comment"
        problems.append(f"FAILED {describe(result)}{missing if key in expected else ''}")
    for result in results(document, "skipped_checks"):
        key = (result["check_id"], result["resource"])
        reported.add(key)
        listed = expected.get(key)
        comment = suppress_comment(result)
        if listed is None:
            problems.append(
                f"unlisted skip {describe(result)}: skipped by a comment ({comment!r}) that the "
                "skip file does not list"
            )
        elif comment != listed.summary:
            problems.append(
                f"skip {key[0]} {key[1]}: checkov read the comment {comment!r}, not the skip "
                f"file's summary {listed.summary!r}"
            )
        else:
            excused.add(key)
            skipped.append(f"skipped {describe(result)}: {comment}")
    for check_id, address in sorted(expected.keys() - reported):
        problems.append(
            f"stale skip {check_id} {address}: checkov reports no such check on that resource "
            "(not in the export, or the check does not concern it)"
        )

    if unskipped is not None:
        failing = {(r["check_id"], r["resource"]) for r in results(unskipped, "failed_checks")}
        problems.extend(
            f"stale skip {check_id} {address}: the check passes without the comment; "
            "remove the entry from the skip file (or narrow it)"
            for check_id, address in sorted(excused - failing)
        )
    return problems, skipped


def count(document: Any, field: str) -> int:
    return sum(int((r.get("summary") or {}).get(field) or 0) for r in reports(document))


def main(argv: list[str]) -> int:
    if len(argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        skips = load_skips(Path(argv[1]))
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 1
    document = json.loads(Path(argv[2]).read_text())
    unskipped = json.loads(Path(argv[3]).read_text())
    problems, skipped = judge(skips, document, unskipped)
    for line in skipped:
        print(line)
    for line in problems:
        print(line, file=sys.stderr)
    print(
        f"checkov: {count(document, 'passed')} passed, {count(document, 'failed')} failed, "
        f"{count(document, 'skipped')} skipped ({len(skipped)} as {argv[1]} says), "
        f"{len(problems)} problem(s)"
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
