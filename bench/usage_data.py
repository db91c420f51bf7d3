"""Millions of events of a billing period, written straight into a store, with their aggregates.

Why not through the API: the current-usage and bill-run figures need 1–10 M events in one
period, and ingesting them at the rates of figure (c) would take longer than the measurement.
So the events are generated in Python and written with the store's bulk path (`COPY … FROM
STDIN` on PostgreSQL, one prepared `INSERT` executemany on SQLite), in chunks of `CHUNK` per
transaction, and their per-hour aggregate states are computed by the project's own code — the
plan's charges, `filters.bucket_of`, `Aggregator.add`/`dump_state`, the bucket text of
`usage_recording` — and written by the project's aggregate repository (`upsert`). Hours are
flushed as soon as the (time-ordered) events leave them, so memory stays bounded at 10 M.

What is *not* the ingest path: no deduplication query, no matching (every event belongs to the
given subscriptions, active over the whole range), customers' time zone must be UTC (the hour
of an event is then its UTC hour, computed with integer arithmetic). `load_usage` returns what
it wrote; the caller checks it against the store (`check_counts`).
"""

from __future__ import annotations

import hashlib
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from bench.data import INSTANCE_TYPES, METHODS, METRICS, REGIONS
from releve.adapters.sql.engine import create_engine
from releve.adapters.sql.repositories.usage_aggregates import SqlUsageAggregateRepository
from releve.adapters.sql.uow import SqlUnitOfWorkFactory
from releve.domain.aggregations import AggregateState, Aggregator, aggregator_for
from releve.domain.filters import bucket_of
from releve.domain.usage import Event
from releve.services import exact_json
from releve.services.records import AggregateKey, UsageAggregate
from releve.services.usage_recording import bucket_text

CHUNK = 50_000  # events per transaction
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_HOUR_US = 3_600_000_000
_COLUMNS = (
    "id, organization_id, transaction_id, external_subscription_id, code, timestamp, "
    "properties, precise_total_amount_cents, payload_hash, created_at, status, "
    "unmatched_reason, subscription_id"
)


@dataclass(frozen=True)
class Target:
    """A subscription receiving events (active over the whole generated range)."""

    subscription_id: UUID
    external_id: str
    plan_id: UUID


@dataclass(frozen=True)
class Written:
    events: int
    aggregate_rows: int
    events_by_code: dict[str, int]


def _templates(rng: random.Random) -> dict[str, list[dict[str, Any]]]:
    """A small vocabulary of properties per metric (values as a Lago client sends them)."""
    return {
        "api_calls": [
            {"region": r, "method": m, "path": f"/v1/r{p}"}
            for r in REGIONS
            for m in METHODS
            for p in range(5)
        ],
        "bandwidth_bytes": [
            {"region": rng.choice(REGIONS), "bytes": rng.randrange(1, 50_000_000)}
            for _ in range(256)
        ],
        "compute_seconds": [
            {
                "region": rng.choice(REGIONS),
                "instance_type": rng.choice(INSTANCE_TYPES),
                "seconds": Decimal(rng.randrange(1, 3_600_000)) / 1000,
            }
            for _ in range(256)
        ],
        "storage_gb": [{"gb": Decimal(rng.randrange(1, 10_000_000)) / 1000} for _ in range(256)],
        "active_users": [{"user_id": f"u_{k}"} for k in range(5000)],
    }


def _hash(transaction_id: str, external_id: str, code: str, ts: datetime, props: str) -> str:
    """`event_input.parse_event`'s payload hash, with the canonical properties pre-rendered
    (checked against `exact_json.canonical` on the first events of every run)."""
    text = (
        f'{{"code":{exact_json.dumps(code)},"external_subscription_id":'
        f'{exact_json.dumps(external_id)},"precise_total_amount_cents":null,'
        f'"properties":{props},"timestamp":"{ts.isoformat()}",'
        f'"transaction_id":{exact_json.dumps(transaction_id)}}}'
    )
    return hashlib.sha256(text.encode()).hexdigest()


