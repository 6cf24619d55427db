"""The exported folder: the configuration's files, the import blocks and the sandbox override
when asked for, the README, and the files the nodes ship (the Lambda package)."""

from __future__ import annotations

from deployer.graph import Graph
from deployer.spec import Spec
from export import sandbox
from export.hcl import render_file
from export.takeover import import_blocks, readme
from export.targets import DEFAULT_TARGET, ProviderTarget
from export.terraform import Exporter, ExportError


def export_files(
    graph: Graph,
    spec: Spec,
    import_ids: dict[str, dict[str, str]] | None = None,
    target: ProviderTarget = DEFAULT_TARGET,
    sandbox_endpoint: str | None = None,
) -> dict[str, str | bytes]:
    """File name → content of the Terraform configuration (deterministic): HCL and README as
    text, the files the nodes ship (the Lambda package) as bytes.

    `import_ids` (workspace → address → live id, from state) adds `imports.tf`, so that
    Terraform adopts the running environment instead of creating it again. `sandbox_endpoint`
    adds `sandbox_override.tf`, pointing the providers there.
    """
    exporter = Exporter(graph, spec, target)
    files: dict[str, str | bytes] = dict(exporter.files())
    if import_ids is not None:
        files["imports.tf"] = render_file(import_blocks(exporter, import_ids))
    if sandbox_endpoint is not None:
        files[sandbox.FILE_NAME] = sandbox.sandbox_override(sandbox_endpoint, exporter.aliases)
    files["README.md"] = readme(spec, target, with_imports=import_ids is not None)
    for node in graph.nodes():
        for name, content in node.files.items():
            if files.setdefault(name, content) != content:
                raise ExportError(f"two nodes ship different files named {name}")
    return files
