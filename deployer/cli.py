"""The `deployer` command line: Terraform-like verbs and exit codes.

Exit codes: 0 success (plan: no changes), 2 plan with changes under `--detailed-exitcode`,
1 any error. Every error is one message naming what went wrong and where.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from botocore.exceptions import (
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
)

from deployer import failover_commands, plan_commands, sandbox
from deployer.aws import Clients, DeployerError, describe_error
from deployer.backends import Backend, LocalBackend, S3Backend, create_bucket
from deployer.executor import ApplyResult, Executor
from deployer.faults import from_environment
from deployer.graph import Graph, build_graph
from deployer.graph_render import render_dot, render_mermaid
from deployer.guards import (
    refuse_blocked_deletes,
    refuse_data_loss,
    require_primary_first,
    require_secondary_destroyed_first,
)
from deployer.interrupts import graceful_interrupts
from deployer.model import WORKSPACES, split_key
from deployer.outputs import outputs_of, render_outputs
from deployer.planner import Plan, destroy_plan, plan_changes, render_plan
from deployer.progress import Progress, interrupted_message
from deployer.spec import Spec, load_spec
from deployer.state import State, force_unlock, workspace_lock
from deployer.state_commands import register as register_state_commands
from deployer.state_commands import run_import, run_state
from deployer.targeting import Targeting, add_target_option
from deployer.topology import active_workspaces, chosen_workspaces

if TYPE_CHECKING:
    from deployer.evidence import Evidence


@dataclass
class Session:
    """What every command needs: the spec, where state lives, and how to reach AWS."""

    spec: Spec
    state_dir: Path
    endpoint_url: str | None
    out: TextIO
    backend: Backend | None = None

    def clients(self) -> Clients:
        faults = from_environment()
        return Clients(endpoint_url=self.endpoint_url, hooks=[faults.hook()] if faults else [])

    def states(self, workspaces: Sequence[str]) -> dict[str, State]:
        """Every workspace's state: the others are read for cross-workspace references."""
        return {ws: self.state_of(ws) for ws in WORKSPACES}

    def state_of(self, workspace: str) -> State:
        return State.load(self.state_dir, workspace, self.backend)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help(sys.stderr)
        return 1
    try:
        result: int = args.handler(args)
        return result
    except DeployerError as exc:
        print(f"Error: {exc}", file=sys.stderr)
    except (NoCredentialsError, PartialCredentialsError):
        print(
            "Error: no AWS credentials found: configure a profile, set AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY, or start the local emulator with `deployer sandbox start`",
            file=sys.stderr,
        )
    except EndpointConnectionError as exc:
        print(
            f"Error: cannot reach the AWS endpoint {exc.kwargs.get('endpoint_url')}: is it "
            "running? (`deployer sandbox status`)",
            file=sys.stderr,
        )
    except NoRegionError:
        print("Error: no AWS region configured", file=sys.stderr)
    except ClientError as exc:
        print(f"Error: AWS refused a call: {describe_error(exc)}", file=sys.stderr)
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
    return 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="deployer",
        description="Provision the multi-region payment environment through boto3.",
    )
    parser.add_argument("--spec", default="spec.yaml", type=Path, help="default: ./spec.yaml")
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=Path(os.environ.get("DEPLOYER_STATE_DIR", ".deployer")),
        help="default: ./.deployer (env DEPLOYER_STATE_DIR)",
    )
    parser.add_argument(
        "--endpoint-url",
        default=None,
        help="AWS endpoint (default: AWS_ENDPOINT_URL, else a running `deployer sandbox`)",
    )
    parser.add_argument(
        "--backend-bucket",
        default=None,
        help="keep state in this S3 bucket (default: spec.yaml `backend`, else what "
        "`deployer init` chose, else local files in --state-dir)",
    )
    parser.add_argument("--backend-region", default=None, help="the state bucket's region")
    parser.add_argument("--backend-prefix", default=None, help="key prefix in the state bucket")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def region_arg(p: argparse.ArgumentParser) -> None:
        p.add_argument("--region", help="a region (us-east-1) or workspace (primary)")

    p = sub.add_parser("plan", help="show what apply would change")
    region_arg(p)
    p.add_argument("--detailed-exitcode", action="store_true", help="exit 2 when there are changes")
    p.add_argument("--json", action="store_true", help="Terraform's plan JSON (show -json)")
    p.add_argument(
        "--format",
        choices=("terraform", "deployer"),
        default="terraform",
        help="with --json: terraform (default) or the deployer's own earlier format",
    )
    p.add_argument("-out", "--out", type=Path, metavar="FILE", help="save the plan for apply")
    add_target_option(p)
    p.set_defaults(handler=cmd_plan)

    p = sub.add_parser("show", help="show a plan saved by `plan -out FILE`")
    p.add_argument("plan_file", type=Path, metavar="FILE")
    p.add_argument("-json", "--json", action="store_true", help="Terraform's plan JSON")
    p.set_defaults(handler=cmd_show)

    p = sub.add_parser("apply", help="create or update the environment")
    p.add_argument(
        "plan_file", nargs="?", type=Path, metavar="FILE", help="apply this saved plan, unasked"
    )
    region_arg(p)
    p.add_argument("--auto-approve", action="store_true")
    p.add_argument("--parallelism", type=_positive_int, default=10)
    p.add_argument(
        "--allow-replace",
        action="store_true",
        help="allow replacing resources that hold data (database, tables, buckets, keys)",
    )
    p.add_argument("--json", action="store_true")
    add_target_option(p)
    p.set_defaults(handler=cmd_apply)

    p = sub.add_parser("destroy", help="delete what the deployer made")
    region_arg(p)
    p.add_argument("--auto-approve", action="store_true")
    p.add_argument("--parallelism", type=_positive_int, default=10)
    p.add_argument(
        "--force", action="store_true", help="empty buckets (every object version) to delete them"
    )
    p.add_argument(
        "--disable-deletion-protection",
        action="store_true",
        help="switch deletion protection off (database, tables) to delete them",
    )
    p.add_argument(
        "--no-recovery-window",
        action="store_true",
        help="delete secrets at once instead of scheduling their deletion (no undo)",
    )
    p.set_defaults(handler=cmd_destroy)

    p = sub.add_parser("output", help="show the outputs of applied workspaces")
    region_arg(p)
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_output)

    p = sub.add_parser("graph", help="print the resource graph")
    region_arg(p)
    p.add_argument("--format", choices=("dot", "mermaid"), default="dot")
    p.set_defaults(handler=cmd_graph)

    p = sub.add_parser("drift", help="what changed behind our back, and region parity")
    region_arg(p)
    p.add_argument("--format", choices=("table", "json", "markdown"), default="table")
    p.add_argument(
        "--fail-on",
        choices=("high", "medium", "low"),
        default=None,
        help="exit 2 only for a finding of this severity or above (default: any drift)",
    )
    p.add_argument(
        "--evidence",
        type=Path,
        metavar="DIR",
        help="also write the report, its inputs' digests and a manifest into DIR (new or empty)",
    )
    p.add_argument("--sign-key", metavar="KEY", help="sign the evidence (asymmetric KMS key)")
    p.set_defaults(handler=cmd_drift)

    p = sub.add_parser("verify-evidence", help="check the digests and signature of evidence")
    p.add_argument("directory", type=Path, metavar="DIR")
    p.add_argument("--key", metavar="KEY", help="the KMS key the signature must be made by")
    p.set_defaults(handler=cmd_verify_evidence)

    p = sub.add_parser("export-hcl", help="write the environment as Terraform configuration")
    p.add_argument("--out", type=Path, default=Path("terraform"), help="default: ./terraform")
    p.add_argument(
        "--with-imports",
        action="store_true",
        help="also write import blocks with the live ids from state (after an apply)",
    )
    p.add_argument(
        "--provider-version",
        type=int,
        choices=(5, 6),
        default=6,
        help="the hashicorp/aws major to write for: 6 (default) or 5 (>= 5.100, < 6)",
    )
    p.add_argument(
        "--sandbox-override",
        action="store_true",
        help="also write sandbox_override.tf, pointing every provider at the endpoint "
        "(--endpoint-url, or the running `deployer sandbox`); delete it to target AWS",
    )
    p.add_argument(
        "--check",
        type=Path,
        metavar="DIR",
        help="exit 0 if DIR matches the current spec, 2 if it differs (writes nothing)",
    )
    p.set_defaults(handler=cmd_export_hcl)

    p = sub.add_parser(
        "init", help="set up where state lives (an S3 bucket), optionally migrating local state"
    )
    p.add_argument(
        "--create-bucket",
        action="store_true",
        help="create the state bucket if missing (versioned, encrypted, public access blocked)",
    )
    p.add_argument(
        "--migrate", action="store_true", help="copy the local state files into the bucket"
    )
    p.set_defaults(handler=cmd_init)

    register_state_commands(sub, state=cmd_state, import_=cmd_import)
    failover_commands.register(sub, cmd_failover)

    p = sub.add_parser("force-unlock", help="release a workspace lock left by a dead process")
    p.add_argument("workspace", choices=WORKSPACES)
    p.set_defaults(handler=cmd_force_unlock)

    p = sub.add_parser("sandbox", help="the local AWS emulator (moto) on 127.0.0.1")
    p.add_argument("action", choices=("start", "stop", "status"))
    p.add_argument("--port", type=_positive_int, default=None)
    p.set_defaults(handler=cmd_sandbox)
    return parser


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def open_session(
    args: argparse.Namespace, out: TextIO = sys.stdout, spec: Spec | None = None
) -> Session:
    """Load and validate the spec, then decide where AWS is and where state lives: nothing
    reaches AWS before this. Every command that reads or writes state goes through here (or,
    without a spec, `backend_for`), so all of them see the same backend."""
    spec = spec or load_spec(args.spec)
    endpoint = _endpoint(args, announce=True)
    return Session(spec, args.state_dir, endpoint, out, backend_for(args, spec))


