"""Region parity: the secondary's live attributes against the primary's, wherever the spec
declares them the same (the same literal once each region's name is replaced by a placeholder,
and no reference)."""

from __future__ import annotations

from typing import Any

from deployer.diff import equivalent
from deployer.drift.describe import parity_break
from deployer.drift.detect import is_blocks
from deployer.drift.report import REGION_PLACEHOLDER, ParityBreak
from deployer.graph import Graph
from deployer.model import UNKNOWN, Interp, Json, Node, is_write_only, iter_refs, node_key
from deployer.resource import resource_driver


def parity_breaks(
    graph: Graph,
    desired: dict[str, dict[str, Any]],
    lives: dict[str, dict[str, Any] | None],
    live_ok: set[str],
) -> list[ParityBreak]:
    """The secondary's live attributes against the primary's, where the spec makes them equal."""
    spec = graph.spec
    regions = {ws: spec.region(ws) for ws in ("primary", "secondary")}
    breaks: list[ParityBreak] = []
    for node in graph.nodes("primary"):
        other = counterpart(graph, node) if node.stored else None
        if other is None or node.key not in live_ok or other.key not in live_ok:
            continue
        live_p, live_s = lives.get(node.key), lives.get(other.key)
        if live_p is None or live_s is None:
            continue
        driver = resource_driver(node.type)
        view = resource_driver(other.type).as_counterpart
        want_s, res_s, live_s = view(other.attributes), view(desired[other.key]), view(live_s)
        checker = ParityChecker(node.address, regions["primary"], regions["secondary"])
        for name in sorted(set(node.attributes) & set(want_s)):
            if name in driver.write_only or is_write_only(name):
                continue
            checker.compare(
                name,
                node.attributes[name],
                want_s[name],
                desired[node.key].get(name),
                res_s.get(name),
                live_p.get(name),
                live_s.get(name),
                top_level=True,
            )
        breaks.extend(parity_break(driver, node.type, b, live_s) for b in checker.breaks)
    return breaks


def counterpart(graph: Graph, node: Node) -> Node | None:
    """The secondary's node that stands for a primary node: the same address and type, or a
    node of the same name whose type declares itself the node's counterpart (the replica of
    a global table: `counterpart_of`)."""
    same = node_key("secondary", node.address)
    if same in graph:
        other = graph.node(same)
        return other if other.type == node.type else None
    for other in graph.nodes("secondary"):
        if (
            other.name == node.name
            and other.stored
            and resource_driver(other.type).counterpart_of == node.type
        ):
            return other
    return None


def _has_refs(value: Any) -> bool:
    return next(iter_refs(value), None) is not None


