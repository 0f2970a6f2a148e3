"""SEP-6 and SEP-12 together: a deposit waiting for KYC moves on when the customer is
ACCEPTED through SEP-12, and the wallet then sees the instructions."""

from __future__ import annotations

from stellar_sdk import Keypair

from killick.integrations import DepositIntegration, register_integrations
from tests.helpers import bearer
from tests.sep6_support import add_asset
from tests.sep12_support import MemoryCustomers


class KycGatedDeposit(DepositIntegration):
    """The SEP-6 guide's shape: ask for fields until the customer store accepts them."""

    def __init__(self, customers: MemoryCustomers) -> None:
        self.customers = customers

    def process_sep6_request(self, token, request, params, transaction, *args, **kwargs):
        known = [
            c
            for c in self.customers.customers.values()
            if c["account"] == token.account and c["memo"] == token.memo
        ]
        fields = known[0]["fields"] if known else {}
        missing = [f for f in ("first_name", "last_name", "email_address") if f not in fields]
        if missing:
            return {"type": "non_interactive_customer_info_needed", "fields": missing}
        return {"how": "Wire the funds with memo 42", "extra_info": {"memo": "42"}}


async def test_accepting_the_customer_releases_the_deposit(client, sessions, cipher) -> None:
    customers = MemoryCustomers()
    register_integrations(customer=customers, deposit=KycGatedDeposit(customers))
    await add_asset(sessions, cipher, code="USD")
    account = Keypair.random().public_key
    auth = bearer(account)

    started = await client.get(
        "/sep6/deposit",
        params={"asset_code": "USD", "account": account, "amount": "100"},
        headers=auth,
    )
    assert started.status_code == 200, started.text
    transaction_id = started.json()["id"]
    body = (
        await client.get("/sep6/transaction", params={"id": transaction_id}, headers=auth)
    ).json()
    assert body["transaction"]["status"] == "pending_customer_info_update"
    assert "instructions" not in body["transaction"]

    needed = await client.get(
        "/kyc/customer", params={"transaction_id": transaction_id, "type": "sep6"}, headers=auth
    )
    assert needed.json()["status"] == "NEEDS_INFO"
    put = await client.put(
        "/kyc/customer",
        json={
            "first_name": "Ada",
            "last_name": "Lovelace",
            "email_address": "ada@example.com",
            "type": "sep6",
            "transaction_id": transaction_id,
        },
        headers=auth,
    )
    assert put.status_code in (200, 202), put.text
    accepted = await client.get("/kyc/customer", params={"type": "sep6"}, headers=auth)
    assert accepted.json()["status"] == "ACCEPTED"

    body = (
        await client.get("/sep6/transaction", params={"id": transaction_id}, headers=auth)
    ).json()
    assert body["transaction"]["status"] == "pending_user_transfer_start"

    # Another wallet's acceptance does not touch this transaction's owner's others.
    other = bearer(Keypair.random().public_key)
    assert (
        await client.get("/sep6/transaction", params={"id": transaction_id}, headers=other)
    ).status_code == 404
