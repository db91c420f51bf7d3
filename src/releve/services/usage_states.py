"""Reading aggregate states for a set of periods: whole local days from the daily rollup, the
partial edge days from the hourly rows; decoded once per distinct stored text.

A period [a, b) (a charge period, or its start up to a termination or an upgrade at 14:00) is
split in the zone the aggregates are keyed in (`UsageRecorder`: the customer's, else the
organization's): the local days lying wholly inside it are read from `usage_daily_aggregates`,
the hours of [a, first whole day) and [last whole day end, b) from `usage_aggregates`. A daily
row is the merge of its day's hourly rows (same transaction), so the states read cover exactly
the hours ``a <= hour_start < b`` — one read per period costs ~31 daily + ≤ 46 hourly rows per
bucket instead of ~720, whatever the period's length in events.

Decoding: states are stored with numbers as strings except integer counts (`dump_state`), so
orjson parses them exactly; anything orjson refuses or `load_state` rejects is parsed again by
`exact_json.loads` (numbers as Decimal, never float). Loaded states are immutable: they are
cached per (aggregation type, text) — a past day's state is the same text call after call.
"""

from __future__ import annotations

import bisect
import contextlib
import itertools
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any
from uuid import UUID

import orjson

from releve.domain.aggregations import AggregateState, Aggregator
from releve.domain.filters import BucketKey
from releve.domain.periods import Period, local_date, local_midnight
from releve.domain.usage import UsageFacts
from releve.services import exact_json
from releve.services.ports import UnitOfWork
from releve.services.records import StoredState
from releve.services.usage_recording import parse_bucket

Range = tuple[datetime, datetime]

# Before any subscription: the hours before the first charge period (none are ever matched).
_DAWN = datetime(1, 1, 2, tzinfo=UTC)
_CACHE_SIZE = 8192
_cache: dict[tuple[str, str], AggregateState[Any]] = {}


def split(start: datetime, end: datetime, tz: tzinfo) -> tuple[list[Range], list[Range]]:
    """(hour ranges, day ranges) covering [start, end): whole local days as days."""
    first = local_midnight(local_date(start, tz), tz)
    if first < start:
        first = local_midnight(local_date(start, tz) + timedelta(days=1), tz)
    last = local_midnight(local_date(end, tz), tz)
    if not first < last:
        return [(start, end)], []
    hours = [r for r in ((start, first), (last, end)) if r[0] < r[1]]
    return hours, [(first, last)]


def _joined(ranges: list[Range]) -> list[Range]:
    joined: list[Range] = []
    for lo, hi in sorted(ranges):
        if joined and joined[-1][1] >= lo:
            joined[-1] = (joined[-1][0], max(joined[-1][1], hi))
        else:
            joined.append((lo, hi))
    return joined


def read_states(
    uow: UnitOfWork,
    organization_id: UUID,
    subscription_id: UUID,
    tz: tzinfo,
    period: Period,
    charge_ids: Sequence[UUID] | None,
    carrying: Sequence[UUID],
    earlier_starts: Sequence[datetime],
) -> list[StoredState]:
    """The states of `period` (of `charge_ids`, all when None), then those before it for the
    `carrying` charges (split at `earlier_starts`, the earlier charge periods' starts)."""
    hours, days = split(period.start, period.end, tz)
    states = uow.usage_aggregates.read_states(
        organization_id, subscription_id, hours=hours, days=days, charge_ids=charge_ids
    )
    if carrying:
        bounds = [*earlier_starts, period.start]
        past_hours: list[Range] = [(_DAWN, bounds[0])] if bounds[0] > _DAWN else []
        past_days: list[Range] = []
        for lo, hi in itertools.pairwise(bounds):
            h, d = split(lo, hi, tz)
            past_hours += h
            past_days += d
        states += uow.usage_aggregates.read_states(
            organization_id,
            subscription_id,
            hours=_joined(past_hours),
            days=_joined(past_days),
            charge_ids=carrying,
        )
    return states


def load(aggregator: Aggregator[Any], text: str) -> AggregateState[Any]:
    """`aggregator.load_state` of a stored JSON text, cached by text (states are immutable)."""
    key = (aggregator.metric.aggregation_type.value, text)
    state = _cache.get(key)
    if state is None:
        try:
            state = aggregator.load_state(orjson.loads(text))
        except (orjson.JSONDecodeError, ValueError):
            state = aggregator.load_state(exact_json.loads(text))
        if len(_cache) >= _CACHE_SIZE:
            with contextlib.suppress(KeyError, RuntimeError, StopIteration):
                del _cache[next(iter(_cache))]  # oldest first; another thread may win
        _cache[key] = state
    return state


def usage_by_bucket(
    aggregator: Aggregator[Any],
    rows: Iterable[tuple[str, datetime, AggregateState[Any]]],
    period: Period,
    earlier_starts: Sequence[datetime],
) -> dict[BucketKey, UsageFacts]:
    """Merge one charge's (bucket, start, state) rows per bucket: this period's into one state,
    earlier periods' (for carrying aggregators) per period, folded with `carry_over` in time
    order."""
    current: dict[BucketKey, AggregateState[Any]] = {}
    past: dict[BucketKey, dict[int, AggregateState[Any]]] = {}
    for bucket, start, state in rows:
        key = parse_bucket(bucket)
        if start >= period.start:
            known = current.get(key)
            current[key] = state if known is None else aggregator.merge(known, state)
        elif aggregator.uses_carried:
            index = bisect.bisect_right(earlier_starts, start) - 1
            slots = past.setdefault(key, {})
            known = slots.get(index)
            slots[index] = state if known is None else aggregator.merge(known, state)
    usage = {}
    for key in current.keys() | past.keys():
        carried = None
        for index in sorted(past.get(key, {})):
            carried = aggregator.carry_over(past[key][index], carried)
        usage[key] = aggregator.result(
            current.get(key) or aggregator.init(), period.start, period.end, carried
        )
    return usage
