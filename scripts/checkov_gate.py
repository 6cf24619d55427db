#!/usr/bin/env python3
"""Judge a checkov JSON report against the documented skip file (security/checkov-skips.yaml).

    checkov_gate.py SKIPS_YAML REPORT_JSON

Exit 0 when every failed check is covered by a skip, 1 otherwise. Also fails when checkov could
not parse a file (its resources would go unchecked), when it scanned no resource, and when a
skip matched no failure (a finding that was fixed, or a resource renamed: the file must say what
is really skipped). Runs in checkov's own venv, so it needs only the standard library and PyYAML.

A skip is `{id, reason}` (the check is skipped for every resource) or `{id, reason, resources}`
(only for those Terraform addresses, `aws_api_gateway_method.health`).
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

# checkov's check ids: CKV_AWS_18, CKV2_AWS_12 (graph checks), CKV_K8S_..., CKV_GIT_...
CHECK_ID = re.compile(r"^CKV2?_[A-Z0-9]+_[0-9]+$")
# A Terraform resource address as checkov reports it: `type.name`.
ADDRESS = re.compile(r"^[a-z][a-z0-9_]*\.[A-Za-z_][A-Za-z0-9_-]*$")
# A reason must say something: at least a few words.
MIN_REASON_WORDS = 5


@dataclass(frozen=True)
class Skip:
    id: str
    reason: str
    # None: every resource.
    resources: tuple[str, ...] | None

    def covers(self, check_id: str, resource: str) -> bool:
        return check_id == self.id and (self.resources is None or resource in self.resources)


def load_skips(path: Path) -> list[Skip]:
    """The skip file, validated: raises ValueError naming every malformed entry."""
    document = yaml.safe_load(path.read_text())
    entries = document.get("skips") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise ValueError(f"{path}: expected a mapping with a `skips` list")
    errors: list[str] = []
    skips: list[Skip] = []
    seen: set[tuple[str, str | None]] = set()
    for index, entry in enumerate(entries):
        where = f"{path}: skips[{index}]"
        if not isinstance(entry, dict):
            errors.append(f"{where}: expected a mapping with id and reason")
            continue
        unknown = sorted(set(entry) - {"id", "reason", "resources"})
        if unknown:
            errors.append(f"{where}: unknown keys {unknown}")
        check_id = entry.get("id")
        if not isinstance(check_id, str) or not CHECK_ID.match(check_id):
            errors.append(f"{where}: id {check_id!r} is not a checkov check id (CKV_AWS_18)")
            continue
        where = f"{path}: {check_id}"
        reason = entry.get("reason")
        if not isinstance(reason, str) or len(reason.split()) < MIN_REASON_WORDS:
            errors.append(f"{where}: needs a reason (at least {MIN_REASON_WORDS} words)")
        resources = entry.get("resources")
        if resources is not None and (
            not isinstance(resources, list)
            or not resources
            or not all(isinstance(r, str) and ADDRESS.match(r) for r in resources)
        ):
            errors.append(f"{where}: resources must be a non-empty list of `type.name` addresses")
            resources = None
        for target in resources or [None]:
            if (check_id, target) in seen or (check_id, None) in seen:
                errors.append(f"{where}: listed twice")
            seen.add((check_id, target))
        skips.append(
            Skip(check_id, str(reason or ""), tuple(resources) if resources is not None else None)
        )
    if errors:
        raise ValueError("\n".join(errors))
    return skips


def reports(document: Any) -> list[dict[str, Any]]:
    """checkov writes one report object per framework, a list when there are several."""
    return document if isinstance(document, list) else [document]


def judge(skips: list[Skip], document: Any) -> tuple[list[str], list[str]]:
    """(problems, skipped): what fails the scan, and what the skip file excused."""
    problems: list[str] = []
    skipped: list[str] = []
    used: set[Skip] = set()
    resources = 0
    for report in reports(document):
        summary = report.get("summary") or {}
        resources += int(summary.get("resource_count") or 0)
        if summary.get("parsing_errors"):
            problems.append(
                f"checkov could not parse {summary['parsing_errors']} file(s): "
                f"{(report.get('results') or {}).get('parsing_errors')}"
            )
        for failed in (report.get("results") or {}).get("failed_checks") or []:
            check_id, resource = failed["check_id"], failed["resource"]
            where = f"{check_id} {resource} ({failed.get('file_path', '?')}): "
            where += str(failed.get("check_name", ""))
            skip = next((s for s in skips if s.covers(check_id, resource)), None)
            if skip is None:
                problems.append(f"FAILED {where}")
            else:
                used.add(skip)
                skipped.append(f"skipped {where}")
    if resources == 0:
        problems.append("checkov scanned no resource: is the export empty?")
    for skip in skips:
        if skip not in used:
            problems.append(
                f"stale skip {skip.id}"
                + (f" ({', '.join(skip.resources)})" if skip.resources else "")
                + ": it matched no failed check; remove it from the skip file"
            )
    return problems, skipped


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        skips = load_skips(Path(argv[1]))
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 1
    document = json.loads(Path(argv[2]).read_text())
    problems, skipped = judge(skips, document)
    passed = sum(int((r.get("summary") or {}).get("passed") or 0) for r in reports(document))
    for line in skipped:
        print(line)
    for line in problems:
        print(line, file=sys.stderr)
    print(
        f"checkov: {passed} passed, {len(skipped)} skipped by {argv[1]}, {len(problems)} problem(s)"
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
