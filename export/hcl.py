"""A small, dependency-free HCL writer whose output is already in `terraform fmt` canonical form.

The model is a tiny AST (`Block`, `Attribute`, `Blank`, `Comment`) whose attribute values are
expressions: Python literals (``str``, ``int``, ``float``, ``bool``, ``None``, ``list``/``tuple``,
``dict``) and the wrappers `Raw`, `Template`, `Call` and `Conditional`. One generic renderer turns
it into text.

Layout rules (the ones `terraform fmt` enforces, checked against the real CLI):

- Two spaces of indentation per nesting level.
- In a run of consecutive attributes (or object items) whose value fits on one line, the ``=``
  signs are aligned one space after the longest name.  A line that is not such an attribute ends
  the run: a blank line, a comment, a nested block header, and also an attribute whose value
  spans several lines (its ``=`` keeps a single space and the lines around it align separately).
  Name widths are counted in characters (grapheme clusters), not bytes.
- Nested blocks are ``type "label" {`` ... ``}``, an empty one ``type "label" {}``.
- A list of single-line, non-collection items is written on one line when that text is at most
  `MAX_INLINE_LIST` characters; otherwise one item per line, each followed by a comma.
- Objects are written one ``key = value`` per line (aligned as above); ``{}`` and ``[]`` when
  empty.  Inside a conditional, which is always a single line, collections are written inline
  (``{ a = 1, b = 2 }``, ``[1, 2]``).
- A call whose arguments all fit on one line is ``f(a, b)``; when only its last argument spans
  several lines, it hugs the brackets (``jsonencode({`` ... ``})``, ``merge(local.tags, {`` ...
  ``})``); otherwise one argument per line, each followed by a comma.
- Numbers: integral floats without ``.0``, others in positional notation (``0.00001``, not
  ``1e-05``, which some HCL parsers reject).  Object keys that are not identifiers (or are
  keywords such as ``for`` and ``null``) are quoted.
- An attribute whose whole value is a single interpolation (``Template((Raw("x"),))``) is written
  as the bare expression ``x``, as `terraform fmt` rewrites ``"${x}"``.

`Raw` text is written verbatim, so it must itself be in canonical form and on one line.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TypeAlias, Union

__all__ = [
    "MAX_INLINE_LIST",
    "Attribute",
    "Blank",
    "Block",
    "Call",
    "Comment",
    "Conditional",
    "Expr",
    "Raw",
    "Template",
    "escape_string",
    "render_block",
    "render_expr",
    "render_file",
]

MAX_INLINE_LIST = 80
"""Longest one-line rendering (in characters) of a list before it is split one item per line."""

INDENT = "  "

_IDENT_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*\Z")
_FUNC_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*(::[A-Za-z_][A-Za-z0-9_-]*)*\Z")
# Bare object keys that would not parse as a literal key (`null`, booleans, `for` starting a
# for-expression) are quoted; `in` and `if` are quoted too so no key reads like a keyword.
_KEYWORD_KEYS = frozenset({"true", "false", "null", "for", "in", "if"})


@dataclass(frozen=True)
class Raw:
    """An expression written verbatim, e.g. ``Raw("aws_vpc.main.id")``."""

    text: str


@dataclass(frozen=True)
class Template:
    """A quoted string template: literal ``str`` parts and ``Raw`` parts written as ``${...}``."""

    parts: tuple[str | Raw, ...]


@dataclass(frozen=True)
class Call:
    """A function call ``name(arg, ...)``, e.g. ``Call("jsonencode", ({"a": 1},))``."""

    name: str
    args: tuple[Expr, ...] = ()


@dataclass(frozen=True)
class Conditional:
    """A conditional expression ``cond ? if_true : if_false`` (always written on one line)."""

    cond: Expr
    if_true: Expr
    if_false: Expr


# A recursive alias needs `Union` with string forward references.
Expr: TypeAlias = Union[
    str,
    int,
    float,
    bool,
    # Only lists and tuples are accepted at run time; Sequence keeps the alias covariant.
    "Sequence[Expr]",
    "Mapping[str, Expr]",
    "Mapping[str | Raw, Expr]",
    Raw,
    Template,
    Call,
    Conditional,
    None,
]


@dataclass(frozen=True)
class Attribute:
    """An argument ``name = value``."""

    name: str
    value: Expr


@dataclass(frozen=True)
class Blank:
    """An empty line inside a body (or an explicit separator at the top level of a file)."""


@dataclass(frozen=True)
class Comment:
    """A ``#`` comment; each line of `text` becomes one comment line."""

    text: str


