"""Billable-metric expressions: a safe, exact, Decimal-only evaluator."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from releve.domain.errors import DomainError
from releve.domain.expressions import compile_expression
from releve.domain.usage import Event, PropertyValue


def _event(**properties: PropertyValue) -> Event:
    return Event(
        transaction_id="tx_1",
        code="calls",
        external_subscription_id="sub_1",
        # 2024-01-01T00:00:00.250Z = 1704067200.25 Unix seconds
        timestamp=datetime(2024, 1, 1, 0, 0, 0, 250_000, tzinfo=UTC),
        properties=properties,
    )


EVENT = _event(
    duration=Decimal(61),
    started_at=Decimal(100),
    ended_at=Decimal(130),
    units=Decimal("2.5"),
    text_number="12.5",
    region="eu",
    zero=Decimal(0),
)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        # precedence: * before +, left-associative - and /
        ("1 + 2 * 3", Decimal(7)),  # 1 + 6
        ("(1 + 2) * 3", Decimal(9)),
        ("10 - 4 - 3", Decimal(3)),  # (10 − 4) − 3, not 10 − (4 − 3) = 9
        ("12 / 3 / 2", Decimal(2)),  # (12 / 3) / 2
        ("-2 * 3", Decimal(-6)),
        ("-(1 + 2) * 3", Decimal(-9)),
        ("2 - -3", Decimal(5)),
        ("+4", Decimal(4)),
        ("0.1 + 0.2", Decimal("0.3")),  # exact, unlike floats
        ("1 / 3 * 3", Decimal("0.9999999999999999999999999999")),  # 28-digit context, no float
        # properties, bare or qualified
        ("event.properties.duration", Decimal(61)),
        ("duration", Decimal(61)),
        ("(ended_at - started_at) * units", Decimal(75)),  # (130 − 100) × 2.5
        ("round((ended_at - started_at) * units)", Decimal(75)),
        ("text_number * 2", Decimal(25)),  # numeric text reads as a number: 12.5 × 2
        ("event.timestamp", Decimal("1704067200.25")),
        ("event.timestamp - 1704067200", Decimal("0.25")),
        # the brief's example: every started minute is billed
        ("ceil(event.properties.duration / 60)", Decimal(2)),  # 61 s → 1.0166… → 2
        ("ceil(120 / 60)", Decimal(2)),  # exactly 2 minutes stays 2
        # rounding functions with precision (half-up, away from zero)
        ("round(2.5)", Decimal(3)),
        ("round(-2.5)", Decimal(-3)),
        ("round(2.345, 2)", Decimal("2.35")),
        ("round(2.344, 2)", Decimal("2.34")),
        ("round(1250, -2)", Decimal(1300)),  # 12.50 hundreds → 13 hundreds
        ("round(1249, -2)", Decimal(1200)),
        ("ceil(1201, -2)", Decimal(1300)),
        ("floor(1299, -2)", Decimal(1200)),
        ("ceil(-1.5)", Decimal(-1)),  # ceiling goes up, towards +∞
        ("floor(-1.5)", Decimal(-2)),
        ("ceil(1.001, 2)", Decimal("1.01")),
        ("floor(1.999, 2)", Decimal("1.99")),
        ("round(1, 1 + 1)", Decimal(1)),  # precision may be computed
        # texts
        ("concat(region, '-', duration)", "eu-61"),
        ('concat("a", "b", "c")', "abc"),
        ("event.code", "calls"),
        ("'literal'", "literal"),
    ],
)
def test_evaluates(source: str, expected: Decimal | str) -> None:
    result = compile_expression(source).evaluate(EVENT)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(
    "source",
    [
        "",
        "   ",
        "1 +",
        "(1 + 2",
        "1 + 2)",
        "1 2",
        "round()",
        "round(1, 2, 3)",
        "concat()",
        "foo(1)",
        "event",
        "event.properties",
        "event.properties.a.b",
        "event.unknown",
        "os.system",
        "1 ** 2",
        "1 % 2",
        "a[0]",
        "'unterminated",
        "x = 1",
        "1 +* 2",
        # code injection attempts are just unknown names or characters
        "__import__('os')",
        "__import__('os').system('rm -rf /')",
        "().__class__.__bases__[0].__subclasses__()",
        "eval('1')",
        "exec('1')",
        "lambda: 1",
        "open('/etc/passwd')",
        "event.__class__",
        "(" * 60 + "1" + ")" * 60,  # nesting bomb
        "1" + "+1" * 600,  # longer than the limit
    ],
)
def test_rejects_invalid_expressions_at_compile_time(source: str) -> None:
    with pytest.raises(DomainError) as err:
        compile_expression(source)
    assert err.value.code == "invalid_expression"
    assert err.value.field == "expression"


@pytest.mark.parametrize(
    "source",
    [
        "1 / 0",
        "duration / zero",
        "duration / (started_at - 100)",
        "region * 2",  # "eu" is not a number
        "round(1, 0.5)",  # precision must be whole
        "-region",
    ],
)
def test_runtime_errors_are_invalid_expression(source: str) -> None:
    expression = compile_expression(source)  # syntactically valid
    with pytest.raises(DomainError) as err:
        expression.evaluate(EVENT)
    assert err.value.code == "invalid_expression"


def test_missing_property_is_the_event_s_fault() -> None:
    expression = compile_expression("event.properties.seconds / 60")
    with pytest.raises(DomainError) as err:
        expression.evaluate(EVENT)
    assert err.value.code == "missing_aggregation_property"
    assert err.value.field == "properties.seconds"


def test_evaluate_number_reads_numeric_texts_and_refuses_others() -> None:
    assert compile_expression("concat(1, 2)").evaluate_number(EVENT) == Decimal(12)
    with pytest.raises(DomainError) as err:
        compile_expression("region").evaluate_number(EVENT)
    assert err.value.code == "invalid_expression"


def test_compiled_once_evaluated_many_times() -> None:
    expression = compile_expression("ceil(duration / 60)")
    # 59 s → 1 started minute, 60 s → 1, 61 s → 2, 0 s → 0
    results = [
        expression.evaluate(_event(duration=Decimal(seconds))) for seconds in (59, 60, 61, 0)
    ]
    assert results == [Decimal(1), Decimal(1), Decimal(2), Decimal(0)]


_numbers = st.decimals(min_value=-(10**6), max_value=10**6, places=3, allow_nan=False)


@settings(max_examples=200)
@given(a=_numbers, b=_numbers, c=_numbers)
def test_arithmetic_matches_decimal_arithmetic(a: Decimal, b: Decimal, c: Decimal) -> None:
    # Breaking precedence or associativity in the parser makes this fail.
    event = _event(a=a, b=b, c=c)
    assert compile_expression("a + b * c").evaluate(event) == a + b * c
    assert compile_expression("a - b - c").evaluate(event) == (a - b) - c
    assert compile_expression("-a * (b - c)").evaluate(event) == -a * (b - c)
