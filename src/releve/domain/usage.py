"""The shared vocabulary between metering and pricing: an event, and the usage facts of a bucket.

`Event` is what was ingested (immutable); `UsageFacts` is what pricing needs to know about one
bucket of usage — one charge, one charge filter, one pricing group, in one period — once the
metric's aggregation has run. Keeping this small contract in its own module lets metering and
pricing evolve independently.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

# JSON values of event properties. Numbers are always Decimal (parsed from their text, never a
# float); strings, booleans and null pass through.
PropertyValue = Decimal | str | bool | None


@dataclass(frozen=True, slots=True)
class Event:
    """One usage event as ingested. `timestamp` is timezone-aware (stored and compared in UTC)."""

    transaction_id: str
    code: str
    external_subscription_id: str
    timestamp: datetime
    properties: Mapping[str, PropertyValue] = field(default_factory=dict)
    # Only for the `dynamic` charge model: the event's own price, in the currency's minor units,
    # possibly fractional ("1234.56").
    precise_total_amount_cents: Decimal | None = None

    def __post_init__(self) -> None:
        if self.timestamp.tzinfo is None or self.timestamp.utcoffset() is None:
            raise ValueError("Event.timestamp must be timezone-aware")


@dataclass(frozen=True, slots=True)
class UsageFacts:
    """Aggregated usage of one bucket in one period: the input of every charge model.

    - `units`: the metric's aggregated value, after the metric's own rounding, as a Decimal.
    - `events_count`: how many events fed the bucket.
    - `event_values`: each event's value in time order, only when a model needs it (percentage
      with free events or per-transaction min/max); `None` otherwise.
    - `total_amount_cents`: Σ `precise_total_amount_cents` of the events (dynamic model), in
      minor units, unrounded.
    """

    units: Decimal
    events_count: int = 0
    event_values: tuple[Decimal, ...] | None = None
    total_amount_cents: Decimal = Decimal(0)

    @classmethod
    def none(cls) -> UsageFacts:
        """No usage at all."""
        return cls(units=Decimal(0))
