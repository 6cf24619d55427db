"""The graph as one Terraform configuration for both workspaces.

Each address becomes one block. Where the primary and secondary nodes agree, the block says
it once; where they differ only by region, suffix or a spec input, the value is written in
terms of `local.region`, `var.*` and `terraform.workspace`; anything else that differs becomes
`local.is_primary ? primary_value : secondary_value`. A node that exists in one workspace only
gets `count` by workspace, and references to it go through `one(x[*].attr)`, which is null in
the other workspace. References into the other workspace (secondary → primary) become data
sources that look the primary resource up, since Terraform workspaces share no state.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from deployer.aws import DeployerError
from deployer.graph import Graph
from deployer.model import WORKSPACES, FileDigest, Interp, Json, JsonDecode, Node, Output, Ref
from deployer.resource import load_stack, resource_driver
from deployer.schema import block_schema, has_type
from deployer.spec import Spec
from export.checkov import skip_comments
from export.configuration import (
    PER_WORKSPACE_SECTIONS,
    locals_block,
    provider_blocks,
    variable_blocks,
)
from export.hcl import (
    Attribute,
    Block,
    BodyItem,
    Call,
    Conditional,
    Expr,
    Raw,
    Template,
    render_expr,
    render_file,
)
from export.targets import DEFAULT_TARGET, ProviderTarget

DEFAULT_FILE = "locals.tf"


def _terraform_files() -> tuple[str, ...]:
    """Every file of the export: the provider, the variables and the locals, each stack
    component's `TERRAFORM_FILE` (where the blocks of the nodes it makes go), the outputs."""
    components = [importlib.import_module(name) for name in load_stack()]
    made = [
        str(module.TERRAFORM_FILE) for module in components if hasattr(module, "TERRAFORM_FILE")
    ]
    return tuple(dict.fromkeys(["provider.tf", "variables.tf", DEFAULT_FILE, *made, "outputs.tf"]))


FILES = _terraform_files()
IS_PRIMARY = Raw("local.is_primary")
# Words of attribute and spec names that say nothing of what a value is.
UNIT_WORDS = frozenset({"in", "s", "ms", "days", "hours", "seconds", "gb", "percent"})


class ExportError(DeployerError):
    pass


@dataclass(frozen=True)
class Side:
    """Which workspace a value is written for."""

    workspace: str
    region: str


@dataclass
class ExportedBlock:
    """One resource or data block, before rendering."""

    kind: str  # "resource" or "data"
    type: str
    name: str
    file: str
    body: list[BodyItem]
    workspaces: tuple[str, ...]

    @property
    def address(self) -> str:
        return (
            f"data.{self.type}.{self.name}" if self.kind == "data" else f"{self.type}.{self.name}"
        )


