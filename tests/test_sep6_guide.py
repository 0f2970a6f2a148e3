"""The SEP-6 guide's ``AnchorDeposit`` runs on Killick with only its imports changed.

Its two slips are fixed (marked ``# fixed``): it called ``transaction_for_memo`` after
importing ``memo_for_transaction``, and read ``user.kyc_rejected`` when ``user`` is None.
Around it, the smallest "anchor" the guide assumes: a user store and a rails module.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

# -- the guide's imports, changed to Killick's ------------------------------------------
from typing import Dict, List  # noqa: UP035 -- as the guide writes it

import pytest
from starlette.requests import Request

from killick.integrations import DepositIntegration
from killick.models import Transaction
from killick.sep10 import SEP10Token
from tests.sep6_support import Wallet, add_asset, load, use_hooks

# -- the anchor's own modules the guide imports (.users, .rails) ------------------------


@dataclass
class User:
    first_name: str | None = None
    last_name: str | None = None
    email_address: str | None = None
    address: str | None = None
    bank_account_number: str | None = None
    bank_number: str | None = None
    kyc_approved: bool = False
    kyc_rejected: bool = False
    transactions: list[str] = field(default_factory=list)

    def add_transaction(self, transaction: Transaction) -> None:
        self.transactions.append(transaction.id)


USERS: dict[str, User] = {}


def user_for_account(account: str) -> User | None:
    return USERS.get(account)


def calculate_fee(transaction: Transaction) -> Decimal:
    return round(Decimal("1") + transaction.amount_in * Decimal("0.02"), 2)


def memo_for_transaction(transaction: Transaction) -> str:
    return transaction.id.split("-")[0].upper()


# -- the guide's AnchorDeposit ------------------------------------------------------------


class AnchorDeposit(DepositIntegration):
    def process_sep6_request(
        self,
        token: SEP10Token,
        request: Request,
        params: Dict,  # noqa: UP006
        transaction: Transaction,
        *args: List,  # noqa: UP006
        **kwargs: Dict,  # noqa: UP006
    ) -> Dict:  # noqa: UP006
        # check if the user's KYC has been approved
        kyc_fields = [
            "first_name",
            "last_name",
            "email_address",
            "address",
            "bank_account_number",
            "bank_number",
        ]
        user = user_for_account(token.muxed_account or token.stellar_account)
        if not user or not user.kyc_approved:
            if user and user.kyc_rejected:  # fixed
                return {"type": "customer_info_status", "status": "denied"}
            missing_fields = [field for field in kyc_fields if not getattr(user, field, None)]
            if not missing_fields:
                return {"type": "customer_info_status", "status": "pending"}
            else:
                return {"type": "non_interactive_customer_info_needed", "fields": missing_fields}
        # user's KYC has been approved
        transaction.amount_fee = calculate_fee(transaction)
        transaction.amount_out = round(
            transaction.amount_in - transaction.amount_fee, transaction.asset.significant_decimals
        )
        transaction.save()
        user.add_transaction(transaction)
        return {
            "how": (
                "Make a wire transfer to the following account. "
                "Accounting Number: 94922545 ; Routing Number: 628524560. "
                "Users MUST include the following memo: "
                f"{memo_for_transaction(transaction)}"  # fixed
            ),
            "extra_info": {
                "accounting_number": "94922545",
                "routing_number": "628524560",
                "memo": f"{memo_for_transaction(transaction)}",  # fixed
            },
        }


class AsyncAnchorDeposit(AnchorDeposit):
    """The same hook written ``async def``, as an anchor with an async bank SDK would."""

    async def process_sep6_request(self, *args, **kwargs):  # type: ignore[no-untyped-def, override]
        return AnchorDeposit.process_sep6_request(self, *args, **kwargs)


KYC_DONE = {
    "first_name": "Ada",
    "last_name": "Lovelace",
    "email_address": "ada@example.com",
    "address": "12 St James's Square",
    "bank_account_number": "13719713158835300",
    "bank_number": "121122676",
}


@pytest.fixture(autouse=True)
def _empty_user_store():  # type: ignore[no-untyped-def]
    USERS.clear()
    yield
    USERS.clear()


@pytest.mark.parametrize("hook", [AnchorDeposit, AsyncAnchorDeposit])
async def test_the_guides_three_outcomes(client, sessions, cipher, hook) -> None:
    await add_asset(sessions, cipher, significant_decimals=2)
    use_hooks(deposit=hook())
    wallet = Wallet(client)

    # Unknown user: every KYC field is needed (4.x: kept, waiting for SEP-12).
    unknown = await wallet.get("/deposit", asset_code="USD", amount="100")
    assert unknown.status_code == 200, unknown.text
    assert (await load(sessions, unknown.json()["id"])).status == "pending_customer_info_update"

    # All fields given, not yet approved: pending; rejected: denied (403, nothing kept).
    USERS[wallet.account] = User(**KYC_DONE)
    pending = await wallet.get("/deposit", asset_code="USD", amount="100")
    assert (await load(sessions, pending.json()["id"])).status == "pending_customer_info_update"
    USERS[wallet.account].kyc_rejected = True
    denied = await wallet.get("/deposit", asset_code="USD", amount="100")
    assert denied.status_code == 403
    assert denied.json() == {"type": "customer_info_status", "status": "denied"}

    # Approved: instructions, and the hook's fee and amount_out are stored.
    USERS[wallet.account] = User(**KYC_DONE, kyc_approved=True)
    approved = await wallet.get("/deposit", asset_code="USD", amount="100")
    assert approved.status_code == 200, approved.text
    body = approved.json()
    memo = body["id"].split("-")[0].upper()
    assert body["how"].endswith(f"Users MUST include the following memo: {memo}")
    assert body["extra_info"] == {
        "accounting_number": "94922545",
        "routing_number": "628524560",
        "memo": memo,
    }
    txn = await load(sessions, body["id"])
    assert txn.status == "pending_user_transfer_start"
    assert (txn.amount_in, txn.amount_fee, txn.amount_out) == (
        Decimal("100"),
        Decimal("3.00"),
        Decimal("97.00"),
    )
    assert USERS[wallet.account].transactions == [body["id"]]


async def test_the_guides_hook_in_the_legacy_flow(database_url, engine, sessions, cipher) -> None:
    import httpx

    from killick.app import create_app
    from tests.helpers import make_settings

    await add_asset(sessions, cipher)
    use_hooks(deposit=AnchorDeposit())
    settings = make_settings(DATABASE_URL=database_url, SEP6_CUSTOMER_INFO_FLOW="legacy_403")
    transport = httpx.ASGITransport(app=create_app(settings, engine=engine))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        response = await Wallet(client).get("/deposit", asset_code="USD", amount="100")
    assert response.status_code == 403
    assert response.json() == {
        "type": "non_interactive_customer_info_needed",
        "fields": list(KYC_DONE),
    }
