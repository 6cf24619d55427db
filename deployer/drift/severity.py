"""How serious a finding is: `high`, `medium` or `low`, by rules kept here and nowhere else
(docs/drift.md lists them).

- **high**: anything that widens access or weakens protection. A policy statement gained that
  grants what no old statement granted (a wildcard action or resource, a new principal), or a
  `Deny` lost; an extra inline or attached policy on a role; ingress from `0.0.0.0/0` or `::/0`;
  a public access block setting off; encryption removed or a key disabled; deletion
  protection off; backups off (retention 0, point-in-time recovery off); versioning or
  logging off. A missing resource is high.
- **low**: descriptions and tags.
- **medium**: everything else (capacity and configuration).

The rules are generic where they can be (attribute-name patterns: every `*deletion_protection*`
and every `*.enabled` of a protective block), keyed by Terraform type and attribute only where
the meaning lives there (the exclusive resources' sets). They read the values a finding
carries, and for the members of an exclusive set the words the driver's read kept for them
(`live[DETAILS]`): no second table of what drivers know.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from deployer.drift.policy_diff import covered, diff_policies
from deployer.model import UNKNOWN

HIGH, MEDIUM, LOW = "high", "medium", "low"
# Most severe first.
SEVERITIES: tuple[str, ...] = (HIGH, MEDIUM, LOW)

# Sources that mean "from anywhere".
WORLD_CIDRS = frozenset({"0.0.0.0/0", "::/0"})

# Sets whose extra member widens access whatever it is (Terraform's exclusive resources).
WIDENING_SETS: frozenset[tuple[str, str]] = frozenset(
    {
        ("aws_iam_role_policies_exclusive", "policy_names"),
        ("aws_iam_role_policy_attachments_exclusive", "policy_arns"),
    }
)
# Sets of ingress rules: an extra member open to the world is high.
INGRESS_SETS: frozenset[tuple[str, str]] = frozenset(
    {("aws_vpc_security_group_rules_exclusive", "ingress_rule_ids")}
)

# Attributes (paths without list indexes) that protect something: turned off, removed or
# shrunk, the protection is weaker. Matched against the whole path.
PROTECTIVE = re.compile(
    r"(^|\.)("
    r"is_enabled"  # a KMS key
    r"|enable_key_rotation"
    r"|[a-z_]*deletion_protection[a-z_]*"
    r"|block_public_acls|block_public_policy|ignore_public_acls|restrict_public_buckets"
    r"|storage_encrypted|encrypted"
    r"|kms_key_id|kms_key_arn|kms_master_key_id|sse_algorithm"
    r"|backup_retention_period"
    r"|enabled_cloudwatch_logs_exports"
    r")$"
    # `enabled` / `status` of a protective block: point-in-time recovery, encryption,
    # versioning, logging, tracing.
    r"|(point_in_time_recovery|server_side_encryption[a-z_]*|encryption[a-z_]*"
    r"|versioning[a-z_]*|[a-z_]*logging[a-z_]*|[a-z_]*log_settings|tracing_config)"
    r"(\.[a-z_]+)*\.(enabled|status|mode|sse_algorithm|kms_master_key_id|destination_arn)$"
    # A whole protective block removed.
    r"|(^|\.)(point_in_time_recovery|server_side_encryption[a-z_]*|encryption_configuration"
    r"|[a-z_]*logging[a-z_]*|access_log_settings)$"
)
LOW_PATTERN = re.compile(r"^(tags|tags_all)(\.|$)|(^|\.)([a-z_]*_)?description$")

# Values that mean "off".
_OFF_WORDS = frozenset({"disabled", "suspended", "false", "off", "passthrough", "none"})


def path_pattern(path: str) -> str:
    """`point_in_time_recovery[0].enabled` → `point_in_time_recovery.enabled`."""
    return re.sub(r"\[\d+\]", "", path)


def rank(severity: str | None) -> int:
    """3 for high, 2 medium, 1 low, 0 none: compare with `>=`."""
    return {HIGH: 3, MEDIUM: 2, LOW: 1}.get(severity or "", 0)


def worst(severities: list[str]) -> str | None:
    return max(severities, key=rank) if severities else None


def is_off(value: Any) -> bool:
    if value is UNKNOWN:
        return False
    if value is None:
        return True
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        return value == 0
    if isinstance(value, str):
        return value.strip().lower() in _OFF_WORDS or not value.strip()
    if isinstance(value, list | tuple | dict):
        return not value or all(
            is_off(v) for v in (value.values() if isinstance(value, dict) else value)
        )
    return False


def _weakened(expected: Any, actual: Any) -> bool:
    """A protective value that was on and is now off, removed or has lost members."""
    if expected is UNKNOWN or is_off(expected):
        return False
    if (
        isinstance(expected, list)
        and isinstance(actual, list)
        and all(not isinstance(v, dict) for v in expected)
    ):
        return bool({str(v) for v in expected} - {str(v) for v in actual})
    return is_off(actual)


def _members(value: Any) -> set[str]:
    if value is None or value is UNKNOWN:
        return set()
    return {str(v) for v in (value if isinstance(value, list | tuple) else [value])}


def _opens_to_world(words: str) -> bool:
    return any(
        re.search(rf"(^|[\s:=,(]){re.escape(cidr)}($|[\s,;)])", words) for cidr in WORLD_CIDRS
    )


def of_change(
    tf_type: str,
    name: str,
    expected: Any,
    actual: Any,
    details: Mapping[str, str] | None = None,
) -> str:
    """The severity of attribute `name` of a `tf_type` having become `actual` where
    `expected` was (drift: last applied → live; parity: primary → secondary). `details`:
    what the read kept about the members of a set (`live[DETAILS]`)."""
    path = path_pattern(name)
    top = path.split(".", 1)[0]
    if (tf_type, top) in WIDENING_SETS and _members(actual) - _members(expected):
        return HIGH
    if (tf_type, top) in INGRESS_SETS:
        extra = _members(actual) - _members(expected)
        words = details or {}
        if any(_opens_to_world(f"{member} {words.get(member, '')}") for member in extra):
            return HIGH
    policies = diff_policies(expected, actual)
    if policies is not None:
        before = diff_policies(None, expected)
        after = diff_policies(None, actual)
        old = before.gained if before else ()
        new = after.gained if after else ()
        widened = any(s.allows and not covered(s, old) for s in policies.gained)
        unguarded = any(not s.allows and not covered(s, new) for s in policies.lost)
        return HIGH if widened or unguarded else MEDIUM
    if PROTECTIVE.search(path) and _weakened(expected, actual):
        return HIGH
    if LOW_PATTERN.search(path):
        return LOW
    return MEDIUM


def of_missing(tf_type: str) -> str:
    """A managed resource deleted outside the deployer: whatever it protected or served is gone."""
    return HIGH


def of_unmanaged(kind: str, details: Mapping[str, str]) -> str:
    """Something in the environment that no state manages: an ingress rule from anywhere is
    high; anything else medium (it is reported; what it is decides no more)."""
    if "ingress" in kind and details.get("source", "") in WORLD_CIDRS:
        return HIGH
    return MEDIUM


def of_parity(tf_type: str, attribute: str, primary: Any, secondary: Any) -> str:
    """A parity break is rated as the weaker region's value would be as drift from the
    other's: protection off in either region is high."""
    name = attribute.removesuffix(" (keys)")
    return most_severe(
        of_change(tf_type, name, primary, secondary), of_change(tf_type, name, secondary, primary)
    )


def primary_is_weaker(tf_type: str, attribute: str, primary: Any, secondary: Any) -> bool:
    """Whether the primary's value, seen as drift from the secondary's, is the more severe:
    then a parity break is best told from the secondary's side."""
    name = attribute.removesuffix(" (keys)")
    forward = of_change(tf_type, name, primary, secondary)
    backward = of_change(tf_type, name, secondary, primary)
    return SEVERITIES.index(backward) < SEVERITIES.index(forward)


def most_severe(*severities: str) -> str:
    return min(severities, key=SEVERITIES.index)