@dataclass
class Exporter:
    graph: Graph
    spec: Spec
    target: ProviderTarget = DEFAULT_TARGET
    lookups: dict[str, ExportedBlock] = field(default_factory=dict)
    # Provider aliases (workspace names) that some block acts through (provider 5 target).
    aliases: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.nodes: dict[str, dict[str, Node]] = {ws: {} for ws in WORKSPACES}
        for node in self.graph.nodes():
            self.nodes[node.workspace][node.address] = node
        self.spec_inputs = {ws: _spec_inputs(self.spec, ws) for ws in WORKSPACES}

    # ---------------------------------------------------------------- which workspaces

    def present_in(self, address: str) -> tuple[str, ...]:
        return tuple(ws for ws in WORKSPACES if address in self.nodes[ws])

    def is_conditional(self, address: str) -> bool:
        return len(self.present_in(address)) == 1

    def addresses(self) -> list[str]:
        """Every address, in the primary's dependency order, then the secondary's own; not
        those of resource types the target lacks (`ProviderTarget.lacks`)."""
        seen: dict[str, None] = {}
        for node in self.graph.nodes():
            if node.data or node.ephemeral or node.type not in self.target.lacks:
                seen.setdefault(node.address, None)
        return list(seen)

    # ---------------------------------------------------------------- values

    def side(self, workspace: str) -> Side:
        return Side(workspace, self.spec.region(workspace))

    def expr(self, value: Any, side: Side, tf_type: str = "", path: str = "") -> Expr:
        """A node value as an HCL expression for one workspace."""
        if isinstance(value, Ref):
            return Raw(self.reference(value, side))
        if isinstance(value, Interp):
            return Template(
                tuple(
                    Raw(self.reference(p, side)) if isinstance(p, Ref) else p for p in value.parts
                )
            )
        if isinstance(value, Json):
            return Call("jsonencode", (self.expr(value.value, side),))
        if isinstance(value, FileDigest):
            return Call("filebase64sha256", (value.filename,))
        if isinstance(value, JsonDecode):
            path = "".join(f"[{json.dumps(step)}]" for step in value.path)
            return Raw(f"jsondecode({self.reference(value.source, side)}){path}")
        if isinstance(value, dict):
            return {k: self.expr(v, side) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.expr(v, side) for v in value]
        if isinstance(value, bool) or value is None:
            return value
        if isinstance(value, int | float):
            return self.spec_input(value, side, path) or value
        if isinstance(value, str):
            return self.spec_input(value, side, path) or self.templatize(value, side)
        raise ExportError(f"cannot export {type(value).__name__} value {value!r}")

    def spec_input(self, value: str | int | float, side: Side, attribute: str = "") -> Raw | None:
        """The variable a value came from, when exactly one spec input has that value, or
        when one of several shares two or more words (units aside) with the attribute's name,
        more than the others: `rotation_period_in_days = 365` is `kms.rotation_period_days`,
        not a log retention of 365 days."""
        if isinstance(value, str) and value == side.workspace:
            return Raw("terraform.workspace")
        if value == self.spec.project:
            return Raw("var.project")
        if value == self.spec.environment_suffix:
            return Raw("var.environment_suffix")
        matches = self.spec_inputs[side.workspace].get(_value_key(value), [])
        if len(matches) > 1 and attribute:
            words = set(attribute.split("_")) - UNIT_WORDS
            shared = {m: len(words & set(m.rsplit(".", 1)[-1].split("_"))) for m in matches}
            best = max(shared.values())
            matches = [m for m in matches if shared[m] == best] if best >= 2 else []
        return Raw(matches[0]) if len(matches) == 1 else None

    def templatize(self, text: str, side: Side) -> str | Template:
        """Regions, the project and the suffix inside strings, as interpolations."""
        regions = {self.spec.region(ws): ws for ws in WORKSPACES}
        pattern = re.compile(
            "|".join(
                [
                    *(re.escape(r) for r in sorted(regions, key=len, reverse=True)),
                    rf"(?<![A-Za-z0-9]){re.escape(self.spec.project)}(?=-)",
                    rf"(?<=-){re.escape(self.spec.environment_suffix)}(?![A-Za-z0-9])",
                ]
            )
        )
        parts: list[str | Raw] = []
        position = 0
        for match in pattern.finditer(text):
            token = match.group(0)
            if token in regions:
                ws = regions[token]
                replacement = "local.region" if ws == side.workspace else f"var.regions.{ws}"
            elif token == self.spec.project:
                replacement = "var.project"
            else:
                replacement = "var.environment_suffix"
            parts.append(text[position : match.start()])
            parts.append(Raw(replacement))
            position = match.end()
        if not parts:
            return text
        parts.append(text[position:])
        return Template(tuple(p for p in parts if p != ""))

    def reference(self, ref: Ref, side: Side) -> str:
        """`aws_vpc.main.id`, `one(aws_iam_role.x[*].arn)`, or a look-up of the primary."""
        target_ws = ref.workspace or side.workspace
        address = ref.address
        attribute = ref.attribute
        if target_ws != side.workspace:
            address, attribute = self.lookup(ref, side)
        head, rest = _split_attribute(attribute)
        tf_type = address.split(".")[-2]
        kind = address.split(".")[0] if address.startswith(("data.", "ephemeral.")) else "resource"
        is_set = rest.startswith("[") and self.is_set(tf_type, head, kind)
        base = "tolist({})" if is_set else "{}"
        if self.is_conditional(address) or address in self.lookups:
            value = f"one({address}[*].{head})"
        else:
            value = f"{address}.{head}"
        return base.format(value) + rest

    def lookup(self, ref: Ref, side: Side) -> tuple[str, str]:
        """A data source in this workspace that finds the other workspace's resource."""
        source_ws = ref.workspace or side.workspace
        node = self.nodes[source_ws].get(ref.address)
        if node is None:
            raise ExportError(f"{side.workspace} refers to {source_ws}:{ref.address}, not exported")
        driver = resource_driver(node.type)
        if not driver.lookup_by:
            raise ExportError(
                f"{side.workspace} refers to {source_ws}'s {ref.address}, but {node.type} has "
                "no data-source look-up (`lookup_by`) for the Terraform export"
            )
        name = f"{source_ws}_{node.name}"
        address = f"data.{node.type}.{name}"
        if address not in self.lookups:
            body: list[BodyItem] = [
                Attribute(
                    "count",
                    Conditional(IS_PRIMARY, 0, 1)
                    if source_ws == "primary"
                    else Conditional(IS_PRIMARY, 1, 0),
                ),
            ]
            if "region" in block_schema(node.type, data=True)["attributes"]:
                # Regional: looked up in the other workspace's region.
                body.extend(self.region_items(source_ws))
            for argument, attribute in driver.lookup_by.items():
                body.append(Attribute(argument, self.expr(node.attributes[attribute], side)))
            self.lookups[address] = ExportedBlock(
                "data", node.type, name, _file_of(node), body, (side.workspace,)
            )
        attribute = driver.lookup_renames.get(ref.attribute, ref.attribute)
        return address, attribute

    def unify(self, values: dict[str, Any], tf_type: str, name: str) -> Expr:
        """One expression for both workspaces: shared parts once, differences by workspace."""
        exprs = {ws: self.expr(v, self.side(ws), tf_type, name) for ws, v in values.items()}
        return _merge(exprs)

    # ---------------------------------------------------------------- blocks

    def region_items(self, workspace: str) -> list[BodyItem]:
        """How a block says it acts in `workspace`'s region: `region` (6) or an alias (5)."""
        if self.target.resource_region:
            return [Attribute("region", Raw(f"var.regions.{workspace}"))]
        self.aliases.add(workspace)
        return [Attribute("provider", Raw(f"aws.{workspace}"))]

    def provider_alias(self, nodes: dict[str, Node]) -> str | None:
        """The workspace whose region a node with `region` acts in, for targets without
        resource-level `region`: one alias must serve every workspace the node is in."""
        regions = {self.spec.region(ws): ws for ws in WORKSPACES}
        wanted: set[str] = set()
        for ws, node in nodes.items():
            region = node.attributes.get("region")
            if region is None:
                wanted.add(ws)
            elif isinstance(region, str) and region in regions:
                wanted.add(regions[region])
            else:
                raise ExportError(
                    f"{node.key}: region {region!r} is not a workspace's region, which the "
                    f"AWS provider {self.target.major} export can only reach through an alias"
                )
        if len(wanted) != 1:
            raise ExportError(
                f"{next(iter(nodes.values())).address} acts in a different region in each "
                f"workspace, which a provider {self.target.major} alias cannot express"
            )
        (alias,) = wanted
        return None if all(alias == ws for ws in nodes) else alias

    def trigger_references(self, nodes: dict[str, Node], name: str) -> list[Expr]:
        """The references a state-only trigger attribute holds, as `replace_triggered_by`
        items: the same in every workspace, and nothing but references."""
        rendered: set[tuple[str, ...]] = set()
        for ws, node in nodes.items():
            value = node.attributes.get(name) or {}
            values = list(value.values()) if isinstance(value, dict) else [value]
            if not all(isinstance(v, Ref) for v in values):
                raise ExportError(
                    f"{node.key}: {name} holds values that are not references, which Terraform "
                    "could not import (only references can become replace_triggered_by)"
                )
            rendered.add(tuple(self.reference(v, self.side(ws)) for v in values))
        if len(rendered) != 1:
            raise ExportError(f"{next(iter(nodes.values())).address}: {name} differs by workspace")
        return [Raw(r) for r in rendered.pop()]

    def block_for(self, address: str) -> ExportedBlock:
        present = self.present_in(address)
        nodes = {ws: self.nodes[ws][address] for ws in present}
        first = nodes[present[0]]
        kind = "ephemeral" if first.ephemeral else "data" if first.data else "resource"
        attributes = {
            ws: self.target.attributes(n.type, n.attributes, n.key) for ws, n in nodes.items()
        }
        # checkov reads a skip comment anywhere inside the block it concerns.
        body: list[BodyItem] = []
        if kind == "resource":
            body.extend(skip_comments(first.type, first.name))
        if not self.target.resource_region and any("region" in a for a in attributes.values()):
            alias = self.provider_alias(nodes)
            attributes = {
                ws: {k: v for k, v in a.items() if k != "region"} for ws, a in attributes.items()
            }
            if alias is not None:
                body.extend(self.region_items(alias))
        if len(present) == 1:
            body.append(
                Attribute(
                    "count",
                    Conditional(IS_PRIMARY, 1, 0)
                    if present == ("primary",)
                    else Conditional(IS_PRIMARY, 0, 1),
                )
            )
        lifecycle: list[BodyItem] = []
        if kind == "resource":
            driver = resource_driver(first.type)
            if driver.create_before_destroy:
                lifecycle.append(Attribute("create_before_destroy", True))
            if driver.state_only_triggers:
                triggers = driver.state_only_triggers
                lifecycle.append(
                    Attribute("replace_triggered_by", self.trigger_references(nodes, triggers))
                )
                attributes = {
                    ws: {k: v for k, v in a.items() if k != triggers}
                    for ws, a in attributes.items()
                }
            ignored = driver.import_ignores | driver.managed_elsewhere
            if ignored:
                lifecycle.append(Attribute("ignore_changes", [Raw(n) for n in sorted(ignored)]))
        body.extend(self.body(first.type, attributes, (), kind))
        depends = self.depends_on(nodes)
        if depends:
            body.append(Attribute("depends_on", [Raw(d) for d in depends]))
        if lifecycle:
            body.append(Block("lifecycle", (), lifecycle))
        return ExportedBlock(
            kind,
            first.type,
            first.name,
            _file_of(first),
            body,
            present,
        )

    def schema(self, tf_type: str, path: tuple[str, ...], kind: str) -> dict[str, Any]:
        """The target's schema of a block, or {} for a type it has none of (other providers',
        and the ephemeral resources missing from the vendored 6.47 file)."""
        data, ephemeral = kind == "data", kind == "ephemeral"
        version = self.target.major
        if not _has_schema(tf_type) or not has_type(tf_type, data, ephemeral, version):
            return {}
        return block_schema(tf_type, path, data=data, ephemeral=ephemeral, version=version)

    def is_set(self, tf_type: str, attribute: str, kind: str) -> bool:
        schema = self.schema(tf_type, (), kind)
        attribute_type = schema.get("attributes", {}).get(attribute, {}).get("type")
        if isinstance(attribute_type, list) and attribute_type and attribute_type[0] == "set":
            return True
        nested = schema.get("block_types", {}).get(attribute)
        return bool(nested and nested.get("nesting_mode") == "set")

    def body(
        self,
        tf_type: str,
        attributes: dict[str, dict[str, Any]],
        path: tuple[str, ...],
        kind: str,
    ) -> list[BodyItem]:
        """Attributes first, then nested blocks, tags last, as Terraform's docs write them."""
        schema = self.schema(tf_type, path, kind)
        block_names = set(schema.get("block_types", {}))
        names: list[str] = []
        for attrs in attributes.values():
            names.extend(n for n in attrs if n not in names)
        plain = [n for n in names if n not in block_names and n != "tags"]
        nested = [n for n in names if n in block_names]
        items: list[BodyItem] = []
        for name in plain + (["tags"] if "tags" in names else []):
            values = {ws: attrs.get(name) for ws, attrs in attributes.items()}
            if all(v is None for v in values.values()):
                continue
            items.append(Attribute(name, self.unify(values, tf_type, name)))
        for name in nested:
            blocks = {ws: attrs.get(name) or [] for ws, attrs in attributes.items()}
            counts = {len(b) for b in blocks.values()}
            if len(counts) != 1:
                raise ExportError(
                    f"{tf_type}: block {'.'.join((*path, name))} has a different number of items "
                    "per workspace, which the export cannot express"
                )
            for i in range(counts.pop()):
                inner = {ws: b[i] for ws, b in blocks.items()}
                items.append(Block(name, (), self.body(tf_type, inner, (*path, name), kind)))
        return items

    def depends_on(self, nodes: dict[str, Node]) -> list[str]:
        """Explicit dependencies within the workspace; cross-workspace ones need no edge."""
        found: list[str] = []
        for node in nodes.values():
            for ref in node.depends_on:
                if ref.workspace in (None, node.workspace) and ref.address not in found:
                    found.append(ref.address)
        return found

    def output_blocks(self) -> list[Block]:
        by_name: dict[str, dict[str, Output]] = {}
        for output in self.graph.outputs:
            by_name.setdefault(output.name, {})[output.workspace] = output
        blocks: list[Block] = []
        for name, outputs in sorted(by_name.items()):
            values: dict[str, Any] = {ws: o.value for ws, o in outputs.items()}
            if len(values) == 1:
                (ws,) = values
                other = "secondary" if ws == "primary" else "primary"
                values[other] = None
            value = _merge(
                {
                    ws: self.expr(v, self.side(ws)) if v is not None else None
                    for ws, v in sorted(values.items())
                }
            )
            description = next(iter(outputs.values())).description
            body: list[BodyItem] = []
            if description:
                body.append(Attribute("description", description))
            body.append(Attribute("value", value))
            blocks.append(Block("output", (name,), body))
        return blocks

    # ---------------------------------------------------------------- files

    def files(self) -> dict[str, str]:
        blocks = [self.block_for(a) for a in self.addresses()]
        by_file: dict[str, list[BodyItem]] = {name: [] for name in FILES}
        for block in [*blocks, *self.lookups.values()]:
            by_file.setdefault(block.file, []).append(
                Block(block.kind, (block.type, block.name), block.body)
            )
        by_file["provider.tf"] = provider_blocks(self.target, self.aliases) + by_file["provider.tf"]
        by_file["variables.tf"] = variable_blocks(self.spec)
        by_file["locals.tf"] = [locals_block(self.spec), *by_file["locals.tf"]]
        by_file["outputs.tf"] = list(self.output_blocks())
        return {name: render_file(items) for name, items in sorted(by_file.items()) if items}


