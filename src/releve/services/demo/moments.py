"""The business moments of the demo's three months: what an operator and its customers do
besides sending usage, each through the service its API call uses, at a believable time.

Before the story (`setup`): a 10 % coupon for two periods, a €20 goodwill coupon, and the
"Onboarding workshop" add-on.

During the story (`moments`, at local office hours, counted from each customer's start):

- Acme (the customer whose portal link is printed) gets the 10 % coupon on day 2 — its next
  two invoices show a coupon credit — and buys 300 prepaid credits (+ 50 granted) on day 10;
  the purchase invoice is paid on day 12, so the credits settle and pay its later invoices;
- Bistro Lyon gets the €20 coupon once (its next invoice only); Globex gets 100 granted
  "welcome credits" that pay part of its first invoice;
- Initech is billed the onboarding workshop on a one-off invoice on day 7;
- Maison Dupont disputes an estimated meter read: on day 45 a credit note (reason
  `product_unsatisfactory`) credits €25 of its latest invoice, and its next invoice consumes it;
- Kiwi Outfitters runs a second, in-advance line for a trade show and terminates it on day 45,
  mid-period: Relevé issues the termination credit note for the unused prepaid days, which the
  next Kiwi invoice consumes;
- Brooklyn Bakery has a usage alert ($200 and $300 a period) that fires every month; Auckland
  Dairy's subscription carries a recurring usage threshold (every NZ$800 of usage), so
  progressive-billing invoices arrive mid-period (`EVALUATED`: the seeder runs the evaluation
  after each ingest, as the server's evaluator thread would).

At the clock's now (`finale`): a webhook endpoint, the Acme budget, payments of the invoices
past their due date (but one, left overdue on purpose) and a dashboard user.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from releve.services.billing_queries import InvoiceView
from releve.services.demo.catalog import plan_code
from releve.services.demo.customers import CUSTOMERS, DemoCustomer
from releve.services.demo.ports import DemoServices
from releve.services.errors import ValidationFailed
from releve.services.pagination import PageRequest

PORTAL_CUSTOMER = CUSTOMERS[0].external_id  # "acme": the portal link `releve demo` prints
SIDE_LINE = "kiwi_outfitters_trade_show"  # the in-advance subscription terminated mid-period
LATE_PAYER = "bistro_lyon"  # its latest overdue invoice stays unpaid, so "overdue" shows
DEMO_USER = "demo@releve.example"
# A local address nothing listens on until you start a receiver there: deliveries then fail
# (connection refused) and the delivery log shows the attempts and the backoff. Any server
# answering 2xx on 127.0.0.1:8001 turns them green (then retry from the dashboard).
WEBHOOK_URL = "http://127.0.0.1:8001/webhooks"
WEBHOOK_TYPES = [
    "invoice.created",
    "credit_note.created",
    "customer.budget_alert",
    "alert.triggered",
    "subscription.usage_threshold_reached",
]
# Auckland Dairy's recurring usage threshold (progressive billing).
PROGRESSIVE_THRESHOLDS: dict[str, Any] = {
    "plan_overrides": {
        "usage_thresholds": [
            {
                "amount_cents": 80_000,
                "recurring": True,
                "threshold_display_name": "Every NZ$800 of usage",
            }
        ]
    }
}
# Subscription fields beyond the plan, by external id.
SUBSCRIPTION_EXTRAS: dict[str, dict[str, Any]] = {"auckland_dairy": PROGRESSIVE_THRESHOLDS}
# Subscriptions the seeder evaluates after each ingest (thresholds and alerts), as the server's
# evaluator thread would: Brooklyn's usage alert and Auckland's threshold.
EVALUATED = ("brooklyn_bakery", "auckland_dairy")

Act = Callable[[DemoServices, UUID], None]


@dataclass(frozen=True, slots=True)
class Moment:
    at: datetime
    label: str
    act: Act


@dataclass(slots=True)
class Finale:
    budget_cents: int | None = None
    user_email: str | None = None
    user_password: str | None = None
    paid_invoices: int = 0
    notes: list[str] = field(default_factory=list)


def setup(services: DemoServices, org: UUID) -> None:
    """The organization's coupons and add-on, created with the catalog."""
    services.coupons.create(
        org,
        {
            "name": "Launch offer: 10 % for two months",
            "code": "launch_10",
            "coupon_type": "percentage",
            "percentage_rate": "10",
            "frequency": "recurring",
            "frequency_duration": 2,
            "reusable": False,
            "expiration": "no_expiration",
        },
    )
    services.coupons.create(
        org,
        {
            "name": "Goodwill credit (number porting delay)",
            "code": "goodwill_20",
            "coupon_type": "fixed_amount",
            "amount_cents": 2000,
            "amount_currency": "EUR",
            "frequency": "once",
            "reusable": True,
            "expiration": "no_expiration",
        },
    )
    services.add_ons.create(
        org,
        {
            "name": "Onboarding workshop",
            "code": "onboarding_workshop",
            "description": "Two days on site: metering design, plan review, API integration.",
            "amount_cents": 45_000,
            "amount_currency": "EUR",
        },
    )