BACKEND_FILE = "backend.json"


def backend_config(args: argparse.Namespace, spec: Spec | None) -> dict[str, Any] | None:
    """The S3 backend to use: flags, else spec.yaml `backend`, else what `init` recorded."""
    if args.backend_bucket:
        return {
            "bucket": args.backend_bucket,
            "region": args.backend_region,
            "prefix": args.backend_prefix or "",
        }
    if spec is not None and spec.backend is not None:
        if spec.backend.type != "s3":
            return None
        return {
            "bucket": spec.backend.bucket,
            "region": args.backend_region or spec.backend.region,
            "prefix": args.backend_prefix
            if args.backend_prefix is not None
            else spec.backend.prefix,
            "kms_key_id": spec.backend.kms_key_id,
        }
    recorded = args.state_dir / BACKEND_FILE
    if recorded.is_file():
        try:
            config: dict[str, Any] = json.loads(recorded.read_text())
        except ValueError as exc:
            raise DeployerError(
                f"{recorded}: unreadable ({exc}): run `deployer init` again"
            ) from exc
        return config
    return None


def _endpoint(args: argparse.Namespace, announce: bool = False) -> str | None:
    """--endpoint-url, else AWS_ENDPOINT_URL, else a sandbox started with this --state-dir."""
    endpoint: str | None = args.endpoint_url or os.environ.get("AWS_ENDPOINT_URL")
    if endpoint is None:
        info = sandbox.status(args.state_dir)
        endpoint = info.endpoint if info is not None else None
        if endpoint is not None and announce:
            print(f"Using the local sandbox at {endpoint}.", file=sys.stderr)
    if endpoint is not None and _is_loopback(endpoint):
        for name, value in sandbox.SANDBOX_CREDENTIALS.items():
            os.environ.setdefault(name, value)
    return endpoint