class ParityChecker:
    """Walks one attribute of both workspaces' nodes, as far as the spec makes them equal."""

    def __init__(self, address: str, primary_region: str, secondary_region: str) -> None:
        self.address = address
        self.regions = (primary_region, secondary_region)
        self.breaks: list[ParityBreak] = []

    def regionless(self, value: Any, index: int) -> Any:
        region = self.regions[index]
        if isinstance(value, str):
            return value.replace(region, REGION_PLACEHOLDER)
        if isinstance(value, dict):
            return {self.regionless(k, index): self.regionless(v, index) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.regionless(v, index) for v in value]
        return value

    def report(self, path: str, primary: Any, secondary: Any) -> None:
        self.breaks.append(ParityBreak(self.address, path, primary, secondary))

    def compare(
        self,
        path: str,
        want_p: Any,
        want_s: Any,
        res_p: Any,
        res_s: Any,
        live_p: Any,
        live_s: Any,
        top_level: bool = False,
    ) -> None:
        """want_*: unresolved desired; res_*: resolved desired; live_*: live values."""
        if isinstance(want_p, dict) and isinstance(want_s, dict):
            self._compare_map(path, want_p, want_s, res_p, res_s, live_p, live_s, top_level)
        elif is_blocks(want_p) and is_blocks(want_s):
            self._compare_blocks(path, want_p, want_s, res_p, res_s, live_p, live_s)
        elif _has_refs(want_p) or _has_refs(want_s):
            return  # region-specific by construction (a reference to the region's resource)
        elif isinstance(want_p, Interp | Json) or isinstance(want_s, Interp | Json):
            return
        elif self.regionless(want_p, 0) != self.regionless(want_s, 1):
            return  # the spec declares the value region-specific
        elif not _same(self.regionless(live_p, 0), self.regionless(live_s, 1)):
            self.report(path, live_p, live_s)

    def _compare_map(
        self,
        path: str,
        want_p: dict[str, Any],
        want_s: dict[str, Any],
        res_p: Any,
        res_s: Any,
        live_p: Any,
        live_s: Any,
        top_level: bool,
    ) -> None:
        """Maps (tags, environment variables): the same key set, and equal values where the
        spec gives both the same literal."""
        if not isinstance(live_p, dict) or not isinstance(live_s, dict):
            if (live_p is None) != (live_s is None):
                self.report(path, live_p, live_s)
            return
        tags = top_level and path in ("tags", "tags_all")
        keys_p = {k for k in live_p if not (tags and str(k).startswith("aws:"))}
        keys_s = {k for k in live_s if not (tags and str(k).startswith("aws:"))}
        if set(want_p) == set(want_s) and keys_p != keys_s:
            self.report(f"{path} (keys)", sorted(keys_p), sorted(keys_s))
        res_p = res_p if isinstance(res_p, dict) else {}
        res_s = res_s if isinstance(res_s, dict) else {}
        for key in sorted(set(want_p) & set(want_s) & keys_p & keys_s):
            self.compare(
                f"{path}.{key}",
                want_p[key],
                want_s[key],
                res_p.get(key),
                res_s.get(key),
                live_p[key],
                live_s[key],
            )

    def _compare_blocks(
        self,
        path: str,
        want_p: list[dict[str, Any]],
        want_s: list[dict[str, Any]],
        res_p: Any,
        res_s: Any,
        live_p: Any,
        live_s: Any,
    ) -> None:
        """Nested blocks: each desired block against the live block that stands for it."""
        if len(want_p) != len(want_s):
            return
        if not isinstance(live_p, list) or not isinstance(live_s, list):
            if bool(live_p) != bool(live_s):
                self.report(path, live_p, live_s)
            return
        used_p: set[int] = set()
        used_s: set[int] = set()
        res_p = res_p if isinstance(res_p, list) else []
        res_s = res_s if isinstance(res_s, list) else []
        for i, (block_p, block_s) in enumerate(zip(want_p, want_s, strict=True)):
            match_p = _best_block(live_p, res_p[i] if i < len(res_p) else block_p, used_p)
            match_s = _best_block(live_s, res_s[i] if i < len(res_s) else block_s, used_s)
            if match_p is None or match_s is None:
                if (match_p is None) != (match_s is None):
                    self.report(f"{path}[{i}]", match_p, match_s)
                continue
            rp = res_p[i] if i < len(res_p) and isinstance(res_p[i], dict) else {}
            rs = res_s[i] if i < len(res_s) and isinstance(res_s[i], dict) else {}
            for key in sorted(set(block_p) & set(block_s)):
                self.compare(
                    f"{path}[{i}].{key}",
                    block_p[key],
                    block_s[key],
                    rp.get(key),
                    rs.get(key),
                    match_p.get(key),
                    match_s.get(key),
                )


def _best_block(live: list[Any], want: Any, used: set[int]) -> dict[str, Any] | None:
    """The unused live block that agrees with the resolved desired block on most keys."""
    best: tuple[int, int] | None = None
    for index, candidate in enumerate(live):
        if index in used or not isinstance(candidate, dict):
            continue
        score = 0
        if isinstance(want, dict):
            score = sum(
                1
                for k, v in want.items()
                if v is not None and v is not UNKNOWN and equivalent(v, candidate.get(k), k)
            )
        if best is None or score > best[0]:
            best = (score, index)
    if best is None:
        return None
    used.add(best[1])
    block: dict[str, Any] = live[best[1]]
    return block


def _same(a: Any, b: Any) -> bool:
    """Two live values are the same, under diff's normalisation (both ways round)."""
    if a is None or b is None:
        return a is None and b is None
    return equivalent(a, b) and equivalent(b, a)
