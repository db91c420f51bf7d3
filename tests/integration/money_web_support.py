"""A customer's money history built through the services, for the web money tests.

Per organization: VAT 20 %; plan `pro`, monthly in arrears, 10.00 EUR, api_calls standard
0.05 EUR per call (sum of `value`). Customer subscribes 2024-01-01 (UTC), gets a wallet on Jan 2
with 25 granted credits at 1.00 EUR (2500 cents) and makes 100 calls in January.

- January invoice (Feb 1): 10.00 + 100 × 0.05 = 15.00; VAT 3.00; 18.00 → prepaid 18.00
  (wallet 2500 → 700), total 0.00.
- Credit note CN1 (Feb 5) on the api_calls fee: 5.00 + VAT 1.00 = 6.00, all as credit.
- February invoice (Mar 1): 10.00 + VAT 2.00 = 12.00 − credit note 6.00 = 6.00 − prepaid 6.00
  (wallet 700 → 100) = 0.00; CN1 is used up.
- March 10: 10 calls → usage so far 0.50 + VAT 0.10 = 0.60; the clock stops on March 15 12:00.
  Ongoing balance = 1.00 − 0.60 = 0.40 (no draft invoice).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from uuid import UUID

from releve.bootstrap import Container
from releve.services.pagination import PageRequest
from tests.integration.support import FakeClock


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[arg-type, misc]


@dataclass
class History:
    organization_id: UUID
    customer: str
    wallet_id: str = ""
    january_id: str = ""
    february_id: str = ""
    january_number: str = ""
    february_number: str = ""
    credit_note_id: str = ""
    credit_note_number: str = ""


def _invoices(container: Container, h: History) -> list[object]:
    found = container.invoices.list(
        h.organization_id, PageRequest(1, 20), external_customer_id=h.customer
    )
    return [v for v in found.items if v.invoice.invoice_type == "subscription"]


def build(container: Container, clock: FakeClock, people: list[History], wallet: str) -> None:
    """The module docstring's history for each (organization, customer) of `people`."""
    clock.set(at(2024, 1, 1))
    catalogs = set()
    for h in people:
        org = h.organization_id
        if org not in catalogs:
            catalogs.add(org)
            container.taxes.create(
                org,
                {
                    "code": "vat",
                    "name": "VAT",
                    "rate": Decimal(20),
                    "applied_to_organization": True,
                },
            )
            container.billable_metrics.create(
                org,
                {
                    "name": "API calls",
                    "code": "api_calls",
                    "aggregation_type": "sum_agg",
                    "field_name": "value",
                },
            )
            container.plans.create(
                org,
                {
                    "name": "Pro",
                    "code": "pro",
                    "interval": "monthly",
                    "amount_cents": 1000,
                    "amount_currency": "EUR",
                    "charges": [
                        {
                            "billable_metric_code": "api_calls",
                            "charge_model": "standard",
                            "properties": {"amount": "0.05"},
                        }
                    ],
                },
            )
        container.customers.upsert(
            org, {"external_id": h.customer, "name": f"{h.customer} Ltd", "currency": "EUR"}
        )
        container.subscriptions.create(
            org,
            {
                "external_customer_id": h.customer,
                "plan_code": "pro",
                "external_id": f"{h.customer}_sub",
            },
        )
    clock.set(at(2024, 1, 2))
    for h in people:
        created = container.wallets.create(
            h.organization_id,
            {
                "external_customer_id": h.customer,
                "currency": "EUR",
                "rate_amount": "1",
                "name": f"{wallet} {h.customer}",
                "granted_credits": "25",
            },
        )
        h.wallet_id = str(created.wallet.id)
    _calls(container, clock, people, at(2024, 1, 15, 9), 100)
    clock.set(at(2024, 2, 1, 1))
    container.billing.bill_due()
    clock.set(at(2024, 2, 5, 10))
    for h in people:
        (january,) = _invoices(container, h)
        fee = next(f for f in january.fees if f.fee_type == "charge")  # type: ignore[attr-defined]
        h.january_id = str(january.invoice.id)  # type: ignore[attr-defined]
        h.january_number = str(january.invoice.number)  # type: ignore[attr-defined]
        note = container.credit_notes.create(
            h.organization_id,
            {
                "invoice_id": h.january_id,
                "reason": "product_unsatisfactory",
                "items": [{"fee_id": str(fee.id), "amount_cents": 500}],
                "credit_amount_cents": 600,
            },
        )
        h.credit_note_id, h.credit_note_number = str(note.note.id), note.note.number
    clock.set(at(2024, 3, 1, 1))
    container.billing.bill_due()
    for h in people:
        february = _invoices(container, h)[0]  # newest first
        h.february_id = str(february.invoice.id)  # type: ignore[attr-defined]
        h.february_number = str(february.invoice.number)  # type: ignore[attr-defined]
    _calls(container, clock, people, at(2024, 3, 10, 9), 10)
    clock.set(at(2024, 3, 15, 12))


def _calls(
    container: Container, clock: FakeClock, people: list[History], when: datetime, value: int
) -> None:
    clock.set(when)
    for h in people:
        container.events.ingest_batch(
            h.organization_id,
            [
                {
                    "transaction_id": f"{h.customer}-{when.isoformat()}",
                    "external_subscription_id": f"{h.customer}_sub",
                    "code": "api_calls",
                    "timestamp": when.isoformat(),
                    "properties": {"value": value},
                }
            ],
        )
