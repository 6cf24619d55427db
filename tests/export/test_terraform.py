"""export-hcl: valid, schema-checked, formatted HCL that says exactly what apply deploys."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from deployer.cli import main
from deployer.graph import build_graph
from deployer.model import WORKSPACES, FileDigest, Interp, Json, JsonDecode, Ref
from deployer.resource import resource_driver
from deployer.schema import block_schema, has_type, validate_attributes
from deployer.spec import load_spec
from export.evaluate import Decoded, Encoded, Joined, Reference, Scope, evaluate
from export.folder import export_files
from export.targets import TARGETS, ProviderTarget
from export.terraform import FILES

hcl2 = pytest.importorskip("hcl2")

SG_EXCLUSIVE = "aws_vpc_security_group_rules_exclusive"

REPO = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
META_ARGUMENTS = frozenset({"count", "for_each", "depends_on", "lifecycle", "provider"})
# What python-hcl2 adds to a parsed body: block marks and the comments inside it.
PARSER_MARKS = frozenset({"__is_block__", "__comments__"})


@pytest.fixture(
    scope="module",
    params=[(major, writer) for major in sorted(TARGETS) for writer in ("primary", "secondary")],
    ids=lambda p: f"provider{p[0]}-{p[1]}-writes",
)
def exported(request: Any) -> tuple[Any, Any, dict[str, str], ProviderTarget]:
    """The repository's spec exported for each provider target, as deployed and as after
    `deployer failover` (the secondary writes, the primary's database replicates from it):
    the HCL files as text."""
    major, writer = request.param
    target = TARGETS[major]
    spec = load_spec(REPO / "spec.yaml")
    spec.failover.writer = writer
    graph = build_graph(spec)
    files = export_files(graph, spec, target=target)
    text = {name: content for name, content in files.items() if isinstance(content, str)}
    binary = {name: content for name, content in files.items() if isinstance(content, bytes)}
    return spec, graph, text, target, binary


def parse(files: dict[str, str]) -> dict[str, Any]:
    """Every block of every .tf file, by kind: resource/data → {(type, name): body}."""
    found: dict[str, Any] = {
        k: {} for k in ("resource", "data", "ephemeral", "variable", "locals", "output")
    }
    for name, text in files.items():
        if not name.endswith(".tf"):
            continue
        doc = hcl2.loads(text)
        for kind in ("resource", "data", "ephemeral"):
            for entry in doc.get(kind, []):
                for tf_type, named in entry.items():
                    for block_name, body in named.items():
                        found[kind][(unquote(tf_type), unquote(block_name))] = body
        for entry in doc.get("variable", []):
            for var_name, body in entry.items():
                found["variable"][unquote(var_name)] = body
        for entry in doc.get("locals", []):
            found["locals"].update({k: v for k, v in entry.items() if k not in PARSER_MARKS})
        for entry in doc.get("output", []):
            for out_name, body in entry.items():
                found["output"][unquote(out_name)] = body
    return found


def unquote(text: str) -> str:
    return text[1:-1] if text.startswith('"') and text.endswith('"') else text


def scope_for(
    parsed: dict[str, Any], workspace: str, files: dict[str, bytes] | None = None
) -> Scope:
    variables = {
        name: evaluate(body["default"], Scope(workspace, {}))
        for name, body in parsed["variable"].items()
    }
    scope = Scope(workspace, variables, files=files or {})
    for name, expression in parsed["locals"].items():
        if name in ("is_primary", "region", "network"):
            scope.locals[name] = evaluate(expression, scope)
    return scope


def attributes_of(body: dict[str, Any], scope: Scope) -> dict[str, Any]:
    return {
        name: evaluate(value, scope)
        for name, value in body.items()
        if name not in META_ARGUMENTS and name not in PARSER_MARKS
    }


def test_file_set_and_determinism(exported: Any) -> None:
    spec, _, files, target, _ = exported
    everything = export_files(build_graph(spec), spec, target=target)
    assert set(FILES) <= set(files) and "README.md" in files
    assert {n: c for n, c in everything.items() if isinstance(c, str)} == files


def test_the_folder_holds_the_lambda_package_it_deploys(exported: Any) -> None:
    """Self-contained: the zip beside the HCL is the deployer's own build, hashed from the file."""
    spec, graph, files, target, _ = exported
    everything = export_files(graph, spec, target=target)
    package = graph.node("primary:aws_lambda_function.payment_processor").files
    assert everything["payment_processor.zip"] == package["payment_processor.zip"]
    assert 'filebase64sha256("payment_processor.zip")' in files["lambda.tf"]
    providers = parse(files)
    assert "random" not in files["provider.tf"] and "archive" not in files["provider.tf"]
    assert not any(t.startswith(("random_", "archive_")) for t, _ in providers["resource"])


def test_files_parse_and_respect_the_provider_schema(exported: Any) -> None:
    """Each target against its own vendored schema, deprecated arguments included."""
    _, _, files, target, _ = exported
    parsed = parse(files)
    problems: list[str] = []
    checked = 0
    for kind in ("resource", "data", "ephemeral"):
        data, ephemeral = kind == "data", kind == "ephemeral"
        for (tf_type, name), body in parsed[kind].items():
            if not has_type(tf_type, data, ephemeral, target.major):
                # Only ephemeral resources are missing from the vendored 6.47 file.
                assert ephemeral and target.major == 6, f"{kind} {tf_type}: no schema"
                continue
            checked += 1
            shaped = strip_block_marks({k: v for k, v in body.items() if k not in META_ARGUMENTS})
            for problem in validate_attributes(
                tf_type, shaped, data=data, ephemeral=ephemeral, version=target.major
            ):
                problems.append(f"{kind} {tf_type}.{name}: {problem}")
    assert problems == [] and checked > 100


def test_provider_5_reaches_other_regions_through_aliases(exported: Any) -> None:
    _, _, files, target, _ = exported
    text = "\n".join(files.values())
    if target.resource_region:
        assert "provider = aws." not in text and "configuration_aliases" not in text
        assert "region" in files["s3.tf"]
    else:
        parsed = parse(files)
        for kind in ("resource", "data"):
            for (tf_type, name), body in parsed[kind].items():
                assert "region" not in body, f"{kind} {tf_type}.{name} sets region on provider 5"
        assert 'alias  = "primary"' in files["provider.tf"]
        assert "provider = aws.primary" in text


def strip_block_marks(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: strip_block_marks(v) for k, v in value.items() if k not in PARSER_MARKS}
    if isinstance(value, list):
        return [strip_block_marks(v) for v in value]
    return value


def test_a_broken_attribute_name_fails_validation(exported: Any) -> None:
    _, _, files, target, _ = exported
    broken = dict(files)
    broken["vpc.tf"] = files["vpc.tf"].replace("enable_dns_hostnames", "enable_dns_hostname", 1)
    parsed = parse(broken)
    body = parsed["resource"][("aws_vpc", "main")]
    problems = validate_attributes(
        "aws_vpc",
        strip_block_marks({k: v for k, v in body.items() if k not in META_ARGUMENTS}),
        version=target.major,
    )
    assert any("enable_dns_hostname" in p for p in problems)


def declared(parsed: dict[str, Any]) -> set[str]:
    names = {f"{t}.{n}" for t, n in parsed["resource"]}
    names |= {f"data.{t}.{n}" for t, n in parsed["data"]}
    names |= {f"ephemeral.{t}.{n}" for t, n in parsed["ephemeral"]}
    return names


def references_in(value: Any) -> list[Reference]:
    if isinstance(value, Reference):
        return [value]
    if isinstance(value, Joined):
        return [r for p in value.parts for r in references_in(p)]
    if isinstance(value, Encoded):
        return references_in(value.value)
    if isinstance(value, dict):
        return [r for v in value.values() for r in references_in(v)]
    if isinstance(value, list):
        return [r for v in value for r in references_in(v)]
    return []


def test_every_reference_points_at_a_declared_block_and_attribute(exported: Any) -> None:
    _, _, files, target, binary = exported
    parsed = parse(files)
    known = declared(parsed)
    for workspace in WORKSPACES:
        scope = scope_for(parsed, workspace, binary)
        for kind in ("resource", "data"):
            for (tf_type, name), body in parsed[kind].items():
                count = evaluate(body.get("count", 1), scope)
                if count == 0:
                    continue
                for ref in references_in(attributes_of(body, scope)):
                    assert ref.address in known, f"{tf_type}.{name} → {ref.address}"
                    target_type = ref.address.split(".")[-2]
                    if not target_type.startswith("aws_"):
                        continue
                    data = ref.address.startswith("data.")
                    ephemeral = ref.address.startswith("ephemeral.")
                    if not has_type(target_type, data, ephemeral, target.major):
                        continue  # the 6.47 file has no ephemeral resources (checked above)
                    schema = block_schema(
                        target_type, data=data, ephemeral=ephemeral, version=target.major
                    )
                    head = ref.attribute.split(".")[0].split("[")[0]
                    assert head in schema["attributes"] or head in schema.get("block_types", {}), (
                        f"{tf_type}.{name} → {ref.address}.{ref.attribute}"
                    )


def expected(value: Any, workspace: str, lookups: dict[tuple[str, str], str]) -> Any:
    """A node value as the evaluator should read it back (references as references)."""
    if isinstance(value, Ref):
        if value.workspace not in (None, workspace):
            tf_type, name = value.address.split(".")[-2:]
            driver = resource_driver(tf_type)
            attribute = driver.lookup_renames.get(value.attribute, value.attribute)
            return Reference(f"data.{tf_type}.{value.workspace}_{name}", attribute)
        return Reference(value.address, value.attribute)
    if isinstance(value, Interp):
        parts: list[Any] = []
        for part in value.parts:
            part = expected(part, workspace, lookups)
            if isinstance(part, str) and parts and isinstance(parts[-1], str):
                parts[-1] += part
            elif part != "":
                parts.append(part)
        return (
            Joined(tuple(parts)) if any(isinstance(p, Reference) for p in parts) else "".join(parts)
        )
    if isinstance(value, FileDigest):
        return value.digest
    if isinstance(value, JsonDecode):
        return Decoded(expected(value.source, workspace, lookups), value.path)
    if isinstance(value, Json):
        inner = expected(value.value, workspace, lookups)
        return Encoded(inner) if references_in(inner) else inner
    if isinstance(value, dict):
        return {k: expected(v, workspace, lookups) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [expected(v, workspace, lookups) for v in value]
    return value


def normalise(value: Any) -> Any:
    """Read-back shapes the comparison ignores: JSON text vs document, int vs float."""
    import json

    if isinstance(value, str) and value[:1] in "{[":
        try:
            return normalise(json.loads(value))
        except ValueError:
            return value
    if isinstance(value, Encoded):
        return normalise(value.value)
    if isinstance(value, dict):
        return {k: normalise(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [normalise(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def deployed_attributes(node: Any, target: ProviderTarget) -> dict[str, Any]:
    """A node's attributes as the target writes them: its 5.x forms, no `region` on provider 5
    (an alias says it), and no state-only trigger (a `replace_triggered_by` says it)."""
    attributes = target.attributes(node.type, node.attributes, node.key)
    dropped = {resource_driver(node.type).state_only_triggers}
    if not target.resource_region:
        dropped.add("region")
    return {k: v for k, v in attributes.items() if k not in dropped}


def test_round_trip_equivalence_per_workspace(exported: Any) -> None:
    _, graph, files, target, binary = exported
    parsed = parse(files)
    for workspace in WORKSPACES:
        scope = scope_for(parsed, workspace, binary)
        deployed = set()
        for (tf_type, name), body in parsed["resource"].items():
            if evaluate(body.get("count", 1), scope) == 0:
                continue
            deployed.add(f"{tf_type}.{name}")
            node = graph.node(f"{workspace}:{tf_type}.{name}")
            got = normalise(attributes_of(body, scope))
            want = normalise(expected(deployed_attributes(node, target), workspace, {}))
            assert got == want, f"{workspace}:{tf_type}.{name}"
        stored = {n.address for n in graph.nodes(workspace) if n.stored}
        # A type the target lacks is left out, and only those.
        lacking = {n.address for n in graph.nodes(workspace) if n.type in target.lacks}
        assert deployed == stored - lacking


def test_what_a_target_lacks_is_left_out_and_said(exported: Any) -> None:
    """Provider 5 has no `aws_vpc_security_group_rules_exclusive`: the export leaves the blocks
    out and its README says that a rule added to a group is not enforced there; provider 6
    writes one block per managed group and says nothing of the kind."""
    _, graph, files, target, _ = exported
    parsed = parse(files)
    groups = {n.name for n in graph.nodes("primary") if n.type == "aws_security_group"}
    exclusive = {name for tf_type, name in parsed["resource"] if tf_type == SG_EXCLUSIVE}
    if target.major == 5:
        assert SG_EXCLUSIVE in target.lacks
        assert exclusive == set()
        assert "Not enforced with AWS provider 5" in files["README.md"]
        assert SG_EXCLUSIVE in files["README.md"]
    else:
        assert not target.lacks
        assert exclusive == groups and groups
        assert "Not enforced" not in files["README.md"]


def test_check_mode_reports_match_and_difference(tmp_path: Path, capsys: Any) -> None:
    out = tmp_path / "tf"
    assert main(["--spec", str(REPO / "spec.yaml"), "export-hcl", "--out", str(out)]) == 0
    assert main(["--spec", str(REPO / "spec.yaml"), "export-hcl", "--check", str(out)]) == 0
    (out / "s3.tf").write_text((out / "s3.tf").read_text() + "\n# edited by hand\n")
    assert main(["--spec", str(REPO / "spec.yaml"), "export-hcl", "--check", str(out)]) == 2
    assert "s3.tf" in capsys.readouterr().out


def test_with_imports_needs_state(tmp_path: Path, capsys: Any) -> None:
    code = main(
        [
            "--spec",
            str(REPO / "spec.yaml"),
            "--state-dir",
            str(tmp_path / "none"),
            "export-hcl",
            "--out",
            str(tmp_path / "tf"),
            "--with-imports",
        ]
    )
    assert code == 1
    assert "needs applied state" in capsys.readouterr().err


def test_no_secret_in_the_export(exported: Any) -> None:
    """Passwords reach AWS only through ephemeral values and write-only attributes."""
    import re

    _, _, files, _, _ = exported
    text = "\n".join(files.values())
    assert not re.search(r'(password|secret_string)\w*\s*=\s*"', text, re.IGNORECASE)
    assert "ephemeral.aws_secretsmanager_random_password" in text


def test_terraform_fmt_finds_nothing_to_change(exported: Any, tmp_path: Path) -> None:
    if shutil.which("terraform") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but no terraform CLI on the PATH")
        pytest.skip("no terraform CLI on this machine")
    _, _, files, _, _ = exported
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    result = subprocess.run(
        ["terraform", "fmt", "-check", "-diff", str(tmp_path)],
        capture_output=True,
        text=True,
        env={**os.environ, "CHECKPOINT_DISABLE": "1"},
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_golden_files_for_the_fixture_spec() -> None:
    spec = load_spec(FIXTURES / "spec.yaml")
    files = {
        name: content
        for name, content in export_files(build_graph(spec), spec).items()
        if isinstance(content, str)
    }
    golden = FIXTURES / "golden"
    if os.environ.get("UPDATE_GOLDEN"):
        shutil.rmtree(golden, ignore_errors=True)
        golden.mkdir()
        for name, text in files.items():
            (golden / name).write_text(text)
    assert sorted(p.name for p in golden.iterdir()) == sorted(files)
    for name, text in files.items():
        assert (golden / name).read_text() == text, f"{name} differs from the golden file"
