"""Shared fixtures: moto in-process (with the emulator's extensions) and graph deployment helpers.

`deploy` applies real blueprint nodes (with everything they depend on) through the real
planner and executor against moto, so driver tests exercise the same path as `deployer apply`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import networkx as nx
import pytest

REPO = Path(__file__).resolve().parent.parent

os.environ.setdefault("DEPLOYER_WAIT_SCALE", "0.01")
for _name, _value in {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "MOTO_ACM_VALIDATION_WAIT": "0",
    "MOTO_IAM_LOAD_MANAGED_POLICIES": "true",
}.items():
    os.environ[_name] = _value
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.pop("AWS_PROFILE", None)


def _load_only_the_managed_policies_we_use() -> None:
    """moto builds all ~1,200 AWS managed policies for every IAM backend (about 1.5 s per test).

    The tests need only those the graph attaches: build just those, from the same data.
    """
    import json

    from moto.iam import models

    from deployer.graph import build_graph
    from deployer.spec import load_spec

    if getattr(models.IAMBackend, "_deployer_filtered", False):
        return
    wanted = {
        str(node.attributes["policy_arn"]).rsplit("/", 1)[-1]
        for node in build_graph(load_spec(REPO / "spec.yaml")).nodes()
        if node.type == "aws_iam_role_policy_attachment"
        and isinstance(node.attributes.get("policy_arn"), str)
    }
    data = {k: v for k, v in json.loads(models.aws_managed_policies_data).items() if k in wanted}

    def init_aws_policies(self: Any) -> list[Any]:
        return [
            models.AWSManagedPolicy.from_data(name, self.account_id, self.region_name, d)
            for name, d in data.items()
        ]

    models.IAMBackend._init_aws_policies = init_aws_policies  # type: ignore[method-assign]
    models.IAMBackend._deployer_filtered = True  # type: ignore[attr-defined]


@contextmanager
def running_emulator(state_dir: Path) -> Iterator[str]:
    """moto's server with the emulator's extensions, as `deployer sandbox start` runs it."""
    from deployer import sandbox

    info = sandbox.start(state_dir)
    try:
        yield info.endpoint
    finally:
        sandbox.stop(state_dir)


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One emulator (moto's server) shared by a module's tests; yields its endpoint."""
    with running_emulator(tmp_path_factory.mktemp("sandbox")) as endpoint:
        yield endpoint


@pytest.fixture
def fresh_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An emulator of its own, for a test that applies the stack (names are deterministic, so
    a second apply into a shared emulator would meet the first one's resources)."""
    with running_emulator(tmp_path_factory.mktemp("sandbox")) as endpoint:
        yield endpoint


@pytest.fixture
def aws() -> Iterator[None]:
    """moto's in-process AWS, with the emulator's extensions (the same as the sandbox's)."""
    from moto import mock_aws

    from emulator import install_extensions

    install_extensions()
    _load_only_the_managed_policies_we_use()
    with mock_aws():
        yield


@pytest.fixture
def spec() -> Any:
    from deployer.spec import load_spec

    return load_spec(REPO / "spec.yaml")


@pytest.fixture
def clients(aws: None) -> Any:
    from deployer.aws import Clients

    return Clients()


class Deployment:
    """Apply parts of the real graph against moto and look at the result."""

    def __init__(self, spec: Any, clients: Any, state_dir: Path) -> None:
        from deployer.graph import build_graph

        self.spec = spec
        self.clients = clients
        self.state_dir = state_dir
        self.graph = build_graph(spec)
        self.extra: list[Any] = []

    def add(self, *nodes: Any) -> None:
        """Nodes a test declares beside the stack's (a type the stack does not use): they get
        the identity tags and edges of every node."""
        from deployer.graph import build_graph

        self.extra.extend(nodes)
        self.graph = build_graph(self.spec, extra=self.extra)

    def states(self) -> dict[str, Any]:
        from deployer.state import State

        return {ws: State.load(self.state_dir, ws) for ws in ("primary", "secondary")}

    def apply(self, *keys: str) -> dict[str, Any]:
        """Apply the given nodes (`primary:aws_vpc.main`) and all they depend on."""
        from deployer.executor import Executor
        from deployer.planner import plan_changes

        wanted: set[str] = set()
        for key in keys or list(self.graph.dag.nodes):
            wanted |= {key} | nx.ancestors(self.graph.dag, key)
        sub = self.graph.subgraph(wanted)
        workspaces = sorted({k.split(":")[0] for k in wanted})
        states = self.states()
        plan = plan_changes(sub, states, self.clients, workspaces=workspaces)
        # Only what was asked: resources of other nodes in state are not deleted.
        for key in [k for k, c in plan.changes.items() if c.action.value == "delete"]:
            del plan.changes[key]
        result = Executor(sub, states, self.clients).apply(plan)
        assert result.ok, result.failures
        return states

    def entry(self, key: str) -> dict[str, Any]:
        workspace, address = key.split(":", 1)
        entry = self.states()[workspace].get(address)
        assert entry is not None, f"{key} is not in state"
        return dict(entry)

    def driver_and_context(self, key: str) -> tuple[Any, Any]:
        from deployer.planner import context_for
        from deployer.resource import driver_for

        node = self.graph.node(key)
        return driver_for(node), context_for(self.clients, self.spec.region, node)

    def read(self, key: str) -> dict[str, Any] | None:
        """A fresh live read through the driver."""
        driver, ctx = self.driver_and_context(key)
        result: dict[str, Any] | None = driver.read(ctx, self.entry(key)["id"])
        return result

    def desired(self, key: str) -> dict[str, Any]:
        """The node's desired attributes, resolved against state (as applied)."""
        return dict(self.entry(key)["applied"])

    def diff(self, key: str) -> dict[str, Any]:
        """What a plan would change on this node now (empty when in sync)."""
        from deployer.diff import diff_attributes

        driver, _ = self.driver_and_context(key)
        live = self.read(key)
        assert live is not None, f"{key} is gone"
        desired = driver.with_defaults(self.desired(key))  # as the planner compares
        return diff_attributes(desired, live, driver.write_only)

    def plan(self, *keys: str) -> Any:
        from deployer.planner import plan_changes

        wanted: set[str] = set()
        for key in keys:
            wanted |= {key} | nx.ancestors(self.graph.dag, key)
        sub = self.graph.subgraph(wanted)
        workspaces = sorted({k.split(":")[0] for k in wanted})
        return plan_changes(sub, self.states(), self.clients, workspaces=workspaces)


@pytest.fixture
def deployment(spec: Any, clients: Any, tmp_path: Path) -> Deployment:
    return Deployment(spec, clients, tmp_path / "state")


@pytest.fixture
def client_for(clients: Any) -> Callable[[str, str], Any]:
    def make(service: str, region: str = "us-east-1") -> Any:
        return clients(service, region)

    return make