def backend_for(args: argparse.Namespace, spec: Spec | None = None) -> Backend:
    """Where state lives, the same for every command: the S3 backend of `backend_config`
    (reached through `_endpoint`), else local files in --state-dir."""
    if spec is None and args.spec.exists():
        spec = load_spec(args.spec)
    config = backend_config(args, spec)
    if config is None:
        return LocalBackend(args.state_dir)
    import boto3

    region = config.get("region") or (spec.region("primary") if spec else "us-east-1")
    client = boto3.client("s3", region_name=region, endpoint_url=_endpoint(args))
    return S3Backend(client, str(config["bucket"]), str(config.get("prefix") or ""))


def cmd_init(args: argparse.Namespace) -> int:
    """Choose the S3 backend (flags or spec), create its bucket if asked, migrate local state."""
    session = open_session(args)
    config = backend_config(args, session.spec)
    backend = session.backend
    if config is None or not isinstance(backend, S3Backend):
        print(f"State stays in local files under {args.state_dir} (no S3 backend configured).")
        return 0
    region = config.get("region") or session.spec.region("primary")
    if args.create_bucket:
        made = create_bucket(backend.client, backend.bucket, region, config.get("kms_key_id"))
        print(
            f"{'Created' if made else 'Configured'} the state bucket {backend.bucket} "
            f"({region}): versioned, encrypted, public access blocked."
        )
    else:
        try:
            backend.client.head_bucket(Bucket=backend.bucket)
        except ClientError as exc:
            raise DeployerError(
                f"the state bucket {backend.bucket} does not exist or is not reachable "
                f"({describe_error(exc)}): rerun with --create-bucket to create it"
            ) from exc
    local = LocalBackend(args.state_dir)
    if args.migrate:
        with ExitStack() as stack:
            for ws in WORKSPACES:
                stack.enter_context(local.lock(ws, "init"))
                stack.enter_context(backend.lock(ws, "init"))
            for ws in WORKSPACES:
                data = local.read(ws)
                if data is None:
                    continue
                State.load(args.state_dir, ws)  # refuses a corrupt or newer-format file
                remote = backend.read(ws)
                if remote is not None and remote != data:
                    raise DeployerError(
                        f"{backend.describe(ws)} already holds a different state of workspace "
                        f"{ws}: refusing to overwrite it (nothing was migrated for {ws})"
                    )
                backend.write(ws, data)
                print(f"Migrated {local.describe(ws)} to {backend.describe(ws)}.")
    args.state_dir.mkdir(parents=True, exist_ok=True)
    record = {"bucket": backend.bucket, "region": region, "prefix": backend.prefix}
    (args.state_dir / BACKEND_FILE).write_text(json.dumps(record, indent=2) + "\n")
    print(f"State now lives in s3://{backend.bucket}/{backend.prefix}; locks are S3 objects.")
    return 0