@dataclass(frozen=True)
class Block:
    """A block ``type "label" ... { body }``, e.g. ``Block("resource", ("aws_vpc", "main"))``."""

    type: str
    labels: tuple[str, ...] = ()
    body: list[Attribute | Block | Blank | Comment] = field(default_factory=list)


BodyItem: TypeAlias = Union[Attribute, Block, Blank, Comment]  # noqa: UP007

# A rendered expression: lines of (depth relative to the line the expression starts on, text).
# The first line always has depth 0 and is appended after whatever precedes the expression.
_Lines: TypeAlias = list[tuple[int, str]]


# ---------------------------------------------------------------------------------------------
# strings


def escape_string(text: str) -> str:
    """Escape `text` as the body of an HCL quoted literal (without the surrounding quotes).

    Backslash, double quote and control characters are escaped, and ``${`` / ``%{`` become
    ``$${`` / ``%%{`` so that literal text never turns into an interpolation or a directive.
    Other characters, including non-ASCII, are kept as they are.
    """
    out: list[str] = []
    for ch in text:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return "".join(out).replace("${", "$${").replace("%{", "%%{")


def _quote(text: str) -> str:
    return '"' + escape_string(text) + '"'


def _template_parts(template: Template) -> list[str | Raw]:
    """Merge adjacent literal parts and drop empty ones."""
    parts: list[str | Raw] = []
    for part in template.parts:
        if isinstance(part, Raw):
            _check_raw(part)
            parts.append(part)
        elif isinstance(part, str):
            if not part:
                continue
            if parts and isinstance(parts[-1], str):
                parts[-1] = parts[-1] + part
            else:
                parts.append(part)
        else:
            raise TypeError(f"template parts must be str or Raw, not {type(part).__name__}")
    return parts


def _render_template(template: Template) -> str:
    parts = _template_parts(template)
    out: list[str] = []
    for i, part in enumerate(parts):
        if isinstance(part, Raw):
            out.append("${" + part.text + "}")
            continue
        text = escape_string(part)
        if i + 1 < len(parts) and text.endswith("$"):
            # A literal "$" right before "${" would read as the escape "$${": spell it \u0024.
            text = text[:-1] + "\\u0024"
        out.append(text)
    return '"' + "".join(out) + '"'


def _pictographic(ch: str) -> bool:
    cp = ord(ch)
    return cp >= 0x1F000 or 0x2600 <= cp <= 0x27BF or 0x2B00 <= cp <= 0x2BFF


def _columns(text: str) -> int:
    """Width of `text` as `terraform fmt` counts it for alignment: grapheme clusters.

    An approximation of Unicode grapheme segmentation that is exact for ASCII and for the usual
    combining-mark, variation-selector, zero-width-joiner and flag sequences.
    """
    count = 0
    prev = ""
    regional_pending = False
    for ch in text:
        cp = ord(ch)
        is_regional = 0x1F1E6 <= cp <= 0x1F1FF
        if prev == "\u200d" and _pictographic(ch) and count:
            pass  # an emoji zero-width-joiner sequence continues the previous cluster
        elif (
            unicodedata.combining(ch)
            or unicodedata.category(ch) in ("Mn", "Me", "Mc")
            or ch == "\u200d"
            or 0xFE00 <= cp <= 0xFE0F
            or 0xE0100 <= cp <= 0xE01EF
            or 0x1F3FB <= cp <= 0x1F3FF
        ) and count:
            pass  # extends the previous cluster
        elif is_regional and regional_pending:
            regional_pending = False
            prev = ch
            continue
        else:
            count += 1
        regional_pending = is_regional and not regional_pending
        prev = ch
    return count


# ---------------------------------------------------------------------------------------------
# expressions


def _check_raw(raw: Raw) -> None:
    if "\n" in raw.text or "\r" in raw.text:
        raise ValueError(f"Raw expressions must be on one line: {raw.text!r}")
    if not raw.text.strip():
        raise ValueError("Raw expressions must not be empty")


def _render_number(value: int | float) -> str:
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"HCL has no literal for {value!r}")
        if value.is_integer():
            return str(int(value))
        # Positional notation (0.00001, not 1e-05): the shortest round-tripping digits.
        return format(Decimal(repr(value)), "f")
    return str(value)


