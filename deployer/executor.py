"""Carrying out a plan: deletions in reverse dependency order, then creates and updates.

Work on a resource starts as soon as its own dependencies allow: an edge that needs only
existence is satisfied when the dependency's id is known, an edge that needs readiness when its
waiter has finished. Waiting happens off the worker pool, so `--parallelism` bounds API work,
not sleeping. A failure stops new work; what is in flight finishes and is recorded.
"""

from __future__ import annotations

import heapq
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from deployer.aws import Clients, DeployerError, describe_error, ignore_missing, poll
from deployer.diff import diff_attributes
from deployer.graph import Graph
from deployer.model import Node, contains_unknown, ref_key, resolve, split_key
from deployer.planner import Action, Change, Plan, Values, context_for, node_from_entry
from deployer.resource import Context, DataSource, Resource, driver_for, resource_driver
from deployer.state import State

Waiter = Callable[[], None]
# How long a data source read at apply time waits for an eventually consistent resource.
LOOKUP_TIMEOUT = 60.0
# How long a resource just written may stay unreadable (AWS's reads lag its writes by seconds).
READ_AFTER_WRITE_TIMEOUT_S = 15.0
Event = dict[str, Any]


@dataclass
class Timing:
    start: float
    exists: float | None = None
    ready: float | None = None


@dataclass
class ApplyResult:
    done: dict[str, str] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)
    timeline: dict[str, Timing] = field(default_factory=dict)
    elapsed: float = 0.0
    # Stopped on request (Ctrl-C) after the work in flight finished; state records all of it.
    interrupted: bool = False

    @property
    def ok(self) -> bool:
        return not self.failures


class ApplyError(DeployerError):
    pass


def recorded_dependencies(graph: Graph, node: Node) -> list[str]:
    """What must outlive this resource (a state entry's `dependencies`, which order a
    destroy): its references, seen through data sources."""
    found: set[str] = set()
    pending = [ref_key(r, node.workspace) for r in node.references()]
    while pending:
        key = pending.pop()
        if key in found:
            continue
        found.add(key)
        if key in graph and not graph.node(key).stored:
            data = graph.node(key)
            pending.extend(ref_key(r, data.workspace) for r in data.references())
    return sorted(k for k in found if not (k in graph and not graph.node(k).stored))