def _merge(exprs: dict[str, Expr]) -> Expr:
    """Equal renderings collapse; objects merge key by key; the rest branch on the workspace."""
    values = list(exprs.values())
    if len(values) == 1:
        return values[0]
    primary, secondary = exprs["primary"], exprs["secondary"]
    if render_expr(primary) == render_expr(secondary):
        return primary
    if (
        isinstance(primary, dict)
        and isinstance(secondary, dict)
        and primary.keys() == secondary.keys()
    ):
        return {k: _merge({"primary": primary[k], "secondary": secondary[k]}) for k in primary}
    if isinstance(primary, list) and isinstance(secondary, list) and len(primary) == len(secondary):
        return [
            _merge({"primary": p, "secondary": s}) for p, s in zip(primary, secondary, strict=True)
        ]
    if isinstance(primary, Call) and isinstance(secondary, Call) and primary.name == secondary.name:
        return Call(
            primary.name,
            tuple(
                _merge({"primary": p, "secondary": s})
                for p, s in zip(primary.args, secondary.args, strict=True)
            ),
        )
    return Conditional(IS_PRIMARY, primary, secondary)


def _starts_name(text: str, end: int) -> bool:
    return end < len(text) and text[end] == "-"


def _ends_name(text: str, start: int) -> bool:
    return start > 0 and text[start - 1] == "-"