def _render_key(key: str | Raw) -> str:
    if isinstance(key, Raw):
        _check_raw(key)
        return key.text
    if not isinstance(key, str):
        raise TypeError(f"object keys must be str or Raw, not {type(key).__name__}")
    if _IDENT_RE.match(key) and key not in _KEYWORD_KEYS:
        return key
    return _quote(key)


def _is_collection(value: Expr) -> bool:
    return isinstance(value, list | tuple | Mapping)


def _single(lines: _Lines) -> str:
    assert len(lines) == 1
    return lines[0][1]


def _render(value: Expr, inline: bool) -> _Lines:
    """Render an expression; with `inline`, collections are forced onto one line."""
    if value is None:
        return [(0, "null")]
    if isinstance(value, bool):
        return [(0, "true" if value else "false")]
    if isinstance(value, int | float):
        return [(0, _render_number(value))]
    if isinstance(value, str):
        return [(0, _quote(value))]
    if isinstance(value, Raw):
        _check_raw(value)
        return [(0, value.text)]
    if isinstance(value, Template):
        return [(0, _render_template(value))]
    if isinstance(value, list | tuple):
        return _render_list(value, inline)
    if isinstance(value, Mapping):
        return _render_object(value, inline)
    if isinstance(value, Call):
        return _render_call(value, inline)
    if isinstance(value, Conditional):
        return [(0, _render_conditional(value))]
    raise TypeError(f"cannot render {type(value).__name__} as an HCL expression")


def _render_list(items: Sequence[Expr], inline: bool) -> _Lines:
    if not items:
        return [(0, "[]")]
    rendered = [_render(item, inline) for item in items]
    if inline:
        return [(0, "[" + ", ".join(_single(r) for r in rendered) + "]")]
    if all(len(r) == 1 for r in rendered) and not any(
        _is_collection(item) and item for item in items
    ):
        text = "[" + ", ".join(_single(r) for r in rendered) + "]"
        if len(text) <= MAX_INLINE_LIST:
            return [(0, text)]
    lines: _Lines = [(0, "[")]
    for r in rendered:
        lines.extend((depth + 1, text) for depth, text in r[:-1])
        depth, text = r[-1]
        lines.append((depth + 1, text + ","))
    lines.append((0, "]"))
    return lines


def _render_object(obj: Mapping[str, Expr] | Mapping[str | Raw, Expr], inline: bool) -> _Lines:
    if not obj:
        return [(0, "{}")]
    if inline:
        items = (f"{_render_key(k)} = {_single(_render(v, True))}" for k, v in obj.items())
        return [(0, "{ " + ", ".join(items) + " }")]
    entries = [(_render_key(k), _render(v, False)) for k, v in obj.items()]
    lines: _Lines = [(0, "{")]
    lines.extend((depth + 1, text) for depth, text in _aligned(entries))
    lines.append((0, "}"))
    return lines


def _render_call(call: Call, inline: bool) -> _Lines:
    if not _FUNC_RE.match(call.name):
        raise ValueError(f"invalid function name {call.name!r}")
    rendered = [_render(arg, inline) for arg in call.args]
    if all(len(r) == 1 for r in rendered):
        return [(0, f"{call.name}(" + ", ".join(_single(r) for r in rendered) + ")")]
    if all(len(r) == 1 for r in rendered[:-1]):
        # Only the last argument spans lines: hug it, `f(a, {` ... `})`.
        head = "".join(_single(r) + ", " for r in rendered[:-1])
        last = rendered[-1]
        lines: _Lines = [(0, f"{call.name}({head}{last[0][1]}")]
        lines.extend(last[1:-1])
        lines.append((last[-1][0], last[-1][1] + ")"))
        return lines
    lines = [(0, f"{call.name}(")]
    for r in rendered:
        lines.extend((depth + 1, text) for depth, text in r[:-1])
        depth, text = r[-1]
        lines.append((depth + 1, text + ","))
    lines.append((0, ")"))
    return lines


def _operand(value: Expr, wrap_conditional: bool) -> str:
    text = _single(_render(value, True))
    if wrap_conditional and isinstance(value, Conditional):
        return f"({text})"
    return text


def _render_conditional(cond: Conditional) -> str:
    return (
        f"{_operand(cond.cond, True)} ? {_operand(cond.if_true, True)}"
        f" : {_operand(cond.if_false, False)}"
    )


