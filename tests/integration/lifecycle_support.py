"""Set-up and read-back helpers of the three-month lifecycle tests (test_lifecycle_*).

Everything goes through the public API (`api` client) or the container's services, and the
clock is the test's `FakeClock`: `bill` moves it, activates due pending subscriptions (as the
scheduler's tick does) and runs `bill_due` at that instant.

`summary` reduces an invoice's JSON to the fields a billing engineer checks, so that each test
compares it with a hand-computed dict (pytest shows a field-by-field diff on mismatch).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient

from releve.bootstrap import Container
from releve.services.billing import BillingRun
from tests.integration.billing_support import post
from tests.integration.support import FakeClock


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[arg-type, misc]


def local(zone: str, *parts: int) -> datetime:
    """A wall-clock time in `zone` (aware)."""
    return datetime(*parts, tzinfo=ZoneInfo(zone))  # type: ignore[arg-type, misc]


def z(moment: datetime) -> str:
    """The API's rendering of an instant: UTC with a `Z`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def metric(api: TestClient, code: str, field: str = "value") -> str:
    created = post(
        api,
        "billable_metrics",
        {
            "billable_metric": {
                "name": code.replace("_", " ").title(),
                "code": code,
                "aggregation_type": "sum_agg",
                "field_name": field,
            }
        },
    )
    return str(created["billable_metric"]["lago_id"])


def vat(api: TestClient, rate: str = "20") -> None:
    """A VAT applied to the whole organization (every fee of every invoice)."""
    post(
        api,
        "taxes",
        {"tax": {"code": "vat", "name": "VAT", "rate": rate, "applied_to_organization": True}},
    )


