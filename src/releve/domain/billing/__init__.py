"""Invoice assembly: charges → fees, the subscription fee, a period's invoice, plan changes.

- `charge_fees`: one charge's usage buckets → priced fees (+ the spending-minimum true-up);
- `subscription_fee`: the plan's fee for a period, prorated by days and trials;
- `period_invoice`: every fee of one invoice → `FeeLine`s and `InvoiceTotals`;
- `plan_change`: what an upgrade, a downgrade or a termination must bill or credit.

Everything here is pure (standard library and `releve.domain` only) and reuses pricing,
proration, periods, coupons, taxes and invoicing rather than re-implementing them.
"""
