"""Terraform's single nested blocks, as drivers read them.

The provider writes a block that may appear at most once (`max_items = 1`: a table's
`point_in_time_recovery`, a function's `vpc_config`, a lifecycle rule's `filter`) as a list of
zero or one element; the API takes one structure or none. Every driver reads such a block the
same way, through these two functions.
"""

from __future__ import annotations

from typing import Any


def first_block(blocks: list[dict[str, Any]] | None) -> dict[str, Any]:
    """The single block of a `max_items = 1` block list, or {} when absent.

    A copy, so that a caller may fill in defaults without changing the node's attributes.
    """
    return dict(blocks[0]) if blocks else {}


def only_block(blocks: list[dict[str, Any]] | None) -> dict[str, Any] | None:
    """The single block, or None when absent: for APIs where an empty block (`filter {}`)
    means something other than no block at all."""
    return blocks[0] if blocks else None