def _is_loopback(url: str) -> bool:
    return "://127." in url or "://localhost" in url or "://[::1]" in url


@contextmanager
def locked(session: Session, workspaces: Sequence[str], operation: str) -> Iterator[ExitStack]:
    """The workspaces' locks, held until the block ends; closing the yielded stack releases
    them early (a second Ctrl-C, just before the process ends)."""
    with ExitStack() as stack:
        for ws in workspaces:
            stack.enter_context(workspace_lock(session.state_dir, ws, operation, session.backend))
        yield stack


def cmd_plan(args: argparse.Namespace) -> int:
    if args.target and args.out:
        raise DeployerError("-target and -out together: a saved plan covers the whole spec")
    session = open_session(args)
    workspaces = active_workspaces(session.spec, session.state_of, args.region)
    targeting = Targeting.select(build_graph(session.spec, workspaces), args.target, workspaces)
    with locked(session, workspaces, "plan"):
        states = session.states(workspaces)
        plan = plan_changes(targeting.graph, states, session.clients(), workspaces=workspaces)
        plan = targeting.limit(plan)
    plan_commands.emit_plan(args, plan, targeting.graph, states)
    targeting.warn(sys.stderr if args.json else sys.stdout)
    return 2 if args.detailed_exitcode and plan.has_changes else 0


def cmd_failover(args: argparse.Namespace) -> int:
    """`failover --to R` and `failback`: both workspaces locked for the whole run."""
    session = open_session(args)
    with locked(session, WORKSPACES, "failover"):
        states = session.states(WORKSPACES)
        return failover_commands.run(args, args.spec, states, session.clients(), confirm)


def cmd_show(args: argparse.Namespace) -> int:
    plan_commands.show(args.plan_file, args.json)
    return 0


