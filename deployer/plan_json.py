"""A saved plan as Terraform's plan JSON (`terraform show -json PLANFILE`, format 1.2).

So that tools written for Terraform read the deployer's plans: policy engines (OPA, checkov's
`terraform_plan` framework), cost estimators, review bots. The addresses are the exported
configuration's (export/), so that the same spec change gives the same addresses here and in
`terraform show -json` of the export:

- a plan of one workspace is the document Terraform prints in that Terraform workspace of the
  export: root-module addresses, `address[0]` for a resource that exists in one workspace only
  (the export gives it `count` by workspace), one `aws` provider in that workspace's region;
- a plan of both workspaces is one document in which each workspace is a module call of that
  configuration, `module.primary` and `module.secondary`, each with its own `aws` provider and
  region (provider_config keys `module.primary:aws` and `module.secondary:aws`): tools see both
  regions at once and price eu-west-1 as eu-west-1. Outputs are the root's, `<workspace>_<name>`.

Values are the deployer's provider-neutral ones, in Terraform's attribute names; write-only and
secret attributes are null and marked sensitive, never their value.
"""

from __future__ import annotations

from typing import Any

from deployer.saved_plan import UNKNOWN_MARK

FORMAT_VERSION = "1.2"
# The Terraform version the export requires (its `required_version`): what the JSON follows.
TERRAFORM_VERSION = "1.11.0"
PROVIDER = "registry.terraform.io/hashicorp/aws"
ACTIONS = {
    "create": ["create"],
    "update": ["update"],
    "delete": ["delete"],
    "no-op": ["no-op"],
    "read": ["read"],
}


def split_unknown(value: Any) -> tuple[Any, Any]:
    """(the known value, Terraform's `after_unknown` for it): unknown leaves become null in the
    value and `true` in the mask; a mask with nothing unknown is `false` or an empty object."""
    if isinstance(value, dict):
        if value == {UNKNOWN_MARK: True}:
            return None, True
        known: dict[str, Any] = {}
        mask: dict[str, Any] = {}
        for key, item in value.items():
            k, m = split_unknown(item)
            if m is True:
                mask[key] = True
                continue
            known[key] = k
            if m:
                mask[key] = m
        return known, mask
    if isinstance(value, list):
        pairs = [split_unknown(v) for v in value]
        masks = [m for _, m in pairs]
        return [k for k, _ in pairs], masks if any(masks) else []
    return value, False


def _sensitive(record: dict[str, Any]) -> dict[str, bool]:
    return {name: True for name in record["write_only_changed"]}


def _actions(record: dict[str, Any]) -> list[str]:
    """A replacement is delete-then-create, or create-then-delete where the driver replaces
    create-before-destroy (the export's `lifecycle` says so too)."""
    if record["action"] == "replace":
        if record.get("create_before_destroy"):
            return ["create", "delete"]
        return ["delete", "create"]
    return list(ACTIONS[record["action"]])


def _module(document: dict[str, Any], workspace: str) -> str | None:
    return None if len(document["workspaces"]) == 1 else f"module.{workspace}"


def _address(document: dict[str, Any], record: dict[str, Any]) -> str:
    module = _module(document, record["workspace"])
    return f"{module}.{record['terraform_address']}" if module else record["terraform_address"]


def _identity(document: dict[str, Any], record: dict[str, Any]) -> dict[str, Any]:
    """address, module_address, mode, type, name, index, provider_name."""
    tf_address: str = record["terraform_address"]
    name = tf_address.removesuffix("[0]").split(".")[-1]
    out: dict[str, Any] = {"address": _address(document, record)}
    module = _module(document, record["workspace"])
    if module:
        out["module_address"] = module
    out.update({"mode": record["mode"], "type": record["type"], "name": name})
    if tf_address.endswith("[0]"):
        out["index"] = 0
    out["provider_name"] = PROVIDER
    return out


def _with_hidden_nulls(values: dict[str, Any], record: dict[str, Any]) -> dict[str, Any]:
    return {**values, **{name: None for name in record["write_only_changed"]}}


def resource_change(document: dict[str, Any], record: dict[str, Any]) -> dict[str, Any]:
    before = record["before"]
    after, after_unknown = split_unknown(record["after"])
    if record["action"] == "read" and after is None:
        after, after_unknown = {}, True
    if isinstance(after, dict):
        after = _with_hidden_nulls(after, record)
    change: dict[str, Any] = {
        "actions": _actions(record),
        "before": before,
        "after": after,
        "after_unknown": after_unknown if after_unknown else {},
        "before_sensitive": _sensitive(record) if before is not None else False,
        "after_sensitive": _sensitive(record) if after is not None else False,
    }
    if record["action"] == "replace":
        change["replace_paths"] = [[name] for name in record["forces_replacement"]]
    out = {**_identity(document, record), "change": change}
    if record["action"] == "replace":
        out["action_reason"] = "replace_because_cannot_update"
    elif record["action"] == "read":
        out["action_reason"] = "read_because_dependency_pending"
    return out


def _state_resource(
    document: dict[str, Any], record: dict[str, Any], values: Any
) -> dict[str, Any]:
    return {
        **_identity(document, record),
        "schema_version": 0,
        "values": values,
        "sensitive_values": _sensitive(record),
    }


