"""The one composition root: settings → engine → unit of work → services.

Entrypoints (API, CLI, web) ask for a `Container` and call its services; nothing else builds
adapters. Tests build one on their own database and clock.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine

from releve.adapters.clock import SystemClock
from releve.adapters.currency_catalog import currency
from releve.adapters.pdf.renderer import WeasyPrintRenderer
from releve.adapters.pdf.store import FileDocumentStore, MemoryDocumentStore
from releve.adapters.sql.engine import create_engine
from releve.adapters.sql.migrate import upgrade
from releve.adapters.sql.queries.analytics import SqlAnalyticsReadModel
from releve.adapters.sql.repositories.organizations import SqlApiKeyLookup
from releve.adapters.sql.uow import SqlUnitOfWorkFactory
from releve.adapters.webhook_sender import HttpWebhookSender
from releve.services.add_ons import AddOnService
from releve.services.alerts import AlertService
from releve.services.analytics import AnalyticsService
from releve.services.billable_metrics import BillableMetricService
from releve.services.billing import BillingService
from releve.services.billing_queries import InvoiceQueries
from releve.services.budgets import BudgetService
from releve.services.coupons import CouponService
from releve.services.credit_notes import CreditNoteService
from releve.services.customer_money import CustomerMoneyView
from releve.services.customers import CustomerService
from releve.services.dashboard_auth import DashboardAuthService
from releve.services.demo import DemoService
from releve.services.events import EventService
from releve.services.footprint import FootprintService
from releve.services.invoice_documents import InvoiceDocumentService
from releve.services.organizations import AuthenticationService, OrganizationService
from releve.services.plan_comparison import PlanComparisonService
from releve.services.plans import PlanService
from releve.services.portal import PortalService
from releve.services.ports import Clock
from releve.services.progressive_billing import ProgressiveBillingService
from releve.services.subscriptions import SubscriptionService
from releve.services.taxes import TaxService
from releve.services.usage import CurrentUsageService
from releve.services.usage_evaluator import UsageEvaluator
from releve.services.usage_recording import AggregateRebuilder, UsageRecorder
from releve.services.usage_states import set_cache_budget
from releve.services.user_accounts import UserAccountService
from releve.services.wallets import WalletService
from releve.services.webhooks import WebhookService
from releve.settings import Settings


@dataclass(frozen=True)
class Container:
    settings: Settings
    engine: Engine
    clock: Clock
    organizations: OrganizationService
    authentication: AuthenticationService
    customers: CustomerService
    taxes: TaxService
    billable_metrics: BillableMetricService
    events: EventService
    portal: PortalService
    plans: PlanService
    subscriptions: SubscriptionService
    usage: CurrentUsageService
    usage_recorder: UsageRecorder
    billing: BillingService
    invoices: InvoiceQueries
    aggregates: AggregateRebuilder
    webhooks: WebhookService
    coupons: CouponService
    add_ons: AddOnService
    wallets: WalletService
    credit_notes: CreditNoteService
    budgets: BudgetService
    invoice_documents: InvoiceDocumentService
    progressive_billing: ProgressiveBillingService
    alerts: AlertService
    usage_evaluator: UsageEvaluator

    @property
    def demo(self) -> DemoService:
        """The demo seeder: it replays three months on services whose clock it steers."""
        return DemoService(
            self.clock,
            lambda clock: bootstrap(self.settings, engine=self.engine, clock=clock),
            currency,
        )

    @property
    def analytics(self) -> AnalyticsService:
        """Read models of the dashboard and portal (stateless; cheap to build per request)."""
        return AnalyticsService(SqlAnalyticsReadModel(self.engine), self.clock)

    @property
    def plan_comparison(self) -> PlanComparisonService:
        """The portal's "on plan X you would have paid" (stateless; cheap per request)."""
        return PlanComparisonService(SqlUnitOfWorkFactory(self.engine), self.clock)

    @property
    def footprint(self) -> FootprintService:
        return FootprintService(SqlUnitOfWorkFactory(self.engine), self.clock)

    @property
    def customer_money(self) -> CustomerMoneyView:
        """Wallets, credit notes and invoice credits as the portal and dashboard show them."""
        return CustomerMoneyView(SqlUnitOfWorkFactory(self.engine), self.clock)

    @property
    def dashboard_auth(self) -> DashboardAuthService:
        return DashboardAuthService(SqlUnitOfWorkFactory(self.engine), self.clock)

    @property
    def user_accounts(self) -> UserAccountService:
        return UserAccountService(SqlUnitOfWorkFactory(self.engine), self.clock)

    def migrate(self) -> None:
        upgrade(self.engine)

    def apply_startup_settings(self) -> None:
        """RELEVE_API_KEY: the default organization exists and accepts that key."""
        if self.settings.api_key:
            self.organizations.ensure_default(self.settings.api_key)


def bootstrap(
    settings: Settings | None = None,
    *,
    engine: Engine | None = None,
    clock: Clock | None = None,
) -> Container:
    settings = settings or Settings.from_env()
    set_cache_budget(settings.usage_cache_mb)  # process-wide, like the caches themselves
    engine = engine or create_engine(settings.database_url)
    clock = clock or SystemClock()
    uow = SqlUnitOfWorkFactory(engine)
    recorder = UsageRecorder(clock.now)
    billing = BillingService(uow, clock)
    budgets = BudgetService(uow, clock)
    progressive = ProgressiveBillingService(uow, clock)
    alerts = AlertService(uow, clock)
    evaluator = UsageEvaluator(uow, progressive, alerts, budgets.check, budgets.check_all)
    return Container(
        settings=settings,
        engine=engine,
        clock=clock,
        organizations=OrganizationService(uow, clock, currency),
        authentication=AuthenticationService(uow, SqlApiKeyLookup(engine)),
        customers=CustomerService(uow, clock, currency),
        taxes=TaxService(uow, clock),
        billable_metrics=BillableMetricService(uow, clock),
        events=EventService(uow, clock, recorder=recorder, on_ingested=evaluator.notify),
        portal=PortalService(uow, clock),
        plans=PlanService(uow, clock, currency, recorder),
        subscriptions=SubscriptionService(
            uow,
            clock,
            currency,
            recorder,
            on_started=billing.on_subscription_started,
            on_terminated=billing.on_subscription_terminated,
        ),
        usage=CurrentUsageService(uow, clock),
        usage_recorder=recorder,
        billing=billing,
        invoices=InvoiceQueries(uow, clock),
        aggregates=AggregateRebuilder(uow, recorder),
        webhooks=WebhookService(uow, clock, HttpWebhookSender()),
        coupons=CouponService(uow, clock, currency),
        add_ons=AddOnService(uow, clock, currency),
        wallets=WalletService(uow, clock, currency),
        credit_notes=CreditNoteService(uow, clock),
        budgets=budgets,
        invoice_documents=InvoiceDocumentService(
            InvoiceQueries(uow, clock),
            uow,
            clock,
            WeasyPrintRenderer(),
            FileDocumentStore(settings.invoice_files_dir)
            if settings.invoice_files_dir
            else MemoryDocumentStore(),
            settings.public_url,
        ),
        progressive_billing=progressive,
        alerts=alerts,
        usage_evaluator=evaluator,
    )
