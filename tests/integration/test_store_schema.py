"""The schema comes from migrations and matches tables.py; the column types keep values exact."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from releve.adapters.sql import schema, tables
from releve.adapters.sql.migrate import current_revision, head_revision
from releve.bootstrap import Container

pytestmark = pytest.mark.store


def test_migrations_reach_head_and_match_the_tables(engine: sa.Engine) -> None:
    assert current_revision(engine) == head_revision()
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, schema.metadata) == []


def _insert_org(engine: sa.Engine, created_at: datetime) -> uuid.UUID:
    org_id = uuid.uuid4()
    with engine.begin() as c:
        c.execute(
            tables.organizations.insert().values(
                id=org_id,
                name="x",
                default_currency="EUR",
                timezone="UTC",
                webhook_hmac_key="k",
                portal_secret="s",
                invoice_grace_period=0,
                net_payment_term=0,
                is_default=False,
                created_at=created_at,
                updated_at=created_at,
            )
        )
    return org_id


def test_datetimes_come_back_aware_in_utc_and_naive_ones_are_refused(engine: sa.Engine) -> None:
    paris = timezone(timedelta(hours=1))
    org_id = _insert_org(engine, datetime(2024, 1, 1, 0, 30, 0, 123456, tzinfo=paris))
    with engine.connect() as c:
        got = c.execute(
            sa.select(tables.organizations.c.created_at).where(tables.organizations.c.id == org_id)
        ).scalar_one()
    assert got == datetime(2023, 12, 31, 23, 30, 0, 123456, tzinfo=UTC)
    assert got.utcoffset() == timedelta(0)
    with pytest.raises(sa.exc.StatementError, match="naive"):
        _insert_org(engine, datetime(2024, 1, 1))


def test_decimals_and_json_numbers_are_exact(container: Container) -> None:
    org = container.organizations.create("Exact").organization_id
    container.taxes.create(org, {"code": "t", "name": "T", "rate": Decimal("19.6000")})
    assert str(container.taxes.get(org, "t").rate) == "19.6000"
    huge = Decimal("123456789012345678901234567890.000000000000000001")
    container.events.ingest_one(
        org,
        {
            "transaction_id": "x",
            "external_subscription_id": "s",
            "code": "c",
            "timestamp": 1,
            "properties": {"gb": huge, "n": 3, "tiny": Decimal("0.1")},
        },
    )
    props = container.events.get(org, "x").properties
    assert props == {"gb": huge, "n": 3, "tiny": Decimal("0.1")}
    assert isinstance(props["gb"], Decimal) and isinstance(props["n"], int)


def test_float_is_refused_by_exact_decimal(engine: sa.Engine) -> None:
    org_id = _insert_org(engine, datetime(2024, 1, 1, tzinfo=UTC))
    now = datetime(2024, 1, 1, tzinfo=UTC)
    with pytest.raises(sa.exc.StatementError, match="Decimal"), engine.begin() as c:
        c.execute(
            tables.taxes.insert().values(
                id=uuid.uuid4(),
                organization_id=org_id,
                code="f",
                name="f",
                rate=0.1,
                applied_to_organization=False,
                created_at=now,
                updated_at=now,
            )
        )