def _at(customer: DemoCustomer, start: datetime, days: int, hour: int, minute: int = 0) -> datetime:
    tz = ZoneInfo(customer.timezone)
    day = start.astimezone(tz).date() + timedelta(days=days)
    return datetime.combine(day, time(hour, minute), tzinfo=tz).astimezone(UTC)


def _invoices(services: DemoServices, org: UUID, customer: str | None = None) -> list[InvoiceView]:
    views: list[InvoiceView] = []
    number = 1
    while True:
        page = services.invoices.list(org, PageRequest(number, 1000), external_customer_id=customer)
        views += page.items
        if number >= page.total_pages:
            return views
        number += 1


def _latest_subscription_invoice(services: DemoServices, org: UUID, customer: str) -> InvoiceView:
    views = [
        v
        for v in _invoices(services, org, customer)
        if v.invoice.invoice_type == "subscription" and v.invoice.status == "finalized"
    ]
    return max(views, key=lambda v: (v.invoice.issuing_date, v.invoice.sequential_id or 0))


def moments(starts: dict[str, datetime]) -> list[Moment]:
    """Every moment of the story (module docstring), in no particular order."""
    by_id = {c.external_id: c for c in CUSTOMERS}
    state: dict[str, str] = {}

    def at(customer: str, days: int, hour: int, minute: int = 0) -> datetime:
        return _at(by_id[customer], starts[customer], days, hour, minute)

    def apply_coupon(customer: str, code: str) -> Act:
        def act(services: DemoServices, org: UUID) -> None:
            services.coupons.apply(org, {"external_customer_id": customer, "coupon_code": code})

        return act

    def buy_credits(services: DemoServices, org: UUID) -> None:
        wallet = services.wallets.create(
            org,
            {
                "external_customer_id": PORTAL_CUSTOMER,
                "name": "Prepaid credits",
                "currency": "EUR",
                "rate_amount": "1",
                "paid_credits": "300",
                "granted_credits": "50",
                "invoice_requires_successful_payment": True,
                "transaction_name": "Q3 prepayment (+50 free credits)",
            },
        )
        state["wallet"] = str(wallet.wallet.id)

    def pay_credits(services: DemoServices, org: UUID) -> None:
        page = services.wallets.transactions(org, state["wallet"], PageRequest(1, 100))
        for view in page.items:
            if view.transaction.invoice_id is not None:
                services.invoices.update(
                    org, str(view.transaction.invoice_id), {"payment_status": "succeeded"}
                )

    def welcome_credits(services: DemoServices, org: UUID) -> None:
        services.wallets.create(
            org,
            {
                "external_customer_id": "globex",
                "name": "Welcome credits",
                "currency": "USD",
                "rate_amount": "1",
                "granted_credits": "100",
                "transaction_name": "Welcome credits",
            },
        )

    def workshop(services: DemoServices, org: UUID) -> None:
        services.add_ons.create_one_off_invoice(
            org,
            {
                "external_customer_id": "initech",
                "currency": "EUR",
                "fees": [
                    {
                        "add_on_code": "onboarding_workshop",
                        "units": "1",
                        "description": "On site in Berlin, two days.",
                    }
                ],
            },
        )

    def meter_dispute(services: DemoServices, org: UUID) -> None:
        view = _latest_subscription_invoice(services, org, "maison_dupont")
        fee = max(
            (f for f in view.fees if f.fee_type == "charge"),
            key=lambda f: (f.amount_cents, str(f.id)),
        )
        values: dict[str, Any] = {
            "invoice_id": str(view.invoice.id),
            "reason": "product_unsatisfactory",
            "description": "Estimated meter read during a smart-meter outage; corrected.",
            "items": [{"fee_id": str(fee.id), "amount_cents": min(2500, fee.amount_cents)}],
        }
        total = services.credit_notes.estimate(org, values).amounts.total_amount_cents
        services.credit_notes.create(
            org, {**values, "credit_amount_cents": total, "refund_amount_cents": 0}
        )

    def side_line(services: DemoServices, org: UUID) -> None:
        kiwi = by_id["kiwi_outfitters"]
        services.subscriptions.create(
            org,
            {
                "external_customer_id": kiwi.external_id,
                "external_id": SIDE_LINE,
                "plan_code": plan_code(kiwi.plan, kiwi.currency),
                "name": "Trade show lines (temporary)",
                "billing_time": "anniversary",
            },
        )

    def end_side_line(services: DemoServices, org: UUID) -> None:
        services.subscriptions.terminate(org, SIDE_LINE)

    def usage_alert(services: DemoServices, org: UUID) -> None:
        services.alerts.create(
            org,
            "brooklyn_bakery",
            {
                "alert_type": "current_usage_amount",
                "code": "monthly_usage",
                "name": "Usage this month above $200, then $300",
                "thresholds": [
                    {"code": "warning", "value": "20000"},
                    {"code": "critical", "value": "30000"},
                ],
            },
        )

    return [
        Moment(at("acme", 2, 10), "coupon for Acme", apply_coupon("acme", "launch_10")),
        Moment(at("bistro_lyon", 3, 11), "goodwill", apply_coupon("bistro_lyon", "goodwill_20")),
        Moment(at("globex", 3, 9), "welcome credits", welcome_credits),
        Moment(at("initech", 7, 15), "onboarding workshop", workshop),
        Moment(at("acme", 10, 14), "prepaid credits", buy_credits),
        Moment(at("acme", 12, 9, 30), "credits paid", pay_credits),
        Moment(at("kiwi_outfitters", 0, 9), "trade show lines", side_line),
        Moment(at("kiwi_outfitters", 45, 16), "trade show ends", end_side_line),
        Moment(at("maison_dupont", 45, 10), "meter dispute", meter_dispute),
        Moment(at("brooklyn_bakery", 1, 8), "usage alert", usage_alert),
    ]  # fmt: skip


