"""What a user watches during apply and destroy: Terraform-style progress lines, how long a
wait has been going, and what an interrupted run did and left."""

from __future__ import annotations

import threading
from typing import Any, TextIO

from deployer.executor import ApplyResult
from deployer.model import split_key
from deployer.planner import Plan


class Progress:
    """Terraform-style progress lines, one per resource event."""

    VERBS = {
        "create": ("Creating...", "Creation complete"),
        "replace": ("Replacing...", "Replacement complete"),
        "update": ("Modifying...", "Modifications complete"),
        "delete": ("Destroying...", "Destruction complete"),
        "delete deposed": ("Destroying the replaced object...", "Replaced object destroyed"),
    }

    # What a long wait is still doing, by the action that started it.
    STILL = {
        "create": "creating",
        "replace": "replacing",
        "update": "modifying",
        "delete": "destroying",
        "delete deposed": "destroying",
    }

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.lock = threading.Lock()
        self.actions: dict[str, str] = {}

    def __call__(self, event: dict[str, Any]) -> None:
        workspace, address = split_key(event["key"])
        if event["event"] == "note":
            with self.lock:
                print(f"{address} ({workspace}): {event['text']}", file=self.stream, flush=True)
            return
        if event["event"] == "waiting":
            verb = self.STILL.get(self.actions.get(event["key"], ""), "waiting until ready")
            with self.lock:
                print(
                    f"{address} ({workspace}): Still {verb}... "
                    f"[{elapsed(event['seconds'])} elapsed]",
                    file=self.stream,
                    flush=True,
                )
            return
        start, done = self.VERBS[event["action"]]
        if event["event"] == "start":
            self.actions[event["key"]] = event["action"]
            line = f"{address} ({workspace}): {start}"
        else:
            line = (
                f"{address} ({workspace}): {done} after {event['seconds']:.1f}s [id={event['id']}]"
            )
        with self.lock:
            print(line, file=self.stream, flush=True)


def elapsed(seconds: float) -> str:
    """`45s`, `1m30s`, `1h2m5s`: Terraform's way of saying how long."""
    total = int(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes}m{secs}s"
    return f"{minutes}m{secs}s" if minutes else f"{secs}s"


def interrupted_message(what: str, plan: Plan, result: ApplyResult, command: str) -> str:
    """What an interrupted run did and left: the operations in flight finished (or failed), and
    state records each; the rest never started."""
    planned = {c.key for c in plan.actionable()}
    finished = len(planned & set(result.done))
    failed = len(planned & set(result.failures))
    not_started = len(planned) - finished - failed
    failures = f", {failed} failed" if failed else ""
    return (
        f"{what} interrupted: the operations in flight finished ({finished} done{failures}) "
        f"and state records them; {not_started} of {len(planned)} planned did not start. "
        f"Run `deployer {command}` again to finish."
    )