def plan(
    api: TestClient,
    code: str,
    amount_cents: int,
    *,
    interval: str = "monthly",
    pay_in_advance: bool = False,
    per_unit: dict[str, str] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A EUR plan; `per_unit` maps a metric id to a standard (per unit) price."""
    charges = [
        {"billable_metric_id": metric_id, "charge_model": "standard", "properties": {"amount": p}}
        for metric_id, p in (per_unit or {}).items()
    ]
    created: dict[str, Any] = post(
        api,
        "plans",
        {
            "plan": {
                "name": code.title(),
                "code": code,
                "interval": interval,
                "amount_cents": amount_cents,
                "amount_currency": "EUR",
                "pay_in_advance": pay_in_advance,
                "charges": charges,
                **extra,
            }
        },
    )["plan"]
    return created


def customer(api: TestClient, external_id: str = "cus_1", **fields: Any) -> None:
    post(
        api,
        "customers",
        {"customer": {"external_id": external_id, "name": "Acme", "currency": "EUR", **fields}},
    )


def subscribe(
    api: TestClient,
    clock: FakeClock,
    when: datetime,
    plan_code: str,
    *,
    external_id: str = "sub_1",
    customer_id: str = "cus_1",
    **fields: Any,
) -> dict[str, Any]:
    """Create (or change the plan of) `external_id` at `when` (the clock moves there)."""
    clock.set(when.astimezone(UTC))
    created: dict[str, Any] = post(
        api,
        "subscriptions",
        {
            "subscription": {
                "external_customer_id": customer_id,
                "plan_code": plan_code,
                "external_id": external_id,
                **fields,
            }
        },
    )["subscription"]
    return created


def event(
    api: TestClient,
    clock: FakeClock,
    when: datetime,
    code: str,
    value: int,
    *,
    external_id: str = "sub_1",
) -> None:
    """`value` units of `code` that happened (and were sent) at `when`."""
    clock.set(when.astimezone(UTC))
    post(
        api,
        "events",
        {
            "event": {
                "transaction_id": f"{external_id}-{code}-{when.isoformat()}",
                "external_subscription_id": external_id,
                "code": code,
                "timestamp": int(when.timestamp()),
                "properties": {"value": value},
            }
        },
    )


def bill(container: Container, clock: FakeClock, when: datetime) -> BillingRun:
    """One scheduler tick at `when`: activate due pending subscriptions, then bill."""
    clock.set(when.astimezone(UTC))
    container.subscriptions.activate_due()
    run = container.billing.bill_due()
    assert run.errors == [], run.errors
    return run


def invoices(api: TestClient) -> list[dict[str, Any]]:
    """Every visible invoice of the organization, oldest number first (drafts last)."""
    r = api.get("/api/v1/invoices", params={"per_page": 100})
    assert r.status_code == 200, r.text
    found: list[dict[str, Any]] = r.json()["invoices"]
    details = []
    for listed in found:
        got = api.get(f"/api/v1/invoices/{listed['lago_id']}")
        assert got.status_code == 200, got.text
        details.append(got.json()["invoice"])
    return sorted(details, key=lambda i: (i["sequential_id"] is None, i["sequential_id"] or 0))


def fee_summary(fee: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": fee["item"]["type"],
        "code": fee["item"]["code"],
        "units": fee["units"],
        "amount_cents": fee["amount_cents"],
        "taxes_amount_cents": fee["taxes_amount_cents"],
        "from": fee["from_date"],
        "to": fee["to_date"],
    }


def summary(invoice: dict[str, Any]) -> dict[str, Any]:
    """The fields checked on every invoice, with its fees (subscription fees first)."""
    periods = invoice["billing_periods"]
    return {
        "invoice_type": invoice["invoice_type"],
        "status": invoice["status"],
        "sequential_id": invoice["sequential_id"],
        "number_suffix": invoice["number"].rsplit("-", 1)[1],
        "issuing_date": invoice["issuing_date"],
        "payment_due_date": invoice["payment_due_date"],
        "subscription": invoice["subscriptions"][0]["external_id"],
        "plan_code": invoice["subscriptions"][0]["plan_code"],
        "invoicing_reason": periods[0]["invoicing_reason"],
        "fees_amount_cents": invoice["fees_amount_cents"],
        "coupons_amount_cents": invoice["coupons_amount_cents"],
        "taxes_amount_cents": invoice["taxes_amount_cents"],
        "credit_notes_amount_cents": invoice["credit_notes_amount_cents"],
        "prepaid_credit_amount_cents": invoice["prepaid_credit_amount_cents"],
        "total_amount_cents": invoice["total_amount_cents"],
        "payment_status": invoice["payment_status"],
        "fees": sorted(
            (fee_summary(f) for f in invoice["fees"]),
            key=lambda f: (f["type"] != "subscription", f["code"], f["from"]),
        ),
    }


def invoice(
    seq: int,
    *,
    issued: str,
    due: str | None = None,
    sub: str = "sub_1",
    plan_code: str,
    reason: str = "subscription_periodic",
    fees: list[dict[str, Any]],
    taxes: int = 0,
    credit_notes: int = 0,
    prepaid: int = 0,
    coupons: int = 0,
) -> dict[str, Any]:
    """The expected `summary` of a finalized subscription invoice. Totals are the sums of the
    fees given (each one hand-computed by the caller) and of `taxes`, minus the deductions."""
    fees_cents = sum(int(f["amount_cents"]) for f in fees)
    total = fees_cents - coupons + taxes - credit_notes - prepaid
    return {
        "invoice_type": "subscription",
        "status": "finalized",
        "sequential_id": seq,
        "number_suffix": f"{seq:06d}",
        "issuing_date": issued,
        "payment_due_date": due or issued,
        "subscription": sub,
        "plan_code": plan_code,
        "invoicing_reason": reason,
        "fees_amount_cents": fees_cents,
        "coupons_amount_cents": coupons,
        "taxes_amount_cents": taxes,
        "credit_notes_amount_cents": credit_notes,
        "prepaid_credit_amount_cents": prepaid,
        "total_amount_cents": total,
        "payment_status": "succeeded" if total == 0 else "pending",
        "fees": sorted(fees, key=lambda f: (f["type"] != "subscription", f["code"], f["from"])),
    }


def sub_fee(
    plan_code: str, cents: int, start: datetime, end: datetime, taxes: int = 0
) -> dict[str, Any]:
    return {
        "type": "subscription",
        "code": plan_code,
        "units": "1",
        "amount_cents": cents,
        "taxes_amount_cents": taxes,
        "from": z(start),
        "to": z(end),
    }


def charge_fee(
    code: str, units: int, cents: int, start: datetime, end: datetime, taxes: int = 0
) -> dict[str, Any]:
    return {
        "type": "charge",
        "code": code,
        "units": str(units),
        "amount_cents": cents,
        "taxes_amount_cents": taxes,
        "from": z(start),
        "to": z(end),
    }
