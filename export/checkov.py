"""The accepted checkov findings, written into the exported blocks as skip comments.

`data/checkov-skips.yaml` (package data, beside this module) is the one list of the checkov
findings on the exported Terraform that are accepted by design, each with its reason in full and
a one-line summary. `skip_comments` turns the entries that concern one resource block into the
comments that checkov honours inside that block::

    resource "aws_api_gateway_method" "health" {
      # checkov:skip=CKV_AWS_59:GET /health is open by design: ...

so that a user who runs checkov on the exported folder sees 0 failed checks, and each accepted
finding as skipped with its reason. checkov (3.3.30: `checkov.common.comment.enum.COMMENT_REGEX`,
searched anywhere in a line between a block's first and last line) reads
``checkov:skip=<ID>[:<comment>]``; `Comment` renders as ``# <text>``, which it matches.

`load_skips` validates the file; scripts/checkov_gate.py judges checkov's report by the same
entries (it runs in checkov's own venv: this module needs only the standard library, PyYAML and
`export.hcl`).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from export.hcl import Comment

__all__ = ["SKIPS_RESOURCE", "Skip", "load_skips", "parse_skips", "skip_comments", "skips"]

SKIPS_RESOURCE = "data/checkov-skips.yaml"
"""The skip file, relative to this package (`export`)."""

# checkov's check ids: CKV_AWS_18, CKV2_AWS_12 (graph checks).
CHECK_ID = re.compile(r"^CKV2?_[A-Z0-9]+_[0-9]+$")
# A Terraform resource type, and a resource address as checkov reports it: `type.name`.
TYPE = re.compile(r"^[a-z][a-z0-9_]*$")
ADDRESS = re.compile(r"^[a-z][a-z0-9_]*\.[A-Za-z_][A-Za-z0-9_-]*$")
# A reason must say something; a summary must too, and fit in one comment line.
MIN_REASON_WORDS = 5
MIN_SUMMARY_WORDS = 3
MAX_SUMMARY_CHARS = 100
KEYS = frozenset({"id", "summary", "reason", "resources", "types"})


@dataclass(frozen=True)
class Skip:
    """One accepted finding: check `id` on the `resources` listed and every block of `types`."""

    id: str
    summary: str  # one line: the comment's text, and checkov's `suppress_comment`
    reason: str  # in full, whitespace collapsed
    resources: tuple[str, ...] = ()
    types: tuple[str, ...] = ()

    def covers(self, address: str) -> bool:
        """Whether the block of resource `address` (`type.name`) gets this skip."""
        return address in self.resources or address.split(".", 1)[0] in self.types

    @property
    def comment(self) -> str:
        """The comment's text, as checkov reads it."""
        return f"checkov:skip={self.id}:{self.summary}"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _names(value: Any, pattern: re.Pattern[str]) -> tuple[str, ...] | None:
    """A non-empty list of strings matching `pattern`, or None."""
    if not isinstance(value, list) or not value:
        return None
    if not all(isinstance(v, str) and pattern.match(v) for v in value):
        return None
    return tuple(value)


def parse_skips(document: Any, where: str = SKIPS_RESOURCE) -> list[Skip]:
    """The skips of a loaded skip file, validated: raises ValueError naming every bad entry."""
    entries = document.get("skips") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise ValueError(f"{where}: expected a mapping with a `skips` list")
    errors: list[str] = []
    found: list[Skip] = []
    for index, entry in enumerate(entries):
        at = f"{where}: skips[{index}]"
        if not isinstance(entry, dict):
            errors.append(f"{at}: expected a mapping with id, summary, reason and resources/types")
            continue
        unknown = sorted(set(entry) - KEYS)
        if unknown:
            errors.append(f"{at}: unknown keys {unknown}")
        check_id = entry.get("id")
        if not isinstance(check_id, str) or not CHECK_ID.match(check_id):
            errors.append(f"{at}: id {check_id!r} is not a checkov check id (CKV_AWS_18)")
            continue
        at = f"{where}: {check_id}"
        reason = entry.get("reason")
        reason = _one_line(reason) if isinstance(reason, str) else ""
        if len(reason.split()) < MIN_REASON_WORDS:
            errors.append(f"{at}: needs a reason (at least {MIN_REASON_WORDS} words)")
        summary = entry.get("summary")
        summary = _one_line(summary) if isinstance(summary, str) else ""
        if len(summary.split()) < MIN_SUMMARY_WORDS or len(summary) > MAX_SUMMARY_CHARS:
            errors.append(
                f"{at}: needs a summary of the reason, at least {MIN_SUMMARY_WORDS} words "
                f"in at most {MAX_SUMMARY_CHARS} characters"
            )
        targets: tuple[str, ...] = ()
        kinds = [k for k in ("resources", "types") if k in entry]
        if len(kinds) != 1:
            errors.append(
                f"{at}: needs either `resources` (addresses) or `types` (every block of the "
                "type), not " + (" and ".join(kinds) if kinds else "neither")
            )
        elif kinds == ["resources"]:
            targets = _names(entry["resources"], ADDRESS) or ()
            if not targets:
                errors.append(f"{at}: resources must be a non-empty list of `type.name` addresses")
        else:
            targets = _names(entry["types"], TYPE) or ()
            if not targets:
                errors.append(f"{at}: types must be a non-empty list of resource types (aws_vpc)")
        skip = Skip(
            check_id,
            summary,
            reason,
            targets if kinds == ["resources"] else (),
            targets if kinds == ["types"] else (),
        )
        if len(set(targets)) < len(targets) or any(
            other.id == check_id
            and (
                set(skip.types) & set(other.types)
                or any(other.covers(a) for a in skip.resources)
                or any(skip.covers(a) for a in other.resources)
            )
            for other in found
        ):
            errors.append(f"{at}: listed twice for the same resource")
        found.append(skip)
    if errors:
        raise ValueError("\n".join(errors))
    return found


def load_skips(path: Path | None = None) -> list[Skip]:
    """The skip file (by default the package's own), validated."""
    if path is None:
        text = resources.files("export").joinpath(SKIPS_RESOURCE).read_text(encoding="utf-8")
        where = f"export/{SKIPS_RESOURCE}"
    else:
        text, where = path.read_text(encoding="utf-8"), str(path)
    return parse_skips(yaml.safe_load(text), where)


@functools.cache
def skips() -> tuple[Skip, ...]:
    """The package's skip file, read and validated once."""
    return tuple(load_skips())


def skip_comments(tf_type: str, name: str) -> list[Comment]:
    """The `# checkov:skip=ID:summary` comments for the resource block `tf_type.name`.

    In the file's order, one comment per check; none for a block no entry names. They belong
    inside the block (checkov reads a comment between the block's first and last lines), and
    only in `resource` blocks: the entries name resources.
    """
    address = f"{tf_type}.{name}"
    return [Comment(skip.comment) for skip in skips() if skip.covers(address)]
