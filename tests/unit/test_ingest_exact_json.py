"""The orjson fast path of `exact_json` writes exactly what the reference writer writes.

The payload hash of every stored event is the SHA-256 of `canonical(...)`: if the fast path
changed one byte, replays of events stored before it would become 422 conflicts.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from releve.services import exact_json

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.decimals(allow_nan=False, allow_infinity=False)
    | st.text()
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


def _reference_canonical(value: Any) -> str:
    return exact_json._slow_dumps(exact_json._normalize(value))


@given(values)
def test_fast_dumps_and_canonical_equal_the_reference_writer(value: Any) -> None:
    assert exact_json.dumps(value) == exact_json._slow_dumps(value)
    assert exact_json.dumps_bytes(value) == exact_json._slow_dumps(value).encode()
    assert exact_json.canonical(value) == _reference_canonical(value)


@pytest.mark.parametrize(
    "value",
    [
        {"x": 0.1},
        [1, 2.5],
        {"when": __import__("datetime").datetime(2024, 1, 1)},
        {"id": __import__("uuid").UUID(int=1)},
    ],
)
def test_what_is_not_exact_json_is_refused_as_before(value: Any) -> None:
    with pytest.raises(TypeError):
        exact_json.dumps(value)
    with pytest.raises(TypeError):
        exact_json.canonical(value)


def test_non_finite_decimals_are_refused() -> None:
    with pytest.raises(ValueError, match="not a JSON number"):
        exact_json.dumps({"x": Decimal("NaN")})


def test_lone_surrogates_and_big_integers_take_the_reference_writer() -> None:
    value = {"s": "\ud800", "n": 2**80, "d": Decimal("1.50")}
    assert exact_json.dumps(value) == exact_json._slow_dumps(value)
    assert exact_json.canonical(value) == _reference_canonical(value)