def confirm(question: str) -> bool:
    if not sys.stdin.isatty():
        raise DeployerError(
            "no terminal to confirm on: rerun with --auto-approve to proceed without asking"
        )
    print(f"\n{question}\n  Only 'yes' will be accepted to approve.\n")
    return input("  Enter a value: ").strip() == "yes"


def cmd_apply(args: argparse.Namespace) -> int:
    if args.target and args.plan_file:
        raise DeployerError("-target with a saved plan: the plan says what to apply")
    saved = plan_commands.load_for_apply(args) if args.plan_file else None
    session = open_session(args)
    workspaces = (
        saved["workspaces"]
        if saved
        else active_workspaces(session.spec, session.state_of, args.region)
    )
    require_primary_first(session.spec, session.state_of, workspaces)
    targeting = Targeting.select(build_graph(session.spec, workspaces), args.target, workspaces)
    graph = targeting.graph
    log = sys.stderr if args.json else sys.stdout
    with locked(session, workspaces, "apply") as locks:
        states = session.states(workspaces)
        if saved is not None:
            plan_commands.verify_saved(args, saved, states)
        clients = session.clients()
        plan = plan_changes(
            graph, states, clients, workspaces=workspaces, parallelism=args.parallelism
        )
        plan = targeting.limit(plan)
        if saved is not None:  # exactly the reviewed plan, else nothing
            plan_commands.verify_replanned(args, saved, plan, graph, states)
        elif not args.json:
            print(render_plan(plan), file=log)
        targeting.warn(log)
        refuse_data_loss(plan, args.allow_replace)
        executor = Executor(
            graph, states, clients, parallelism=args.parallelism, emit=Progress(log)
        )
        refuse_blocked_deletes(executor, plan)
        if not plan.has_changes:
            result = ApplyResult()
        else:
            asked = not args.auto_approve and saved is None
            if asked and not confirm("Do you want to perform these actions?"):
                print("Apply cancelled.", file=sys.stderr)
                return 1
            with graceful_interrupts(executor.interrupt, locks.close):
                result = executor.apply(plan)
    summary = _summary(plan, result)
    calls = clients.counter
    if args.json:
        print(
            json.dumps(
                {
                    "ok": result.ok,
                    "workspaces": workspaces,
                    "summary": summary,
                    "failures": [
                        {"address": split_key(k)[1], "workspace": split_key(k)[0], "error": e}
                        for k, e in sorted(result.failures.items())
                    ],
                    "elapsed_seconds": round(result.elapsed, 3),
                    "api_calls": {
                        "read": calls.reads,
                        "write": calls.writes,
                        "by_operation": dict(sorted(calls.calls.items())),
                    },
                },
                indent=2,
            )
        )
    if result.interrupted:
        print(interrupted_message("Apply", plan, result, "apply"), file=sys.stderr)
        return 1
    if not result.ok:
        for key, error in sorted(result.failures.items()):
            workspace, address = split_key(key)
            print(f"Error: {address} ({workspace}): {error}", file=sys.stderr)
        print(
            f"Apply stopped: {summary['added']} added, {summary['changed']} changed, "
            f"{summary['destroyed']} destroyed before the failure; state records all of it. "
            "Fix the cause and run apply again.",
            file=sys.stderr,
        )
        return 1
    if not args.json:
        print(
            f"\nApply complete! Resources: {summary['added']} added, {summary['changed']} changed,"
            f" {summary['destroyed']} destroyed. ({calls.reads} read and {calls.writes} write "
            f"API calls in {result.elapsed:.1f}s)",
            file=log,
        )
    targeting.warn(log, applied=True)
    return 0


def _summary(plan: Plan, result: ApplyResult) -> dict[str, int]:
    counts = {"added": 0, "changed": 0, "destroyed": 0}
    for action in result.done.values():
        if action in ("create", "replace"):
            counts["added"] += 1
        if action == "replace" or action == "delete":
            counts["destroyed"] += 1
        if action == "update":
            counts["changed"] += 1
    return counts


