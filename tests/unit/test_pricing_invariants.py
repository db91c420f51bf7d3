"""Invariants of pricing, checked by hypothesis; each one fails if its rule is broken."""

from __future__ import annotations

from decimal import Decimal
from itertools import accumulate, pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from releve.domain.charge_models.properties import (
    GraduatedPercentageProperties,
    GraduatedProperties,
    PackageProperties,
    PercentageProperties,
    Properties,
    StandardProperties,
    VolumeProperties,
)
from releve.domain.charge_models.tiers import GraduatedPercentageRange, GraduatedRange
from releve.domain.money import Currency
from releve.domain.pricing import price, price_in_advance
from releve.domain.usage import UsageFacts

EUR = Currency("EUR", 2)
D = Decimal
FAST = settings(max_examples=60, deadline=None)

prices = st.decimals(min_value=0, max_value=100, places=4)
units = st.decimals(min_value=0, max_value=10**6, places=3)
steps = st.lists(st.decimals(min_value=0, max_value=5000, places=2), min_size=1, max_size=8)


@st.composite
def bounds(draw: st.DrawFn) -> list[tuple[Decimal, Decimal | None]]:
    """1–4 tiers, each link classic (+1) or adjacent, integer or decimal bounds."""
    count = draw(st.integers(1, 4))
    out: list[tuple[Decimal, Decimal | None]] = []
    start = D(0)
    for i in range(count):
        if i == count - 1:
            out.append((start, None))
            break
        end = start + draw(st.decimals(min_value=2, max_value=5000, places=1))
        out.append((start, end))
        start = end + (1 if draw(st.booleans()) else 0)
    return out


@st.composite
def graduated(draw: st.DrawFn) -> GraduatedProperties:
    return GraduatedProperties(
        tuple(GraduatedRange(f, t, draw(prices), draw(prices)) for f, t in draw(bounds()))
    )


@st.composite
def graduated_percentage(draw: st.DrawFn) -> GraduatedPercentageProperties:
    return GraduatedPercentageProperties(
        tuple(GraduatedPercentageRange(f, t, draw(prices), draw(prices)) for f, t in draw(bounds()))
    )


@st.composite
def volume(draw: st.DrawFn) -> VolumeProperties:
    return VolumeProperties(
        tuple(GraduatedRange(f, t, draw(prices), draw(prices)) for f, t in draw(bounds()))
    )


packages = st.builds(PackageProperties, prices, st.integers(1, 500), st.integers(0, 500))
percentages = st.builds(
    PercentageProperties,
    prices,
    prices,
    st.none() | st.integers(0, 5),
    st.none() | st.decimals(min_value=0, max_value=2000, places=2),
)
monotone = st.sampled_from(["graduated", "graduated_percentage", "package"]).flatmap(
    lambda m: st.tuples(
        st.just(m),
        {
            "graduated": graduated(),
            "graduated_percentage": graduated_percentage(),
            "package": packages,
        }[m],
    )
)


@FAST
@given(monotone, units, units)
def test_graduated_and_package_never_decrease_when_usage_grows(
    charge: tuple[str, Properties], a: Decimal, b: Decimal
) -> None:
    model, props = charge
    low, high = sorted((a, b))
    assert price(model, props, UsageFacts(low), EUR).amount <= (
        price(model, props, UsageFacts(high), EUR).amount
    )


@FAST
@given(prices, units, units)
def test_standard_is_linear(amount: Decimal, a: Decimal, b: Decimal) -> None:
    props = StandardProperties(amount)

    def f(u: Decimal) -> Decimal:
        return price("standard", props, UsageFacts(u), EUR).amount

    assert f(a + b) == f(a) + f(b)
    assert f(a) == a * amount


@FAST
@given(volume(), st.sampled_from([D("-0.001"), D(0), D("0.001"), D(1)]))
def test_volume_is_pinned_at_its_tier_cliffs(props: VolumeProperties, delta: Decimal) -> None:
    for i, tier in enumerate(props.ranges):
        # just below / at / just above each boundary: the tier's own bounds and the next one's
        for edge in (tier.from_value, tier.to_value):
            if edge is None:
                continue
            u = edge + delta
            if u <= 0:
                continue
            # the tier holding u, by the spec: (previous to_value, to_value]
            holder = next(t for t in props.ranges if t.to_value is None or u <= t.to_value)
            fee = price("volume", props, UsageFacts(u), EUR)
            assert fee.amount == u * holder.per_unit_amount + holder.flat_amount, (i, u)


@FAST
@given(
    st.sampled_from(["standard", "graduated", "graduated_percentage", "package"]).flatmap(
        lambda m: st.tuples(
            st.just(m),
            {
                "standard": st.builds(StandardProperties, prices),
                "graduated": graduated(),
                "graduated_percentage": graduated_percentage(),
                "package": packages,
            }[m],
        )
    ),
    steps,
)
def test_pay_in_advance_increments_telescope_to_the_total(
    charge: tuple[str, Properties], events: list[Decimal]
) -> None:
    model, props = charge
    totals = [D(0), *accumulate(events)]
    increments = [
        price_in_advance(model, props, UsageFacts(a), UsageFacts(b), EUR).amount
        for a, b in pairwise(totals)
    ]
    assert sum(increments, D(0)) == price(model, props, UsageFacts(totals[-1]), EUR).amount
    assert all(i >= 0 for i in increments)


@FAST
@given(percentages, steps)
def test_percentage_advance_increments_telescope(
    props: PercentageProperties, events: list[Decimal]
) -> None:
    def usage(values: list[Decimal]) -> UsageFacts:
        return UsageFacts(sum(values, D(0)), len(values), tuple(values))

    increments = [
        price_in_advance("percentage", props, usage(events[:i]), usage(events[: i + 1]), EUR).amount
        for i in range(len(events))
    ]
    assert sum(increments, D(0)) == price("percentage", props, usage(events), EUR).amount


@FAST
@given(
    st.one_of(
        st.tuples(st.just("standard"), st.builds(StandardProperties, prices)),
        st.tuples(st.just("graduated"), graduated()),
        st.tuples(st.just("graduated_percentage"), graduated_percentage()),
        st.tuples(st.just("volume"), volume()),
        st.tuples(st.just("package"), packages),
        st.tuples(st.just("percentage"), percentages),
    ),
    steps,
    st.booleans(),
)
def test_price_is_never_negative(
    charge: tuple[str, Properties], values: list[Decimal], negate: bool
) -> None:
    model, props = charge
    total = sum(values, D(0))
    usage = UsageFacts(-total if negate else total, len(values), tuple(values))
    fee = price(model, props, usage, EUR)
    assert fee.amount >= 0
    assert fee.amount_cents >= 0