def _nice_budget(spend_cents: int) -> int:
    """A round budget (two significant digits, rounded up) that `spend_cents` is 80–90 % of."""
    target = -(-spend_cents * 10 // 9)
    step: int = 10 ** max(len(str(target)) - 2, 0)
    return -(-target // step) * step


def finale(services: DemoServices, org: UUID) -> Finale:
    """The state at the clock's now (module docstring)."""
    done = Finale()
    services.webhooks.create_endpoint(
        org,
        {"webhook_url": WEBHOOK_URL, "name": "Local receiver (demo)", "event_types": WEBHOOK_TYPES},
    )
    spend = services.usage.current_usage(org, PORTAL_CUSTOMER, PORTAL_CUSTOMER).total_amount_cents
    if spend > 0:
        done.budget_cents = _nice_budget(spend)
        services.budgets.set(org, PORTAL_CUSTOMER, done.budget_cents)
    overdue = [v for v in _invoices(services, org) if v.payment_overdue]
    late = [v for v in overdue if v.customer.external_id == LATE_PAYER]
    kept = max(late, key=lambda v: v.invoice.issuing_date).invoice.id if late else None
    for view in sorted(overdue, key=lambda v: (v.invoice.issuing_date, str(v.invoice.id))):
        if view.invoice.id != kept:
            services.invoices.update(org, str(view.invoice.id), {"payment_status": "succeeded"})
            done.paid_invoices += 1
    password = secrets.token_urlsafe(12)  # a credential: random, shown once like the API key
    try:
        services.user_accounts.create(org, DEMO_USER, password)
        done.user_email, done.user_password = DEMO_USER, password
    except ValidationFailed:  # the address exists (a second demo in this database)
        done.notes.append(f"{DEMO_USER} already exists; no dashboard user created")
    return done
