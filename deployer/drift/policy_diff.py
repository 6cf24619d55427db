"""Policy documents as sets of statements: which statements a policy gained or lost, in words,
and whether a gained one grants what no old statement granted.

Drift compares policies as documents (`deployer/diff.py`), so it knows *that* one changed;
an auditor needs to know *how*: "statement added: Allow s3:GetObject on arn:... to *". A
statement is compared whole (effect, principals, actions, resources, conditions; the `Sid`
is only a label), so a statement that was edited reads as one lost and one gained.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

# The elements of a statement that may be a single string or a list, with the same meaning.
_LISTS = ("Action", "NotAction", "Resource", "NotResource")
WORLD = "*"


@dataclass(frozen=True)
class Statement:
    """One statement, normalised: every element a sorted tuple, principals as `type:value`
    (or `*`), conditions as `operator key=value` strings."""

    effect: str
    principals: tuple[str, ...]
    not_principals: tuple[str, ...]
    actions: tuple[str, ...]
    not_actions: tuple[str, ...]
    resources: tuple[str, ...]
    not_resources: tuple[str, ...]
    conditions: tuple[str, ...]
    sid: str = ""

    @property
    def key(self) -> tuple[Any, ...]:
        """What the statement grants or denies, without its label."""
        return (
            self.effect,
            self.principals,
            self.not_principals,
            self.actions,
            self.not_actions,
            self.resources,
            self.not_resources,
            self.conditions,
        )

    @property
    def allows(self) -> bool:
        return self.effect == "Allow"

    def words(self) -> str:
        """`Allow s3:GetObject on arn:aws:s3:::b/* to * when Bool aws:SecureTransport=false`."""
        parts = [self.effect or "?"]
        parts.append(
            _listed(self.actions) if self.actions else f"all but {_listed(self.not_actions)}"
        )
        if self.resources or self.not_resources:
            on = (
                _listed(self.resources)
                if self.resources
                else f"all but {_listed(self.not_resources)}"
            )
            parts.append(f"on {on}")
        if self.principals:
            parts.append(f"to {_listed(self.principals)}")
        elif self.not_principals:
            parts.append(f"to all but {_listed(self.not_principals)}")
        if self.conditions:
            parts.append(f"when {' and '.join(self.conditions)}")
        if self.sid:
            parts.append(f"(Sid {self.sid})")
        return " ".join(parts)


def _listed(items: Iterable[str]) -> str:
    return ", ".join(items) or "(none)"


def _strings(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    items = value if isinstance(value, list | tuple) else [value]
    return tuple(sorted({str(item) for item in items}))


def _principals(value: Any) -> tuple[str, ...]:
    """`*` or `{"AWS": [...], "Service": "..."}` → (`*`,) or (`AWS:arn...`, `Service:...`)."""
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,) if value == WORLD else (f"AWS:{value}",)
    if not isinstance(value, Mapping):
        return (str(value),)
    out = set()
    for kind, names in value.items():
        for name in _strings(names):
            # `{"AWS": "*"}` is anyone, as `*` is.
            out.add(WORLD if name == WORLD and kind == "AWS" else f"{kind}:{name}")
    return tuple(sorted(out))


def _conditions(value: Any) -> tuple[str, ...]:
    if not isinstance(value, Mapping):
        return ()
    out = []
    for operator, tests in value.items():
        if not isinstance(tests, Mapping):
            out.append(f"{operator} {tests}")
            continue
        for key, expected in tests.items():
            out.append(f"{operator} {key}={','.join(_strings(expected))}")
    return tuple(sorted(out))


def as_policy(value: Any) -> dict[str, Any] | None:
    """The document a value holds (a JSON string or a parsed dict) if it is a policy (it has
    a `Statement`), else None."""
    if isinstance(value, str):
        if not value.lstrip().startswith("{"):
            return None
        try:
            value = json.loads(value)
        except ValueError:
            return None
    if isinstance(value, dict) and "Statement" in value:
        return value
    return None


def statements(document: Mapping[str, Any] | None) -> list[Statement]:
    """The document's statements, normalised (a single statement object counts as a list)."""
    if document is None:
        return []
    raw = document.get("Statement")
    items = raw if isinstance(raw, list) else [raw] if isinstance(raw, dict) else []
    out = []
    for item in items:
        if not isinstance(item, Mapping):
            continue
        out.append(
            Statement(
                effect=str(item.get("Effect", "")),
                principals=_principals(item.get("Principal")),
                not_principals=_principals(item.get("NotPrincipal")),
                actions=_strings(item.get("Action")),
                not_actions=_strings(item.get("NotAction")),
                resources=_strings(item.get("Resource")),
                not_resources=_strings(item.get("NotResource")),
                conditions=_conditions(item.get("Condition")),
                sid=str(item.get("Sid") or ""),
            )
        )
    return out


@dataclass(frozen=True)
class PolicyDiff:
    """The statements only the new document has (`gained`) and only the old one (`lost`)."""

    gained: tuple[Statement, ...]
    lost: tuple[Statement, ...]

    def words(self) -> str:
        parts = [f"statement added: {s.words()}" for s in self.gained]
        parts += [f"statement removed: {s.words()}" for s in self.lost]
        return "; ".join(parts)


def diff_policies(old: Any, new: Any) -> PolicyDiff | None:
    """How policy `new` differs from `old` statement by statement, or None when neither value
    is a policy document. A value that is absent (None) has no statements."""
    old_doc, new_doc = as_policy(old), as_policy(new)
    if old_doc is None and new_doc is None:
        return None
    if (old_doc is None and old not in (None, "")) or (new_doc is None and new not in (None, "")):
        return None  # not a policy on one side: compared as plain values
    before, after = statements(old_doc), statements(new_doc)
    old_keys = {s.key for s in before}
    new_keys = {s.key for s in after}
    return PolicyDiff(
        tuple(s for s in after if s.key not in old_keys),
        tuple(s for s in before if s.key not in new_keys),
    )


def _covers(wide: tuple[str, ...], narrow: tuple[str, ...]) -> bool:
    """Every item of `narrow` is in `wide`, or `wide` is everything (`*`)."""
    return WORLD in wide or set(narrow) <= set(wide)


def covered(statement: Statement, by: Iterable[Statement]) -> bool:
    """Another statement of the same effect already says at least as much: principals,
    actions and resources include this one's, and its conditions are no more than this
    one's. A statement so covered neither grants nor denies anything new."""
    if statement.not_actions or statement.not_resources or statement.not_principals:
        return any(other.key == statement.key for other in by)
    return any(
        other.effect == statement.effect
        and not (other.not_actions or other.not_resources or other.not_principals)
        and _covers(other.principals, statement.principals)
        and _covers(other.actions, statement.actions)
        and _covers(other.resources, statement.resources)
        and set(other.conditions) <= set(statement.conditions)
        for other in by
    )
