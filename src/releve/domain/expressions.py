"""A safe evaluator for Lago's billable-metric expressions (`getlago/lago-expression`).

An expression computes one value per event, e.g. ``ceil(event.properties.duration / 60)``
bills every started minute. User input is never handed to `eval`/`compile`/`exec`: a small
tokenizer and a recursive-descent parser build a tree of the few node types below, so
``__import__('os')`` is simply an unknown function.

Language:
- numbers (``12``, ``0.5``) and strings (``'eu'`` or ``"eu"``, no escapes), all numbers Decimal;
- ``event.properties.<name>`` or a bare ``<name>``: an event property;
  ``event.timestamp`` (Unix seconds, Decimal, microseconds kept); ``event.code``;
- ``+ - * /``, unary minus/plus, parentheses, with the usual precedence;
- ``round(x[, precision])`` (half-up), ``ceil(x[, precision])``, ``floor(x[, precision])``,
  precision may be negative; ``concat(a, b, ...)`` joins texts.

Errors in the expression itself (syntax, unknown function or name, wrong arity) and runtime
errors (division by zero, text used as a number) raise `DomainError(code="invalid_expression",
field="expression")`. A property missing from an event raises ``missing_aggregation_property``
instead, because the event, not the metric, is at fault (Lago reports it in `events.errors`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, DecimalException

from releve.domain.errors import DomainError
from releve.domain.quantities import RoundingFunction, property_text, round_to, unix_seconds
from releve.domain.usage import Event

Value = Decimal | str

MAX_SOURCE_LENGTH = 1_000
MAX_DEPTH = 50  # keeps a hostile "((((((…" from exhausting the Python stack


class InvalidExpression(DomainError):
    code = "invalid_expression"

    def __init__(self, message: str) -> None:
        super().__init__(message, field="expression")


_TOKEN = re.compile(
    r"""\s*(?:
        (?P<number>\d+(?:\.\d+)?)
      | (?P<string>'[^']*'|"[^"]*")
      | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<op>[-+*/(),.])
    )""",
    re.VERBOSE,
)


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # number | string | name | op | end
    text: str
    position: int


def _tokenize(source: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    while True:
        while position < len(source) and source[position].isspace():
            position += 1
        if position == len(source):
            tokens.append(_Token("end", "", position))
            return tokens
        match = _TOKEN.match(source, position)
        if match is None or match.lastgroup is None:
            raise InvalidExpression(f"unexpected character {source[position]!r} at {position}")
        tokens.append(_Token(match.lastgroup, match.group(match.lastgroup), match.start()))
        position = match.end()


# --- the tree --------------------------------------------------------------------------------


class _Node:
    def evaluate(self, event: Event) -> Value:
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class _Literal(_Node):
    value: Value

    def evaluate(self, event: Event) -> Value:
        return self.value


@dataclass(frozen=True, slots=True)
class _Property(_Node):
    name: str

    def evaluate(self, event: Event) -> Value:
        raw = event.properties.get(self.name)
        if raw is None:
            raise DomainError(
                f"event {event.transaction_id} has no property {self.name!r}",
                field=f"properties.{self.name}",
                code="missing_aggregation_property",
            )
        return raw if isinstance(raw, Decimal) else str(property_text(raw))


@dataclass(frozen=True, slots=True)
class _Timestamp(_Node):
    def evaluate(self, event: Event) -> Value:
        return unix_seconds(event.timestamp)


@dataclass(frozen=True, slots=True)
class _Code(_Node):
    def evaluate(self, event: Event) -> Value:
        return event.code


def _number(value: Value) -> Decimal:
    if isinstance(value, Decimal):
        return value
    try:
        number = Decimal(value.strip())
    except DecimalException:
        number = None
    if number is None or not number.is_finite() or "_" in value:
        raise InvalidExpression(f"{value!r} is not a number")
    return number


@dataclass(frozen=True, slots=True)
class _Negate(_Node):
    operand: _Node

    def evaluate(self, event: Event) -> Value:
        return -_number(self.operand.evaluate(event))


@dataclass(frozen=True, slots=True)
class _Binary(_Node):
    operator: str
    left: _Node
    right: _Node

    def evaluate(self, event: Event) -> Value:
        left = _number(self.left.evaluate(event))
        right = _number(self.right.evaluate(event))
        try:
            if self.operator == "+":
                return left + right
            if self.operator == "-":
                return left - right
            if self.operator == "*":
                return left * right
            if right == 0:
                raise InvalidExpression("division by zero")
            return left / right
        except DecimalException as error:  # overflow and the like
            raise InvalidExpression(f"arithmetic error: {error!r}") from error


@dataclass(frozen=True, slots=True)
class _Rounding(_Node):
    function: RoundingFunction
    operand: _Node
    precision: _Node | None

    def evaluate(self, event: Event) -> Value:
        value = _number(self.operand.evaluate(event))
        precision = 0
        if self.precision is not None:
            raw = _number(self.precision.evaluate(event))
            if raw != raw.to_integral_value() or abs(raw) > 100:
                raise InvalidExpression(f"precision must be a whole number, got {raw}")
            precision = int(raw)
        try:
            return round_to(value, self.function, precision)
        except DecimalException as error:
            raise InvalidExpression(f"cannot round {value}: {error!r}") from error


@dataclass(frozen=True, slots=True)
class _Concat(_Node):
    parts: tuple[_Node, ...]

    def evaluate(self, event: Event) -> Value:
        return "".join(str(part.evaluate(event)) for part in self.parts)


_FUNCTIONS: dict[str, tuple[int, int | None]] = {  # name → (min args, max args)
    "round": (1, 2),
    "ceil": (1, 2),
    "floor": (1, 2),
    "concat": (1, None),
}


# --- the parser ------------------------------------------------------------------------------


class _Parser:
    """expr := term (('+'|'-') term)* ; term := unary (('*'|'/') unary)* ;
    unary := ('-'|'+') unary | primary ; primary := number | string | '(' expr ')' | name…"""

    def __init__(self, source: str) -> None:
        self._tokens = _tokenize(source)
        self._index = 0
        self._depth = 0

    def parse(self) -> _Node:
        node = self._expression()
        if self._peek().kind != "end":
            raise self._unexpected()
        return node

    def _peek(self) -> _Token:
        return self._tokens[self._index]

    def _next(self) -> _Token:
        token = self._tokens[self._index]
        self._index += 1
        return token

    def _accept(self, text: str) -> bool:
        token = self._peek()
        if token.kind == "op" and token.text == text:
            self._index += 1
            return True
        return False

    def _expect(self, text: str) -> None:
        if not self._accept(text):
            raise self._unexpected(expected=text)

    def _unexpected(self, expected: str | None = None) -> InvalidExpression:
        token = self._peek()
        found = "end of expression" if token.kind == "end" else repr(token.text)
        wanted = f", expected {expected!r}" if expected else ""
        return InvalidExpression(f"unexpected {found} at {token.position}{wanted}")

    def _nested(self, parse: Callable[[], _Node]) -> _Node:
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise InvalidExpression("expression is nested too deeply")
        try:
            return parse()
        finally:
            self._depth -= 1

    def _expression(self) -> _Node:
        node = self._term()
        while self._peek().kind == "op" and self._peek().text in "+-":
            operator = self._next().text
            node = _Binary(operator, node, self._term())
        return node

    def _term(self) -> _Node:
        node = self._unary()
        while self._peek().kind == "op" and self._peek().text in "*/":
            operator = self._next().text
            node = _Binary(operator, node, self._unary())
        return node

    def _unary(self) -> _Node:
        if self._accept("-"):
            return _Negate(self._nested(self._unary))
        if self._accept("+"):
            return self._nested(self._unary)
        return self._primary()

    def _primary(self) -> _Node:
        token = self._next()
        if token.kind == "number":
            return _Literal(Decimal(token.text))
        if token.kind == "string":
            return _Literal(token.text[1:-1])
        if token.kind == "op" and token.text == "(":
            node = self._nested(self._expression)
            self._expect(")")
            return node
        if token.kind == "name":
            if self._accept("("):
                return self._call(token)
            return self._name(token)
        self._index -= 1
        raise self._unexpected()

    def _call(self, name: _Token) -> _Node:
        if name.text not in _FUNCTIONS:
            raise InvalidExpression(f"unknown function {name.text!r}")
        args: list[_Node] = []
        if not self._accept(")"):
            args.append(self._nested(self._expression))
            while self._accept(","):
                args.append(self._nested(self._expression))
            self._expect(")")
        low, high = _FUNCTIONS[name.text]
        if len(args) < low or (high is not None and len(args) > high):
            raise InvalidExpression(f"{name.text}() takes {low}..{high or 'n'} arguments")
        if name.text == "concat":
            return _Concat(tuple(args))
        precision = args[1] if len(args) == 2 else None
        return _Rounding(RoundingFunction(name.text), args[0], precision)

    def _name(self, first: _Token) -> _Node:
        path = [first.text]
        while self._accept("."):
            token = self._next()
            if token.kind != "name":
                self._index -= 1
                raise self._unexpected(expected="a name")
            path.append(token.text)
        if len(path) == 1 and path[0] != "event":
            return _Property(path[0])
        if len(path) == 3 and path[:2] == ["event", "properties"]:
            return _Property(path[2])
        if path == ["event", "timestamp"]:
            return _Timestamp()
        if path == ["event", "code"]:
            return _Code()
        raise InvalidExpression(f"unknown name {'.'.join(path)!r}")


@dataclass(frozen=True, slots=True)
class Expression:
    """A parsed expression: parse once at metric creation, evaluate for every event."""

    source: str
    _root: _Node

    def evaluate(self, event: Event) -> Value:
        """The expression's value for `event`: a Decimal, or a text for `concat`."""
        return self._root.evaluate(event)

    def evaluate_number(self, event: Event) -> Decimal:
        """The value as a Decimal (a numeric text is read as a number)."""
        return _number(self.evaluate(event))


def compile_expression(source: str) -> Expression:
    """Parse `source`, raising `invalid_expression` for anything outside the language.

    >>> compile_expression("round(1250, -2)").evaluate_number(some_event)  # doctest: +SKIP
    Decimal('1300')
    """
    if not source.strip():
        raise InvalidExpression("expression is empty")
    if len(source) > MAX_SOURCE_LENGTH:
        raise InvalidExpression(f"expression is longer than {MAX_SOURCE_LENGTH} characters")
    return Expression(source, _Parser(source).parse())
