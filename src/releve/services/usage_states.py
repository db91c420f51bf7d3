"""Reading aggregate states for a set of periods: whole local days from the daily rollup, the
partial edge days from the hourly rows; merged once per version of those rows.

A period [a, b) (a charge period, or its start up to a termination or an upgrade at 14:00) is
split in the zone the aggregates are keyed in (`UsageRecorder`: the customer's, else the
organization's): the local days lying wholly inside it are read from `usage_daily_aggregates`,
the hours of [a, first whole day) and [last whole day end, b) from `usage_aggregates`. A daily
row is the merge of its day's hourly rows (same transaction), so the states read cover exactly
the hours ``a <= hour_start < b`` — one read per period costs ~31 daily + ≤ 46 hourly rows per
bucket instead of ~720, whatever the period's length in events.

Caching (`merged_states`): a call first lists the rows' versions (charge, bucket, start,
updated_at, events_count — no state; a covering index answers it on SQLite). Per (subscription,
charge, bucket, charge period) the merge of the rows is cached by their versions, and so is the
merge of all of them but the two newest; a call folds only the rows after the longest cached
prefix of its versions, and fetches and decodes only those. An unchanged past is merged once
per process: at 10 M events a call costs what it costs at 1 M (the rows are the same days).
Every write sets updated_at and an added event bumps events_count, so a changed row is never
taken for the cached one (tests/integration/test_usage_state_cache.py).

Decoding: states are stored with numbers as strings except integer counts (`dump_state`), so
orjson parses them exactly; anything orjson refuses or `load_state` rejects is parsed again by
`exact_json.loads` (numbers as Decimal, never float). Decoded states are immutable and shared.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence, Sized
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
from releve.services.records import StateRow, StateVersion
from releve.services.usage_recording import parse_bucket
from releve.services.weighted_cache import WeightedCache as _Bounded

Range = tuple[datetime, datetime]

# Before any subscription: the hours before the first charge period (none are ever matched).
_DAWN = datetime(1, 1, 2, tzinfo=UTC)


def _size(state: AggregateState[Any]) -> int:
    core = state.core
    return 1 + (len(core) if isinstance(core, Sized) else 0)


# Decoded rows by version (a late event into a past day re-merges from them), and per slot
# (versions, merge, versions of all rows but the newest, their merge). ~250 bytes a unit:
# at most ~125 + ~250 MB, whatever the number of subscriptions or the size of their states.
_UNIT_BYTES = 250
_decoded: _Bounded[AggregateState[Any]] = _Bounded(500_000)
_merged: _Bounded[_Entry] = _Bounded(1_000_000)


def set_cache_budget(megabytes: int) -> None:
    """Bound this process's current-usage caches to about `megabytes` (`Settings.usage_cache_mb`,
    375 by default): a third for decoded rows, the rest for merges."""
    units = megabytes * 1_000_000 // _UNIT_BYTES
    _decoded.resize(units // 3)
    _merged.resize(units - units // 3)


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


def _ranges(
    tz: tzinfo, period: Period, earlier_starts: Sequence[datetime]
) -> tuple[tuple[list[Range], list[Range]], tuple[list[Range], list[Range]]]:
    """(hours, days) of `period`, and (hours, days) before it (split at `earlier_starts`)."""
    bounds = [*earlier_starts, period.start]
    past_hours: list[Range] = [(_DAWN, bounds[0])] if bounds[0] > _DAWN else []
    past_days: list[Range] = []
    for lo, hi in itertools.pairwise(bounds):
        h, d = split(lo, hi, tz)
        past_hours += h
        past_days += d
    return split(period.start, period.end, tz), (_joined(past_hours), _joined(past_days))


def merged_states(
    uow: UnitOfWork,
    organization_id: UUID,
    subscription_id: UUID,
    tz: tzinfo,
    period: Period,
    aggregators: Mapping[UUID, Aggregator[Any]],
    charge_ids: Sequence[UUID] | None,
    carrying: Sequence[UUID],
    earlier_starts: Sequence[datetime],
) -> dict[UUID, list[tuple[str, datetime, AggregateState[Any]]]]:
    """charge id → (bucket, slot start, merged state) of `period` (of `charge_ids`, all when
    None), and for the `carrying` charges one per earlier charge period (slots start at
    `earlier_starts`; before the first one, `_DAWN`): what `usage_by_bucket` folds.

    One cheap query lists the rows' versions; the merge of a slot is cached by them (so is
    the merge of all its rows but the two newest, today's and yesterday's, which change while
    the older ones stay), and only the rows neither covers are fetched as text and decoded."""
    (hours, days), (past_hours, past_days) = _ranges(tz, period, earlier_starts)
    store = uow.usage_aggregates
    versions = store.state_versions(
        organization_id, subscription_id, hours=hours, days=days, charge_ids=charge_ids
    )
    if carrying:
        versions += store.state_versions(
            organization_id, subscription_id, hours=past_hours, days=past_days, charge_ids=carrying
        )
    groups: dict[tuple[UUID, str, datetime], list[StateVersion]] = {}
    for row in versions:
        if row.charge_id in aggregators:
            slot = _slot_start(row.start, period, earlier_starts)
            groups.setdefault((row.charge_id, row.bucket, slot), []).append(row)
    slots = [
        _Slot(aggregators[charge_id], (subscription_id, charge_id, bucket, slot), rows)
        for (charge_id, bucket, slot), rows in groups.items()
    ]
    wanted = [row for s in slots for row in s.needed()]
    fetched = _fetch(uow, organization_id, subscription_id, aggregators, wanted)

    def fetch(rows: Sequence[StateVersion]) -> _Fetched:
        return _fetch(uow, organization_id, subscription_id, aggregators, rows)

    merged: dict[UUID, list[tuple[str, datetime, AggregateState[Any]]]] = {}
    for s in slots:
        merged.setdefault(s.key[1], []).append((s.key[2], s.key[3], s.merged(fetched, fetch)))
    return merged


def _slot_start(start: datetime, period: Period, earlier_starts: Sequence[datetime]) -> datetime:
    """The charge period a row (hour or day starting at `start`) is merged into: `period`, or
    the earlier period holding it (carried states), or `_DAWN` before the first one."""
    if start >= period.start:
        return period.start
    index = bisect.bisect_right(earlier_starts, start) - 1
    return _DAWN if index < 0 else earlier_starts[index]


def period_ranges(
    tz: tzinfo, period: Period, earlier_starts: Sequence[datetime]
) -> tuple[tuple[list[Range], list[Range]], tuple[list[Range], list[Range]]]:
    """What `merged_states` reads: (hours, days) of `period`, and (hours, days) before it."""
    return _ranges(tz, period, earlier_starts)


def merge_read(
    aggregators: Mapping[UUID, Aggregator[Any]],
    rows: Iterable[tuple[StateRow, str]],
    period: Period,
    earlier_starts: Sequence[datetime],
) -> dict[UUID, list[tuple[str, datetime, AggregateState[Any]]]]:
    """`merged_states`'s answer from rows already read (the bill run's pre-read: the rows
    `period_ranges` names, of one subscription), decoded and merged here without touching
    the process-wide caches: each slot is the fold from `init` of its rows in (start, daily)
    order, which is what every cached path of `merged_states` computes too."""
    groups: dict[tuple[UUID, str, datetime], list[tuple[StateRow, str]]] = {}
    for row, text in rows:
        if row.charge_id in aggregators:
            slot = _slot_start(row.start, period, earlier_starts)
            groups.setdefault((row.charge_id, row.bucket, slot), []).append((row, text))
    merged: dict[UUID, list[tuple[str, datetime, AggregateState[Any]]]] = {}
    for (charge_id, bucket, slot), found in groups.items():
        aggregator = aggregators[charge_id]
        state = aggregator.init()
        for _, text in sorted(found, key=_order):
            state = aggregator.merge(state, decode(aggregator, text))
        merged.setdefault(charge_id, []).append((bucket, slot, state))
    return merged


def _order(item: tuple[StateRow, str]) -> tuple[datetime, bool]:
    return (item[0].start, item[0].daily)


def _identity(row: StateVersion) -> _Identity:
    return (row.daily, row.start, row.updated_at, row.events_count)


_Identity = tuple[bool, datetime, datetime, int]
_Entry = tuple[
    tuple[_Identity, ...], AggregateState[Any], tuple[_Identity, ...], AggregateState[Any]
]
_Fetched = dict[tuple[bool, UUID, str, datetime], tuple[StateVersion, AggregateState[Any]]]
_Base = tuple[int, AggregateState[Any] | None]  # (rows already merged, their merge)
# The newest rows left out of a slot's cached head: today's (ingest) and yesterday's (late
# events around midnight) change while the older days stay.
_TAIL = 2


class _Slot:
    """The rows of one (subscription, charge, bucket, charge period) and their cached merge:
    `_merged` holds (versions, merge, versions of all rows but the `_TAIL` newest, their
    merge). A call folds only the rows after the longest cached prefix of its versions."""

    def __init__(
        self,
        aggregator: Aggregator[Any],
        key: tuple[UUID, UUID, str, datetime],
        rows: list[StateVersion],
    ) -> None:
        self.aggregator = aggregator
        self.key = key
        self.rows = sorted(rows, key=lambda r: (r.start, r.daily))
        self.cache_key = (_folding(aggregator), *key)

    def _plan(self, ident: tuple[_Identity, ...]) -> AggregateState[Any] | tuple[_Base, _Base]:
        """The cached merge when current; else where the head (all rows but the `_TAIL`
        newest) and the full merge start from (a full start of None: from the head)."""
        cached = _merged.get(self.cache_key)
        if cached is not None and cached[0] == ident:
            return cached[1]
        n, h = len(ident), max(len(ident) - _TAIL, 0)
        known = [] if cached is None else [(cached[2], cached[3]), (cached[0], cached[1])]
        prefixes = [(len(p), st) for p, st in known if len(p) <= n and ident[: len(p)] == p]
        head: _Base = max(((k, st) for k, st in prefixes if k <= h), default=(0, None), key=_length)
        full: _Base = max(((k, st) for k, st in prefixes if k > h), default=(h, None), key=_length)
        return head, full

    def _to_merge(self, plan: tuple[_Base, _Base]) -> list[StateVersion]:
        (head_k, _), (full_k, _) = plan
        h = max(len(self.rows) - _TAIL, 0)
        return self.rows[head_k:h] + self.rows[full_k:]

    def needed(self) -> list[StateVersion]:
        """The rows whose state this merge needs and the decode cache does not hold."""
        plan = self._plan(tuple(map(_identity, self.rows)))
        if not isinstance(plan, tuple):
            return []
        key = self.key[0]
        return [
            r for r in self._to_merge(plan) if _decode_key(self.aggregator, key, r) not in _decoded
        ]

    def merged(
        self, fetched: _Fetched, fetch: Callable[[Sequence[StateVersion]], _Fetched]
    ) -> AggregateState[Any]:
        # A row fetched just now may be newer than its listed version (PostgreSQL reads each
        # statement's own snapshot): the merge and its cache key use what was decoded.
        for i, row in enumerate(self.rows):
            now = fetched.get((row.daily, row.charge_id, row.bucket, row.start))
            if now is not None:
                self.rows[i] = now[0]
        ident = tuple(map(_identity, self.rows))
        plan = self._plan(ident)
        if not isinstance(plan, tuple):
            return plan
        states, current = self._states(self._to_merge(plan), fetched, fetch)
        (head_k, head), (full_k, full) = plan
        h = max(len(self.rows) - _TAIL, 0)
        merge = self.aggregator.merge
        head = self.aggregator.init() if head is None else head
        for row in self.rows[head_k:h]:
            head = merge(head, states[_row_key(row)])
        full = head if full is None else full
        for row in self.rows[full_k:]:
            full = merge(full, states[_row_key(row)])
        if current:
            weight = 2 * len(ident) + _size(full) + _size(head)
            _merged.put(self.cache_key, (ident, full, ident[:h], head), weight)
        return full

    def _states(
        self,
        rows: list[StateVersion],
        fetched: _Fetched,
        fetch: Callable[[Sequence[StateVersion]], _Fetched],
    ) -> tuple[dict[Any, AggregateState[Any]], bool]:
        """The decoded states of `rows`, and whether they are exactly the listed versions.
        A row neither decoded before nor fetched (evicted meanwhile, or another call changed
        the cached merge) is fetched now; one deleted since it was listed adds nothing."""
        found: dict[Any, AggregateState[Any]] = {}
        missing = []
        for row in rows:
            state = _decoded.get(_decode_key(self.aggregator, self.key[0], row))
            if state is None and _row_key(row) in fetched:
                state = fetched[_row_key(row)][1]
            if state is None:
                missing.append(row)
            else:
                found[_row_key(row)] = state
        current = True
        if missing:
            again = fetch(missing)
            for row in missing:
                now = again.get(_row_key(row))
                current = current and now is not None and now[0] == row
                found[_row_key(row)] = self.aggregator.init() if now is None else now[1]
        return found, current


def _length(base: _Base) -> int:
    return base[0]


def _row_key(row: StateVersion) -> tuple[bool, UUID, str, datetime]:
    return (row.daily, row.charge_id, row.bucket, row.start)


def _folding(aggregator: Aggregator[Any]) -> tuple[Any, ...]:
    """What decides how events fold into a state: part of every cache key, so a metric edit
    (e.g. another `field_name`, same type) never reuses a state folded the old way — even when
    the rebuilt rows carry the same versions (a clock that did not move)."""
    m = aggregator.metric
    return (m.aggregation_type.value, m.field_name, m.expression, m.recurring,
            m.weighted_interval, m.percentile)  # fmt: skip


def _decode_key(aggregator: Aggregator[Any], subscription_id: UUID, row: StateVersion) -> Any:
    return (_folding(aggregator), subscription_id, *_identity(row),
            row.charge_id, row.bucket)  # fmt: skip


def _fetch(
    uow: UnitOfWork,
    organization_id: UUID,
    subscription_id: UUID,
    aggregators: Mapping[UUID, Aggregator[Any]],
    rows: Sequence[StateVersion],
) -> _Fetched:
    """The states of `rows` as stored now, decoded (and remembered by their version)."""
    fetched: _Fetched = {}
    if not rows:
        return fetched
    for row, text in uow.usage_aggregates.state_texts(organization_id, subscription_id, rows):
        aggregator = aggregators[row.charge_id]
        state = decode(aggregator, text)
        _decoded.put(_decode_key(aggregator, subscription_id, row), state, _size(state))
        fetched[_row_key(row)] = (row, state)
    return fetched


def decode(aggregator: Aggregator[Any], text: str) -> AggregateState[Any]:
    """`aggregator.load_state` of a stored JSON text: orjson, exact_json if it refuses."""
    try:
        return aggregator.load_state(orjson.loads(text))
    except (orjson.JSONDecodeError, ValueError):
        return aggregator.load_state(exact_json.loads(text))


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
