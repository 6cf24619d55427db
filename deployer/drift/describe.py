"""Every finding in words, with its severity: what a reader needs without opening the console.

An attribute change is described from the driver's own words for its values
(`Resource.describe_value`: by default the value, compactly; an exclusive resource's driver
says what each named policy or rule is), a policy document by the statements it gained or lost
(`policy_diff`), a switch by what it switched ("kms key disabled", "point in time recovery
disabled"), a set by the members it gained or lost. The severity comes from `severity`.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any

from deployer.drift import severity
from deployer.drift.policy_diff import diff_policies
from deployer.drift.report import AttributeChange, ParityBreak
from deployer.model import UNKNOWN
from deployer.resource import DETAILS, Resource, render_value


def _words(name: str) -> str:
    return name.replace("_", " ").strip()


def _noun(tf_type: str) -> str:
    """`aws_kms_key` → `kms key`."""
    return _words(tf_type.removeprefix("aws_"))


def _value(driver: Resource | None, name: str, value: Any, live: Mapping[str, Any] | None) -> str:
    if value is UNKNOWN:
        return "(known after apply)"
    if driver is None:
        return render_value(value)
    return driver.describe_value(name, value, live)


def _switched(tf_type: str, name: str, on: bool) -> str:
    """`kms key disabled`, `point in time recovery enabled`, `block public acls turned off`."""
    parts = severity.path_pattern(name).split(".")
    leaf = parts[-1]
    state = "enabled" if on else "disabled"
    if leaf == "is_enabled":
        return f"{_noun(tf_type)} {state}"
    if leaf == "enabled" and len(parts) > 1:
        return f"{_words(parts[-2])} {state}"
    if leaf.startswith("enable_"):
        return f"{_words(leaf.removeprefix('enable_'))} {state}"
    if leaf.endswith("_enabled"):
        return f"{_words(leaf.removesuffix('_enabled'))} {state}"
    return f"{name} turned {'on' if on else 'off'}"


def _scalars(value: Any) -> bool:
    return isinstance(value, list) and all(not isinstance(v, dict | list) for v in value)


def describe_change(
    driver: Resource | None,
    tf_type: str,
    name: str,
    expected: Any,
    actual: Any,
    live: Mapping[str, Any] | None = None,
) -> str:
    """What happened to attribute `name`, going from `expected` to `actual`, in words."""
    if expected is UNKNOWN:
        return f"{name} becomes {_value(driver, name, actual, live)} (known after apply)"
    policies = diff_policies(expected, actual)
    if policies is not None and (policies.gained or policies.lost):
        return f"{name}: {policies.words()}"
    if isinstance(expected, bool) and isinstance(actual, bool):
        return _switched(tf_type, name, actual)
    if _scalars(expected) and _scalars(actual):
        gained = [v for v in actual if v not in expected]
        lost = [v for v in expected if v not in actual]
        parts = []
        if gained:
            parts.append(f"added {_value(driver, name, gained, live)}")
        if lost:
            parts.append(f"removed {_value(driver, name, lost, live)}")
        if parts:
            return f"{name}: {'; '.join(parts)}"
    if expected is None:
        return f"{name} added: {_value(driver, name, actual, live)}"
    if actual is None:
        return f"{name} removed (was {_value(driver, name, expected, live)})"
    return (
        f"{name} changed from {_value(driver, name, expected, live)} "
        f"to {_value(driver, name, actual, live)}"
    )


def _details(live: Mapping[str, Any] | None) -> Mapping[str, str]:
    details = (live or {}).get(DETAILS)
    return details if isinstance(details, Mapping) else {}


def drift_change(
    driver: Resource, tf_type: str, change: AttributeChange, live: Mapping[str, Any] | None
) -> AttributeChange:
    """A drifted attribute with its description and severity (expected = last applied,
    actual = live)."""
    return dataclasses.replace(
        change,
        description=describe_change(
            driver, tf_type, change.name, change.expected, change.actual, live
        ),
        severity=severity.of_change(
            tf_type, change.name, change.expected, change.actual, _details(live)
        ),
    )


def planned_change(
    driver: Resource, tf_type: str, change: AttributeChange, live: Mapping[str, Any] | None
) -> AttributeChange:
    """A pending change with its description, from last applied (`actual`) to the spec's
    value (`expected`); not a finding, so no severity."""
    return dataclasses.replace(
        change,
        description=describe_change(
            driver, tf_type, change.name, change.actual, change.expected, live
        ),
    )


def parity_break(
    driver: Resource | None, tf_type: str, found: ParityBreak, live: Mapping[str, Any] | None
) -> ParityBreak:
    """A parity break in words (the secondary's value against the primary's, or the other way
    round where the primary is the weaker), rated as that change would be as drift."""
    attribute = found.attribute.removesuffix(" (keys)")
    before, after, told = found.primary, found.secondary, "secondary differs from primary"
    if severity.primary_is_weaker(tf_type, found.attribute, found.primary, found.secondary):
        before, after, told = found.secondary, found.primary, "primary differs from secondary"
    if attribute != found.attribute:
        text = describe_change(None, tf_type, attribute + " keys", before, after)
    else:
        text = describe_change(driver, tf_type, attribute, before, after, live)
    return dataclasses.replace(
        found,
        description=f"{told}: {text}",
        severity=severity.of_parity(tf_type, found.attribute, found.primary, found.secondary),
    )


def describe_unmanaged(kind: str, id: str, details: Mapping[str, str]) -> str:
    """`aws_vpc_security_group_ingress_rule sgr-1: protocol tcp, ports 22, source 0.0.0.0/0`."""
    name = re.sub(r"^arn:[^:]*:[^:]*:[^:]*:[^:]*:", "", id)
    text = f"{_noun(kind)} {name}"
    if details:
        text += ": " + ", ".join(f"{_words(k)} {v}" for k, v in details.items())
    return text
