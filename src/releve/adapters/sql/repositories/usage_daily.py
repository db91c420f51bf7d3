"""Backfill of the per-local-day rollup from existing hourly rows (migration 0010).

Each subscription's hourly states are merged per (charge, bucket, local day in the zone the
hourly rows were keyed in: the customer's, else the organization's, else UTC) by the charge's
own aggregator — the same merge the ingest path applies — and written with the daily upsert.
A no-op on a database without hourly rows (every new install).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from releve.adapters.sql.repositories.plans import SqlPlanRepository
from releve.adapters.sql.repositories.usage_aggregates import SqlUsageAggregateRepository
from releve.adapters.sql.tables import customers, organizations, subscriptions
from releve.adapters.sql.tables import usage_aggregates as ua
from releve.domain.aggregations import AggregateState, Aggregator, aggregator_for
from releve.domain.periods import parse_timezone
from releve.services.records import AggregateKey, UsageAggregate
from releve.services.usage_recording import local_day


def backfill_daily(connection: sa.Connection) -> None:
    if connection.execute(sa.select(ua.c.subscription_id).limit(1)).first() is None:
        return
    now = datetime.now(UTC)
    plans = SqlPlanRepository(connection)
    store = SqlUsageAggregateRepository(connection)
    owners = connection.execute(
        sa.select(
            subscriptions.c.id,
            subscriptions.c.organization_id,
            subscriptions.c.plan_id,
            customers.c.timezone,
            organizations.c.timezone,
        )
        .join(customers, customers.c.id == subscriptions.c.customer_id)
        .join(organizations, organizations.c.id == subscriptions.c.organization_id)
        .where(subscriptions.c.id.in_(sa.select(ua.c.subscription_id).distinct()))
    ).all()
    for subscription_id, organization_id, plan_id, own_zone, org_zone in owners:
        name = own_zone or org_zone
        tz = parse_timezone(name) if name else UTC
        stored = plans.get_by_id(organization_id, plan_id)
        aggregators: dict[UUID, Aggregator[Any]] = {}
        if stored is not None:
            aggregators = {UUID(c.id): aggregator_for(c.metric) for c in stored.plan.charges}
        days: dict[AggregateKey, AggregateState[Any]] = {}
        rows = connection.execute(
            sa.select(ua.c.charge_id, ua.c.bucket, ua.c.hour_start, ua.c.state).where(
                ua.c.organization_id == organization_id, ua.c.subscription_id == subscription_id
            )
        )
        for charge_id, bucket, hour_start, state in rows:
            aggregator = aggregators.get(charge_id)
            if aggregator is None:
                continue  # a charge no longer in the plan: never read either
            key = AggregateKey(subscription_id, charge_id, bucket, local_day(hour_start, tz))
            loaded = aggregator.load_state(state)
            known = days.get(key)
            days[key] = loaded if known is None else aggregator.merge(known, loaded)
        store.upsert_daily(
            organization_id,
            [
                UsageAggregate(key, aggregators[key.charge_id].dump_state(s), s.events_count)
                for key, s in days.items()
            ],
            now,
        )
