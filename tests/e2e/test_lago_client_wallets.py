"""The official lago-python-client on wallets and wallet transactions against `releve serve`.

Rate 2 EUR per credit: 10 granted credits = 20.00 EUR = 2000 cents; 2.5 paid = 5.00 EUR = 500.
"""

from __future__ import annotations

import warnings

import pytest

from tests.e2e.conftest import Server

with warnings.catch_warnings():
    # The client imports pydantic.v1, which warns on import under pydantic 2; not our code.
    warnings.simplefilter("ignore")
    from lago_python_client.client import Client
    from lago_python_client.exceptions import LagoApiError
    from lago_python_client.models import Customer
    from lago_python_client.models.wallet import Wallet
    from lago_python_client.models.wallet_transaction import WalletTransaction

pytestmark = [pytest.mark.e2e, pytest.mark.store]


def test_wallets_and_transactions_through_the_client(server: Server) -> None:
    client = Client(api_key=server.api_key, api_url=server.url)
    client.customers.create(Customer(external_id="cus_w", name="Wally", currency="EUR"))
    created = client.wallets.create(
        Wallet(
            external_customer_id="cus_w",
            name="Credits",
            currency="EUR",
            rate_amount="2",
            granted_credits="10",
            priority=5,
        )
    )
    assert created is not None
    assert (created.balance_cents, created.credits_balance, created.status) == (
        2000,
        "10.0",
        "active",
    )
    assert created.ongoing_balance_cents == 2000 and created.priority == 5

    found = client.wallets.find(created.lago_id)
    assert found is not None and found.lago_id == created.lago_id
    listed = client.wallets.find_all({"external_customer_id": "cus_w"})
    assert [w.lago_id for w in listed["wallets"]] == [created.lago_id]
    assert listed["meta"]["total_count"] == 1

    updated = client.wallets.update(Wallet(name="Renamed"), created.lago_id)
    assert updated is not None and updated.name == "Renamed"

    result = client.wallet_transactions.create(
        WalletTransaction(wallet_id=created.lago_id, paid_credits="2.5", voided_credits="1")
    )
    rows = result["wallet_transactions"]
    assert [(t.transaction_status, t.amount) for t in rows] == [
        ("purchased", "5.00"),  # 2.5 × 2
        ("voided", "2.00"),  # 1 × 2
    ]
    assert rows[0].status == "settled"  # the wallet does not require a successful payment
    ledger = client.wallet_transactions.find_all(created.lago_id, {"transaction_type": "inbound"})
    assert len(ledger["wallet_transactions"]) == 2  # the grant and the purchase
    # 2000 + 500 − 200 = 2300 cents; 10 + 2.5 − 1 = 11.5 credits
    after = client.wallets.find(created.lago_id)
    assert after is not None and (after.balance_cents, after.credits_balance) == (2300, "11.5")

    terminated = client.wallets.destroy(created.lago_id)
    assert terminated is not None and terminated.status == "terminated"
    with pytest.raises(LagoApiError) as raised:
        client.wallets.find("00000000-0000-0000-0000-000000000000")
    assert raised.value.status_code == 404
