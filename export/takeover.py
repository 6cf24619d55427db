"""Taking over a running environment with Terraform: the import id of every deployed resource,
the `import` blocks that adopt them per workspace, and the exported folder's README that says
what a takeover plan shows and why."""

from __future__ import annotations

from deployer.model import WORKSPACES
from deployer.resource import resource_driver
from deployer.spec import Spec
from deployer.state import State
from export.hcl import Attribute, Block, BodyItem, Raw
from export.targets import DEFAULT_TARGET, ProviderTarget
from export.terraform import Exporter


def deployed_import_ids(states: dict[str, State]) -> dict[str, dict[str, str]]:
    """Workspace → address → the id Terraform's import of its type asks for, for every
    resource state says was made and whose type Terraform can import."""
    ids: dict[str, dict[str, str]] = {}
    for ws, state in states.items():
        ids[ws] = {}
        for address in state.addresses():
            entry = state.get(address) or {}
            driver = resource_driver(str(entry.get("type")))
            if entry.get("status") == "created" and driver.importable:
                ids[ws][address] = driver.import_id(str(entry["id"]), entry.get("attributes") or {})
    return ids


def import_blocks(exporter: Exporter, import_ids: dict[str, dict[str, str]]) -> list[BodyItem]:
    """One `import` block per deployed resource, with the id the AWS provider expects.

    The ids differ per workspace, so they live in a map that `terraform.workspace` selects. Each
    block imports through `for_each` over one id or none: a resource deployed in one workspace
    only is imported there alone, and the `default` workspace (`terraform validate` right after
    `init`) imports nothing rather than failing.
    """
    ids: dict[str, dict[str, str]] = {
        ws: dict(sorted(import_ids.get(ws, {}).items())) for ws in WORKSPACES
    }
    items: list[BodyItem] = [
        Block(
            "locals",
            (),
            [
                Attribute(
                    "imports",
                    Raw(
                        "{ for address, id in lookup(local.deployed_ids, terraform.workspace, {}) "
                        ": address => { (address) = id } }"
                    ),
                ),
                Attribute("deployed_ids", ids),
            ],
        ),
    ]
    for address in exporter.addresses():
        if not any(address in ids[ws] for ws in exporter.present_in(address)):
            continue  # not deployed, or a type Terraform cannot import
        target = f"{address}[0]" if exporter.is_conditional(address) else address
        body: list[BodyItem] = [
            Attribute("for_each", Raw(f'lookup(local.imports, "{address}", {{}})')),
            Attribute("to", Raw(target)),
            Attribute("id", Raw("each.value")),
        ]
        items.append(Block("import", (), body))
    return items


def readme(spec: Spec, target: ProviderTarget = DEFAULT_TARGET, with_imports: bool = False) -> str:
    """The exported folder's README: how to use it, and what a takeover plan shows and why."""
    if target.resource_region:
        regions = (
            "The few resources and look-ups that act in the other region (the bucket\n"
            "replication, the Route 53 health alarm, the replica's source database) set\n"
            "`region` themselves."
        )
    else:
        regions = (
            "Provider 5 has no resource-level `region`: the few resources and look-ups\n"
            "that act in a given region go through the `aws.primary` / `aws.secondary` aliases."
        )
    takeover = TAKEOVER if with_imports else ""
    if target.lacks:
        lacking = "\n".join(f"- {why}." for _, why in sorted(target.lacks.items()))
        regions += (
            f"\n\nNot enforced with AWS provider {target.major}, which lacks the resource types "
            f"(export with `--provider-version 6` to have them):\n\n{lacking}"
        )
    return f"""# Terraform configuration exported by `deployer export-hcl`

Generated from `spec.yaml` (project `{spec.project}`, suffix `{spec.environment_suffix}`); do not
edit by hand: change the spec and export again (`deployer export-hcl --check DIR` tells whether
this folder still matches).

It needs Terraform >= 1.11 (write-only arguments, ephemeral resources) and only the
`hashicorp/aws` provider, `{target.constraint}` (AWS provider {target.major}).
{regions}

`payment_processor.zip` is the Lambda package, byte for byte the one the deployer builds;
`source_code_hash` is computed from it.

One configuration serves both regions through workspaces:

```sh
terraform init
terraform workspace new primary     # {spec.region("primary")}
terraform apply
terraform workspace new secondary   # {spec.region("secondary")}
terraform apply
```

The primary comes first: IAM roles exist only there (the secondary looks them up), and the
secondary replicates the primary's bucket and database.

The database password never appears in this folder: the provider's ephemeral
`aws_secretsmanager_random_password` makes it at apply time, the secret version receives it
through the write-only `secret_string_wo`, and RDS through `password_wo`. Both carry
`lifecycle {{ ignore_changes }}` on their version numbers (and the secret version on
`secret_string`), so that adopting a running database never sends a new password. To rotate it,
remove those `ignore_changes` entries and raise `secret_string_wo_version` and
`password_wo_version` together.

Checkov finds nothing to fail here: each accepted finding carries its reason as a
`#checkov:skip=ID:reason` comment in the block it concerns.
{takeover}"""


TAKEOVER = """
## Taking over the running environment

`imports.tf` holds one `import` block per resource the deployer made, with the id the provider's
import documentation asks for, per workspace. In each workspace, `terraform plan -out PLAN`
then `terraform apply PLAN` adopts everything; nothing is destroyed or replaced. The plan also
shows, and this is expected:

- **1 to add: `aws_acm_certificate_validation.api`.** It is no AWS object, only Terraform's wait
  for the certificate to be issued, and the provider cannot import it. Creating it calls
  DescribeCertificate until the status is `ISSUED`, which it already is.
- **In-place changes of arguments that exist only in Terraform's state**, which an import cannot
  read: `force_detach_policies` (roles), `deletion_window_in_days` and
  `bypass_policy_lockout_safety_check` (keys), `recovery_window_in_days` and
  `force_overwrite_replica_secret` (secrets), `apply_immediately`, `skip_final_snapshot`,
  `final_snapshot_identifier` and `delete_automated_backups` (databases), `allow_overwrite`
  (the validation record), `filename`, `source_code_hash` and `publish` (the function). Most are
  recorded in state only. Three make a call that re-sends what is live: Lambda
  UpdateFunctionCode with the same package (the code's SHA-256 stays the same, no version is
  published), Route 53 UPSERT of the same validation record, and RDS ModifyDBInstance with
  `ApplyImmediately` and the instance's own `DeletionProtection` (no setting changes, no password
  is sent).

Afterwards `terraform plan -detailed-exitcode` exits 0, and so do `deployer plan
--detailed-exitcode` and `deployer drift`. The provider's import of
`aws_secretsmanager_secret_version` reads the current password into Terraform's state (it has
no other way to import a secret value): keep the state encrypted (an S3 backend with SSE-KMS),
or rotate the password after the takeover as described above, after which state holds no
password.
"""
