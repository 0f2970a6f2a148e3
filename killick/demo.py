"""``killick demo``: a scripted wallet that runs a full SEP-6 deposit and withdrawal.

It does what a wallet does, over HTTP only: reads stellar.toml, makes and funds a
keypair (sandbox friendbot), adds the trustline, authenticates with SEP-10, sends KYC
with SEP-12, starts a deposit, has the simulated bank receive the money, waits for the
asset; then withdraws, pays the anchor with the memo it gave, and waits for
``completed``. It exits 0 only when both completed with the right balances.
"""

from __future__ import annotations

import asyncio
import base64
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx
from stellar_sdk import Asset, Keypair, ServerAsync, TransactionBuilder, TransactionEnvelope

from killick.stellar.horizon_client import HttpxAsyncClient

SAMPLE_KYC = {
    "first_name": "Ada",
    "last_name": "Lovelace",
    "email_address": "ada@example.com",
    "address": "12 St James's Square, London",
    "bank_account_number": "000123456789",
    "bank_number": "628524560",
    "mobile_number": "+442071234567",
    "birth_date": "1815-12-10",
}


class DemoFailed(Exception):
    """A step of the demo did not go as a wallet expects (the message says which)."""


@dataclass
class Report:
    """What the demo saw, for the summary and for tests."""

    steps: list[tuple[float, str]] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)


