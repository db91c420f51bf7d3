"""Plans and their charges: frozen value types that check Lago's rules on construction.

A `Plan` is valid by construction: `Charge` and `Plan` check Lago's rules in `__post_init__`
(lago-api.md §1.3, §3) and raise `DomainError` with Lago-like codes, so a plan built in code is
as safe as one parsed from `POST /plans` (parsing: `releve.domain.plans.lago_json`).

Money: `amount_cents`, `min_amount_cents`, commitment and thresholds are integers of the plan
currency's minor unit; prices inside `properties` are Decimals in major units (pricing.py).

Rules (Lago `app/models/charge.rb`, `plan.rb`), with the codes we return:
- pay_in_advance charges: count/sum/unique_count metrics only, never volume
  (`charge_model: invalid_aggregation_type_or_charge_model`);
- dynamic charges need a sum_agg metric (same code);
- `invoiceable: false` only on pay-in-advance charges
  (`invoiceable: must_be_true_unless_pay_in_advance`);
- prorated: recurring metrics only, never weighted_sum, and only the models
  `charge_models.proration.check_prorated` allows (`prorated: invalid_prorated_charge_model`);
- `min_amount_cents` only on arrears charges
  (`min_amount_cents: not_compatible_with_pay_in_advance`);
- charge filters use keys/values declared on the metric (`filters: value_is_invalid`);
- `bill_charges_monthly` only on yearly/semiannual plans (`bill_charges_monthly: value_is_invalid`;
  Lago silently drops it, we refuse it so the operator knows it has no effect).

Why raw JSON is kept next to typed properties: the API must echo `properties` exactly as the
operator sent them ("0.050" stays "0.050"); pricing only ever reads the typed value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from releve.domain.charge_models.properties import PROPERTIES_CLASS, ChargeModel, Properties
from releve.domain.charge_models.proration import ProrationNotAllowed, check_prorated
from releve.domain.errors import DomainError
from releve.domain.filters import ChargeFilter, validate_charge_filters
from releve.domain.metering import AggregationType, BillableMetric
from releve.domain.money import Currency
from releve.domain.periods import Interval, yearly_multiplier

_PAY_IN_ADVANCE_METRICS = frozenset(
    {AggregationType.COUNT, AggregationType.SUM, AggregationType.UNIQUE_COUNT}
)


class MetricNotFound(DomainError):
    """A charge names a billable metric the organization does not have."""

    code = "billable_metric_not_found"


def err(message: str, field_name: str, code: str = "value_is_invalid") -> DomainError:
    return DomainError(message, field=field_name, code=code)


@dataclass(frozen=True, slots=True)
class ChargeFilterPrice:
    """One charge filter: the event values it selects and the price of its bucket.

    `values` maps a metric filter key to the accepted values (or `ALL_FILTER_VALUES`).
    """

    values: Mapping[str, tuple[str, ...]]
    properties: Properties
    invoice_display_name: str | None = None
    properties_json: Mapping[str, Any] = field(default_factory=dict, compare=False)

    def spec(self) -> ChargeFilter:
        return ChargeFilter(self.values)


@dataclass(frozen=True, slots=True)
class Charge:
    """A usage charge of a plan: a metric priced by a model (rules in the module docstring).

    `min_amount_cents`: the charge's spending minimum per period, minor units (arrears only).
    """

    id: str
    code: str | None
    metric: BillableMetric
    charge_model: ChargeModel
    properties: Properties
    filters: tuple[ChargeFilterPrice, ...] = ()
    pay_in_advance: bool = False
    invoiceable: bool = True
    prorated: bool = False
    min_amount_cents: int = 0
    invoice_display_name: str | None = None
    tax_codes: tuple[str, ...] = ()
    properties_json: Mapping[str, Any] = field(default_factory=dict, compare=False)
    parent_id: str | None = None
    billable_metric_id: str | None = None

    def __post_init__(self) -> None:
        model = ChargeModel(self.charge_model)
        object.__setattr__(self, "charge_model", model)
        for prices, name in [(self.properties, "properties")] + [
            (f.properties, f"filters[{i}].properties") for i, f in enumerate(self.filters)
        ]:
            if not isinstance(prices, PROPERTIES_CLASS[model]):
                raise err(f"{name} are not {model.value} properties", name, "invalid_properties")
        kind = self.metric.aggregation_type
        if self.pay_in_advance and (
            kind not in _PAY_IN_ADVANCE_METRICS or model is ChargeModel.VOLUME
        ):
            raise err(
                f"a {model.value} charge on a {kind.value} metric cannot be paid in advance",
                "charge_model",
                "invalid_aggregation_type_or_charge_model",
            )
        if model is ChargeModel.DYNAMIC and kind is not AggregationType.SUM:
            raise err(
                "dynamic charges need a sum_agg metric",
                "charge_model",
                "invalid_aggregation_type_or_charge_model",
            )
        if not self.invoiceable and not self.pay_in_advance:
            raise err(
                "only pay-in-advance charges can be non-invoiceable",
                "invoiceable",
                "must_be_true_unless_pay_in_advance",
            )
        if self.prorated:
            if not self.metric.recurring or kind is AggregationType.WEIGHTED_SUM:
                raise ProrationNotAllowed(
                    "only charges on recurring metrics (not weighted_sum) can be prorated",
                    field="prorated",
                )
            check_prorated(model, pay_in_advance=self.pay_in_advance)
        if isinstance(self.min_amount_cents, bool) or not isinstance(self.min_amount_cents, int):
            raise err("min_amount_cents must be a whole number", "min_amount_cents")
        if self.min_amount_cents < 0:
            raise err(
                "min_amount_cents must not be negative", "min_amount_cents", "value_is_out_of_range"
            )
        if self.pay_in_advance and self.min_amount_cents > 0:
            raise err(
                "a spending minimum applies to arrears charges only",
                "min_amount_cents",
                "not_compatible_with_pay_in_advance",
            )
        validate_charge_filters(self.metric.filters, self.filter_specs)

    @property
    def pricing_group_keys(self) -> tuple[str, ...]:
        """Keys splitting usage into per-group fees (the charge's own; its filters share them)."""
        return self.properties.pricing_group_keys

    @property
    def filter_specs(self) -> tuple[ChargeFilter, ...]:
        """The filters in declaration order, as `filters.bucket_of` expects them."""
        return tuple(f.spec() for f in self.filters)


@dataclass(frozen=True, slots=True)
class MinimumCommitment:
    """The plan's minimum spend per billing period (subscription fee + charges), minor units."""

    amount_cents: int
    invoice_display_name: str | None = None
    tax_codes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        check_cents(self.amount_cents, "amount_cents")


@dataclass(frozen=True, slots=True)
class UsageThreshold:
    """A progressive-billing threshold on lifetime usage, minor units (> 0)."""

    amount_cents: int
    recurring: bool = False
    threshold_display_name: str | None = None

    def __post_init__(self) -> None:
        check_cents(self.amount_cents, "amount_cents")
        if self.amount_cents == 0:
            raise err("a usage threshold must be positive", "amount_cents")


def check_cents(value: object, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise err(f"{name} must be a whole number of minor units", name)
    if value < 0:
        raise err(f"{name} must not be negative", name, "value_is_out_of_range")


@dataclass(frozen=True, slots=True)
class Plan:
    """A plan: a subscription fee per `interval` (minor units of `currency`) plus its charges.

    `trial_period_days` applies to the subscription fee only. `parent_id` is set on a child plan
    created by `apply_overrides`.
    """

    id: str
    code: str
    name: str
    interval: Interval
    amount_cents: int
    currency: Currency
    pay_in_advance: bool = False
    trial_period_days: int = 0
    bill_charges_monthly: bool = False
    charges: tuple[Charge, ...] = ()
    minimum_commitment: MinimumCommitment | None = None
    usage_thresholds: tuple[UsageThreshold, ...] = ()
    tax_codes: tuple[str, ...] = ()
    invoice_display_name: str | None = None
    description: str | None = None
    parent_id: str | None = None

    def __post_init__(self) -> None:
        if not self.code:
            raise err("code is mandatory", "code", "value_is_mandatory")
        if not self.name:
            raise err("name is mandatory", "name", "value_is_mandatory")
        check_cents(self.amount_cents, "amount_cents")
        if isinstance(self.trial_period_days, bool) or not isinstance(self.trial_period_days, int):
            raise err("trial_period must be a whole number of days", "trial_period")
        if self.trial_period_days < 0:
            raise err("trial_period must not be negative", "trial_period", "value_is_out_of_range")
        if self.bill_charges_monthly and self.interval not in (
            Interval.YEARLY,
            Interval.SEMIANNUAL,
        ):
            raise err(
                "bill_charges_monthly applies to yearly and semiannual plans only",
                "bill_charges_monthly",
            )
        ids = [c.id for c in self.charges]
        if len(set(ids)) != len(ids):
            raise err("two charges have the same id", "charges")
        codes = [c.code for c in self.charges if c.code]
        if len(set(codes)) != len(codes):
            raise err("two charges have the same code", "charges.code", "value_already_exist")
        if sum(1 for t in self.usage_thresholds if t.recurring) > 1:
            raise err("a plan has at most one recurring usage threshold", "usage_thresholds")
        fixed = [t.amount_cents for t in self.usage_thresholds if not t.recurring]
        if len(set(fixed)) != len(fixed):
            raise err("two usage thresholds have the same amount", "usage_thresholds")

    def yearly_amount_cents(self) -> int:
        """The fee over a year (Lago's upgrade/downgrade comparison): amount × periods per year."""
        return self.amount_cents * yearly_multiplier(self.interval)

    def charge(self, charge_id: str) -> Charge:
        for candidate in self.charges:
            if candidate.id == charge_id:
                return candidate
        raise KeyError(charge_id)
