"""JSON that keeps numbers exact: parsed to `Decimal` from their text, written back as that text.

Why not `json`/`orjson` as is: both turn `0.1` into a binary float, and an event property of
`0.1` GB must stay exactly one tenth (design.md §3). Integers stay `int`; NaN and Infinity are
rejected because they are not JSON.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def loads(text: str | bytes) -> Any:
    """Parse JSON; every non-integer number becomes a `Decimal` built from its text."""
    return json.loads(text, parse_float=Decimal, parse_constant=_reject_constant)


def dumps(value: Any) -> str:
    """Serialize compactly, writing each `Decimal` as its exact text (a JSON number)."""
    parts: list[str] = []
    _write(value, parts)
    return "".join(parts)


def canonical(value: Any) -> str:
    """Keys sorted and numbers normalized, so equal payloads give equal text (hashing)."""
    return dumps(_normalize(value))


def _normalize(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _normalize(value[k]) for k in sorted(value)}
    if isinstance(value, list | tuple):
        return [_normalize(v) for v in value]
    if isinstance(value, bool):
        return value
    if isinstance(value, int | Decimal):
        number = Decimal(value)
        # 1, 1.0 and 1.00 are the same quantity: write integral values as plain integers.
        return int(number) if number == number.to_integral_value() else number.normalize()
    return value


def _write(value: Any, out: list[str]) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, str):
        out.append(json.dumps(value, ensure_ascii=False))
    elif isinstance(value, int):
        out.append(str(value))
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value} is not a JSON number")
        out.append(str(value))
    elif isinstance(value, dict):
        out.append("{")
        for i, (k, v) in enumerate(value.items()):
            if i:
                out.append(",")
            out.append(json.dumps(str(k), ensure_ascii=False))
            out.append(":")
            _write(v, out)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for i, v in enumerate(value):
            if i:
                out.append(",")
            _write(v, out)
        out.append("]")
    elif isinstance(value, float):
        raise TypeError("floats are not allowed in exact JSON; use Decimal")
    else:
        raise TypeError(f"cannot serialize {type(value).__name__} to JSON")