class Demo:
    def __init__(
        self, anchor_url: str, *, amount: Decimal, say: Callable[[str], None], timeout: float
    ) -> None:
        self.anchor = anchor_url.rstrip("/")
        self.amount = amount
        self.say = say
        self.timeout = timeout
        self.report = Report()
        self.started = time.monotonic()
        self.http = httpx.AsyncClient(timeout=30)
        self.wallet = Keypair.random()
        self.token = ""

    def step(self, text: str) -> None:
        elapsed = time.monotonic() - self.started
        self.report.steps.append((elapsed, text))
        self.say(f"[{elapsed:6.1f}s] ✓ {text}")

    async def run(self) -> Report:
        try:
            await self._discover()
            await self._wallet()
            await self._authenticate()
            await self._kyc()
            await self._deposit()
            await self._withdraw()
            if self.quote_url:
                await self._exchange_deposit()
        finally:
            await self.http.aclose()
            if hasattr(self, "horizon"):
                await self.horizon.close()
        self.report.figures["seconds"] = round(time.monotonic() - self.started, 1)
        return self.report

    # -- the steps ------------------------------------------------------------------------------

    async def _discover(self) -> None:
        response = await self.http.get(f"{self.anchor}/.well-known/stellar.toml")
        self._expect(response, 200, "stellar.toml")
        toml = tomllib.loads(response.text)
        self.passphrase = toml["NETWORK_PASSPHRASE"]
        self.horizon_url = toml["HORIZON_URL"]
        self.auth_url = toml["WEB_AUTH_ENDPOINT"]
        self.transfer = toml["TRANSFER_SERVER"]
        self.kyc_url = toml.get("KYC_SERVER", self.transfer)
        self.quote_url = toml.get("ANCHOR_QUOTE_SERVER")
        info = (await self.http.get(f"{self.transfer}/info")).json()
        enabled = [
            code
            for code, entry in info.get("deposit", {}).items()
            if entry.get("enabled") and info.get("withdraw", {}).get(code, {}).get("enabled")
        ]
        currency = next((c for c in toml.get("CURRENCIES", []) if c.get("code") in enabled), None)
        if currency is None:
            raise DemoFailed("the anchor offers no asset enabled for SEP-6 deposit and withdraw")
        self.asset = Asset(currency["code"], currency["issuer"])
        self.funding_method = (info["deposit"][self.asset.code].get("funding_methods") or [None])[0]
        self.horizon = ServerAsync(self.horizon_url, client=HttpxAsyncClient())
        self.step(f"stellar.toml read: {self.asset.code} issued by {self.asset.issuer[:8]}…")

    async def _wallet(self) -> None:
        response = await self.http.get(
            f"{self.horizon_url}/friendbot", params={"addr": self.wallet.public_key}
        )
        self._expect(response, 200, "friendbot")
        source = await self.horizon.load_account(self.wallet.public_key)
        trust = (
            TransactionBuilder(source, self.passphrase, 100)
            .append_change_trust_op(self.asset)
            .set_timeout(60)
            .build()
        )
        trust.sign(self.wallet)
        await self.horizon.submit_transaction(trust)
        self.report.figures["wallet"] = self.wallet.public_key
        self.step(f"wallet {self.wallet.public_key[:8]}… funded, trusts {self.asset.code}")

    async def _authenticate(self) -> None:
        response = await self.http.get(self.auth_url, params={"account": self.wallet.public_key})
        self._expect(response, 200, "SEP-10 challenge")
        envelope = TransactionEnvelope.from_xdr(response.json()["transaction"], self.passphrase)
        envelope.sign(self.wallet)
        response = await self.http.post(self.auth_url, json={"transaction": envelope.to_xdr()})
        self._expect(response, 200, "SEP-10 token")
        self.token = response.json()["token"]
        self.step("SEP-10: authenticated")

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def _kyc(self) -> None:
        response = await self.http.get(f"{self.kyc_url}/customer", headers=self.headers)
        self._expect(response, 200, "SEP-12 GET /customer")
        wanted = response.json().get("fields", {})
        fields = {name: SAMPLE_KYC[name] for name in wanted if name in SAMPLE_KYC}
        response = await self.http.put(
            f"{self.kyc_url}/customer", json=fields, headers=self.headers
        )
        if response.status_code not in (200, 202):
            self._expect(response, 202, "SEP-12 PUT /customer")
        status = (await self.http.get(f"{self.kyc_url}/customer", headers=self.headers)).json()
        self.step(f"SEP-12: sent {len(fields)} KYC fields, customer {status.get('status')}")

    async def _deposit(self) -> None:
        params = {
            "asset_code": self.asset.code,
            "account": self.wallet.public_key,
            "amount": str(self.amount),
        }
        if self.funding_method:
            params["funding_method"] = self.funding_method
        response = await self.http.get(
            f"{self.transfer}/deposit", params=params, headers=self.headers
        )
        self._expect(response, 200, "SEP-6 deposit")
        deposit_id = response.json()["id"]
        self.step(f"SEP-6 deposit {deposit_id[:8]}… started: {response.json().get('how', '')[:60]}")
        arrive = await self.http.post(f"{self.anchor}/reference/bank/deposits/{deposit_id}/arrive")
        if arrive.status_code == 200:
            self.step("simulated bank: the transfer arrived")
        else:
            self.say("  (trigger the bank transfer for this deposit in your anchor)")
        deposit = await self._wait(deposit_id, "completed")
        received = await self._balance()
        expected = Decimal(deposit["amount_out"])
        if received != expected:
            raise DemoFailed(f"deposit: wallet holds {received}, expected {expected}")
        self.report.figures["deposit"] = {
            "id": deposit_id,
            "amount_in": deposit.get("amount_in"),
            "amount_fee": deposit.get("amount_fee"),
            "amount_out": deposit["amount_out"],
            "stellar_transaction_id": deposit.get("stellar_transaction_id"),
        }
        self.step(
            f"deposit completed: {deposit.get('amount_in')} in, fee {deposit.get('amount_fee')}, "
            f"{expected} {self.asset.code} received "
            f"(tx {deposit.get('stellar_transaction_id', '')[:8]}…)"
        )

    async def _withdraw(self) -> None:
        amount = (await self._balance()).quantize(Decimal("0.01"))
        params = {
            "asset_code": self.asset.code,
            "amount": str(amount),
            "account": self.wallet.public_key,
        }
        if self.funding_method:
            params["funding_method"] = self.funding_method
            params["type"] = self.funding_method
        response = await self.http.get(
            f"{self.transfer}/withdraw", params=params, headers=self.headers
        )
        self._expect(response, 200, "SEP-6 withdraw")
        body = response.json()
        withdrawal_id, memo_type, memo = body["id"], body.get("memo_type"), body.get("memo")
        source = await self.horizon.load_account(self.wallet.public_key)
        builder = TransactionBuilder(source, self.passphrase, 100).append_payment_op(
            body["account_id"], self.asset, str(amount)
        )
        if memo_type == "id":
            builder.add_id_memo(int(memo))
        elif memo_type == "text":
            builder.add_text_memo(memo)
        elif memo_type == "hash":
            builder.add_hash_memo(base64.b64decode(memo))
        payment = builder.set_timeout(60).build()
        payment.sign(self.wallet)
        await self.horizon.submit_transaction(payment)
        self.step(f"SEP-6 withdrawal {withdrawal_id[:8]}…: paid {amount} with memo {memo}")
        withdrawal = await self._wait(withdrawal_id, "completed")
        left = await self._balance()
        if left != 0:
            raise DemoFailed(f"withdrawal: wallet still holds {left} {self.asset.code}")
        self.report.figures["withdrawal"] = {
            "id": withdrawal_id,
            "amount_in": withdrawal.get("amount_in"),
            "amount_fee": withdrawal.get("amount_fee"),
            "amount_out": withdrawal.get("amount_out"),
        }
        self.step(
            f"withdrawal completed: {withdrawal.get('amount_in')} sent, fee "
            f"{withdrawal.get('amount_fee')}, {withdrawal.get('amount_out')} paid out by the bank"
        )

    async def _exchange_deposit(self) -> None:
        """Pay reais, receive the asset: a SEP-38 firm quote used by SEP-6 deposit-exchange."""
        stellar_id = f"stellar:{self.asset.code}:{self.asset.issuer}"
        info = (await self.http.get(f"{self.quote_url}/info")).json()
        offchain = next(
            (a for a in info.get("assets", []) if a["asset"].startswith("iso4217:")), None
        )
        if offchain is None:
            self.say("  (the anchor quotes no off-chain asset: exchange skipped)")
            return
        methods = offchain.get("sell_delivery_methods") or [{}]
        method = methods[0].get("name")
        body = {
            "sell_asset": offchain["asset"],
            "buy_asset": stellar_id,
            "sell_amount": "500",
            "context": "sep6",
        }
        if method:
            body["sell_delivery_method"] = method
        response = await self.http.post(f"{self.quote_url}/quote", json=body, headers=self.headers)
        self._expect(response, 201, "SEP-38 quote")
        quote = response.json()
        self.step(
            f"SEP-38 quote: {quote['sell_amount']} {offchain['asset']} for "
            f"{quote['buy_amount']} {self.asset.code} (price {quote['price']}, "
            f"fee {quote['fee']['total']})"
        )
        params = {
            "destination_asset": self.asset.code,
            "source_asset": offchain["asset"],
            "amount": quote["sell_amount"],
            "quote_id": quote["id"],
            "account": self.wallet.public_key,
        }
        if method:
            params["funding_method"] = method
        response = await self.http.get(
            f"{self.transfer}/deposit-exchange", params=params, headers=self.headers
        )
        self._expect(response, 200, "SEP-6 deposit-exchange")
        deposit_id = response.json()["id"]
        arrive = await self.http.post(f"{self.anchor}/reference/bank/deposits/{deposit_id}/arrive")
        if arrive.status_code == 200:
            self.step(f"exchange deposit {deposit_id[:8]}…: the reais arrived at the bank")
        deposit = await self._wait(deposit_id, "completed")
        received = await self._balance()
        if received != Decimal(quote["buy_amount"]):
            raise DemoFailed(f"exchange: wallet holds {received}, quoted {quote['buy_amount']}")
        self.report.figures["exchange"] = {
            "id": deposit_id,
            "quote_id": quote["id"],
            "amount_in": deposit.get("amount_in"),
            "amount_in_asset": deposit.get("amount_in_asset"),
            "amount_out": deposit.get("amount_out"),
            "amount_out_asset": deposit.get("amount_out_asset"),
        }
        self.step(f"exchange deposit completed: {received} {self.asset.code} received as quoted")

    # -- helpers --------------------------------------------------------------------------------

    async def _wait(self, transaction_id: str, status: str) -> dict[str, Any]:
        deadline = time.monotonic() + self.timeout
        seen = None
        while time.monotonic() < deadline:
            response = await self.http.get(
                f"{self.transfer}/transaction", params={"id": transaction_id}, headers=self.headers
            )
            self._expect(response, 200, "SEP-6 /transaction")
            transaction = response.json()["transaction"]
            if transaction["status"] != seen:
                seen = transaction["status"]
                self.say(f"           … {transaction_id[:8]}: {seen}")
            if seen == status:
                return transaction
            if seen in ("error", "expired", "refunded", "too_small", "too_large", "no_market"):
                raise DemoFailed(f"{transaction_id} ended {seen}: {transaction.get('message')}")
            await asyncio.sleep(0.5)
        raise DemoFailed(f"{transaction_id} not {status} after {self.timeout:.0f}s (is it {seen}?)")

    async def _balance(self) -> Decimal:
        record = await self.horizon.accounts().account_id(self.wallet.public_key).call()
        for line in record["balances"]:
            if (line.get("asset_code"), line.get("asset_issuer")) == (
                self.asset.code,
                self.asset.issuer,
            ):
                return Decimal(line["balance"])
        return Decimal(0)

    @staticmethod
    def _expect(response: httpx.Response, status: int, what: str) -> None:
        if response.status_code != status:
            raise DemoFailed(f"{what}: HTTP {response.status_code}: {response.text[:300]}")


async def run_demo(
    anchor_url: str,
    *,
    amount: Decimal = Decimal("100"),
    say: Callable[[str], None] = print,
    step_seconds: float = 60.0,
) -> Report:
    """Run the demo; ``step_seconds`` bounds each wait for a status."""
    return await Demo(anchor_url, amount=amount, say=say, timeout=step_seconds).run()
