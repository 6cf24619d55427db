"""Domain names as Route 53 and ACM spell them.

Route 53 returns record and zone names fully qualified, with the trailing dot, and ACM hands
out its validation records the same way; names are kept in that form wherever they are
compared or passed on, so that a value can flow from one service to another unchanged.
"""

from __future__ import annotations


def absolute(name: str) -> str:
    """A fully qualified DNS name with its trailing dot, as Route 53 returns names."""
    return name if name.endswith(".") else f"{name}."
