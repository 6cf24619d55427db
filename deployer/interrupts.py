"""Ctrl-C during apply or destroy, as Terraform handles it: the first stops new work and lets
what is in flight finish (each finished operation is recorded in state), the second stops at
once.

Stopping at once is safe for state: every write is atomic and every create records its intent
first, so the next apply adopts what a killed create made. The workspace locks are released
before the process ends, so that next apply is not refused by a lock nobody holds.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import TextIO

# The exit code of a process stopped by SIGINT, as shells report it.
INTERRUPTED_EXIT = 130


@contextmanager
def graceful_interrupts(
    stop_new_work: Callable[[], None],
    release_locks: Callable[[], None],
    stream: TextIO = sys.stderr,
) -> Iterator[None]:
    """While inside, the first SIGINT calls `stop_new_work`; the second releases the locks
    and ends the process at once. Outside the main thread, signals cannot be caught: a no-op."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received = 0

    def handle(signum: int, frame: FrameType | None) -> None:
        nonlocal received
        received += 1
        if received == 1:
            stop_new_work()
            print(
                "\nInterrupt received: no new operation starts; the ones in flight finish and "
                "are recorded in state. Press Ctrl-C again to stop at once.",
                file=stream,
                flush=True,
            )
            return
        print(
            "\nStopped at once. Operations in flight may not have finished; state records the "
            "intent of every create begun, so run apply again: it adopts what they made and "
            "finishes the rest.",
            file=stream,
            flush=True,
        )
        release_locks()
        os._exit(INTERRUPTED_EXIT)

    previous = signal.signal(signal.SIGINT, handle)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
