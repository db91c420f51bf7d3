"""What the demo seeder needs from the composition root: the same services as the API (a
`bootstrap.Container` has them all), and a clock it can steer.

The seeder never writes SQL: every object of the demo is made by the service an API call would
use, so the demo shows exactly what production code produces.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from releve.services.add_ons import AddOnService
from releve.services.alerts import AlertService
from releve.services.billable_metrics import BillableMetricService
from releve.services.billing import BillingService
from releve.services.billing_queries import InvoiceQueries
from releve.services.budgets import BudgetService
from releve.services.coupons import CouponService
from releve.services.credit_notes import CreditNoteService
from releve.services.customers import CustomerService
from releve.services.events import EventService
from releve.services.organizations import OrganizationService
from releve.services.plans import PlanService
from releve.services.progressive_billing import ProgressiveBillingService
from releve.services.subscriptions import SubscriptionService
from releve.services.usage import CurrentUsageService
from releve.services.user_accounts import UserAccountService
from releve.services.wallets import WalletService
from releve.services.webhooks import WebhookService


class DemoServices(Protocol):
    """The services the seeder uses (a `bootstrap.Container` has them all)."""

    @property
    def organizations(self) -> OrganizationService: ...
    @property
    def billable_metrics(self) -> BillableMetricService: ...
    @property
    def customers(self) -> CustomerService: ...
    @property
    def plans(self) -> PlanService: ...
    @property
    def subscriptions(self) -> SubscriptionService: ...
    @property
    def events(self) -> EventService: ...
    @property
    def billing(self) -> BillingService: ...
    @property
    def invoices(self) -> InvoiceQueries: ...
    @property
    def usage(self) -> CurrentUsageService: ...
    @property
    def coupons(self) -> CouponService: ...
    @property
    def add_ons(self) -> AddOnService: ...
    @property
    def wallets(self) -> WalletService: ...
    @property
    def credit_notes(self) -> CreditNoteService: ...
    @property
    def budgets(self) -> BudgetService: ...
    @property
    def webhooks(self) -> WebhookService: ...
    @property
    def progressive_billing(self) -> ProgressiveBillingService: ...
    @property
    def alerts(self) -> AlertService: ...
    @property
    def user_accounts(self) -> UserAccountService: ...


class ReplayClock:
    """A clock the seeder sets: the past it replays, never beyond the real clock's now."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at
