"""Batched reads: one describe call answers for every resource of a kind in a region.

A refresh (plan, a no-op apply, drift) reads every deployed resource. Many AWS describe calls
take a list of ids or a filter with many values, so before the reads start the engine asks
each driver which such calls its `read` will make (`Resource.batch_reads`), makes each call
once per region and filter for all the values at once, and hands the answers to the reads
through `Context.describe`. A value the batched call did not return does not exist: the filter
asked for it. Reads outside a refresh (after a create, while waiting for readiness) have no
batch and always ask AWS, so they never see an answer older than their own write.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, NamedTuple

from deployer.aws import Clients, paginate

Item = dict[str, Any]


def ec2_filters(by: str, values: list[str]) -> dict[str, Any]:
    """EC2's `Filters=`: a value that matches nothing narrows to nothing instead of failing,
    which `SubnetIds=[...]` and the like do for the whole call when one id is gone."""
    return {"Filters": [{"Name": by, "Values": values}]}


def item_key(key: str) -> Callable[[Item], list[str]]:
    """The values an item answers for when asked by one of its fields (`SubnetId`)."""
    return lambda item: [str(item[key])] if item.get(key) else []


@dataclass(frozen=True, eq=False)
class Describe:
    """A describe (or list) call that can answer for many resources at once.

    `keys` maps each way of asking (an EC2 filter name, say) to the values an item answers
    for, so that the answer to one call can be shared out among the resources that asked.
    """

    service: str
    operation: str
    items: str
    keys: Mapping[str, Callable[[Item], Iterable[str]]]
    request: Callable[[str, list[str]], dict[str, Any]] = ec2_filters
    # AWS caps the values per call (EC2 filters at 200, CloudWatch alarm names at 100).
    chunk: int = 100

    def fetch(self, client: Any, by: str, values: list[str]) -> dict[str, list[Item]]:
        """What AWS reports for each value: an empty list when nothing matches it."""
        found: dict[str, list[Item]] = {value: [] for value in values}
        for start in range(0, len(values), self.chunk):
            params = self.request(by, values[start : start + self.chunk])
            for item in paginate(client, self.operation, self.items, **params):
                for key in self.keys[by](item):
                    if key in found:
                        found[key].append(item)
        return found

    def fetch_one(self, client: Any, by: str, value: str) -> Item | None:
        """The one item `value` names (an id), or None when it does not exist."""
        items = self.fetch(client, by, [value])[value]
        return items[0] if items else None


class BatchRead(NamedTuple):
    """One value a driver's read will ask a `Describe` for."""

    describe: Describe
    by: str
    value: str


class ReadBatch:
    """The answers of the batched calls of one refresh, by region."""

    def __init__(self) -> None:
        self._answers: dict[tuple[Describe, str, str], dict[str, list[Item]]] = {}
        self._lock = threading.Lock()

    def prefetch(
        self,
        clients: Clients,
        wanted: Iterable[tuple[str, BatchRead]],
        parallelism: int = 10,
    ) -> None:
        """Make each batched call once per (describe, region, filter), for all its values.

        A call that fails is left out: each read then asks on its own and reports the error
        with its resource's address.
        """
        groups: dict[tuple[Describe, str, str], set[str]] = defaultdict(set)
        for region, read in wanted:
            groups[(read.describe, region, read.by)].add(read.value)

        def run(group: tuple[Describe, str, str]) -> None:
            describe, region, by = group
            client = clients(describe.service, region)
            try:
                answer = describe.fetch(client, by, sorted(groups[group]))
            except Exception:  # the resource's own read reports it
                return
            with self._lock:
                self._answers[group] = answer

        with ThreadPoolExecutor(max_workers=max(1, parallelism)) as pool:
            list(pool.map(run, groups))

    def answer(self, describe: Describe, region: str, by: str, value: str) -> list[Item] | None:
        """The prefetched answer for `value`, or None when it was not part of a batch."""
        with self._lock:
            answers = self._answers.get((describe, region, by))
        return None if answers is None else answers.get(value)
