"""The project's import graph: no cycle, and the layers import in one direction only.

- `deployer/` is the engine: it imports neither the drivers (`resources/`) nor the payment stack
  (`stack/`); it finds them at run time through `importlib` (`deployer.resource.load_drivers`,
  `load_stack`).
- `resources/` holds generic drivers, one module per AWS service: none imports another service's
  module or the stack, so a driver can be read, tested and changed on its own.
- `stack/` holds the payment stack's components, which import `deployer` and each other, in one
  direction (no cycle among them either).

The graph is read from the sources with `ast`, every `import` counted wherever it is: inside a
function or under `if TYPE_CHECKING:` as much as at the top, so that a lazy import cannot hide a
cycle.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

import networkx as nx
import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("deployer", "resources", "stack", "export", "emulator")

Graph = dict[str, set[str]]


def project_modules(root: Path, packages: Iterable[str] = PACKAGES) -> dict[str, Path]:
    """Dotted module name → source file, for every module of the given packages."""
    modules: dict[str, Path] = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join(parts)] = path
    return modules


def imported_modules(
    text: str, module: str, modules: set[str], is_package: bool = False
) -> set[str]:
    """The modules of `modules` that an `import` anywhere in `text` (the source of `module`)
    imports: `import a.b` imports `a.b`; `from a import b` imports the module `a.b` when there
    is one, else the name `b` of the module `a`."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name in modules)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = module.split(".") if is_package else module.split(".")[:-1]
                anchor = package[: len(package) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                if f"{base}.{alias.name}" in modules:
                    found.add(f"{base}.{alias.name}")
                elif base in modules:
                    found.add(base)
    return found - {module}


def import_graph(sources: dict[str, str], packages: frozenset[str] = frozenset()) -> Graph:
    """Module → the project modules it imports, from each module's source text (`packages`:
    the modules that are packages, for relative imports). Imports from outside the project
    (the standard library, boto3) are no edge."""
    modules = set(sources)
    return {
        module: imported_modules(text, module, modules, module in packages)
        for module, text in sources.items()
    }


def cycles(graph: Graph) -> list[list[str]]:
    """Each group of modules that import one another, directly or through others."""
    dag = nx.DiGraph()
    dag.add_nodes_from(graph)
    dag.add_edges_from((module, target) for module, targets in graph.items() for target in targets)
    groups = [sorted(group) for group in nx.strongly_connected_components(dag) if len(group) > 1]
    return sorted(groups)


def layer_violations(graph: Graph) -> list[str]:
    """Imports that go against the layers (see the module's docstring)."""
    problems: list[str] = []

    def package(module: str) -> str:
        return module.split(".", 1)[0]

    def service(module: str) -> str:
        """`resources.ec2.routing` → `resources.ec2`: a service may be a package of modules."""
        return ".".join(module.split(".")[:2])

    for module, targets in sorted(graph.items()):
        for target in sorted(targets):
            if package(module) == "deployer" and package(target) in ("resources", "stack"):
                problems.append(f"{module} imports {target}: the engine loads those by name")
            if package(module) == "resources" and package(target) == "stack":
                problems.append(f"{module} imports {target}: a driver knows no stack")
            if (
                package(module) == "resources"
                and package(target) == "resources"
                and service(module) != service(target)
            ):
                problems.append(f"{module} imports {target}: drivers import only deployer")
    return problems


@pytest.fixture(scope="module")
def project_graph() -> Graph:
    modules = project_modules(REPO)
    sources = {name: path.read_text() for name, path in modules.items()}
    packages = frozenset(name for name, path in modules.items() if path.name == "__init__.py")
    return import_graph(sources, packages)


def test_the_project_has_no_import_cycle(project_graph: Graph) -> None:
    assert cycles(project_graph) == []


def test_the_layers_import_in_one_direction(project_graph: Graph) -> None:
    assert layer_violations(project_graph) == []


def test_the_graph_is_read_from_every_package(project_graph: Graph) -> None:
    """A check that found no module would pass vacuously: these edges must be there."""
    assert {"deployer", "resources", "stack", "export", "emulator"} <= {
        module.split(".", 1)[0] for module in project_graph
    }
    assert "stack.keys" in project_graph["stack.roles"] | project_graph["stack.bucket"]
    assert "deployer.resource" in project_graph["resources.kms"]
    assert "stack.roles" in project_graph["stack.function"]


def test_a_cycle_is_found_even_through_an_import_inside_a_function() -> None:
    sources = {
        "app.a": "from app.b import helper\n",
        "app.b": "def helper():\n    from app.c import thing\n    return thing\n",
        "app.c": "import app.a\n",
        "app.d": "from app import a\n",
    }
    graph = import_graph(sources)
    assert graph["app.b"] == {"app.c"}
    assert graph["app.d"] == {"app.a"}
    assert cycles(graph) == [["app.a", "app.b", "app.c"]]


def test_an_import_under_type_checking_counts_too() -> None:
    sources = {
        "app.model": (
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from app.engine import X\n"
        ),
        "app.engine": "from app.model import Node\n",
    }
    assert cycles(import_graph(sources)) == [["app.engine", "app.model"]]


def test_relative_imports_are_resolved() -> None:
    sources = {"app": "", "app.a": "from . import b\n", "app.b": "from .a import f\n"}
    graph = import_graph(sources, frozenset({"app"}))
    assert graph == {"app": set(), "app.a": {"app.b"}, "app.b": {"app.a"}}
    assert cycles(graph) == [["app.a", "app.b"]]


def test_layer_violations_are_reported() -> None:
    graph: Graph = {
        "deployer.resource": {"resources.kms", "deployer.model"},
        "resources.iam": {"resources.sts", "stack.roles", "deployer.aws"},
        "stack.roles": {"deployer.model", "stack.account"},
    }
    assert layer_violations(graph) == [
        "deployer.resource imports resources.kms: the engine loads those by name",
        "resources.iam imports resources.sts: drivers import only deployer",
        "resources.iam imports stack.roles: a driver knows no stack",
    ]
