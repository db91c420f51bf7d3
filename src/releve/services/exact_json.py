"""JSON that keeps numbers exact: parsed to `Decimal` from their text, written back as that text.

Why not `json`/`orjson` as is: both turn `0.1` into a binary float, and an event property of
`0.1` GB must stay exactly one tenth (design.md §3). Integers stay `int`; NaN and Infinity are
rejected because they are not JSON.

Writing is on the ingest hot path (payload hash, stored properties, the batch response), so a
value made only of plain JSON types and `Decimal` is written by orjson, each Decimal inserted
as its exact text (`orjson.Fragment`). Anything else (a float, a subclass, a non-string key, an
integer beyond 64 bits, a lone surrogate, a non-finite Decimal) takes the pure-Python writer,
which defines the output and raises on what is not JSON; both give identical text (tested).
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import orjson


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


_DECODER = json.JSONDecoder(parse_float=Decimal, parse_constant=_reject_constant)


def loads(text: str | bytes) -> Any:
    """Parse JSON; every non-integer number becomes a `Decimal` built from its text."""
    if isinstance(text, str):
        return _DECODER.decode(text)  # one decoder, not one built per call (ingest hot path)
    return json.loads(text, parse_float=Decimal, parse_constant=_reject_constant)


def dumps(value: Any) -> str:
    """Serialize compactly, writing each `Decimal` as its exact text (a JSON number)."""
    fast = _fast(value)
    return _slow_dumps(value) if fast is None else fast.decode("utf-8")


def dumps_bytes(value: Any) -> bytes:
    """`dumps` as UTF-8 bytes (a response body), without the str round trip."""
    fast = _fast(value)
    return _slow_dumps(value).encode("utf-8") if fast is None else fast


def _fast(value: Any) -> bytes | None:
    if _plain(value):
        try:
            return orjson.dumps(value, default=_fragment)
        except orjson.JSONEncodeError:
            pass  # big integer, surrogate, NaN…: the reference writer decides
    return None


def canonical(value: Any) -> str:
    """Keys sorted and numbers normalized, so equal payloads give equal text (hashing)."""
    if _plain(value):
        try:
            return orjson.dumps(
                value, default=_canonical_fragment, option=orjson.OPT_SORT_KEYS
            ).decode("utf-8")
        except orjson.JSONEncodeError:
            pass
    return _slow_dumps(_normalize(value))


def _plain(value: Any) -> bool:
    """Only exact JSON types (no subclass), Decimal, and string keys: orjson writes these
    exactly as the reference writer does. Floats are never plain."""
    kind = type(value)
    if kind in _SCALARS:
        return True
    if kind is dict:
        for key, item in value.items():
            if type(key) is not str or (type(item) not in _SCALARS and not _plain(item)):
                return False
        return True
    if kind is list or kind is tuple:
        for item in value:  # noqa: SIM110 - a loop: no generator frame per value (hot path)
            if type(item) not in _SCALARS and not _plain(item):
                return False
        return True
    return False


_SCALARS = frozenset({str, int, bool, type(None), Decimal})


def _fragment(value: Any) -> orjson.Fragment:
    if type(value) is Decimal and value.is_finite():
        return orjson.Fragment(str(value))
    raise TypeError  # orjson turns this into JSONEncodeError: the slow path raises properly


def _canonical_number(number: Decimal) -> Decimal | int:
    # 1, 1.0 and 1.00 are the same quantity: write integral values as plain integers.
    return int(number) if number == number.to_integral_value() else number.normalize()


def _canonical_fragment(value: Any) -> orjson.Fragment:
    if type(value) is Decimal and value.is_finite():
        return orjson.Fragment(str(_canonical_number(value)))
    raise TypeError


def _normalize(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _normalize(value[k]) for k in sorted(value)}
    if isinstance(value, list | tuple):
        return [_normalize(v) for v in value]
    if isinstance(value, bool):
        return value
    if isinstance(value, int | Decimal):
        return _canonical_number(Decimal(value))
    return value


def _slow_dumps(value: Any) -> str:
    parts: list[str] = []
    _write(value, parts)
    return "".join(parts)


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
