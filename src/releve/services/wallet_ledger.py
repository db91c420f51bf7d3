"""The arithmetic of a wallet's ledger: credits ↔ money, and what an outbound row takes.

Money is the source of truth: every ledger row carries integer minor units, and the balance in
money is their sum. Credits ride along as exact decimals (Lago shows them with 5 decimals):
- inbound credits are worth `credits × rate_amount`, rounded half-up once to the minor unit;
- an outbound amount in money is `amount / rate_amount` credits, half-up to 5 decimals, never
  more than the wallet holds; taking the whole money balance takes every credit left (and
  voiding every credit takes the whole money balance), so an emptied wallet reads 0 in both.
- granted (free) credits leave first, as the domain consumes them (`domain.wallets`).
Pure functions: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from releve.domain.money import Currency, minor_to_major, to_minor_units
from releve.services.wallet_records import LedgerBalance

CREDIT_QUANTUM = Decimal("0.00001")


@dataclass(frozen=True, slots=True)
class Movement:
    """What one ledger row moves: money (minor units), its granted part, and credits."""

    amount_cents: int
    granted_amount_cents: int
    credit_amount: Decimal


def credits_value_cents(credits: Decimal, rate: Decimal, currency: Currency) -> int:
    """10 credits at 1.5 EUR → 15.00 EUR → 1500 cents (half-up once)."""
    return to_minor_units(credits * rate, currency)


def credits_for_cents(cents: int, rate: Decimal, currency: Currency) -> Decimal:
    """1500 EUR cents at 1.5 EUR per credit → Decimal('10.00000')."""
    return (minor_to_major(cents, currency) / rate).quantize(CREDIT_QUANTUM, ROUND_HALF_UP)


def inbound(credits: Decimal, rate: Decimal, currency: Currency, *, granted: bool) -> Movement:
    cents = credits_value_cents(credits, rate, currency)
    return Movement(cents, cents if granted else 0, credits)


def outbound_cents(
    balance: LedgerBalance, amount_cents: int, rate: Decimal, currency: Currency
) -> Movement:
    """Take `amount_cents` (≤ the money balance) out of the wallet."""
    if not 0 <= amount_cents <= balance.balance_cents:
        raise ValueError("an outbound amount is between 0 and the balance")
    if amount_cents == balance.balance_cents:
        credits = max(balance.credits, Decimal(0))
    else:
        credits = min(credits_for_cents(amount_cents, rate, currency), balance.credits)
    granted = min(amount_cents, balance.granted_balance_cents)
    return Movement(amount_cents, granted, credits)


def outbound_credits(
    balance: LedgerBalance, credits: Decimal, rate: Decimal, currency: Currency
) -> Movement:
    """Void `credits` (≤ the credits balance) out of the wallet."""
    if not 0 <= credits <= balance.credits:
        raise ValueError("voided credits are between 0 and the credits balance")
    if credits == balance.credits:
        cents = balance.balance_cents
    else:
        cents = min(credits_value_cents(credits, rate, currency), balance.balance_cents)
    return Movement(cents, min(cents, balance.granted_balance_cents), credits)


def ongoing_usage_shares(balances: list[tuple[str, int]], usage_cents: int) -> dict[str, int]:
    """Split what the customer owes so far (`usage_cents`) over its wallets, in application
    order (`balances`: wallet id, balance): each wallet's share is what it would pay if the
    invoice were finalized now, so no wallet is counted for usage another one already covers
    and a share never exceeds its balance (the rest is the customer's to pay)."""
    left = max(usage_cents, 0)
    shares = {}
    for wallet_id, balance in balances:
        share = min(left, max(balance, 0))
        shares[wallet_id] = share
        left -= share
    return shares