def cmd_destroy(args: argparse.Namespace) -> int:
    session = open_session(args)
    workspaces = chosen_workspaces(session.spec, args.region)
    require_secondary_destroyed_first(session.spec, session.state_of, workspaces)
    graph = build_graph(session.spec, workspaces)
    with locked(session, workspaces, "destroy") as locks:
        states = session.states(workspaces)
        plan = destroy_plan(states, workspaces)
        if not plan.has_changes:
            print("No resources to destroy: the state is empty.")
            return 0
        for change in sorted(plan.actionable(), key=lambda c: c.key):
            print(f"  - {change.address} ({change.workspace})")
        print(f"\nPlan: 0 to add, 0 to change, {len(plan.actionable())} to destroy.")
        executor = Executor(
            graph,
            states,
            session.clients(),
            parallelism=args.parallelism,
            emit=Progress(sys.stdout),
            options={
                "force": args.force,
                "disable_deletion_protection": args.disable_deletion_protection,
                "no_recovery_window": args.no_recovery_window,
            },
        )
        refuse_blocked_deletes(executor, plan)
        if not args.auto_approve and not confirm(
            "Do you really want to destroy all these resources? There is no undo."
        ):
            print("Destroy cancelled.", file=sys.stderr)
            return 1
        with graceful_interrupts(executor.interrupt, locks.close):
            result = executor.apply(plan)
    if result.interrupted:
        print(interrupted_message("Destroy", plan, result, "destroy"), file=sys.stderr)
        return 1
    if not result.ok:
        for key, error in sorted(result.failures.items()):
            workspace, address = split_key(key)
            print(f"Error: {address} ({workspace}): {error}", file=sys.stderr)
        return 1
    print(f"\nDestroy complete! Resources: {len(result.done)} destroyed.")
    return 0


def cmd_output(args: argparse.Namespace) -> int:
    session = open_session(args)
    spec = session.spec
    workspaces = chosen_workspaces(spec, args.region)
    graph = build_graph(spec, workspaces)
    states = session.states(workspaces)
    values = outputs_of(graph, states)
    if args.json:
        print(json.dumps(values, indent=2, sort_keys=True))
        return 0
    if not values:
        print("No outputs: nothing is applied yet. Run `deployer apply` first.", file=sys.stderr)
        return 0
    print(render_outputs(values, workspaces, spec.region), end="")
    return 0


def cmd_graph(args: argparse.Namespace) -> int:
    spec = load_spec(args.spec)
    graph = build_graph(spec, chosen_workspaces(spec, args.region))
    render: Callable[[Graph], str] = render_dot if args.format == "dot" else render_mermaid
    print(render(graph))
    return 0


def cmd_drift(args: argparse.Namespace) -> int:
    """Exit 0 when clean, 2 when anything drifted, is missing, unmanaged or breaks parity
    (with --fail-on, only a finding of that severity or above)."""
    from deployer.drift import detect_drift, render_json, render_markdown, render_table

    session = open_session(args)
    workspaces = active_workspaces(session.spec, session.state_of, args.region)
    graph = build_graph(session.spec, workspaces)
    evidence = _prepare_evidence(args, session)
    with locked(session, workspaces, "drift"):
        states = session.states(workspaces)
        if not any(states[ws].addresses() for ws in workspaces):
            raise DeployerError("nothing is applied yet: drift compares deployed resources")
        report = detect_drift(graph, states, session.clients(), workspaces)
    if args.format == "json":
        print(render_json(report))
    elif args.format == "markdown":
        print(render_markdown(report))
    else:
        print(render_table(report, colour=sys.stdout.isatty()))
    if evidence is not None:  # signs after detect_drift's no-write check
        written = evidence.write(render_json(report), render_markdown(report), report.has_drift)
        print(f"Evidence written to {written}.", file=sys.stderr)
    return 2 if report.fails(args.fail_on) else 0


def _prepare_evidence(args: argparse.Namespace, session: Session) -> Evidence | None:
    """`--evidence DIR [--sign-key KEY]`: directory and key checked before drift runs; the
    states drift reads are recorded through the session's backend for their digests."""
    if args.evidence is None:
        if args.sign_key:
            raise DeployerError("--sign-key signs evidence: give --evidence DIR too")
        return None
    from deployer.evidence import Evidence

    evidence = Evidence.prepare(
        args.evidence,
        args.sign_key,
        clients=session.clients(),
        backend=session.backend or LocalBackend(session.state_dir),
        spec_path=args.spec,
        region=session.spec.region("primary"),
        endpoint_url=session.endpoint_url,
    )
    session.backend = evidence.backend
    return evidence


