"""Prepaid credits (wallets): the last deduction before the invoice total.

Lago (lago-api.md §4.3 step 6): wallets pay post-tax, after credit notes, only when the
invoice is finalized; in `priority` order (1 first) then creation order; each limited by its
`applies_to` fee types / billable metrics and by currency.

Eligible amount, precisely: the caller passes each fee's amount still due (minor units) —
its base after progressive credits and coupons, plus its taxes, minus its share of the credit
notes. A wallet may pay at most the sum of what is still due on the fees it applies to; what
it pays is allocated over those fees in proportion to their due amounts (largest remainder)
and deducted from them, so a later wallet never pays the same cent twice and every fee's
breakdown adds up exactly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from releve.domain.errors import DomainError
from releve.domain.fee_lines import FeeLine, FeeType
from releve.domain.money import Currency, allocate


class InvalidWallet(DomainError):
    code = "invalid_wallet"


@dataclass(frozen=True, slots=True)
class Wallet:
    """A customer's prepaid credits, valued in `currency` minor units.

    The balance is split into `granted_balance_cents` (free credits) and
    `purchased_balance_cents` (paid top-ups). `rate_amount` is the currency value of one credit;
    balances here are already in currency, so it is kept for display. `fee_types` and
    `billable_metric_codes` limit the wallet: a fee is eligible when its type OR its metric is
    listed (a `charge` scope also covers late-event `adjustment` fees, which are usage).
    """

    id: str
    currency: Currency
    created_at: datetime
    granted_balance_cents: int = 0
    purchased_balance_cents: int = 0
    priority: int = 50
    rate_amount: Decimal = Decimal(1)
    fee_types: frozenset[FeeType] = frozenset()
    billable_metric_codes: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if not 1 <= self.priority <= 50:
            raise InvalidWallet("wallet priority is between 1 and 50", field="priority")
        if self.granted_balance_cents < 0 or self.purchased_balance_cents < 0:
            raise InvalidWallet("a wallet balance cannot be negative", field="balance_cents")
        if not isinstance(self.rate_amount, Decimal) or self.rate_amount <= 0:
            raise InvalidWallet("rate_amount must be a positive Decimal", field="rate_amount")
        if self.created_at.tzinfo is None or self.created_at.utcoffset() is None:
            raise ValueError("Wallet.created_at must be timezone-aware")

    @property
    def balance_cents(self) -> int:
        return self.granted_balance_cents + self.purchased_balance_cents

    def applies_to(self, fee: FeeLine) -> bool:
        """Whether the wallet may pay this fee. Credit purchases are never paid with credits."""
        if fee.fee_type is FeeType.CREDIT:
            return False
        if not self.fee_types and not self.billable_metric_codes:
            return True
        if fee.fee_type in self.fee_types or (
            fee.fee_type.is_usage and FeeType.CHARGE in self.fee_types
        ):
            return True
        return (
            fee.billable_metric_code is not None
            and fee.billable_metric_code in self.billable_metric_codes
        )


@dataclass(frozen=True, slots=True)
class WalletConsumption:
    """What one wallet paid (minor units): granted credits first, then purchased ones."""

    wallet_id: str
    amount_cents: int
    granted_amount_cents: int
    purchased_amount_cents: int
    fee_shares: Mapping[str, int]


@dataclass(frozen=True, slots=True)
class WalletsResult:
    """Consumptions, every input wallet after this invoice (application order), per-fee total."""

    consumptions: tuple[WalletConsumption, ...]
    updated: tuple[Wallet, ...]
    fee_payments: Mapping[str, int]

    @property
    def amount_cents(self) -> int:
        return sum(c.amount_cents for c in self.consumptions)

    @property
    def granted_amount_cents(self) -> int:
        return sum(c.granted_amount_cents for c in self.consumptions)

    @property
    def purchased_amount_cents(self) -> int:
        return sum(c.purchased_amount_cents for c in self.consumptions)


def application_order(wallets: Sequence[Wallet]) -> list[Wallet]:
    """Priority 1 first, then the oldest wallet (then id, for a deterministic order)."""
    return sorted(wallets, key=lambda w: (w.priority, w.created_at, w.id))


def consume_wallets(
    fees: Sequence[FeeLine],
    dues: Mapping[str, int],
    wallets: Sequence[Wallet],
    currency: Currency,
) -> WalletsResult:
    """Pay what is due on each fee (`dues`, fee id → minor units) from the wallets.

    Granted credits are spent before purchased ones: promotional credits usually expire and
    purchased credits are the ones a customer may want back, so this order is the one that
    favours the customer. Wallets in another currency are skipped.
    """
    remaining = {fee.id: dues[fee.id] for fee in fees}
    paid = dict.fromkeys(remaining, 0)
    consumptions: list[WalletConsumption] = []
    updated: list[Wallet] = []
    for wallet in application_order(wallets):
        eligible = [f.id for f in fees if wallet.applies_to(f) and remaining[f.id] > 0]
        due = sum(remaining[i] for i in eligible)
        amount = min(due, wallet.balance_cents) if wallet.currency == currency else 0
        if amount == 0:
            updated.append(wallet)
            continue
        # amount ≤ Σ integer weights, so no fee receives more than it still owes.
        shares = allocate(amount, [remaining[i] for i in eligible])
        for fee_id, share in zip(eligible, shares, strict=True):
            remaining[fee_id] -= share
            paid[fee_id] += share
        granted = min(amount, wallet.granted_balance_cents)
        purchased = amount - granted
        consumptions.append(
            WalletConsumption(
                wallet_id=wallet.id,
                amount_cents=amount,
                granted_amount_cents=granted,
                purchased_amount_cents=purchased,
                fee_shares={i: s for i, s in zip(eligible, shares, strict=True) if s},
            )
        )
        updated.append(
            replace(
                wallet,
                granted_balance_cents=wallet.granted_balance_cents - granted,
                purchased_balance_cents=wallet.purchased_balance_cents - purchased,
            )
        )
    return WalletsResult(tuple(consumptions), tuple(updated), paid)