def _attribute_value(value: Expr) -> _Lines:
    """Render an attribute's value; a lone interpolation is unwrapped as `terraform fmt` does."""
    if isinstance(value, Template):
        parts = _template_parts(value)
        if len(parts) == 1 and isinstance(parts[0], Raw):
            return [(0, parts[0].text)]
    return _render(value, False)


def render_expr(value: Expr) -> str:
    """Render one expression as it would appear after ``name = `` at indentation level 0."""
    return "\n".join(INDENT * depth + text for depth, text in _render(value, False))


# ---------------------------------------------------------------------------------------------
# bodies


def _aligned(entries: Sequence[tuple[str, _Lines]]) -> _Lines:
    """Lay out consecutive ``name = value`` entries, aligning ``=`` over single-line runs.

    An entry whose value spans several lines ends the run before it and starts a new one after
    it, and its own ``=`` keeps a single space: `terraform fmt` aligns only lines that hold a
    whole assignment.
    """
    lines: _Lines = []
    run: list[tuple[str, str]] = []

    def flush() -> None:
        if run:
            width = max(_columns(name) for name, _ in run)
            for name, text in run:
                lines.append((0, name + " " * (width - _columns(name)) + " = " + text))
            run.clear()

    for name, value_lines in entries:
        if len(value_lines) == 1:
            run.append((name, value_lines[0][1]))
            continue
        flush()
        lines.append((0, f"{name} = {value_lines[0][1]}"))
        lines.extend(value_lines[1:])
    flush()
    return lines


def _check_ident(name: str, what: str) -> None:
    if not isinstance(name, str) or not _IDENT_RE.match(name):
        raise ValueError(f"invalid {what} name {name!r}")


def _comment_lines(comment: Comment) -> _Lines:
    return [(0, ("# " + line).rstrip()) for line in comment.text.split("\n")]


def _block_lines(block: Block) -> _Lines:
    _check_ident(block.type, "block type")
    header = " ".join([block.type, *(_quote(label) for label in block.labels)])
    if not block.body:
        return [(0, header + " {}")]
    lines: _Lines = [(0, header + " {")]
    lines.extend((depth + 1, text) for depth, text in _body_lines(block.body))
    lines.append((0, "}"))
    return lines


def _body_lines(items: Sequence[BodyItem]) -> _Lines:
    lines: _Lines = []
    pending: list[tuple[str, _Lines]] = []

    def flush() -> None:
        lines.extend(_aligned(pending))
        pending.clear()

    seen: set[str] = set()
    for item in items:
        if isinstance(item, Attribute):
            _check_ident(item.name, "attribute")
            if item.name in seen:
                raise ValueError(f"attribute {item.name!r} is set twice in one body")
            seen.add(item.name)
            pending.append((item.name, _attribute_value(item.value)))
            continue
        flush()
        if isinstance(item, Block):
            lines.extend(_block_lines(item))
        elif isinstance(item, Blank):
            lines.append((0, ""))
        elif isinstance(item, Comment):
            lines.extend(_comment_lines(item))
        else:
            raise TypeError(f"cannot render {type(item).__name__} in a body")
    flush()
    return lines


def _text(lines: _Lines) -> str:
    return "".join((INDENT * depth + text if text else "") + "\n" for depth, text in lines)


def render_block(block: Block) -> str:
    """Render one block (ending with a newline)."""
    return _text(_block_lines(block))


def render_file(items: Sequence[BodyItem]) -> str:
    """Render a whole file: top-level blocks, attributes (``*.tfvars``) and comments.

    A block is separated from its neighbours by exactly one blank line (a comment directly before
    a block stays attached to it); consecutive attributes stay together and are aligned; an
    explicit `Blank` separates too. Blank lines never repeat, and the file ends with exactly one
    newline (an empty file is empty).
    """
    names = [item.name for item in items if isinstance(item, Attribute)]
    for name in names:
        if names.count(name) > 1:
            raise ValueError(f"attribute {name!r} is set twice in one body")
    groups: list[list[BodyItem]] = []
    current: list[BodyItem] = []
    previous: BodyItem | None = None
    for item in items:
        if isinstance(item, Blank):
            separate = True
        else:
            separate = isinstance(previous, Block) or (
                isinstance(item, Block) and not isinstance(previous, Comment)
            )
        if separate and current:
            groups.append(current)
            current = []
        if not isinstance(item, Blank):
            current.append(item)
        previous = item
    if current:
        groups.append(current)
    return "\n".join(_text(_body_lines(group)) for group in groups)