def cmd_verify_evidence(args: argparse.Namespace) -> int:
    """Exit 0 when every digest and the signature hold, 1 naming the first that does not."""
    from deployer.evidence import verify_evidence

    clients = Clients(endpoint_url=_endpoint(args))
    for line in verify_evidence(args.directory, clients, expected_key=args.key):
        print(line)
    print(f"{args.directory}: the evidence verifies.")
    return 0


def cmd_export_hcl(args: argparse.Namespace) -> int:
    from export.folder import export_files
    from export.takeover import deployed_import_ids
    from export.targets import target

    spec = load_spec(args.spec)
    graph = build_graph(spec)
    import_ids = None
    if args.with_imports:
        session = open_session(args, spec=spec)
        states = session.states(WORKSPACES)
        import_ids = deployed_import_ids(states)
        if not any(import_ids.values()):
            backend = session.backend or LocalBackend(args.state_dir)
            places = " and ".join(backend.describe(ws) for ws in WORKSPACES)
            raise DeployerError(
                f"--with-imports needs applied state: there is none in {places} (run "
                "`deployer apply` first, or point --state-dir or --backend-bucket at the state)"
            )
    sandbox_endpoint = None
    if args.sandbox_override:
        sandbox_endpoint = _endpoint(args)
        if sandbox_endpoint is None:
            raise DeployerError(
                "--sandbox-override needs an endpoint: start one with `deployer sandbox start` "
                "(same --state-dir) or give --endpoint-url"
            )
    files = export_files(
        graph, spec, import_ids, target(args.provider_version), sandbox_endpoint=sandbox_endpoint
    )
    encoded = {
        name: content.encode() if isinstance(content, str) else content
        for name, content in files.items()
    }
    if args.check is not None:
        differs = [
            name
            for name, content in sorted(encoded.items())
            if not (args.check / name).is_file() or (args.check / name).read_bytes() != content
        ]
        if differs:
            print(f"{args.check} differs from the spec: {', '.join(differs)}")
            return 2
        print(f"{args.check} matches the spec.")
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    for name, content in sorted(encoded.items()):
        (args.out / name).write_bytes(content)
    blocks = sum(
        text.count("\nresource ") + text.startswith("resource ")
        for text in files.values()
        if isinstance(text, str)
    )
    print(f"Wrote {len(files)} files to {args.out} ({blocks} resource blocks).")
    return 0


def cmd_state(args: argparse.Namespace) -> int:
    """`state list|show|rm` (deployer/state_commands.py): state only, no AWS call."""
    session = open_session(args)
    return run_state(args, session.spec, session.state_dir, session.backend)


def cmd_import(args: argparse.Namespace) -> int:
    session = open_session(args)
    return run_import(args, session.spec, session.state_dir, session.backend, session.clients)


def cmd_force_unlock(args: argparse.Namespace) -> int:
    if force_unlock(args.state_dir, args.workspace, backend_for(args)):
        print(f"Released the lock of workspace {args.workspace}.")
        return 0
    print(f"Workspace {args.workspace} is not locked.")
    return 0


def cmd_sandbox(args: argparse.Namespace) -> int:
    if args.action == "start":
        info = sandbox.start(args.state_dir, args.port)
        print(
            f"Sandbox running at {info.endpoint} (pid {info.pid}); deployer commands with "
            f"--state-dir {args.state_dir} use it unless --endpoint-url says otherwise."
        )
    elif args.action == "stop":
        stopped = sandbox.stop(args.state_dir)
        print("Sandbox stopped." if stopped else "No sandbox was running.")
    else:
        status = sandbox.status(args.state_dir)
        if status is None:
            print("No sandbox is running.")
            return 1
        print(
            f"Sandbox running at {status.endpoint} (pid {status.pid}, since {status.started_at})."
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
