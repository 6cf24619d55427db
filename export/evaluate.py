"""Reading an exported configuration back: the HCL expressions the exporter writes, evaluated.

python-hcl2 parses the files; attribute values come back as expression text (`${...}`). This
module evaluates that subset of HCL for one workspace: literals, strings with interpolations,
lists, objects, `local.*`, `var.*`, `terraform.workspace`, `==`, conditionals, and the functions
the exporter uses (`jsonencode`, `one`, `tolist`, `jsondecode`, and `filebase64sha256` of the
files the folder holds). References to resources stay symbolic (a
`Reference`), so that the round-trip test compares them as references, not as values.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Reference:
    """`aws_vpc.main.id`, `data.aws_iam_role.x.arn`: address and attribute path."""

    address: str
    attribute: str


@dataclass(frozen=True)
class Joined:
    """A string with references inside: its parts in order (adjacent literals merged)."""

    parts: tuple[Any, ...]


@dataclass(frozen=True)
class Encoded:
    """`jsonencode(value)` of a value holding references."""

    value: Any


@dataclass(frozen=True)
class Decoded:
    """`jsondecode(reference)[...]`: a field of a document another block holds."""

    source: Reference
    path: tuple[Any, ...] = ()


@dataclass
class Scope:
    workspace: str
    variables: dict[str, Any]
    locals: dict[str, Any] = field(default_factory=dict)
    # The files beside the configuration, for `filebase64sha256`.
    files: dict[str, bytes] = field(default_factory=dict)


class EvaluationError(ValueError):
    pass


class _Parser:
    """Recursive descent over one expression; evaluates as it parses."""

    def __init__(self, text: str, scope: Scope) -> None:
        self.text = text
        self.pos = 0
        self.scope = scope

    # -- tokens
    def _skip(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def peek(self, literal: str) -> bool:
        self._skip()
        return self.text.startswith(literal, self.pos)

    def take(self, literal: str) -> None:
        if not self.peek(literal):
            raise EvaluationError(
                f"expected {literal!r} at {self.text[self.pos : self.pos + 30]!r}"
            )
        self.pos += len(literal)

    def name(self) -> str:
        self._skip()
        match = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*").match(self.text, self.pos)
        if not match:
            raise EvaluationError(f"expected a name at {self.text[self.pos : self.pos + 30]!r}")
        self.pos = match.end()
        return match.group(0)

    # -- grammar
    def expression(self) -> Any:
        condition = self.comparison()
        if self.peek("?"):
            self.take("?")
            if_true = self.expression()
            self.take(":")
            if_false = self.expression()
            if not isinstance(condition, bool):
                raise EvaluationError(f"condition is not a boolean: {condition!r}")
            return if_true if condition else if_false
        return condition

    def comparison(self) -> Any:
        left = self.postfix()
        if self.peek("=="):
            self.take("==")
            return left == self.postfix()
        if self.peek("!="):
            self.take("!=")
            return left != self.postfix()
        return left

    def postfix(self) -> Any:
        value = self.primary()
        while True:
            if self.peek("[*]"):
                self.take("[*]")
                self.take(".")
                attribute = self.name()
                if not isinstance(value, _Address):
                    raise EvaluationError("splat on a non-resource")
                value = _Splat(value.text, attribute)
            elif self.peek("["):
                self.take("[")
                index = self.expression()
                self.take("]")
                value = _index(value, index)
            elif self.peek(".") and not self.peek(".."):
                self.take(".")
                value = _attribute(value, self.name())
            else:
                return value

    def primary(self) -> Any:
        self._skip()
        if self.peek('"'):
            return self.string()
        if self.peek("("):
            self.take("(")
            value = self.expression()
            self.take(")")
            return value
        if self.peek("["):
            return self.list_()
        if self.peek("{"):
            return self.object_()
        match = re.compile(r"-?\d+(\.\d+)?").match(self.text, self.pos)
        if match:
            self.pos = match.end()
            return float(match.group(0)) if match.group(1) else int(match.group(0))
        word = self.name()
        if word in ("true", "false"):
            return word == "true"
        if word == "null":
            return None
        if self.peek("("):
            return self.call(word)
        return self.variable(word)

    def variable(self, word: str) -> Any:
        if word == "var":
            self.take(".")
            return self.scope.variables[self.name()]
        if word == "local":
            self.take(".")
            return self.scope.locals[self.name()]
        if word == "terraform":
            self.take(".")
            if self.name() != "workspace":
                raise EvaluationError("only terraform.workspace is known")
            return self.scope.workspace
        parts = [word]
        if word in ("data", "ephemeral"):
            self.take(".")
            parts.append(self.name())
        self.take(".")
        parts.append(self.name())
        return _Address(".".join(parts))

    def call(self, function: str) -> Any:
        self.take("(")
        args: list[Any] = []
        while not self.peek(")"):
            args.append(self.expression())
            if self.peek(","):
                self.take(",")
        self.take(")")
        if function == "filebase64sha256":
            (name,) = args
            if name not in self.scope.files:
                raise EvaluationError(f"filebase64sha256: no file {name!r} in the folder")
            digest = hashlib.sha256(self.scope.files[name]).digest()
            return base64.b64encode(digest).decode("ascii")
        return FUNCTIONS[function](*args)

    def list_(self) -> list[Any]:
        self.take("[")
        items: list[Any] = []
        while not self.peek("]"):
            items.append(self.expression())
            if self.peek(","):
                self.take(",")
        self.take("]")
        return items

    def object_(self) -> dict[str, Any]:
        self.take("{")
        result: dict[str, Any] = {}
        while not self.peek("}"):
            key = self.string() if self.peek('"') else self.name()
            self.take("=")
            result[str(key)] = self.expression()
            if self.peek(","):
                self.take(",")
        self.take("}")
        return result

    def string(self) -> Any:
        """A quoted template: literal text, escapes and `${...}` interpolations."""
        self.take('"')
        parts: list[Any] = []
        literal = ""
        while True:
            ch = self.text[self.pos]
            if ch == '"':
                self.pos += 1
                break
            if ch == "\\":
                code = self.text[self.pos + 1]
                if code == "u":
                    literal += chr(int(self.text[self.pos + 2 : self.pos + 6], 16))
                    self.pos += 6
                    continue
                literal += {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}[code]
                self.pos += 2
                continue
            if self.text.startswith("$${", self.pos) or self.text.startswith("%%{", self.pos):
                literal += ch + "{"
                self.pos += 3
                continue
            if self.text.startswith("${", self.pos):
                self.pos += 2
                value = self.expression()
                self.take("}")
                if isinstance(value, str | int | float) and not isinstance(value, bool):
                    literal += str(value)
                else:
                    if literal:
                        parts.append(literal)
                        literal = ""
                    parts.append(value)
                continue
            literal += ch
            self.pos += 1
        if literal or not parts:
            parts.append(literal)
        return parts[0] if len(parts) == 1 and isinstance(parts[0], str) else Joined(tuple(parts))


@dataclass(frozen=True)
class _Address:
    text: str


@dataclass(frozen=True)
class _Splat:
    address: str
    attribute: str


def _attribute(value: Any, name: str) -> Any:
    if isinstance(value, _Address):
        return Reference(value.text, name)
    if isinstance(value, Reference):
        return Reference(value.address, f"{value.attribute}.{name}")
    if isinstance(value, dict):
        return value[name]
    raise EvaluationError(f"cannot read .{name} of {value!r}")


def _index(value: Any, index: Any) -> Any:
    if isinstance(value, Decoded):
        return Decoded(value.source, (*value.path, index))
    if isinstance(value, Reference):
        return Reference(value.address, f"{value.attribute}[{index}]")
    if isinstance(value, _Address):
        return _Address(f"{value.text}[{index}]")
    return value[index]


def _one(value: Any) -> Any:
    if isinstance(value, _Splat):
        return Reference(value.address, value.attribute)
    if isinstance(value, list):
        return value[0] if value else None
    raise EvaluationError(f"one() of {value!r}")


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "jsonencode": lambda value: Encoded(value) if _has_reference(value) else json.dumps(value),
    "one": _one,
    "tolist": lambda value: value,
    "jsondecode": lambda value: (
        Decoded(value) if isinstance(value, Reference) else json.loads(value)
    ),
}


def _has_reference(value: Any) -> bool:
    if isinstance(value, Reference | Joined | Encoded):
        return True
    if isinstance(value, dict):
        return any(_has_reference(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_reference(v) for v in value)
    return False


def evaluate(expression: Any, scope: Scope) -> Any:
    """The value of one attribute as python-hcl2 returns it (text, or nested lists/dicts)."""
    if isinstance(expression, dict):
        return {
            _unquote(k): evaluate(v, scope) for k, v in expression.items() if k != "__is_block__"
        }
    if isinstance(expression, list):
        return [evaluate(v, scope) for v in expression]
    if not isinstance(expression, str):
        return expression
    if expression.startswith("${") and expression.endswith("}"):
        inner = expression[2:-1]
        parser = _Parser(inner, scope)
        value = parser.expression()
        parser._skip()
        if parser.pos != len(inner):
            raise EvaluationError(f"trailing text in {expression!r}")
        return value
    if expression.startswith('"') and expression.endswith('"'):
        return _Parser(expression, scope).string()
    return expression


def _unquote(key: str) -> str:
    return key[1:-1] if key.startswith('"') and key.endswith('"') else key
