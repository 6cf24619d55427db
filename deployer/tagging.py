"""Tags: how each service lists, sets and removes them, declared as data (`Tagging`).

Services agree on what tags are and disagree on every spelling: `Tags` or `tags`, a list of
`{"Key", "Value"}` pairs (or `TagKey`/`TagValue`) or a map, the resource named by `KeyId`,
`ResourceArn`, `resourceArn` or a list of EC2 ids. A driver declares its service's spelling
once; reading and bringing tags to the desired set is the same code for all of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from deployer.attributes import get_path

# The identity tag naming a resource's node (`aws_vpc.main`): how what an interrupted create
# made is found and adopted, and how drift tells ours from others'.
ADDRESS_TAG = "deployer:address"
# The identity tags that together say "this node of this environment" (deployer/graph.py sets
# them on every taggable node): the address alone is the same in every environment.
IDENTITY_KEYS: tuple[str, ...] = (ADDRESS_TAG, "Workspace", "Project", "Environment")


def tag_list(
    tags: Mapping[str, str], key: str = "Key", value: str = "Value"
) -> list[dict[str, str]]:
    """`{"a": "b"}` → `[{"Key": "a", "Value": "b"}]`, sorted for stable calls."""
    return [{key: k, value: v} for k, v in sorted(tags.items())]


def tag_dict(
    tags: Iterable[Mapping[str, str]] | None, key: str = "Key", value: str = "Value"
) -> dict[str, str]:
    return {t[key]: t[value] for t in tags or []}


def user_tags(tags: Mapping[str, str]) -> dict[str, str]:
    """Tags without the `aws:` ones that AWS itself adds."""
    return {k: v for k, v in tags.items() if not k.startswith("aws:")}


def tag_changes(
    desired: Mapping[str, str], live: Mapping[str, str] | None
) -> tuple[dict[str, str], list[str]]:
    """(tags to set, tag keys to remove) to bring live tags to the desired ones."""
    live = user_tags(live or {})
    to_set = {k: v for k, v in desired.items() if live.get(k) != v}
    to_remove = sorted(k for k in live if k not in desired)
    return to_set, to_remove


def is_ours(tags: Mapping[str, str] | None, desired: Mapping[str, Any]) -> bool:
    """Made by this deployer for this node of this environment: its identity tags match the
    desired ones (names alone may clash with someone else's)."""
    want = desired.get("tags") or {}
    have = tags or {}
    return ADDRESS_TAG in want and all(
        have.get(key) == want[key] for key in IDENTITY_KEYS if key in want
    )


def _chunks(items: list[Any], size: int | None) -> Iterable[list[Any]]:
    if not items:
        return
    step = size or len(items)
    for start in range(0, len(items), step):
        yield items[start : start + step]


@dataclass(frozen=True)
class Tagging:
    """One service's tag calls (boto3 method names) and their parameters."""

    # The parameter naming the resource in every tag call (`KeyId`, `ResourceArn`, ...).
    resource: str
    list_call: str | None = "list_tags_for_resource"
    # Where the listing's answer keeps the tags (a dotted path: `ResourceTagSet.Tags`).
    listed: str = "Tags"
    tag_call: str = "tag_resource"
    tags_param: str = "Tags"
    untag_call: str = "untag_resource"
    keys_param: str = "TagKeys"
    # The names inside a tag pair; `as_map`: the API takes and gives `{key: value}` instead.
    key: str = "Key"
    value: str = "Value"
    as_map: bool = False
    # EC2 names its resources in a list (`Resources=[id]`).
    resource_as_list: bool = False
    # The untag call takes pairs (`Tags=[{"Key": k}]`), not a list of keys.
    untag_with_pairs: bool = False
    # Parameters every tag call carries (Route 53's `ResourceType`).
    fixed: Mapping[str, str] = field(default_factory=dict)
    # At most this many tags per set or remove call (Route 53 takes 10).
    per_call: int | None = None

    def to_api(self, tags: Mapping[str, str]) -> Any:
        """Tags in the form this service's create and tag calls take."""
        return dict(sorted(tags.items())) if self.as_map else tag_list(tags, self.key, self.value)

    def from_api(self, tags: Any) -> dict[str, str]:
        """User tags out of this service's form (AWS's own `aws:` ones left out)."""
        if tags is None:
            return {}
        return user_tags(dict(tags) if self.as_map else tag_dict(tags, self.key, self.value))

    def _named(self, resource: str) -> dict[str, Any]:
        return {self.resource: [resource] if self.resource_as_list else resource, **self.fixed}

    def read(self, client: Any, resource: str) -> dict[str, str]:
        if self.list_call is None:
            raise TypeError("this service reports tags with the resource's description")
        answer = getattr(client, self.list_call)(**self._named(resource))
        return self.from_api(get_path(answer, self.listed))

    def update(
        self,
        client: Any,
        resource: str,
        desired: Mapping[str, str] | None,
        live: Mapping[str, str] | None,
    ) -> bool:
        """Set and remove tags until live equals desired; whether a call was made."""
        to_set, to_remove = tag_changes(desired or {}, live)
        for chunk in _chunks(sorted(to_set), self.per_call):
            getattr(client, self.tag_call)(
                **self._named(resource),
                **{self.tags_param: self.to_api({k: to_set[k] for k in chunk})},
            )
        for keys in _chunks(to_remove, self.per_call):
            removed: Any = [{self.key: k} for k in keys] if self.untag_with_pairs else keys
            getattr(client, self.untag_call)(**self._named(resource), **{self.keys_param: removed})
        return bool(to_set or to_remove)
