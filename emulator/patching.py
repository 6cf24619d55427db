"""How the emulator changes moto: each patch at most once, every extension once per process.

A patch replaces a method of one of moto's classes by a wrapper of what is there and tags the
wrapper, so that applying a correction again (a second ``install_extensions``, or the server and a
test in one process) changes nothing. Patches of one method stack: each wraps what is installed,
and the tags accumulate.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

# The tags of the patches a method carries (the tests read them too).
_PATCHES_ATTR = "_deployer_patches"
# Set on moto's RDSBackend once `install_once` ran: a mark of this process's moto classes.
_INSTALLED_MARK = "_deployer_extensions_installed"
_install_lock = threading.Lock()

Wrapper = Callable[[Any], Any]


def _patch(owner: Any, name: str, tag: str, make: Wrapper) -> None:
    """Replace ``owner.name`` by ``make(current)`` unless the patch ``tag`` is already there.

    Patches of one method stack: each wraps what is installed, and the tags accumulate.
    """
    current = getattr(owner, name, None)
    applied: frozenset[str] = getattr(current, _PATCHES_ATTR, frozenset())
    if tag in applied:
        return
    replacement = make(current)
    setattr(replacement, _PATCHES_ATTR, applied | {tag})
    replacement.__wrapped__ = current
    setattr(owner, name, replacement)


def install_once(installers: Iterable[Callable[[], None]]) -> None:
    """Run ``installers`` in order unless this process already did; thread-safe.

    The extensions assign moto's methods outright (they are not `_patch`es), so running them a
    second time would wrap what they installed: the mark on moto's RDSBackend prevents that.
    """
    from moto.rds.models import RDSBackend

    with _install_lock:
        if getattr(RDSBackend, _INSTALLED_MARK, False):
            return
        for install in installers:
            install()
        setattr(RDSBackend, _INSTALLED_MARK, True)
