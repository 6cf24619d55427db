"""The regions' roles: the spec line a failover rewrites, and the lost workspace left out."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from deployer.aws import DeployerError
from deployer.graph import GraphError, build_graph
from deployer.model import Node, Ref
from deployer.spec import load_spec
from deployer.state import State
from deployer.topology import active_workspaces, set_writer

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def spec_file(tmp_path: Path) -> Path:
    path = tmp_path / "spec.yaml"
    shutil.copy(REPO / "spec.yaml", path)
    return path


def test_set_writer_changes_one_line_and_keeps_the_comments(spec_file: Path) -> None:
    before = spec_file.read_text().splitlines()
    set_writer(spec_file, "secondary")
    after = spec_file.read_text().splitlines()
    changed = [(a, b) for a, b in zip(before, after, strict=True) if a != b]
    assert changed == [("  writer: primary", "  writer: secondary")]
    assert load_spec(spec_file).failover.writer == "secondary"
    set_writer(spec_file, "primary")
    assert spec_file.read_text().splitlines() == before
    # Nothing left beside it: the spec is the team's file, in version control.
    assert sorted(p.name for p in spec_file.parent.iterdir()) == ["spec.yaml"]


def test_set_writer_adds_the_section_to_a_spec_without_one(spec_file: Path) -> None:
    text = spec_file.read_text()
    start = text.index("# The regions' roles")
    end = text.index("tags:")
    spec_file.write_text(text[:start] + text[end:])
    assert load_spec(spec_file).failover.writer == "primary"  # the default
    set_writer(spec_file, "secondary")
    spec = load_spec(spec_file)
    assert spec.failover.writer == "secondary" and spec.failover.max_replica_lag_s == 60
    assert spec.tags  # the rest is as it was


def test_set_writer_refuses_an_unknown_workspace(spec_file: Path) -> None:
    with pytest.raises(DeployerError, match="tertiary"):
        set_writer(spec_file, "tertiary")


def test_a_lost_workspace_is_left_out_and_said(spec_file: Path, tmp_path: Path) -> None:
    spec = load_spec(spec_file)
    states = {ws: State.load(tmp_path, ws) for ws in ("primary", "secondary")}
    assert active_workspaces(spec, states.__getitem__, None) == ["primary", "secondary"]
    states["primary"].mark_lost({"since": "2026-12-06T10:00:00+00:00"})
    # The mark is saved: a fresh load sees it.
    assert State.load(tmp_path, "primary").lost == {"since": "2026-12-06T10:00:00+00:00"}
    notes = tmp_path / "notes.txt"
    with notes.open("w") as out:
        assert active_workspaces(spec, states.__getitem__, None, out) == ["secondary"]
    assert "primary (us-east-1) is marked lost since 2026-12-06T10:00:00" in notes.read_text()
    with pytest.raises(DeployerError, match="marked lost by a failover"):
        active_workspaces(spec, states.__getitem__, "us-east-1")
    states["primary"].mark_lost(None)
    assert State.load(tmp_path, "primary").lost is None
    assert '"lost"' not in (tmp_path / "primary.tfstate.json").read_text()


def test_only_a_failed_over_primary_may_refer_to_the_secondary(spec_file: Path) -> None:
    spec = load_spec(spec_file)
    spec.failover.writer = "secondary"
    graph = build_graph(spec)
    main = graph.node("primary:aws_db_instance.main")
    assert main.attributes["replicate_source_db"].workspace == "secondary"
    # The rule stays while the primary writes: a primary node referring to the secondary is
    # refused.
    spec.failover.writer = "primary"
    stray = Node(
        "aws_sqs_queue",
        "stray",
        "primary",
        {"name": "stray", "tags": {"Of": Ref("aws_db_instance.replica", "arn", "secondary")}},
    )
    with pytest.raises(GraphError, match="may not depend on the secondary"):
        build_graph(spec, extra=[stray])