def _modules(
    document: dict[str, Any], resources: list[tuple[str, dict[str, Any]]]
) -> dict[str, Any]:
    """Terraform's module tree of resources: the root's, or one child module per workspace."""
    if len(document["workspaces"]) == 1:
        return {"root_module": {"resources": [r for _, r in resources]}}
    return {
        "root_module": {
            "resources": [],
            "child_modules": [
                {
                    "address": f"module.{ws}",
                    "resources": [r for w, r in resources if w == ws],
                }
                for ws in document["workspaces"]
            ],
        }
    }


def planned_values(document: dict[str, Any]) -> dict[str, Any]:
    resources = []
    for record in document["changes"]:
        if record["mode"] != "managed" or record["action"] == "delete":
            continue
        after, _ = split_unknown(record["after"])
        values = _with_hidden_nulls(after or {}, record)
        resources.append((record["workspace"], _state_resource(document, record, values)))
    outputs = {
        name: {"sensitive": False, **({"value": value} if known is False else {})}
        for name, value, known in _outputs_after(document)
    }
    return {"outputs": outputs, **_modules(document, resources)}


def prior_state(document: dict[str, Any]) -> dict[str, Any]:
    resources = []
    for record in document["changes"]:
        if record["mode"] == "managed" and record["before"] is not None:
            values = record["before"]
        elif record["mode"] == "data" and record["action"] == "read" and record["after"]:
            values, _ = split_unknown(record["after"])
        else:
            continue
        resources.append((record["workspace"], _state_resource(document, record, values)))
    return {
        "format_version": "1.0",
        "terraform_version": TERRAFORM_VERSION,
        "values": _modules(document, resources),
    }


def _output_name(document: dict[str, Any], output: dict[str, Any]) -> str:
    if len(document["workspaces"]) == 1:
        return str(output["name"])
    return f"{output['workspace']}_{output['name']}"


def _outputs_after(document: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    result = []
    for output in document["outputs"]:
        value, unknown = split_unknown(output["after"])
        result.append((_output_name(document, output), value, unknown))
    return result


def output_changes(document: dict[str, Any]) -> dict[str, Any]:
    changes = {}
    for output in document["outputs"]:
        after, unknown = split_unknown(output["after"])
        before = output["before"]
        if before is None:
            actions = ["create"]
        elif unknown or before != after:
            actions = ["update"]
        else:
            actions = ["no-op"]
        changes[_output_name(document, output)] = {
            "actions": actions,
            "before": before,
            "after": after,
            "after_unknown": unknown,
            "before_sensitive": False,
            "after_sensitive": False,
        }
    return changes


def configuration(document: dict[str, Any]) -> dict[str, Any]:
    """Each workspace's `aws` provider with its region as a constant (cost tools read it), and
    the resources each module declares."""
    regions = document["regions"]

    def provider(ws: str) -> dict[str, Any]:
        return {
            "name": "aws",
            "full_name": PROVIDER,
            "expressions": {"region": {"constant_value": regions[ws]}},
        }

    def declared(ws: str, key: str) -> list[dict[str, Any]]:
        seen: dict[str, dict[str, Any]] = {}
        for record in document["changes"]:
            if record["workspace"] != ws:
                continue
            address = record["terraform_address"].removesuffix("[0]")
            entry: dict[str, Any] = {
                "address": address,
                "mode": record["mode"],
                "type": record["type"],
                "name": address.split(".")[-1],
                "provider_config_key": key,
                "expressions": record.get("expressions") or {},
                "schema_version": 0,
            }
            if record["terraform_address"].endswith("[0]"):
                entry["count_expression"] = {"references": ["local.is_primary"]}
            seen[address] = entry
        return list(seen.values())

    if len(document["workspaces"]) == 1:
        (ws,) = document["workspaces"]
        return {
            "provider_config": {"aws": provider(ws)},
            "root_module": {"resources": declared(ws, "aws")},
        }
    return {
        "provider_config": {
            f"module.{ws}:aws": {**provider(ws), "module_address": f"module.{ws}"}
            for ws in document["workspaces"]
        },
        "root_module": {
            "module_calls": {
                ws: {
                    "source": "./terraform",
                    "module": {"resources": declared(ws, f"module.{ws}:aws")},
                }
                for ws in document["workspaces"]
            }
        },
    }


def terraform_plan_json(document: dict[str, Any]) -> dict[str, Any]:
    """The saved plan `document` (deployer/saved_plan.py) in `terraform show -json`'s format."""
    changes = [
        resource_change(document, r)
        for r in document["changes"]
        if r["mode"] == "managed" or (r["action"] == "read" and not r["after"])
    ]
    return {
        "format_version": FORMAT_VERSION,
        "terraform_version": TERRAFORM_VERSION,
        "planned_values": planned_values(document),
        "resource_changes": changes,
        "output_changes": output_changes(document),
        "prior_state": prior_state(document),
        "configuration": configuration(document),
        "timestamp": document.get("created_at"),
        "applyable": any(c["change"]["actions"] != ["no-op"] for c in changes),
        "complete": True,
        "errored": False,
    }
