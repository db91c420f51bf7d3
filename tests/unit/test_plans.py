"""Plans: parsing Lago's JSON, Lago's charge rules with their codes and field paths, overrides,
and the echo."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from releve.domain.charge_models.properties import ChargeModel, StandardProperties
from releve.domain.errors import DomainError
from releve.domain.filters import ChargeFilter, MetricFilter
from releve.domain.metering import AggregationType, BillableMetric
from releve.domain.money import Currency
from releve.domain.periods import Interval
from releve.domain.plans import (
    Charge,
    MetricNotFound,
    Plan,
    apply_overrides,
    parse_plan,
    plan_to_lago,
)

EUR = Currency("EUR", 2)
USD = Currency("USD", 2)

CALLS = BillableMetric(
    "calls",
    "Calls",
    AggregationType.SUM,
    field_name="minutes",
    filters=(MetricFilter("zone", ("home", "roaming")),),
)
SEATS = BillableMetric(
    "seats", "Seats", AggregationType.UNIQUE_COUNT, field_name="user", recurring=True
)
STORAGE = BillableMetric(
    "storage",
    "Storage",
    AggregationType.WEIGHTED_SUM,
    field_name="gb",
    recurring=True,
    weighted_interval="seconds",
)
PEAK = BillableMetric("peak", "Peak", AggregationType.MAX, field_name="cpu")
METRICS = {"bm_calls": CALLS, "bm_seats": SEATS, "bm_storage": STORAGE, "bm_peak": PEAK}
BY_CODE = {m.code: m for m in METRICS.values()}


def ids() -> Callable[[], str]:
    counter = itertools.count(1)
    return lambda: f"id{next(counter)}"


def currency(code: str) -> Currency:
    if code not in ("EUR", "USD"):
        raise DomainError("unknown currency", field="", code="value_is_invalid")
    return Currency(code, 2)


def payload(**charge: Any) -> dict[str, Any]:
    base_charge: dict[str, Any] = {
        "billable_metric_id": "bm_calls",
        "charge_model": "standard",
        "properties": {"amount": "0.050"},
    }
    base_charge.update(charge)
    return {
        "name": "Pro",
        "code": "pro",
        "interval": "monthly",
        "amount_cents": 5000,
        "amount_currency": "EUR",
        "pay_in_advance": False,
        "charges": [base_charge],
    }


def parse(body: dict[str, Any]) -> Plan:
    return parse_plan(
        body, metrics_by_id=METRICS, metrics_by_code=BY_CODE, currency=currency, new_id=ids()
    )


def test_parse_a_full_plan() -> None:
    body = payload(
        code="calls_charge",
        filters=[
            {
                "invoice_display_name": "Roaming",
                "values": {"zone": ["roaming"]},
                "properties": {"amount": "0.2"},
            }
        ],
        min_amount_cents=1000,
        tax_codes=["vat"],
    )
    body.update(
        interval="yearly",
        bill_charges_monthly=True,
        trial_period=5.0,
        minimum_commitment={"amount_cents": 100000, "invoice_display_name": "Minimum"},
        usage_thresholds=[{"amount_cents": 10000, "threshold_display_name": "T1"}],
        tax_codes=["vat"],
    )
    plan = parse(body)
    assert plan.id == "id2"  # the charge took id1 first
    assert (plan.interval, plan.amount_cents, plan.currency) == (Interval.YEARLY, 5000, EUR)
    assert plan.trial_period_days == 5 and plan.bill_charges_monthly
    assert plan.minimum_commitment is not None
    assert plan.minimum_commitment.amount_cents == 100000
    assert plan.usage_thresholds[0].amount_cents == 10000
    charge = plan.charge("id1")
    assert charge.metric is CALLS and charge.billable_metric_id == "bm_calls"
    assert charge.properties == StandardProperties(Decimal("0.050"))
    assert charge.filters[0].properties == StandardProperties(Decimal("0.2"))
    assert charge.filter_specs == (ChargeFilter({"zone": ("roaming",)}),)
    assert charge.min_amount_cents == 1000 and charge.tax_codes == ("vat",)
    # 5000 cents a year → 5000 × 1
    assert plan.yearly_amount_cents() == 5000


def test_metric_by_code_is_an_additive_extension() -> None:
    plan = parse(payload(billable_metric_id=None, billable_metric_code="seats"))
    assert plan.charges[0].metric is SEATS
    assert plan.charges[0].billable_metric_id == "bm_seats"


@pytest.mark.parametrize(
    ("interval", "amount", "yearly"),
    [
        ("weekly", 1000, 52000),
        ("monthly", 1000, 12000),
        ("quarterly", 1000, 4000),
        ("semiannual", 1000, 2000),
        ("yearly", 1000, 1000),
    ],
)
def test_yearly_amount(interval: str, amount: int, yearly: int) -> None:
    body = payload()
    body.update(interval=interval, amount_cents=amount)
    assert parse(body).yearly_amount_cents() == yearly


@pytest.mark.parametrize(
    ("charge", "field", "code"),
    [
        (
            {"billable_metric_id": "nope"},
            "charges[0].billable_metric_id",
            "billable_metric_not_found",
        ),
        (
            {"billable_metric_id": None},
            "charges[0].billable_metric_id",
            "value_is_mandatory",
        ),
        ({"charge_model": "magic"}, "charges[0].charge_model", "value_is_invalid"),
        ({"properties": {"amount": "-1"}}, "charges[0].properties.amount", "invalid_amount"),
        ({"properties": {"amount": 0.5}}, "charges[0].properties.amount", "invalid_amount"),
        # pay in advance: max metric refused, volume refused
        (
            {"billable_metric_id": "bm_peak", "pay_in_advance": True},
            "charges[0].charge_model",
            "invalid_aggregation_type_or_charge_model",
        ),
        (
            {
                "pay_in_advance": True,
                "charge_model": "volume",
                "properties": {
                    "volume_ranges": [
                        {
                            "from_value": 0,
                            "to_value": None,
                            "per_unit_amount": "1",
                            "flat_amount": "0",
                        }
                    ]
                },
            },
            "charges[0].charge_model",
            "invalid_aggregation_type_or_charge_model",
        ),
        (
            {"billable_metric_id": "bm_seats", "charge_model": "dynamic", "properties": {}},
            "charges[0].charge_model",
            "invalid_aggregation_type_or_charge_model",
        ),
        (
            {"invoiceable": False},
            "charges[0].invoiceable",
            "must_be_true_unless_pay_in_advance",
        ),
        # prorated: not recurring / weighted_sum / disallowed model
        ({"prorated": True}, "charges[0].prorated", "invalid_prorated_charge_model"),
        (
            {"billable_metric_id": "bm_storage", "prorated": True},
            "charges[0].prorated",
            "invalid_prorated_charge_model",
        ),
        (
            {
                "billable_metric_id": "bm_seats",
                "prorated": True,
                "charge_model": "package",
                "properties": {"amount": "1", "package_size": 10},
            },
            "charges[0].prorated",
            "invalid_prorated_charge_model",
        ),
        (
            {"pay_in_advance": True, "min_amount_cents": 100},
            "charges[0].min_amount_cents",
            "not_compatible_with_pay_in_advance",
        ),
        ({"min_amount_cents": -1}, "charges[0].min_amount_cents", "value_is_out_of_range"),
        (
            {"filters": [{"values": {"country": ["fr"]}, "properties": {"amount": "1"}}]},
            "charges[0].filters",
            "value_is_invalid",
        ),
        (
            {"filters": [{"values": {"zone": ["mars"]}, "properties": {"amount": "1"}}]},
            "charges[0].filters",
            "value_is_invalid",
        ),
        (
            {"filters": [{"values": {"zone": ["home"]}, "properties": {"amount": "x"}}]},
            "charges[0].filters[0].properties.amount",
            "invalid_amount",
        ),
    ],
)
def test_charge_rules(charge: dict[str, Any], field: str, code: str) -> None:
    with pytest.raises(DomainError) as caught:
        parse(payload(**charge))
    assert (caught.value.field, caught.value.code) == (field, code)


def test_allowed_combinations() -> None:
    # Seats (recurring unique count): prorated standard in advance; graduated prorated in arrears.
    parse(payload(billable_metric_id="bm_seats", prorated=True, pay_in_advance=True))
    parse(
        payload(
            billable_metric_id="bm_seats",
            prorated=True,
            charge_model="graduated",
            properties={
                "graduated_ranges": [
                    {"from_value": 0, "to_value": None, "per_unit_amount": "1", "flat_amount": "0"}
                ]
            },
        )
    )
    plan = parse(payload(pay_in_advance=True, invoiceable=False))
    assert not plan.charges[0].invoiceable


@pytest.mark.parametrize(
    ("changes", "field", "code"),
    [
        ({"name": None}, "name", "value_is_mandatory"),
        ({"interval": "daily"}, "interval", "value_is_invalid"),
        ({"amount_cents": None}, "amount_cents", "value_is_mandatory"),
        ({"amount_cents": -5}, "amount_cents", "value_is_out_of_range"),
        ({"amount_cents": "12.5"}, "amount_cents", "value_is_invalid"),
        ({"amount_currency": "XXX"}, "amount_currency", "value_is_invalid"),
        ({"trial_period": 1.5}, "trial_period", "value_is_invalid"),
        ({"trial_period": -1}, "trial_period", "value_is_out_of_range"),
        ({"bill_charges_monthly": True}, "bill_charges_monthly", "value_is_invalid"),
        ({"pay_in_advance": "yes"}, "pay_in_advance", "value_is_invalid"),
        (
            {"minimum_commitment": {"amount_cents": -1}},
            "minimum_commitment.amount_cents",
            "value_is_out_of_range",
        ),
        (
            {"usage_thresholds": [{"amount_cents": 0}]},
            "usage_thresholds[0].amount_cents",
            "value_is_invalid",
        ),
        (
            {"usage_thresholds": [{"amount_cents": 5, "recurring": True}] * 2},
            "usage_thresholds",
            "value_is_invalid",
        ),
    ],
)
def test_plan_rules(changes: dict[str, Any], field: str, code: str) -> None:
    body = payload()
    body.update(changes)
    with pytest.raises(DomainError) as caught:
        parse(body)
    assert (caught.value.field, caught.value.code) == (field, code)


def test_duplicate_charge_codes_are_refused() -> None:
    body = payload(code="c")
    body["charges"].append(dict(body["charges"][0]))
    with pytest.raises(DomainError) as caught:
        parse(body)
    assert caught.value.code == "value_already_exist"


def test_metric_not_found_is_its_own_error() -> None:
    with pytest.raises(MetricNotFound):
        parse(payload(billable_metric_id=None, billable_metric_code="unknown"))


def test_charge_built_in_code_is_checked_too() -> None:
    with pytest.raises(DomainError) as caught:
        Charge(
            id="c",
            code=None,
            metric=PEAK,
            charge_model=ChargeModel.STANDARD,
            properties=StandardProperties(Decimal(1)),
            pay_in_advance=True,
        )
    assert caught.value.field == "charge_model"


def test_overrides_make_a_validated_child_plan() -> None:
    mint = ids()
    plan = parse_plan(payload(), metrics_by_id=METRICS, currency=currency, new_id=mint)
    child = apply_overrides(
        plan,
        {
            "amount_cents": 9000,
            "amount_currency": "USD",
            "name": "Pro (ACME)",
            "trial_period": 14,
            "minimum_commitment": {"amount_cents": 20000},
            "charges": [
                {
                    "id": plan.charges[0].id,
                    "properties": {"amount": "0.04"},
                    "min_amount_cents": 500,
                    "filters": [{"values": {"zone": ["home"]}, "properties": {"amount": "0"}}],
                }
            ],
        },
        currency=currency,
        new_id=mint,
    )
    assert child.id != plan.id and child.parent_id == plan.id and child.code == plan.code
    assert (child.amount_cents, child.currency, child.name) == (9000, USD, "Pro (ACME)")
    assert child.trial_period_days == 14
    assert child.minimum_commitment is not None
    assert child.minimum_commitment.amount_cents == 20000
    charge = child.charges[0]
    assert charge.parent_id == plan.charges[0].id and charge.id != plan.charges[0].id
    assert charge.properties == StandardProperties(Decimal("0.04"))
    assert charge.min_amount_cents == 500
    assert charge.filters[0].values == {"zone": ("home",)}
    # The parent is untouched.
    assert plan.amount_cents == 5000 and plan.charges[0].min_amount_cents == 0


@pytest.mark.parametrize(
    ("overrides", "field", "code"),
    [
        ({"charges": [{"id": "nope"}]}, "plan_overrides.charges[0].id", "charge_not_found"),
        (
            {"charges": [{"id": "id1", "properties": {"amount": "-3"}}]},
            "plan_overrides.charges[0].properties.amount",
            "invalid_amount",
        ),
        ({"amount_cents": -1}, "plan_overrides.amount_cents", "value_is_out_of_range"),
        ({"name": ""}, "plan_overrides.name", "value_is_mandatory"),
    ],
)
def test_override_errors(overrides: dict[str, Any], field: str, code: str) -> None:
    mint = ids()
    plan = parse_plan(payload(), metrics_by_id=METRICS, currency=currency, new_id=mint)
    with pytest.raises(DomainError) as caught:
        apply_overrides(plan, overrides, currency=currency, new_id=mint)
    assert (caught.value.field, caught.value.code) == (field, code)


def test_echo_keeps_what_was_sent() -> None:
    body = payload(
        filters=[{"values": {"zone": ["roaming"]}, "properties": {"amount": "0.20"}}],
        code="calls",
    )
    out = plan_to_lago(parse(body))
    assert out["amount_cents"] == 5000 and out["amount_currency"] == "EUR"
    assert out["bill_charges_monthly"] is None  # monthly plan: Lago shows null
    charges = out["charges"]
    assert isinstance(charges, list) and len(charges) == 1
    charge = charges[0]
    assert charge["properties"] == {"amount": "0.050"}
    assert charge["filters"] == [
        {
            "invoice_display_name": None,
            "properties": {"amount": "0.20"},
            "values": {"zone": ["roaming"]},
        }
    ]
    assert charge["billable_metric_code"] == "calls"


def test_echo_of_a_plan_built_in_code() -> None:
    plan = Plan(
        id="p",
        code="p",
        name="P",
        interval=Interval.MONTHLY,
        amount_cents=100,
        currency=EUR,
        charges=(
            Charge("c", None, CALLS, ChargeModel.STANDARD, StandardProperties(Decimal("0.50"))),
        ),
    )
    out = plan_to_lago(plan)
    assert out["charges"][0]["properties"] == {  # type: ignore[index]
        "amount": "0.5",
        "pricing_group_keys": [],
    }
