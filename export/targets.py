"""What each major of the hashicorp/aws provider accepts, as data the one exporter reads.

The graph is written in provider 6's vocabulary (the vendored 6.47 schema). Provider 5 (>= 5.100)
differs in a few ways that matter to this environment, and nowhere else:

- no resource-level `region`: a resource or data source acting in another region goes through a
  provider alias (`provider = aws.primary`) instead;
- a few arguments are written in their 5.x form (a GSI's keys as `hash_key`/`range_key` rather
  than `key_schema` blocks) or do not exist yet (an ACM certificate's `options.export`, which is
  dropped while it has its default and refused otherwise);
- a few resource types do not exist yet (`lacks`): their blocks are left out, and the exported
  README says what the configuration does not enforce there.

Each target is checked against its own vendored schema (`deployer.schema`, `version=`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from deployer.aws import DeployerError

# Rewrites one resource's attributes (provider 6 vocabulary) into a target's; `where` names the
# resource in errors.
Rewrite = Callable[[dict[str, Any], str], dict[str, Any]]


class TargetError(DeployerError):
    pass


@dataclass(frozen=True)
class ProviderTarget:
    """One major of hashicorp/aws as an export target."""

    major: int
    # The `required_providers` constraint the export pins.
    constraint: str
    # Whether every regional resource and data source takes a `region` argument (6.0+).
    resource_region: bool
    rewrites: Mapping[str, Rewrite] = field(default_factory=dict)
    # Resource types the major does not have → what the configuration then does not enforce
    # (the exported README's words): their blocks are left out of the export.
    lacks: Mapping[str, str] = field(default_factory=dict)

    def attributes(self, tf_type: str, attributes: dict[str, Any], where: str) -> dict[str, Any]:
        """A resource's attributes as this target writes them."""
        rewrite = self.rewrites.get(tf_type)
        return rewrite(attributes, where) if rewrite else attributes


def gsi_keys_as_attributes(attributes: dict[str, Any], where: str) -> dict[str, Any]:
    """Provider 5 names a global secondary index's keys `hash_key` and `range_key`; 6 has
    `key_schema` blocks (and deprecates the two attributes)."""
    indexes = []
    for index in attributes.get("global_secondary_index") or []:
        index = dict(index)
        for key in index.pop("key_schema", None) or []:
            name = {"HASH": "hash_key", "RANGE": "range_key"}[key["key_type"]]
            index[name] = key["attribute_name"]
        indexes.append(index)
    if not indexes:
        return attributes
    return {**attributes, "global_secondary_index": indexes}


def drop_default(block: str, name: str, default: Any) -> Rewrite:
    """An argument that the older provider lacks: dropped while it has the value AWS assumes
    anyway, refused otherwise (the export would not mean what was deployed)."""

    def rewrite(attributes: dict[str, Any], where: str) -> dict[str, Any]:
        blocks = []
        for item in attributes.get(block) or []:
            item = dict(item)
            value = item.pop(name, None)
            if value not in (None, default):
                raise TargetError(
                    f"{where}: {block}.{name} = {value!r} needs AWS provider 6; export with "
                    "--provider-version 6"
                )
            blocks.append(item)
        return {**attributes, block: blocks} if block in attributes else attributes

    return rewrite


PROVIDER_6 = ProviderTarget(major=6, constraint="~> 6.0", resource_region=True)
PROVIDER_5 = ProviderTarget(
    major=5,
    constraint=">= 5.100, < 6.0",
    resource_region=False,
    rewrites={
        "aws_dynamodb_table": gsi_keys_as_attributes,
        "aws_acm_certificate": drop_default("options", "export", "DISABLED"),
    },
    lacks={
        "aws_vpc_security_group_rules_exclusive": (
            "the exclusive rule set of each security group (provider 6's "
            "`aws_vpc_security_group_rules_exclusive`, new in 6.0): a rule added to a group "
            "outside Terraform is neither shown by `terraform plan` nor revoked by `terraform "
            "apply`; `deployer drift` still reports it and `deployer apply` revokes it"
        ),
    },
)
TARGETS: dict[int, ProviderTarget] = {t.major: t for t in (PROVIDER_6, PROVIDER_5)}
DEFAULT_TARGET = PROVIDER_6


def target(major: int) -> ProviderTarget:
    try:
        return TARGETS[major]
    except KeyError:
        known = ", ".join(str(m) for m in sorted(TARGETS))
        raise TargetError(f"no export target for AWS provider {major} (known: {known})") from None