def load_usage(
    url: str,
    organization_id: UUID,
    targets: Sequence[Target],
    events: int,
    start: datetime,
    end: datetime,
    seed: int = 7,
) -> Written:
    """Write `events` events spread evenly over [start, end) across `targets` (round robin,
    time-ordered), each with the aggregates the ingest path would have produced."""
    rng = random.Random(seed)
    templates = _templates(rng)
    codes = [m["code"] for m, _ in METRICS]
    weights = [w for _, w in METRICS]
    engine = create_engine(url, poolclass=sa.pool.NullPool)
    sqlite = engine.dialect.name == "sqlite"
    # The plans' charges per (plan, metric code), as `UsageRecorder._aggregate` reads them.
    charges: dict[tuple[UUID, str], list[tuple[UUID, Any, Any, Aggregator[Any]]]] = {}
    with SqlUnitOfWorkFactory(engine)(read_only=True) as uow:
        for plan_id in {t.plan_id for t in targets}:
            stored = uow.plans.get_by_id(organization_id, plan_id)
            assert stored is not None
            for code in codes:
                charges[plan_id, code] = [
                    (UUID(c.id), c.filter_specs, c.pricing_group_keys, aggregator_for(c.metric))
                    for c in stored.plan.charges
                    if c.metric.code == code
                ]
    rendered: dict[tuple[str, int], tuple[str, str]] = {}  # (code, i) → (JSON, canonical)
    buckets: dict[tuple[UUID, str, int], str] = {}  # (charge, code, template) → bucket text
    start_us = (start - _EPOCH) // timedelta(microseconds=1)
    span_us = (end - _EPOCH) // timedelta(microseconds=1) - start_us
    now = datetime.now(UTC)
    created = now.strftime("%Y-%m-%dT%H:%M:%S.%fZ") if sqlite else now.isoformat()
    org = organization_id.hex if sqlite else str(organization_id)
    by_code = dict.fromkeys(codes, 0)
    states: dict[AggregateKey, tuple[Aggregator[Any], AggregateState[Any]]] = {}
    current_hour: int | None = None
    aggregate_rows = 0
    conn = engine.connect()
    driver: Any = conn.connection.driver_connection
    try:
        repository = SqlUsageAggregateRepository(conn)

        days: dict[AggregateKey, tuple[Aggregator[Any], AggregateState[Any]]] = {}

        def flush() -> int:
            rows = [
                UsageAggregate(key, agg.dump_state(state), state.events_count)
                for key, (agg, state) in states.items()
            ]
            repository.upsert(organization_id, rows, now)
            # The per-local-day rollup (customers are in UTC: days start at UTC midnight), as
            # `UsageRecorder._roll_up` keeps it: the merge of the day's hourly states.
            for key, (agg, state) in states.items():
                at = key.hour_start.replace(hour=0)
                day = AggregateKey(key.subscription_id, key.charge_id, key.bucket, at)
                known = days.get(day)
                days[day] = (agg, state if known is None else agg.merge(known[1], state))
            states.clear()
            return len(rows)

        def flush_days() -> None:
            rows = [
                UsageAggregate(key, agg.dump_state(state), state.events_count)
                for key, (agg, state) in days.items()
            ]
            repository.upsert_daily(organization_id, rows, now)
            days.clear()

        for chunk_start in range(0, events, CHUNK):
            n = min(CHUNK, events - chunk_start)
            transaction = conn.begin()  # BEGIN IMMEDIATE on SQLite (the engine's hook)
            chosen = rng.choices(codes, weights=weights, k=n)
            lines: list[Any] = []
            for offset in range(n):
                i = chunk_start + offset
                code = chosen[offset]
                target = targets[i % len(targets)]
                index = rng.randrange(len(templates[code]))
                props = templates[code][index]
                texts = rendered.get((code, index))
                if texts is None:
                    texts = rendered[code, index] = (
                        exact_json.dumps(props),
                        exact_json.canonical(props),
                    )
                micros = start_us + (i * span_us) // events
                ts = _EPOCH + timedelta(microseconds=micros)
                tx = f"gen_{seed}_{i:010d}"
                digest = _hash(tx, target.external_id, code, ts, texts[1])
                if i < 100:  # the pre-rendered hash is the service's hash
                    assert digest == _service_hash(tx, target.external_id, code, ts, props)
                event_id = uuid.UUID(int=rng.getrandbits(128), version=4)
                if sqlite:
                    lines.append(
                        (
                            event_id.hex, org, tx, target.external_id, code,
                            ts.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), texts[0], None, digest,
                            created, "matched", None, target.subscription_id.hex,
                        )
                    )  # fmt: skip
                else:
                    lines.append(
                        f"{event_id}\t{org}\t{tx}\t{target.external_id}\t{code}\t"
                        f"{ts.isoformat()}\t{_copy_escape(texts[0])}\t\\N\t{digest}\t"
                        f"{created}\tmatched\t\\N\t{target.subscription_id}\n"
                    )
                by_code[code] += 1
                hour = micros // _HOUR_US
                if hour != current_hour:
                    if states:
                        aggregate_rows += flush()
                    if days and current_hour is not None and hour // 24 != current_hour // 24:
                        flush_days()
                    current_hour = hour
                hour_start = _EPOCH + timedelta(microseconds=hour * _HOUR_US)
                wanted = charges[target.plan_id, code]
                if not wanted:
                    continue
                domain = Event(tx, code, target.external_id, ts, props, None)
                for charge_id, specs, group_keys, aggregator in wanted:
                    text = buckets.get((charge_id, code, index))
                    if text is None:
                        text = buckets[charge_id, code, index] = bucket_text(
                            bucket_of(domain, specs, group_keys)
                        )
                    key = AggregateKey(target.subscription_id, charge_id, text, hour_start)
                    known = states.get(key)
                    state = aggregator.init() if known is None else known[1]
                    states[key] = (aggregator, aggregator.add(state, domain))
            if sqlite:
                driver.executemany(f"INSERT INTO events ({_COLUMNS}) VALUES ({_marks()})", lines)
            else:
                with (
                    driver.cursor() as cursor,
                    cursor.copy(f"COPY events ({_COLUMNS}) FROM STDIN") as copy,
                ):
                    copy.write("".join(lines))
            if states and chunk_start + n >= events:
                aggregate_rows += flush()
            if days and chunk_start + n >= events:
                flush_days()
            transaction.commit()
    finally:
        conn.close()
        engine.dispose()
    return Written(events, aggregate_rows, by_code)


