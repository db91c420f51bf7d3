"""Three months of plausible usage for one demo customer, from a seeded `random.Random`.

Each vertical has its own rhythm, in the customer's local time: calls and SMS in business hours
(fewer at weekends), two meter registers read at 07:00 (off-peak) and 22:00 (peak) plus a daily
peak demand, API calls around the clock with a home region, storage growing by small uploads
and the odd clean-up, seats added and removed now and then. `scale` multiplies the volume of
the chatty metrics (calls, SMS, API calls), not the meter cadence.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from releve.services.demo.catalog import CLOUD, TELECOM, UTILITY
from releve.services.demo.customers import DemoCustomer

Payload = dict[str, Any]
Produced = Iterator[tuple[str, datetime, Payload]]
HOME_REGION = {"Europe": "eu", "America": "us", "Asia": "ap", "Pacific": "ap"}


def _days(start: datetime, end: datetime, tz: ZoneInfo) -> Iterator[date]:
    day, last = start.astimezone(tz).date(), end.astimezone(tz).date()
    while day <= last:
        yield day
        day += timedelta(days=1)


def _at(day: date, hours: float, tz: ZoneInfo) -> datetime:
    local = datetime.combine(day, time(), tzinfo=tz) + timedelta(hours=hours)
    return local.astimezone(UTC).replace(microsecond=0)


def _quantity(
    rng: random.Random, low: Decimal | int, high: Decimal | int, places: int, size: Decimal
) -> Decimal:
    """A random quantity in [low, high] × size with `places` decimals, drawn as a whole number
    of steps so that no float ever shapes a usage value (design.md §3)."""
    step = Decimal(1).scaleb(-places)
    steps = rng.randint(int(Decimal(low) / step), int(Decimal(high) / step))
    return (steps * step * size).quantize(step, rounding=ROUND_HALF_UP)


def _count(rng: random.Random, mean: float) -> int:
    return max(0, round(rng.gauss(mean, mean**0.5))) if mean > 0 else 0


def _business_hour(rng: random.Random) -> float:
    return rng.triangular(7, 21, 12.5)


def _pick(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _telecom(
    c: DemoCustomer, day: date, tz: ZoneInfo, rng: random.Random, volume: float
) -> Produced:
    weekend = day.weekday() >= 5
    roaming = 0.15 if c.country == "NZ" else 0.06
    for _ in range(_count(rng, volume * (3 if weekend else 12))):
        zone = "roaming" if rng.random() < roaming else "domestic"
        destination = _pick(rng, {"national": 0.6, "mobile": 0.3, "international": 0.1})
        duration = int(rng.lognormvariate(4.4, 0.9)) + 3
        yield (
            "call_minutes",
            _at(day, _business_hour(rng), tz),
            {
                "duration": duration,
                "zone": zone,
                "destination": destination,
            },
        )
    for _ in range(_count(rng, volume * (3 if weekend else 6))):
        zone = "roaming" if rng.random() < roaming else "domestic"
        yield "sms", _at(day, rng.uniform(8, 23), tz), {"zone": zone}


def _utility(
    c: DemoCustomer, day: date, tz: ZoneInfo, rng: random.Random, state: dict[str, Any]
) -> Produced:
    state["off_peak"] += _quantity(rng, 8, 16, 1, c.size)
    yield "energy_kwh", _at(day, 7, tz), {"tariff": "off_peak", "reading": state["off_peak"]}
    state["peak"] += _quantity(rng, 15, 35, 1, c.size)
    yield "energy_kwh", _at(day, 22, tz), {"tariff": "peak", "reading": state["peak"]}
    kw = _quantity(rng, 3, 9, 1, c.size)
    yield "peak_demand_kw", _at(day, rng.uniform(11, 20), tz), {"kw": kw}


def _cloud(
    c: DemoCustomer, day: date, tz: ZoneInfo, rng: random.Random, state: dict[str, Any]
) -> Produced:
    weekend = day.weekday() >= 5
    home = HOME_REGION[c.timezone.split("/")[0]]
    regions = {r: (0.7 if r == home else 0.15) for r in ("eu", "us", "ap")}
    for _ in range(_count(rng, state["volume"] * (8 if weekend else 20))):
        yield "api_calls", _at(day, rng.uniform(0, 24), tz), {"region": _pick(rng, regions)}
    if state["stored"] == 0:
        gb = _quantity(rng, 40, 120, 2, c.size)
    elif rng.random() < 0.1:
        gb = -_quantity(rng, 5, 20, 2, state["stored"] / 100)
    else:
        gb = _quantity(rng, Decimal("0.2"), 4, 2, c.size)
    state["stored"] += gb
    yield "storage_gb", _at(day, _business_hour(rng), tz), {"gb": gb}
    seats: list[str] = state["seats"]
    joins = rng.randint(6, 14) if not seats else int(rng.random() < 0.08)
    for _ in range(joins):
        state["next_user"] += 1
        seats.append(f"{c.external_id}_user_{state['next_user']}")
        yield "seats", _at(day, _business_hour(rng), tz), {"user_id": seats[-1]}
    if len(seats) > 3 and rng.random() < 0.04:
        leaver = seats.pop(rng.randrange(len(seats)))
        yield (
            "seats",
            _at(day, _business_hour(rng), tz),
            {
                "user_id": leaver,
                "operation_type": "remove",
            },
        )


def generate_usage(
    customer: DemoCustomer, start: datetime, end: datetime, rng: random.Random, scale: float
) -> list[tuple[datetime, str, Payload]]:
    """(timestamp, metric code, properties) of every event in [start, end), chronological."""
    tz = ZoneInfo(customer.timezone)
    volume = float(customer.size) * scale  # a multiplier of event counts, not a quantity
    state: dict[str, Any] = {
        "off_peak": Decimal(rng.randint(2_000, 40_000)),
        "peak": Decimal(rng.randint(2_000, 40_000)),
        "volume": volume,
        "stored": Decimal(0),
        "seats": [],
        "next_user": 0,
    }
    events: list[tuple[str, datetime, Payload]] = []
    for day in _days(start, end, tz):
        if customer.vertical == TELECOM:
            produced = _telecom(customer, day, tz, rng, volume)
        elif customer.vertical == UTILITY:
            produced = _utility(customer, day, tz, rng, state)
        else:
            assert customer.vertical == CLOUD
            produced = _cloud(customer, day, tz, rng, state)
        events.extend(e for e in produced if start <= e[1] < end)
    events.sort(key=lambda e: e[1])
    return [(at, code, properties) for code, at, properties in events]
