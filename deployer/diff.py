"""Comparing desired attributes with live ones, without false alarms.

Rules, chosen so that a read right after an apply compares equal:
- only attributes the node sets are compared (AWS defaults the spec leaves unset are ignored);
- nested blocks (lists of dicts) compare the keys the desired block sets, order-insensitively;
- maps (tags, environment variables) compare exactly, except tags that AWS adds (`aws:`);
- lists of scalars compare as sets (Terraform models most of them as sets);
- strings holding JSON documents (IAM and bucket policies) compare as documents, with
  single-vs-list and ordering normalised;
- numbers compare by value, whatever their spelling (`7`, `7.0`, `"7"`).
"""

from __future__ import annotations

import json
from typing import Any

from deployer.model import UNKNOWN, is_write_only


def diff_attributes(
    desired: dict[str, Any], live: dict[str, Any], ignore: frozenset[str] = frozenset()
) -> dict[str, tuple[Any, Any]]:
    """attribute → (live value, desired value) for every managed attribute that differs."""
    changes: dict[str, tuple[Any, Any]] = {}
    for name, want in desired.items():
        if name in ignore or want is None or is_write_only(name):
            continue
        have = live.get(name)
        if want is UNKNOWN or not equivalent(want, have, top_level_name=name):
            changes[name] = (have, want)
    return changes


def equivalent(want: Any, have: Any, top_level_name: str = "") -> bool:
    if want is UNKNOWN:
        return False
    if isinstance(want, bool) or isinstance(have, bool):
        return _as_bool(want) == _as_bool(have)
    if isinstance(want, int | float) and not isinstance(want, bool):
        return _as_number(have) == float(want)
    if isinstance(want, str):
        if isinstance(have, str) and want == have:
            return True
        doc_want, doc_have = _as_json(want), _as_json(have)
        if isinstance(doc_want, dict | list) and doc_want is not None:
            return canonical_json(doc_want) == canonical_json(doc_have)
        if isinstance(have, int | float) and not isinstance(have, bool):
            return _as_number(want) == float(have)
        return False
    if isinstance(want, dict):
        if not isinstance(have, dict):
            return not want and not have
        if top_level_name in ("tags", "tags_all"):
            have = {k: v for k, v in have.items() if not str(k).startswith("aws:")}
        return set(want) == set(have) and all(equivalent(v, have[k]) for k, v in want.items())
    if isinstance(want, list):
        have = have if isinstance(have, list) else ([] if have is None else [have])
        if len(want) != len(have):
            return False
        if all(isinstance(w, dict) for w in want):
            return _match_blocks(want, have)
        return sorted(map(_scalar_key, want)) == sorted(map(_scalar_key, have))
    return bool(want == have)


def _match_blocks(want: list[dict[str, Any]], have: list[Any]) -> bool:
    """Each desired block matches a distinct live block on the keys it sets."""
    remaining = list(have)
    for block in want:
        for i, candidate in enumerate(remaining):
            if isinstance(candidate, dict) and all(
                v is None or equivalent(v, candidate.get(k), top_level_name=k)
                for k, v in block.items()
            ):
                del remaining[i]
                break
        else:
            return False
    return True


def _scalar_key(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return repr(float(value))
    return str(value)


def _as_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _as_json(value: Any) -> Any:
    if not isinstance(value, str) or not value.lstrip().startswith(("{", "[")):
        return None
    try:
        return json.loads(value)
    except ValueError:
        return None


# Policy elements that may be a single string or a list of them, with the same meaning.
_SET_VALUED = frozenset(
    {"Action", "NotAction", "Resource", "NotResource", "AWS", "Service", "Federated"}
)


def canonical_json(doc: Any, key: str = "") -> Any:
    """A normal form for JSON documents: sorted keys, IAM's one-or-many values as sorted lists."""
    if isinstance(doc, dict):
        return {k: canonical_json(v, k) for k, v in sorted(doc.items())}
    if isinstance(doc, list):
        items = [canonical_json(v) for v in doc]
        if key in _SET_VALUED or key == "Statement" or all(isinstance(i, str) for i in items):
            items = sorted(items, key=lambda i: json.dumps(i, sort_keys=True))
        if key in _SET_VALUED and len(items) == 1:
            return items[0]
        return items
    return doc