class Scheduler:
    """Runs tasks over a dependency graph with existence and readiness edges.

    Each task's unmet dependencies are counted, so finding what may start costs time in
    proportion to the edges, not the graph. Among tasks that may start, the one with the
    highest priority (the longest expected chain behind it) goes first, so that slow chains such
    as a database and its replica are not queued behind unrelated work.
    """

    def __init__(self, parallelism: int) -> None:
        self.parallelism = max(1, parallelism)

    def run(
        self,
        keys: list[str],
        deps: dict[str, list[tuple[str, bool]]],
        work: Callable[[str], Waiter | None],
        result: ApplyResult,
        priority: dict[str, float] | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        """Runs `work` for every key once its dependencies allow; after a failure, or once
        `stop` is set, starts nothing new and returns when the work in flight has finished."""
        keyset = set(keys)
        stop = stop or threading.Event()
        priority = priority or {}
        unmet: dict[str, int] = dict.fromkeys(keys, 0)
        on_exists: dict[str, list[str]] = {}
        on_ready: dict[str, list[str]] = {}
        for key in keys:
            for dep, need_ready in deps.get(key, []):
                if dep in keyset and dep != key:
                    unmet[key] += 1
                    (on_ready if need_ready else on_exists).setdefault(dep, []).append(key)
        startable = [(-priority.get(k, 0.0), k) for k in keys if unmet[k] == 0]
        heapq.heapify(startable)
        working = 0  # tasks in their API phase: bounded by parallelism
        active = 0  # tasks not finished (API phase or waiting for readiness)
        cond = threading.Condition()
        origin = time.monotonic()

        def release(dependents: list[str]) -> None:
            for dependent in dependents:
                unmet[dependent] -= 1
                if unmet[dependent] == 0:
                    heapq.heappush(startable, (-priority.get(dependent, 0.0), dependent))

        def finish(key: str, error: BaseException | None) -> None:
            nonlocal active
            with cond:
                if error is not None:
                    result.failures[key] = describe_error(error)
                else:
                    result.timeline[key].ready = time.monotonic() - origin
                    release(on_ready.get(key, []))
                active -= 1
                cond.notify_all()

        def wait_then_finish(key: str, waiter: Waiter) -> None:
            try:
                waiter()
            except BaseException as exc:
                finish(key, exc)
            else:
                finish(key, None)

        def task(key: str) -> None:
            nonlocal working
            try:
                waiter = work(key)
            except BaseException as exc:
                with cond:
                    working -= 1
                finish(key, exc)
                return
            with cond:
                working -= 1
                result.timeline[key].exists = time.monotonic() - origin
                release(on_exists.get(key, []))
                cond.notify_all()
            if waiter is None:
                finish(key, None)
            else:
                waiters.submit(wait_then_finish, key, waiter)

        with (
            ThreadPoolExecutor(self.parallelism, thread_name_prefix="apply") as workers,
            ThreadPoolExecutor(64, thread_name_prefix="wait") as waiters,
            cond,
        ):
            while True:
                while (
                    not result.failures
                    and not stop.is_set()
                    and startable
                    and working < self.parallelism
                ):
                    _, key = heapq.heappop(startable)
                    working += 1
                    active += 1
                    result.timeline[key] = Timing(start=time.monotonic() - origin)
                    workers.submit(task, key)
                if active == 0:
                    break
                cond.wait(0.25)  # wakes to notice `stop`, set from a signal handler


class Executor:
    def __init__(
        self,
        graph: Graph,
        states: dict[str, State],
        clients: Clients,
        *,
        parallelism: int = 10,
        emit: Callable[[Event], None] = lambda event: None,
        options: dict[str, Any] | None = None,
    ) -> None:
        self.graph = graph
        self.states = states
        self.clients = clients
        self.parallelism = parallelism
        self.emit = emit
        self.values = Values(states)
        self.options = dict(options or {})
        self.stop = threading.Event()

    def _note(self, key: str, text: str) -> None:
        self.emit({"event": "note", "key": key, "text": text})

    def interrupt(self) -> None:
        """Start nothing new; what is in flight finishes and is recorded (safe from a signal
        handler: it only sets an event)."""
        self.stop.set()

    def apply(self, plan: Plan) -> ApplyResult:
        result = ApplyResult()
        started = time.monotonic()
        scheduler = Scheduler(self.parallelism)
        removals = [
            c.key
            for c in plan.changes.values()
            if c.action == Action.DELETE
            or (c.action == Action.REPLACE and not resource_driver(c.type).create_before_destroy)
        ]
        if removals:
            scheduler.run(
                sorted(removals),
                self._deletion_order(removals),
                lambda key: self._remove(plan.changes[key], result),
                result,
                stop=self.stop,
            )
        if result.ok and not self.stop.is_set():
            forward = [
                c.key
                for c in plan.changes.values()
                if c.action not in (Action.DELETE,) and c.key in self.graph
            ]
            deps = {key: self.graph.dependencies(key) for key in forward}
            scheduler.run(
                sorted(forward),
                deps,
                lambda key: self._converge(plan.changes[key], result),
                result,
                priority=self._chain_lengths(forward, plan),
                stop=self.stop,
            )
        if result.ok and not self.stop.is_set():
            self._destroy_deposed(plan)
        result.interrupted = self.stop.is_set()
        result.elapsed = time.monotonic() - started
        return result

    def _chain_lengths(self, keys: list[str], plan: Plan) -> dict[str, float]:
        """Expected seconds of the longest chain of work that starts at each node."""
        wanted = set(keys)
        lengths: dict[str, float] = {}
        for key in reversed(list(nx.topological_sort(self.graph.dag.subgraph(wanted)))):
            node = self.graph.node(key)
            busy = plan.changes[key].action in (Action.CREATE, Action.REPLACE, Action.UPDATE)
            driver = driver_for(node)
            own = driver.expected_seconds if busy and isinstance(driver, Resource) else 0.0
            after = [lengths[d] for d in self.graph.dependents(key) if d in lengths]
            lengths[key] = own + max(after, default=0.0)
        return lengths

    def delete_blockers(self, plan: Plan) -> dict[str, str]:
        """Every resource the plan would delete that refuses to go, with its reason."""
        blockers: dict[str, str] = {}
        for change in plan.changes.values():
            if change.action not in (Action.DELETE, Action.REPLACE):
                continue
            workspace, address = split_key(change.key)
            entry = self.states[workspace].get(address)
            if not entry or entry.get("status") != "created":
                continue
            node = (
                self.graph.node(change.key)
                if change.key in self.graph
                else node_from_entry(workspace, address, entry)
            )
            reason = resource_driver(entry["type"]).check_delete(self._context(node), entry["id"])
            if reason:
                blockers[change.key] = reason
        return blockers

    def _deletion_order(self, keys: list[str]) -> dict[str, list[tuple[str, bool]]]:
        """A resource is deleted only after everything that depends on it."""
        wanted = set(keys)
        waits: dict[str, list[tuple[str, bool]]] = {key: [] for key in keys}
        for key in keys:
            workspace, address = split_key(key)
            entry = self.states[workspace].get(address) or {}
            for dep in entry.get("dependencies", []):
                if dep in wanted:
                    waits[dep].append((key, True))
        return waits

    def _destroy_deposed(self, plan: Plan) -> None:
        """Delete what create-before-destroy replacements left, once everything that used the
        old objects has moved to the new ones: dependents' old objects first. Only the plan's
        resources (all of them, unless `-target` cut the plan down)."""
        order = {key: i for i, key in enumerate(nx.topological_sort(self.graph.dag))}
        keys = [
            f"{workspace}:{address}"
            for workspace in plan.workspaces
            for address in self.states[workspace].addresses()
            if (self.states[workspace].get(address) or {}).get("deposed")
            and f"{workspace}:{address}" in plan.changes
        ]
        for key in sorted(keys, key=lambda k: -order.get(k, -1)):
            workspace, address = split_key(key)
            state = self.states[workspace]
            entry = dict(state.get(address) or {})
            node = (
                self.graph.node(key)
                if key in self.graph
                else node_from_entry(workspace, address, entry)
            )
            driver = resource_driver(entry["type"])
            for old in list(entry.get("deposed") or []):
                self.emit({"event": "start", "key": key, "action": "delete deposed", "id": old})
                began = time.monotonic()
                if old != entry.get("id"):  # an id reused by the replacement is not deposed
                    self._delete_quietly(driver, self._context(node), old)
                entry["deposed"] = [d for d in entry["deposed"] if d != old]
                state.record(address, {k: v for k, v in entry.items() if v or k != "deposed"})
                self.emit(
                    {
                        "event": "done",
                        "key": key,
                        "action": "delete deposed",
                        "id": old,
                        "seconds": time.monotonic() - began,
                    }
                )

    @staticmethod
    def _delete_quietly(driver: Resource, ctx: Context, resource_id: str) -> None:
        ignore_missing(lambda: driver.delete(ctx, resource_id, None))

    def _context(self, node: Node) -> Context:
        return context_for(
            self.clients, self.graph.spec.region, node, self.options, notes=self._note
        )

    def _remove(self, change: Change, result: ApplyResult) -> None:
        workspace, address = split_key(change.key)
        state = self.states[workspace]
        entry = state.get(address)
        if entry is None:
            return None
        node = (
            self.graph.node(change.key)
            if change.key in self.graph
            else node_from_entry(workspace, address, entry)
        )
        driver = resource_driver(entry["type"])
        ctx = self._context(node)
        resource_id = entry.get("id")
        if entry.get("status") != "created":
            resource_id = driver.find(ctx, entry.get("applied") or {})
        if resource_id is not None:
            blocker = driver.check_delete(ctx, resource_id)
            if blocker:
                raise ApplyError(f"{change.key}: {blocker}")
            self.emit({"event": "start", "key": change.key, "action": "delete"})
            began = time.monotonic()
            with self._ticker(change.key):  # a database's deletion takes minutes
                ignore_missing(lambda: driver.delete(ctx, resource_id, entry.get("attributes")))
            self.emit(
                {
                    "event": "done",
                    "key": change.key,
                    "action": "delete",
                    "id": resource_id,
                    "seconds": time.monotonic() - began,
                }
            )
        for old in entry.get("deposed") or []:  # left by an interrupted replacement
            self._delete_quietly(driver, ctx, old)
        state.forget(address)
        if change.action == Action.DELETE:
            result.done[change.key] = "delete"
        return None

    def _converge(self, change: Change, result: ApplyResult) -> Waiter | None:
        """Bring one node to its desired attributes; the waiter for its readiness, if any."""
        node = self.graph.node(change.key)
        driver = driver_for(node)
        desired = resolve(node.attributes, self.values.lookup_from(node.workspace))
        if contains_unknown(desired):
            raise ApplyError(f"{node.key}: some attributes are still unknown")
        ctx = self._context(node)
        if isinstance(driver, DataSource):
            self._look_up(node, driver, ctx, desired, change.live)
            return None
        assert isinstance(driver, Resource)
        desired = driver.with_defaults(desired)
        entry = self.states[node.workspace].get(node.address)
        began = time.monotonic()
        if change.action in (Action.CREATE, Action.REPLACE) or entry is None:
            resource_id, live = self._create(node, driver, ctx, change, desired, entry)
            action = "replace" if change.action == Action.REPLACE else "create"
        else:
            live = change.live or {}  # with the state-only attributes (planner)
            resource_id = entry["id"]
            if not driver.differences(desired, live):
                self.values.set(node.key, {**desired, **live})
                return None
            live = self._update(node, driver, ctx, desired, live, entry)
            action = "update"
        self.values.set(node.key, {**desired, **live})
        result.done[node.key] = action
        self.emit(
            {
                "event": "done",
                "key": node.key,
                "action": action,
                "id": resource_id,
                "seconds": time.monotonic() - began,
            }
        )
        return self._waiter(node, driver, ctx, resource_id, desired)

    def _look_up(
        self,
        node: Node,
        driver: DataSource,
        ctx: Context,
        desired: dict[str, Any],
        planned: dict[str, Any] | None,
    ) -> None:
        """A data source: what the plan read, or (when what it looks up was made in this run)
        a read now, retried a while since IAM and others show a new resource late."""
        live = planned
        if live is None:
            live = poll(
                lambda: driver.read(ctx, desired),
                what=f"{node.key} to find what it looks up",
                timeout=LOOKUP_TIMEOUT,
                delay=2.0,
            )
        self.values.set(node.key, {**desired, **live})

    def _record(
        self,
        node: Node,
        status: str,
        desired: dict[str, Any],
        *,
        resource_id: str | None = None,
        attributes: dict[str, Any] | None = None,
        deposed: list[str] | None = None,
    ) -> None:
        """Write the node's state entry (the one place entries are built)."""
        entry: dict[str, Any] = {"type": node.type, "status": status}
        if resource_id is not None:
            entry["id"] = resource_id
        entry["applied"] = desired
        entry["dependencies"] = self._dependencies(node)
        if attributes is not None:
            entry["attributes"] = attributes
        if deposed:
            entry["deposed"] = deposed
        self.states[node.workspace].record(node.address, entry)

    def _create(
        self,
        node: Node,
        driver: Resource,
        ctx: Context,
        change: Change,
        desired: dict[str, Any],
        entry: dict[str, Any] | None,
    ) -> tuple[str, dict[str, Any]]:
        """Create (or adopt what an interrupted create made), recording the intent first; the
        new id and its live attributes."""
        verb = "replace" if change.action == Action.REPLACE else "create"
        self.emit({"event": "start", "key": node.key, "action": verb})
        # Create before destroy: the old object stays (deposed) until its users moved on.
        deposed = list((entry or {}).get("deposed") or [])
        if (
            change.action == Action.REPLACE
            and driver.create_before_destroy
            and entry is not None
            and entry.get("status") == "created"
            and entry["id"] not in deposed
        ):
            deposed.append(entry["id"])
        resource_id = None
        forgotten = entry is None and node.address in self.states[node.workspace].forgotten
        if forgotten or (entry is not None and entry.get("status") == "creating"):
            resource_id = driver.find(ctx, desired)  # after `state rm` too: adopt, never twice
            if forgotten and resource_id is not None:
                ctx.notify(f"adopted the existing {resource_id} (removed from state by state rm)")
            if resource_id in deposed:  # the old object, not what the create made
                resource_id = None
        if resource_id is None:
            self._record(node, "creating", desired, deposed=deposed)
            resource_id = driver.create(ctx, desired)
        self._record(
            node, "created", desired, resource_id=resource_id, attributes={}, deposed=deposed
        )
        live = self._read_after_write(driver, ctx, resource_id)
        if diff_attributes(desired, live, driver.write_only):  # adopted, and not as specified
            driver.update(ctx, resource_id, desired, live)
            live = self._read_after_write(driver, ctx, resource_id)
        self._record(
            node, "created", desired, resource_id=resource_id, attributes=live, deposed=deposed
        )
        return resource_id, live

    def _update(
        self,
        node: Node,
        driver: Resource,
        ctx: Context,
        desired: dict[str, Any],
        live: dict[str, Any],
        entry: dict[str, Any],
    ) -> dict[str, Any]:
        """Change in place what differs; the live attributes afterwards."""
        diffs = driver.differences(desired, live)
        forced = driver.replacing(diffs)
        if forced:
            raise ApplyError(
                f"{node.key}: {', '.join(forced)} changed during apply and force a "
                "replacement; run plan again"
            )
        self.emit(
            {"event": "start", "key": node.key, "action": "update", "attributes": sorted(diffs)}
        )
        resource_id = entry["id"]
        driver.update(ctx, resource_id, desired, live)
        live = self._read_after_write(driver, ctx, resource_id)
        self._record(
            node,
            "created",
            desired,
            resource_id=resource_id,
            attributes=live,
            deposed=entry.get("deposed"),
        )
        return live

    def _waiter(
        self, node: Node, driver: Resource, ctx: Context, resource_id: str, desired: dict[str, Any]
    ) -> Waiter:
        """What waits for the resource to be ready (off the worker pool), then reads it again
        where attributes appear only then."""
        state = self.states[node.workspace]

        def wait() -> None:
            with self._ticker(node.key):
                driver.wait_ready(ctx, resource_id)
            if driver.refresh_after_ready:
                ready = self._read_after_write(driver, ctx, resource_id)
                entry = state.get(node.address)
                if entry is not None:
                    state.record(node.address, {**entry, "attributes": ready})
                self.values.set(node.key, {**desired, **ready})

        return wait

    @contextmanager
    def _ticker(self, key: str, every: float = 10.0) -> Iterator[None]:
        """Say every few seconds that a long wait (NAT gateway, database) is still going."""
        done = threading.Event()
        began = time.monotonic()

        def tick() -> None:
            while not done.wait(every):
                self.emit({"event": "waiting", "key": key, "seconds": time.monotonic() - began})

        thread = threading.Thread(target=tick, daemon=True)
        thread.start()
        try:
            yield
        finally:
            done.set()
            thread.join()

    def _dependencies(self, node: Node) -> list[str]:
        return recorded_dependencies(self.graph, node)

    @staticmethod
    def _read_after_write(driver: Resource, ctx: Context, resource_id: str) -> dict[str, Any]:
        """Read back what was just written; reads can lag writes for a moment on AWS (found
        `driver.consistent_reads` times in a row before it is believed)."""
        try:
            return poll(
                lambda: driver.read(ctx, resource_id),
                what=f"{ctx.node.key} ({resource_id}) to be readable",
                timeout=READ_AFTER_WRITE_TIMEOUT_S,
                delay=0.5,
                consecutive=driver.consistent_reads,
            )
        except DeployerError as exc:
            raise ApplyError(
                f"{ctx.node.key}: created as {resource_id} but cannot be read back"
            ) from exc
