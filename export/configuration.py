"""The export's files that do not come from the graph's nodes: the `terraform` block and the
providers, the locals that turn `terraform.workspace` into a region, and one variable per spec
section (its type derived from the spec's dataclasses)."""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any

from deployer.model import WORKSPACES
from deployer.spec import Spec
from export.hcl import Attribute, Block, BodyItem, Comment, Raw
from export.targets import ProviderTarget

# Spec sections that hold one value per workspace: read through `local.<section>`.
PER_WORKSPACE_SECTIONS = ("network",)


def provider_blocks(target: ProviderTarget, aliases: set[str]) -> list[BodyItem]:
    """The `terraform` block and the providers: the workspace's own region, and (provider 5)
    one alias per other region some block acts in."""
    if target.resource_region:
        note = (
            "One provider for both workspaces: the workspace picks its region (locals.tf), and "
            "the few resources that act in the other region set `region` themselves (provider 6)."
        )
    else:
        note = (
            "The workspace picks the default provider's region (locals.tf); the few resources "
            "and look-ups that act in a given region go through its alias (provider 5 has no "
            "resource-level `region`)."
        )
    return [
        Block(
            "terraform",
            (),
            [
                # Write-only arguments (password_wo) and ephemeral resources need 1.11.
                Attribute("required_version", ">= 1.11.0"),
                Block(
                    "required_providers",
                    (),
                    [
                        Attribute("aws", {"source": "hashicorp/aws", "version": target.constraint}),
                    ],
                ),
            ],
        ),
        Comment(note),
        Block("provider", ("aws",), [Attribute("region", Raw("local.region"))]),
        *[
            Block(
                "provider",
                ("aws",),
                [Attribute("alias", ws), Attribute("region", Raw(f"var.regions.{ws}"))],
            )
            for ws in WORKSPACES
            if ws in aliases
        ],
    ]


def locals_block(spec: Spec) -> Block:
    return Block(
        "locals",
        (),
        [
            Comment("`terraform workspace select primary|secondary` picks the region."),
            Attribute("is_primary", Raw('terraform.workspace == "primary"')),
            Attribute("region", Raw("var.regions[terraform.workspace]")),
            *[
                Attribute(section, Raw(f"var.{section}[terraform.workspace]"))
                for section in PER_WORKSPACE_SECTIONS
            ],
        ],
    )


def variable_blocks(spec: Spec) -> list[BodyItem]:
    items: list[BodyItem] = [
        Block(
            "variable",
            ("project",),
            [
                Attribute("description", "Project name: the first part of every resource name."),
                Attribute("type", Raw("string")),
                Attribute("default", spec.project),
            ],
        ),
        Block(
            "variable",
            ("environment_suffix",),
            [
                Attribute(
                    "description", "Environment suffix: the last part of every resource name."
                ),
                Attribute("type", Raw("string")),
                Attribute("default", spec.environment_suffix),
            ],
        ),
        Block(
            "variable",
            ("regions",),
            [
                Attribute("description", "The region of each workspace."),
                Attribute("type", Raw("object({ primary = string, secondary = string })")),
                Attribute("default", {ws: spec.region(ws) for ws in WORKSPACES}),
            ],
        ),
    ]
    for f in dataclasses.fields(spec):
        if (
            f.metadata.get("internal")
            or f.metadata.get("export") is False
            or f.name in ("project", "environment_suffix", "workspaces")
        ):
            continue
        value = getattr(spec, f.name)
        key = f.metadata.get("key", f.name)
        hints = typing.get_type_hints(type(spec))
        items.append(
            Block(
                "variable",
                (key,),
                [
                    Attribute("description", f"The spec's `{key}` section."),
                    Attribute("type", Raw(_hcl_type(hints[f.name]))),
                    Attribute("default", _plain(value)),
                ],
            )
        )
    return items


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.metadata.get("key", f.name): _plain(getattr(value, f.name))
            for f in dataclasses.fields(value)
        }
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _hcl_type(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin is typing.Literal:
        return _hcl_type(type(typing.get_args(tp)[0]))
    if origin in (types.UnionType, typing.Union):
        inner = [a for a in typing.get_args(tp) if a is not type(None)]
        return _hcl_type(inner[0])
    if origin is list:
        return f"list({_hcl_type(typing.get_args(tp)[0])})"
    if origin is dict:
        return "map(string)"
    if dataclasses.is_dataclass(tp):
        hints = typing.get_type_hints(tp)
        fields = ", ".join(
            f"{f.metadata.get('key', f.name)} = {_hcl_type(hints[f.name])}"
            for f in dataclasses.fields(tp)
        )
        return f"object({{ {fields} }})"
    return {str: "string", int: "number", float: "number", bool: "bool"}.get(tp, "any")
