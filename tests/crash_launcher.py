"""Run the deployer CLI and die right after one node's create call returns: a test's crash point.

Usage: ``python tests/crash_launcher.py NODE -- CLI_ARGS...``, NODE a node key
(``primary:aws_vpc.main``) or address (``aws_vpc.main``); or
``python tests/crash_launcher.py --after-call OPERATION -- CLI_ARGS...``: die right after the
first AWS call of that operation (``PromoteReadReplica``) returns.

The driver of NODE's type is wrapped so that once its real ``create`` has returned for that node,
the process ends at once with status 137 (``os._exit``: no cleanup, no ``finally``), leaving what
a ``kill -9`` at that moment would: the resource made, state saying only that it was being
created. Test-only: the product has no such hook.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

CRASH_STATUS = 137  # as a shell reports a process killed by SIGKILL
USAGE = "usage: python tests/crash_launcher.py (NODE | --after-call OPERATION) -- CLI_ARGS..."

# Run as a script, this file's folder (tests/) leads sys.path, and its `resources/`, `stack/`,
# `export/` and `emulator/` test folders would be imported as the packages of those names.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != _HERE]


def crash_after_create(target: str) -> None:
    """Wrap the create of ``target``'s driver: after the real call returns for it, exit 137."""
    from deployer.resource import Context, registered_resources

    resource_type = target.split(":", 1)[-1].split(".", 1)[0]
    drivers = registered_resources()
    if resource_type not in drivers:
        raise SystemExit(f"{USAGE}\nno driver for resource type {resource_type!r}")
    driver = drivers[resource_type]  # the very object the executor's driver_for returns
    create = driver.create

    def create_then_crash(ctx: Context, desired: dict[str, Any]) -> str:
        resource_id = create(ctx, desired)
        if target in (ctx.node.key, ctx.node.address):
            os._exit(CRASH_STATUS)  # made, but not yet recorded in state
        return resource_id

    driver.create = create_then_crash  # type: ignore[method-assign]


def crash_after_call(operation: str) -> None:
    """Every client the engine makes ends the process once a call of `operation` returned."""
    from deployer.aws import Clients

    make = Clients.__call__

    def after(model: Any, **_: Any) -> None:
        if model.name == operation:
            os._exit(CRASH_STATUS)  # AWS did it; nothing after the call ran

    def make_with_crash(self: Clients, service: str, region: str) -> Any:
        made = make(self, service, region)
        if not getattr(made, "_crash_hooked", False):
            made.meta.events.register("after-call", after)
            made._crash_hooked = True
        return made

    Clients.__call__ = make_with_crash  # type: ignore[method-assign]


def main(argv: list[str]) -> int:
    if argv[:1] == ["--after-call"]:
        if len(argv) < 3 or argv[2] != "--":
            raise SystemExit(USAGE)
        crash_after_call(argv[1])
        argv = argv[1:]
    elif len(argv) < 2 or argv[1] != "--":
        raise SystemExit(USAGE)
    else:
        crash_after_create(argv[0])
    from deployer.cli import main as cli_main

    return cli_main(argv[2:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