def _marks() -> str:
    return ", ".join("?" * 13)


def _copy_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def _service_hash(tx: str, external_id: str, code: str, ts: datetime, props: Any) -> str:
    from releve.services.event_input import parse_event

    draft = parse_event(
        {
            "transaction_id": tx,
            "external_subscription_id": external_id,
            "code": code,
            "timestamp": ts.isoformat(),
            "properties": props,
        },
        ts,
    )
    assert not isinstance(draft, dict), draft
    return draft.payload_hash


def check_counts(url: str, organization_id: UUID, written: Written) -> None:
    """The store holds exactly the generated events, and the aggregates count each once."""
    from bench.stores import VerificationError

    engine = create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as c:
            org = organization_id.hex if engine.dialect.name == "sqlite" else organization_id
            by_code = dict(
                c.execute(
                    sa.text(
                        "SELECT code, count(*) FROM events WHERE organization_id = :org "
                        "AND status = 'matched' GROUP BY code"
                    ),
                    {"org": org},
                ).all()
            )
            rows, counted = c.execute(
                sa.text(
                    "SELECT count(*), coalesce(sum(events_count), 0) FROM usage_aggregates "
                    "WHERE organization_id = :org"
                ),
                {"org": org},
            ).one()
    finally:
        engine.dispose()
    expected = {k: v for k, v in written.events_by_code.items() if v}
    # Every bench metric has exactly one charge in the bench plan: one aggregate per event.
    if by_code != expected or int(counted) != written.events or rows != written.aggregate_rows:
        raise VerificationError(
            f"generated usage: events {by_code} != {expected}, or aggregates count "
            f"{counted} != {written.events}, or {rows} aggregate rows != {written.aggregate_rows}"
        )
