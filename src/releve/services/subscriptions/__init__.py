"""Subscriptions (Lago's /subscriptions): create, upgrade, downgrade, update, terminate, activate.

Lifecycle (lago-api.md §4.1):
- `POST` with a new external id creates the subscription (and the customer if missing). A start
  (`subscription_at`) in the past or now makes it `active` from that start (events already stored
  in its window are matched and counted in the same transaction); a future start makes it
  `pending` until `activate_due` runs at or after that time.
- `POST` with the external id of an active subscription on another plan changes plan: an
  **upgrade** (new yearly amount ≥ old, Lago's rule) applies now — the old one is terminated,
  the new one is active from now and keeps the billing anchor (`subscription_at`); a
  **downgrade** creates a `pending` subscription starting at the end of the current period,
  shown as `next_plan_code` / `downgrade_plan_date`; a second downgrade cancels the first.
- `DELETE` terminates (`terminate`); with `status=pending` it cancels the pending one.
- `plan_overrides` create a child plan (domain `apply_overrides`) used by this subscription only.

Final invoices on termination are another use case's job: `terminate` returns the terminated
subscription and is the one place they hook in. No invoice is produced here.
"""

from releve.services.subscriptions.service import SubscriptionService
from releve.services.subscriptions.views import (
    SubscriptionView,
    customer_timezone,
    domain_subscription,
)

__all__ = ["SubscriptionService", "SubscriptionView", "customer_timezone", "domain_subscription"]