def _split_attribute(attribute: str) -> tuple[str, str]:
    """`a[0].b` → (`a`, `[0].b`)."""
    match = re.match(r"([^.\[]+)(.*)", attribute)
    assert match is not None
    return match.group(1), match.group(2)


def _has_schema(tf_type: str) -> bool:
    return tf_type.startswith("aws_")


def _file_of(node: Node) -> str:
    module = sys.modules.get(node.origin)
    return str(getattr(module, "TERRAFORM_FILE", DEFAULT_FILE))


def _value_key(value: Any) -> str:
    return f"{type(value).__name__}:{value}"


def _spec_inputs(spec: Spec, workspace: str) -> dict[str, list[str]]:
    """Distinctive spec values → the expressions that read them, for one workspace."""
    found: dict[str, list[str]] = {}

    def add(value: Any, expression: str) -> None:
        if isinstance(value, bool) or value is None:
            return
        if isinstance(value, str) and len(value) < 3:
            return
        found.setdefault(_value_key(value), []).append(expression)

    for name, value in _leaves(spec):
        if name.startswith("workspaces."):
            if name == f"workspaces.{workspace}.region":
                add(value, "local.region")
            continue
        if name in ("project", "environment_suffix") or name.startswith("tags"):
            continue
        section = name.split(".")[0].split("[")[0]
        if section in PER_WORKSPACE_SECTIONS:
            rest = name[len(section) + 1 :]
            if rest.startswith(f"{workspace}."):
                add(value, f"local.{section}.{rest[len(workspace) + 1 :]}")
            elif not rest.startswith(tuple(f"{ws}." for ws in WORKSPACES)):
                add(value, f"var.{name}")
            continue
        add(value, f"var.{name}")
    return found


def _leaves(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            if f.metadata.get("internal") or f.metadata.get("export") is False:
                continue
            key = f.metadata.get("key", f.name)
            yield from _leaves(getattr(value, f.name), f"{prefix}.{key}" if prefix else key)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _leaves(item, f"{prefix}[{i}]")
    elif isinstance(value, dict):
        return
    else:
        yield prefix, value
