"""S3: GetBucketReplication returns the configuration as it was put (``S3_CORRECTIONS``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from emulator.patching import _patch

# --- S3: GetBucketReplication returns the configuration that was put --------------------------
# moto keeps PutBucketReplication's document, but GetBucketReplication rebuilds each rule from
# its ID, Priority, Status and Destination alone, adding `Filter` {"Prefix": ""} and
# `DeleteMarkerReplication` Disabled whatever was put: SourceSelectionCriteria,
# ExistingObjectReplication, the rule's own Filter (or V1 Prefix) and DeleteMarkerReplication are
# lost. AWS returns the rules as they were put, every member included (and an ID S3 chose for a
# rule put without one). moto also gives a rule put without a Priority priority 1; AWS reports
# none for a V1 rule (a Prefix, no Filter), as it was put.
#
# moto stores the request body as xmltodict parsed it (XML element names, text values, a single
# repeated element as a dict, an empty element as None); `_from_parsed_xml` reads it back through
# botocore's shape of the configuration, so that moto's serializer writes every member.


def _from_parsed_xml(value: Any, shape: Any) -> Any:
    """``value`` (an xmltodict element) as the botocore ``shape`` describes it, for serializing."""
    kind = shape.type_name
    if kind == "structure":
        element = value if isinstance(value, dict) else {}
        return {
            name: _from_parsed_xml(element[member.serialization.get("name", name)], member)
            for name, member in shape.members.items()
            if member.serialization.get("name", name) in element
        }
    if kind == "list":
        if shape.serialization.get("flattened"):
            items = value
        else:
            items = (value or {}).get(shape.member.serialization.get("name", "member"))
        if items is None:
            return []
        return [_from_parsed_xml(item, shape.member) for item in _as_list(items)]
    if kind in ("integer", "long"):
        return int(value)
    if kind == "boolean":
        return value if isinstance(value, bool) else str(value).lower() == "true"
    return "" if value is None else value


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _replication_get_as_put(_original: Any) -> Any:
    def get_bucket_replication(self: Any) -> Any:
        from moto.core.responses import ActionResult
        from moto.core.utils import get_service_model
        from moto.s3.exceptions import ReplicationConfigurationNotFoundError

        self.data["Action"] = "GetBucketReplication"
        stored = self.backend.get_bucket_replication(self.bucket_name)
        if not stored:
            raise ReplicationConfigurationNotFoundError(bucket_name=self.bucket_name)
        output = get_service_model("s3").operation_model("GetBucketReplication").output_shape
        config = _from_parsed_xml(stored, output.members["ReplicationConfiguration"])
        return self.serialized(ActionResult({"ReplicationConfiguration": config}))

    return get_bucket_replication


def _replication_put_v1_priority(original: Any) -> Any:
    def put_bucket_replication(self: Any, bucket_name: str, replication: dict[str, Any]) -> None:
        rules = [r for r in _as_list(replication.get("Rule") or []) if isinstance(r, dict)]
        v1_unprioritised = [r for r in rules if "Priority" not in r and "Filter" not in r]
        original(self, bucket_name, replication)  # keeps these rule dicts, adds Priority 1
        for rule in v1_unprioritised:
            rule.pop("Priority", None)

    return put_bucket_replication


def _install_s3_replication_as_put() -> None:
    from moto.s3.models import S3Backend
    from moto.s3.responses import S3Response

    _patch(S3Response, "get_bucket_replication", "as-put", _replication_get_as_put)
    _patch(S3Backend, "put_bucket_replication", "v1-priority", _replication_put_v1_priority)


S3_CORRECTIONS: tuple[Callable[[], None], ...] = (_install_s3_replication_as_put,)
