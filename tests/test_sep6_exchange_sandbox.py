"""Exchanges on the sandbox network: a BRL deposit paid in the Stellar asset at the
quote's ``amount_out``; a withdrawal whose payment keeps the quote's terms."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal

import httpx

from killick.app import create_app
from killick.assets import update_asset
from killick.integrations import RailsIntegration, register_integrations
from killick.integrations.fixed_rate import FixedRateQuotes
from killick.models import Asset, Transaction
from killick.offchain_assets import add_pair, create_offchain_asset
from killick.transactions import transition
from killick.workers.outgoing import Outgoing
from killick.workers.settlement import Settlement
from tests.sep6_support import SUCCESS, StubDeposit, StubWithdraw, Wallet
from tests.sep38_support import ACTIVE, BRL, PIX
from tests.stellar_support import (
    StellarEnv,
    balance,
    fund_with_asset,
    new_wallet,
    pay,
    status_of,
    stellar_env,
)
from tests.test_observer import observe
from tests.test_settlement import drain


@asynccontextmanager
async def exchange_env(database_url, engine) -> AsyncIterator[tuple[StellarEnv, httpx.AsyncClient]]:
    """The sandbox with USDK (7 decimals) traded against BRL at 5 BRL per USDK, and the
    app on it."""
    async with stellar_env(database_url, engine, ACTIVE_SEPS=ACTIVE) as env:
        usdk_id = f"stellar:{env.asset.code}:{env.asset.issuer}"
        async with env.context.sessions() as session:
            asset = await session.get(Asset, env.asset.id)
            await update_asset(session, env.context.cipher, asset, sep38_enabled=True)
            await create_offchain_asset(
                session, BRL, sell_delivery_methods=[PIX], buy_delivery_methods=[PIX]
            )
            await add_pair(session, BRL, usdk_id)
            await add_pair(session, usdk_id, BRL)
            await session.commit()
        register_integrations(
            deposit=StubDeposit(SUCCESS),
            withdraw=StubWithdraw({}),
            quote=FixedRateQuotes(
                {(BRL, usdk_id): "5", (usdk_id, BRL): "0.2"}, fee_fixed={BRL: "2"}
            ),
        )
        app = create_app(env.context.settings, engine=engine)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield env, client


async def quote(wallet: Wallet, **body) -> dict:
    response = await wallet.client.post(
        "/sep38/quote", json={"context": "sep6", **body}, headers=wallet.headers
    )
    assert response.status_code == 201, response.text
    return response.json()


async def test_an_exchange_deposit_is_paid_the_quotes_amount_out(database_url, engine) -> None:
    async with exchange_env(database_url, engine) as (env, client):
        keypair = await new_wallet(env)
        wallet = Wallet(client, keypair.public_key)
        usdk_id = f"stellar:{env.asset.code}:{env.asset.issuer}"
        terms = await quote(wallet, sell_asset=BRL, buy_asset=usdk_id, sell_amount="502")
        assert terms["buy_amount"] == "100.0000000"
        response = await wallet.get(
            "/deposit-exchange",
            destination_asset=env.asset.code,
            source_asset=BRL,
            amount="502",
            funding_method="PIX",
            quote_id=terms["id"],
        )
        assert response.status_code == 200, response.text
        deposit_id = response.json()["id"]
        async with env.context.sessions() as session:  # the bank saw the BRL (rails' job)
            deposit = await session.get(Transaction, deposit_id)
            transition(session, deposit, "pending_anchor", reason="BRL received")
            await session.commit()
        await drain(Settlement(env.context, "worker-a"))
        deposit = await status_of(env, deposit_id)
        assert deposit.status == "completed"
        assert await balance(env, keypair.public_key) == Decimal("100")
        found = (await wallet.get("/transaction", id=deposit_id)).json()["transaction"]
        assert found["kind"] == "deposit-exchange" and found["status"] == "completed"
        assert found["amount_in_asset"] == BRL
        assert Decimal(found["amount_in"]) == Decimal("502")  # printed with USDK's 7 places
        assert found["amount_out"] == "100.0000000" and found["quote_id"] == terms["id"]


async def test_an_exchange_withdrawal_keeps_the_quotes_terms(database_url, engine) -> None:
    async with exchange_env(database_url, engine) as (env, client):
        keypair = await new_wallet(env)
        await fund_with_asset(env, keypair, "100")
        wallet = Wallet(client, keypair.public_key)
        usdk_id = f"stellar:{env.asset.code}:{env.asset.issuer}"
        terms = await quote(wallet, sell_asset=usdk_id, buy_asset=BRL, sell_amount="20")
        response = await wallet.get(
            "/withdraw-exchange",
            source_asset=env.asset.code,
            destination_asset=BRL,
            amount="20",
            funding_method="PIX",
            quote_id=terms["id"],
        )
        assert response.status_code == 200, response.text
        body = response.json()
        await pay(env, keypair, body["account_id"], "20", memo_id=int(body["memo"]))
        await observe(env)
        withdrawal = await status_of(env, body["id"])
        assert withdrawal.status == "pending_anchor"
        assert withdrawal.amount_in == Decimal("20")
        assert withdrawal.amount_out == Decimal(terms["buy_amount"])  # BRL, not USDK - fee
        assert withdrawal.amount_out_asset == BRL
        assert withdrawal.fee_details == terms["fee"]

        # The bank pays out the quoted reais, and the withdrawal completes.
        class Bank(RailsIntegration):
            def __init__(self) -> None:
                self.paid: dict[str, Decimal] = {}

            def execute_outgoing_transaction(self, transaction, idempotency_key, *a, **k):
                self.paid.setdefault(idempotency_key, transaction.amount_out)

            def poll_outgoing_transactions(self, transactions, *a, **k):
                return [t for t in transactions if t.id in self.paid]

        bank = Bank()
        register_integrations(rails=bank)
        outgoing = Outgoing(env.context, "worker-a")
        await outgoing.run_once()
        outgoing._next_poll = 0.0  # the confirmation poll is due at once
        await outgoing.run_once()
        withdrawal = await status_of(env, body["id"])
        assert withdrawal.status == "completed"
        assert bank.paid == {body["id"]: Decimal(terms["buy_amount"])}  # the quote's BRL, once
