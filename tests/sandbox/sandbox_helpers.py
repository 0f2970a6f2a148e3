"""Helpers shared by the sandbox test modules (importable because tests/sandbox is on sys.path)."""

from __future__ import annotations

from stellar_sdk import Asset, xdr
from stellar_sdk.exceptions import BadRequestError
from stellar_sdk.operation import ChangeTrust


def codes(error: BadRequestError) -> dict:
    assert error.status == 400
    assert error.type == "https://stellar.org/horizon-errors/transaction_failed"
    assert error.extras is not None
    return error.extras["result_codes"]


async def issued_asset(chain, holders: int = 1, limit: str | None = None, code: str = "USD"):
    """A fresh issuer and `holders` accounts trusting its asset (trustlines in one ledger)."""
    issuer, *accounts = await chain.fund(1 + holders)
    asset = Asset(code, issuer.public_key)
    envelopes = [await chain.build(a, [ChangeTrust(asset, limit)]) for a in accounts]
    await chain.settle(*(chain.server.submit_transaction(e) for e in envelopes))
    return asset, issuer, accounts


def balance_id_from(result: dict, index: int = 0) -> str:
    """The id in an operation's CreateClaimableBalanceResult, as wallets read it."""
    decoded = xdr.TransactionResult.from_xdr(result["result_xdr"])
    op = decoded.result.results[index].tr.create_claimable_balance_result
    return op.balance_id.to_xdr_bytes().hex()
