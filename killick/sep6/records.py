"""The transaction a deposit or withdraw request creates: who asked, and what for."""

from __future__ import annotations

from typing import Any

from killick.models import Asset, Transaction
from killick.sep6.params import TransferRequest
from killick.sep10 import SEP10Token


def new_transaction(
    token: SEP10Token, req: TransferRequest, asset: Asset, **columns: Any
) -> Transaction:
    """A transaction without a status yet (the hook's answer decides it).

    It belongs to the token's principal, whatever ``account`` the request named
    (CHECKLIST S6-04); the request values are kept so the hook can be asked again
    (``killick.sep6.kyc_resume``).
    """
    return Transaction(
        protocol="sep6",
        kind=req.direction.kind,
        status=None,
        asset=asset,
        asset_id=asset.id,
        principal=token.principal,
        stellar_account=token.account,
        account_memo=token.memo,
        muxed_account=token.muxed_account,
        client_domain=token.client_domain,
        on_change_callback=req.on_change_callback,
        amount_in=req.amount,
        amount_expected=req.amount,
        funding_method=req.funding_method,
        country_code=req.country_code,
        lang=req.lang,
        customer_id=req.customer_id,
        location_id=req.location_id,
        wallet_name=req.wallet_name,
        wallet_url=req.wallet_url,
        **columns,
    )
