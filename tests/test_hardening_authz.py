"""The authorization matrix: every endpoint that touches a transaction, customer or quote,
called by its owner and by everyone else. Only the owner succeeds; the others get their
SEP's 401/403/404 (X-04) and no id, amount or field of the owner's object.

The owner is a memo user of a shared account (``A:1``). The others: another account,
the same account with another memo, muxed ids of the same account (S10-32 keeps ``M...``
apart from ``G...:memo``, even for the same number), and tokens that are expired, signed
with another key, ``alg: none``, garbage, or missing.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from stellar_sdk import Keypair, MuxedAccount

from killick.models import KycCallback, Transaction
from killick.sep10.token import SEP10Token
from killick.transactions import transition
from tests.helpers import bearer, make_settings
from tests.sep6_support import StubWithdraw, use_hooks
from tests.sep12_support import VERIFICATION_CODE, MemoryCustomers
from tests.sep38_support import ACTIVE, BRL, add_market

A = Keypair.random().public_key
ISSUER = "http://testserver/auth"
KYC_NAME = "Zelda-Quintessa"
CALLBACK = "http://127.0.0.1:9/owner-callback"


def _header(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _claims() -> dict[str, Any]:
    token = SEP10Token.issue(account=A, memo="1", issuer=ISSUER, lifetime=timedelta(hours=1))
    return {"iss": ISSUER, "sub": token.sub, "iat": 0, "exp": 2**40, "jti": "x"}


OWNER = bearer(A, memo="1")
VALID_OTHERS = {
    "other-account": bearer(Keypair.random().public_key),
    "other-memo": bearer(A, memo="2"),
    "muxed-other-id": bearer(muxed_account=MuxedAccount(A, 2).account_muxed),
    "muxed-same-id": bearer(muxed_account=MuxedAccount(A, 1).account_muxed),
}
BAD_TOKENS = {
    "expired": bearer(A, memo="1", lifetime_seconds=-60),
    "other-key": _header(
        SEP10Token.issue(account=A, memo="1", issuer=ISSUER, lifetime=timedelta(hours=1)).encode(
            "another-servers-key-" + "y" * 40
        )
    ),
    "alg-none": _header(f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims())}."),
    "garbage": _header("not.a.jwt"),
    "missing": {},
}
AUTH_FAILURE = {"sep6": 403, "sep12": 401, "sep38": 403}


@dataclass
class Owned:
    """What the owner has, and the values nobody else may learn."""

    deposit_id: str
    withdrawal_id: str
    deposit_quote: dict[str, Any]
    withdraw_quote: dict[str, Any]
    customer_id: str
    file_id: str
    kyc: MemoryCustomers

    def secrets(self) -> set[str]:
        return {
            self.deposit_id,
            self.withdrawal_id,
            self.deposit_quote["id"],
            self.withdraw_quote["id"],
            self.customer_id,
            self.file_id,
            KYC_NAME,
            "987.65",
        }


@pytest.fixture
def settings(database_url):
    return make_settings(
        DATABASE_URL=database_url, ACTIVE_SEPS=ACTIVE, RATE_LIMIT_CUSTOMER=0, RATE_LIMIT_TRANSFERS=0
    )


async def _quote(client, **body: Any) -> dict[str, Any]:
    response = await client.post("/sep38/quote", json={"context": "sep6", **body}, headers=OWNER)
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture
async def owned(client, sessions, cipher) -> Owned:
    market = await add_market(sessions, cipher)
    kyc = MemoryCustomers()

    def patch(params, txn):  # type: ignore[no-untyped-def]
        txn.dest = params["dest"]

    use_hooks(withdraw=StubWithdraw(patch=patch), customer=kyc)
    get = {"headers": OWNER}
    deposit = await client.get(
        "/sep6/deposit", params={"asset_code": "USDC", "amount": "987.65"}, **get
    )
    withdrawal = await client.get("/sep6/withdraw", params={"asset_code": "USDC"}, **get)
    async with sessions() as session:
        txn = await session.get(Transaction, withdrawal.json()["id"])
        transition(session, txn, "pending_anchor")
        txn.required_info_updates = {"transaction": {"dest": {"description": "your IBAN"}}}
        transition(session, txn, "pending_transaction_info_update")
        await session.commit()
    fields = {"first_name": KYC_NAME, "mobile_number": "+15550001"}
    customer = await client.put("/kyc/customer", json=fields, **get)
    upload = await client.post(
        "/kyc/customer/files", files={"file": ("id.png", b"\x89PNG0", "image/png")}, **get
    )
    return Owned(
        deposit_id=deposit.json()["id"],
        withdrawal_id=withdrawal.json()["id"],
        deposit_quote=await _quote(
            client,
            sell_asset=BRL,
            buy_asset=market.usdc_id,
            sell_amount="100",
            sell_delivery_method="PIX",
        ),
        withdraw_quote=await _quote(
            client,
            sell_asset=market.usdc_id,
            buy_asset=BRL,
            sell_amount="50",
            buy_delivery_method="WIRE",
        ),
        customer_id=customer.json()["id"],
        file_id=upload.json()["file_id"],
        kyc=kyc,
    )


@dataclass(frozen=True)
class Case:
    """One endpoint: how to call it on the owner's objects, and who may succeed.

    ``owner_only``: a valid token of anyone else is refused with ``denied`` (or, for a
    list, answered with nothing of the owner's). Otherwise the endpoint serves each caller
    for itself (starting a deposit, asking a quote) and only bad tokens are refused.
    """

    name: str
    sep: str
    method: str
    path: str
    ok: int
    denied: int | None = None
    kwargs: Any = None  # a function of Owned -> request keyword arguments

    def request(self, owned: Owned) -> dict[str, Any]:
        return self.kwargs(owned) if self.kwargs else {}


CASES = [
    Case(
        "sep6 transaction",
        "sep6",
        "GET",
        "/sep6/transaction",
        200,
        404,
        lambda o: {"params": {"id": o.deposit_id}},
    ),
    Case(
        "sep6 transactions",
        "sep6",
        "GET",
        "/sep6/transactions",
        200,
        200,
        lambda o: {"params": {"asset_code": "USDC"}},
    ),
    Case(
        "sep6 patch",
        "sep6",
        "PATCH",
        "/sep6/transactions/{withdrawal_id}",
        200,
        404,
        lambda o: {"json": {"transaction": {"dest": "DE89-OWNER"}}},
    ),
    Case(
        "sep6 deposit",
        "sep6",
        "GET",
        "/sep6/deposit",
        200,
        None,
        lambda o: {"params": {"asset_code": "USDC"}},
    ),
    Case(
        "sep6 withdraw",
        "sep6",
        "POST",
        "/sep6/withdraw",
        200,
        None,
        lambda o: {"json": {"asset_code": "USDC"}},
    ),
    Case(
        "sep6 deposit-exchange",
        "sep6",
        "GET",
        "/sep6/deposit-exchange",
        200,
        400,
        lambda o: {
            "params": {
                "destination_asset": "USDC",
                "source_asset": BRL,
                "amount": "100",
                "funding_method": "PIX",
                "quote_id": o.deposit_quote["id"],
            }
        },
    ),
    Case(
        "sep6 withdraw-exchange",
        "sep6",
        "POST",
        "/sep6/withdraw-exchange",
        200,
        400,
        lambda o: {
            "json": {
                "source_asset": "USDC",
                "destination_asset": BRL,
                "amount": "50",
                "funding_method": "WIRE",
                "quote_id": o.withdraw_quote["id"],
            }
        },
    ),
    Case(
        "sep12 get customer",
        "sep12",
        "GET",
        "/kyc/customer",
        200,
        404,
        lambda o: {"params": {"id": o.customer_id}},
    ),
    Case(
        "sep12 put customer",
        "sep12",
        "PUT",
        "/kyc/customer",
        202,
        404,
        lambda o: {"json": {"id": o.customer_id, "last_name": "Owner"}},
    ),
    Case(
        "sep12 callback",
        "sep12",
        "PUT",
        "/kyc/customer/callback",
        200,
        404,
        lambda o: {"json": {"id": o.customer_id, "url": CALLBACK}},
    ),
    Case(
        "sep12 verification",
        "sep12",
        "PUT",
        "/kyc/customer/verification",
        200,
        404,
        lambda o: {"json": {"id": o.customer_id, "mobile_number_verification": VERIFICATION_CODE}},
    ),
    Case(
        "sep12 post file",
        "sep12",
        "POST",
        "/kyc/customer/files",
        200,
        404,
        lambda o: {
            "data": {"customer_id": o.customer_id},
            "files": {"file": ("b.png", b"\x89PNG1", "image/png")},
        },
    ),
    Case(
        "sep12 get files",
        "sep12",
        "GET",
        "/kyc/customer/files",
        200,
        200,
        lambda o: {"params": {"file_id": o.file_id}},
    ),
    Case(
        "sep38 post quote",
        "sep38",
        "POST",
        "/sep38/quote",
        201,
        None,
        lambda o: {
            "json": {
                "context": "sep6",
                "sell_asset": BRL,
                "buy_asset": o.deposit_quote["buy_asset"],
                "sell_amount": "10",
                "sell_delivery_method": "PIX",
            }
        },
    ),
    Case("sep38 get quote", "sep38", "GET", "/sep38/quote/{quote_id}", 200, 404),
    # Last: the owner's answer erases the customer.
    Case("sep12 delete customer", "sep12", "DELETE", "/kyc/customer/" + A, 200, 404),
]


def _path(case: Case, owned: Owned) -> str:
    return case.path.format(withdrawal_id=owned.withdrawal_id, quote_id=owned.deposit_quote["id"])


def _mentions(request: dict[str, Any]) -> str:
    return json.dumps(request, default=repr)


async def test_only_the_owner_gets_in(client, sessions, owned: Owned) -> None:
    problems: list[str] = []
    for case in CASES:
        request = case.request(owned)
        path = _path(case, owned)
        # What a caller sent, it may see again; anything else of the owner's, never.
        hidden = {s for s in owned.secrets() if s not in path and s not in _mentions(request)}

        async def call(headers, case=case, path=path, request=request, hidden=hidden):
            response = await client.request(case.method, path, headers=headers, **request)
            leaked = sorted(s for s in hidden if s in response.text)
            return response, leaked

        for who, headers in BAD_TOKENS.items():
            response, leaked = await call(headers)
            expected = AUTH_FAILURE[case.sep]
            body = response.json()
            shaped = (
                body == {"type": "authentication_required"}
                if case.sep == "sep6"
                else (isinstance(body.get("error"), str))
            )
            if response.status_code != expected or not shaped or leaked:
                problems.append(f"{case.name} / {who}: {response.status_code} {response.text}")
        for who, headers in VALID_OTHERS.items():
            response, leaked = await call(headers)
            if leaked:
                problems.append(f"{case.name} / {who}: leaked {leaked}: {response.text}")
            if case.denied is None:
                if response.status_code != case.ok:
                    problems.append(f"{case.name} / {who}: {response.status_code} {response.text}")
            elif response.status_code != case.denied:
                problems.append(f"{case.name} / {who}: {response.status_code} {response.text}")
            elif case.denied == 200 and any(response.json().values()):
                problems.append(f"{case.name} / {who}: listed {response.text}")
        response = await client.request(case.method, path, headers=OWNER, **request)
        if response.status_code != case.ok:
            problems.append(f"{case.name} / owner: {response.status_code} {response.text}")
    assert not problems, "\n".join(problems)

    # Nothing the others did changed the owner's objects.
    async with sessions() as session:
        withdrawal = await session.get(Transaction, owned.withdrawal_id)
        assert withdrawal.dest == "DE89-OWNER"
        assert not (await session.scalars(select(KycCallback.url))).all()  # erased too
        quoted = await session.scalars(
            select(Transaction.principal).where(Transaction.quote_id.is_not(None))
        )
        assert set(quoted.all()) == {f"{A}:1"}
    puts = [p for p in owned.kyc.called("put") if p.get("id") == owned.customer_id]
    assert [p.get("last_name") for p in puts] == ["Owner"]  # only the owner's update
    assert [p["url"] for p in owned.kyc.called("callback")] == [CALLBACK]
    assert owned.customer_id not in owned.kyc.customers  # erased by its owner, at the end
