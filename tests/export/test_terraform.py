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
from deployer.model import WORKSPACES, Interp, Json, JsonDecode, Ref
from deployer.resource import resource_driver
from deployer.schema import block_schema, validate_attributes
from deployer.spec import load_spec
from export.evaluate import Decoded, Encoded, Joined, Reference, Scope, evaluate
from export.terraform import FILES, export_files

hcl2 = pytest.importorskip("hcl2")

REPO = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
META_ARGUMENTS = frozenset({"count", "for_each", "depends_on", "lifecycle", "provider"})


@pytest.fixture(scope="module")
def exported() -> tuple[Any, Any, dict[str, str]]:
    spec = load_spec(REPO / "spec.yaml")
    graph = build_graph(spec)
    return spec, graph, export_files(graph, spec)


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
            found["locals"].update({k: v for k, v in entry.items() if k != "__is_block__"})
        for entry in doc.get("output", []):
            for out_name, body in entry.items():
                found["output"][unquote(out_name)] = body
    return found


def unquote(text: str) -> str:
    return text[1:-1] if text.startswith('"') and text.endswith('"') else text


def scope_for(parsed: dict[str, Any], workspace: str) -> Scope:
    variables = {
        name: evaluate(body["default"], Scope(workspace, {}))
        for name, body in parsed["variable"].items()
    }
    scope = Scope(workspace, variables)
    for name, expression in parsed["locals"].items():
        if name in ("is_primary", "region", "network"):
            scope.locals[name] = evaluate(expression, scope)
    return scope


def attributes_of(body: dict[str, Any], scope: Scope) -> dict[str, Any]:
    return {
        name: evaluate(value, scope)
        for name, value in body.items()
        if name not in META_ARGUMENTS and name != "__is_block__"
    }


def test_file_set_and_determinism(exported: Any) -> None:
    spec, _, files = exported
    assert set(FILES) <= set(files) and "README.md" in files
    assert export_files(build_graph(spec), spec) == files


def test_files_parse_and_respect_the_provider_schema(exported: Any) -> None:
    _, _, files = exported
    parsed = parse(files)
    problems: list[str] = []
    for kind, data in (("resource", False), ("data", True)):
        for (tf_type, name), body in parsed[kind].items():
            if not tf_type.startswith("aws_"):
                continue
            shaped = {k: v for k, v in body.items() if k not in META_ARGUMENTS}
            for problem in validate_attributes(tf_type, strip_block_marks(shaped), data=data):
                problems.append(f"{kind} {tf_type}.{name}: {problem}")
    assert problems == []


def strip_block_marks(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: strip_block_marks(v) for k, v in value.items() if k != "__is_block__"}
    if isinstance(value, list):
        return [strip_block_marks(v) for v in value]
    return value


def test_a_broken_attribute_name_fails_validation(exported: Any) -> None:
    _, _, files = exported
    broken = dict(files)
    broken["vpc.tf"] = files["vpc.tf"].replace("enable_dns_hostnames", "enable_dns_hostname", 1)
    parsed = parse(broken)
    body = parsed["resource"][("aws_vpc", "main")]
    problems = validate_attributes(
        "aws_vpc", strip_block_marks({k: v for k, v in body.items() if k not in META_ARGUMENTS})
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
    _, _, files = exported
    parsed = parse(files)
    known = declared(parsed)
    for workspace in WORKSPACES:
        scope = scope_for(parsed, workspace)
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
                    schema = block_schema(target_type, data=ref.address.startswith("data."))
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


def test_round_trip_equivalence_per_workspace(exported: Any) -> None:
    _, graph, files = exported
    parsed = parse(files)
    for workspace in WORKSPACES:
        scope = scope_for(parsed, workspace)
        deployed = set()
        for (tf_type, name), body in parsed["resource"].items():
            if evaluate(body.get("count", 1), scope) == 0:
                continue
            deployed.add(f"{tf_type}.{name}")
            node = graph.node(f"{workspace}:{tf_type}.{name}")
            got = normalise(attributes_of(body, scope))
            want = normalise(expected(node.attributes, workspace, {}))
            assert got == want, f"{workspace}:{tf_type}.{name}"
        stored = {n.address for n in graph.nodes(workspace) if n.stored}
        assert deployed == stored


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

    _, _, files = exported
    text = "\n".join(files.values())
    assert not re.search(r'(password|secret_string)\w*\s*=\s*"', text, re.IGNORECASE)
    assert "ephemeral.random_password" in text


@pytest.mark.skipif(shutil.which("terraform") is None, reason="no terraform CLI on this machine")
def test_terraform_fmt_finds_nothing_to_change(exported: Any, tmp_path: Path) -> None:
    _, _, files = exported
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
    files = export_files(build_graph(spec), spec)
    golden = FIXTURES / "golden"
    if os.environ.get("UPDATE_GOLDEN"):
        shutil.rmtree(golden, ignore_errors=True)
        golden.mkdir()
        for name, text in files.items():
            (golden / name).write_text(text)
    assert sorted(p.name for p in golden.iterdir()) == sorted(files)
    for name, text in files.items():
        assert (golden / name).read_text() == text, f"{name} differs from the golden file"
