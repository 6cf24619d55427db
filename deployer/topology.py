"""The regions' roles: which workspace writes, which one is lost, and the spec line that says so.

`deployer failover` moves the single writers (the database) to the secondary and marks the
primary's state lost; `deployer failback` undoes both. Everything else reads the roles from here:
plan, apply and drift leave a lost workspace out (its resources stay recorded, neither planned
for re-creation nor compared) and say so.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from deployer.aws import DeployerError
from deployer.backends import atomic_write
from deployer.model import WORKSPACES
from deployer.spec import Spec
from deployer.state import State

StateOf = Callable[[str], State]

# The `failover:` section and its `writer:` line, as `set_writer` writes and finds them.
_SECTION = re.compile(r"^failover:[ \t]*(#.*)?$", re.MULTILINE)
_WRITER = re.compile(r"^([ \t]+)writer:[ \t]*[A-Za-z\"']*([ \t]*#.*)?$", re.MULTILINE)


def chosen_workspaces(spec: Spec, region: str | None) -> list[str]:
    """`--region`'s workspace, else both."""
    return [spec.workspace_for(region)] if region else list(WORKSPACES)


def active_workspaces(
    spec: Spec, state_of: StateOf, region: str | None, note: TextIO | None = None
) -> list[str]:
    """The workspaces a command works on: `--region`'s, else both, less any lost one."""
    chosen = chosen_workspaces(spec, region)
    active = []
    for ws in chosen:
        lost = state_of(ws).lost
        if lost is None:
            active.append(ws)
            continue
        print(lost_note(spec, ws, lost.get("since", "?")), file=note or sys.stderr)
    if not active:
        raise DeployerError(
            f"the {chosen[0]} workspace ({spec.region(chosen[0])}) is marked lost by a failover: "
            "nothing to work on until `deployer failback` rebuilds it"
        )
    return active


def lost_note(spec: Spec, workspace: str, since: str) -> str:
    return (
        f"Note: {workspace} ({spec.region(workspace)}) is marked lost since {since} "
        "(deployer failover): its resources stay recorded and are not planned, applied or "
        "compared; `deployer failback` rebuilds it."
    )


def set_writer(path: Path, writer: str) -> None:
    """Rewrite the spec's `failover.writer` in place, keeping every other line and comment
    (the spec is the team's reviewed file: a failover changes one line of it)."""
    if writer not in WORKSPACES:
        raise DeployerError(f"writer must be one of {', '.join(WORKSPACES)}, not {writer!r}")
    text = path.read_text()
    section = _SECTION.search(text)
    line = f"writer: {writer}"
    if section is None:
        text = text.rstrip("\n") + (
            "\n\n# The regions' roles: `deployer failover` and `deployer failback` set the writer."
            f"\nfailover:\n  {line}\n"
        )
    else:
        body_start = section.end() + 1
        following = re.search(r"^\S", text[body_start:], re.MULTILINE)
        body_end = body_start + following.start() if following else len(text)
        body = text[body_start:body_end]
        found = _WRITER.search(body)
        if found:
            body = body[: found.start()] + f"{found.group(1)}{line}" + body[found.end() :]
        else:
            body = f"  {line}\n" + body
        text = text[:body_start] + body + text[body_end:]
    atomic_write(path, text.encode(), keep_backup=False)  # the spec is in version control
