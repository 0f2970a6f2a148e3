"""``/deposit-exchange`` and ``/withdraw-exchange``: a transfer with another asset on the
off-chain side, at a SEP-38 firm quote's terms or at the market rate.

The request is checked like a plain deposit or withdrawal (``params.parse_transfer``,
with the on-chain code in ``destination_asset``/``source_asset``), then against SEP-38:
the off-chain asset must be traded with the Stellar asset, ``amount`` is the **sell**
amount in the sell asset's decimals (CHECKLIST P-13), and ``funding_method`` must be one
of the off-chain asset's delivery methods. A ``quote_id`` must name the caller's own,
unexpired, unused ``sep6`` quote for these assets, this amount and this method (S6-19),
else 400. Without one, the ``get_price`` hook gives the estimate (S6-21).

The transaction carries the terms (S6-22): ``quote_id``, ``amount_in`` and its asset (the
sell side), ``amount_out`` and its asset (the buy side), ``amount_fee``/``fee_details``.
The quote is marked used in the same database transaction as the new transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from killick.columns import utcnow
from killick.context import Context
from killick.models import Asset, Quote, Transaction
from killick.sep6 import checks
from killick.sep6.checks import ParamError
from killick.sep6.directions import Direction
from killick.sep6.info import Info
from killick.sep6.params import EXCHANGE, TransferRequest, parse_transfer
from killick.sep10 import SEP10Token
from killick.sep38.answers import Priced, hook_failure
from killick.sep38.formulas import fits
from killick.sep38.market import Market, MarketAsset, current_market
from killick.sep38.prices import PriceRequest, indicative_price
from killick.sep38.quotes import find_quote
from killick.transaction_json import iso8601

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExchangeTerms:
    """What an exchange adds to a transfer: its two sides and the amounts agreed."""

    sell: MarketAsset
    buy: MarketAsset
    amount_in: Decimal
    amount_out: Decimal
    fee: dict[str, Any]
    quote_id: str | None = None

    def hook_params(self, direction: Direction) -> dict[str, Any]:
        """What the ``process_sep6_request`` hook gets besides the plain parameters."""
        stellar, offchain = (self.buy, self.sell) if direction.is_deposit else (self.sell, self.buy)
        assert stellar.stellar is not None
        code = stellar.stellar.code
        return {
            "source_asset": offchain.id if direction.is_deposit else code,
            "destination_asset": code if direction.is_deposit else offchain.id,
            "sell_asset": self.sell.id,
            "buy_asset": self.buy.id,
            "quote_id": self.quote_id,
        }

    def apply(self, txn: Transaction) -> None:
        """Put the terms on ``txn`` (before the hook, which sees them)."""
        txn.quote_id = self.quote_id
        txn.amount_in, txn.amount_in_asset = self.amount_in, self.sell.id
        txn.amount_out, txn.amount_out_asset = self.amount_out, self.buy.id
        txn.amount_fee = Decimal(self.fee["total"])
        txn.amount_fee_asset = self.fee["asset"]
        txn.fee_details = self.fee

    def keep(self, txn: Transaction) -> None:
        """After the hook: a firm quote's terms are not the hook's to change (a market
        estimate is: the hook may know better)."""
        if self.quote_id is None:
            return
        if (txn.amount_in, txn.amount_out, txn.amount_fee) != (
            self.amount_in,
            self.amount_out,
            Decimal(self.fee["total"]),
        ):
            log.warning("the hook changed the amounts of %s; the quote's terms stand", txn.id)
        self.apply(txn)

    async def claim(self, session: AsyncSession, txn: Transaction, now: datetime) -> None:
        """Mark the quote used by ``txn``; 400 if another request used it (or it expired)
        in the meantime. Rolled back with everything else if the request fails."""
        if self.quote_id is None:
            return
        result = await session.execute(
            update(Quote)
            .where(
                Quote.id == self.quote_id,
                Quote.transaction_id.is_(None),
                Quote.expires_at > now,
            )
            .values(transaction_id=txn.id)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise ParamError("quote_id", "was used by another transaction or has expired")


def _present(raw: Mapping[str, str], name: str) -> str | None:
    value = raw.get(name)
    return None if value is None or value == "" else checks.text(name, value)


def _required(raw: Mapping[str, str], name: str) -> str:
    value = _present(raw, name)
    if value is None:
        raise ParamError(name, "is required")
    return value


def _sides(
    direction: Direction, market: Market, asset: Asset, offchain_name: str, offchain_id: str
) -> tuple[MarketAsset, MarketAsset]:
    """(sell, buy): the off-chain asset named and the Stellar asset, if they are traded."""
    here = market.stellar(asset)
    other = market.assets.get(offchain_id)
    if other is None or other.stellar is not None:
        raise ParamError(
            offchain_name, f"{offchain_id!r} is not an off-chain asset of this anchor (SEP-38)"
        )
    sell, buy = (other, here) if direction.is_deposit else (here, other)
    if sell is None or buy is None or not market.has_pair(sell.id, buy.id):
        raise ParamError(offchain_name, f"{offchain_id} is not exchanged for {asset.code}")
    return sell, buy


def _sell_amount(raw_amount: str, sell: MarketAsset) -> Decimal:
    value = checks.amount("amount", raw_amount)
    if not fits(value, sell.decimals):
        raise ParamError("amount", f"{sell.id} amounts have at most {sell.decimals} decimals")
    return value


def _check_method(direction: Direction, offchain: MarketAsset, method: str | None) -> None:
    offered = offchain.methods("sell" if direction.is_deposit else "buy")
    if offered and method not in offered:
        raise ParamError(
            "funding_method", f"{offchain.id} is moved by {', '.join(offered)}, not {method}"
        )


async def _quote_terms(
    context: Context,
    token: SEP10Token,
    direction: Direction,
    quote_id: str,
    sell: MarketAsset,
    buy: MarketAsset,
    req: TransferRequest,
) -> ExchangeTerms:
    """The caller's quote, if it agrees with the request in everything (S6-19)."""
    async with context.sessions() as session:
        quote = await find_quote(session, token.principal, quote_id)
    if quote is None:
        raise ParamError("quote_id", "no such quote of the authenticated account")
    offchain_name = "source_asset" if direction.is_deposit else "destination_asset"
    stellar_name = "destination_asset" if direction.is_deposit else "source_asset"
    if quote.context != "sep6":
        raise ParamError("quote_id", f"the quote was made for {quote.context}, not sep6")
    offchain_side, stellar_side = (sell, buy) if direction.is_deposit else (buy, sell)
    quoted_offchain, quoted_stellar = (
        (quote.sell_asset, quote.buy_asset)
        if direction.is_deposit
        else (quote.buy_asset, quote.sell_asset)
    )
    if quoted_stellar != stellar_side.id:
        raise ParamError(stellar_name, f"the quote is for {quoted_stellar}")
    if quoted_offchain != offchain_side.id:
        raise ParamError(offchain_name, f"the quote is for {quoted_offchain}")
    if req.amount != quote.sell_amount:
        quoted = quote.sell_amount
        raise ParamError("amount", f"must be the quote's sell_amount, {quoted.normalize():f}")
    method = quote.sell_delivery_method if direction.is_deposit else quote.buy_delivery_method
    if method is not None and method != req.funding_method:
        raise ParamError("funding_method", f"the quote is for {method}")
    if quote.expires_at is None or quote.expires_at <= utcnow():
        raise ParamError("quote_id", f"the quote expired at {iso8601(quote.expires_at)}")
    if quote.transaction_id is not None:
        raise ParamError("quote_id", "the quote was used by another transaction")
    assert quote.sell_amount is not None and quote.buy_amount is not None and quote.fee
    return ExchangeTerms(sell, buy, quote.sell_amount, quote.buy_amount, quote.fee, quote.id)


async def _market_terms(
    token: SEP10Token,
    request: Any,
    direction: Direction,
    sell: MarketAsset,
    buy: MarketAsset,
    req: TransferRequest,
) -> ExchangeTerms:
    """An estimate at the market rate (S6-21), from the ``get_price`` hook."""
    assert req.amount is not None
    price_request = PriceRequest(
        sell=sell,
        buy=buy,
        sell_amount=req.amount,
        buy_amount=None,
        context="sep6",
        sell_delivery_method=req.funding_method
        if direction.is_deposit and sell.methods("sell")
        else None,
        buy_delivery_method=None
        if direction.is_deposit or not buy.methods("buy")
        else req.funding_method,
    )
    priced: Priced = await indicative_price(token, request, price_request)
    if priced.sell_amount != req.amount:
        raise hook_failure(
            "get_price", f"priced {priced.sell_amount}, not the sell amount asked, {req.amount}"
        )
    return ExchangeTerms(sell, buy, priced.sell_amount, priced.buy_amount, priced.fee.as_json())


async def parse_exchange(
    context: Context,
    request: Any,
    token: SEP10Token,
    raw: Mapping[str, str],
    direction: Direction,
    *,
    info: Info,
    assets: tuple[Asset, ...],
) -> tuple[TransferRequest, ExchangeTerms]:
    """Validate an exchange request; the terms come from its quote or a market price."""
    code_name = "destination_asset" if direction.is_deposit else "source_asset"
    offchain_name = "source_asset" if direction.is_deposit else "destination_asset"
    code = _required(raw, code_name)
    offchain_id = _required(raw, offchain_name)
    raw_amount = _required(raw, "amount")
    entry = info.entry(direction.name, code)
    if entry is None:
        raise ParamError(code_name, f"{code!r} is not offered for {direction.name} (see /info)")
    if not entry["enabled"]:
        raise ParamError(code_name, f"{direction.name} of {code} is not enabled")
    plain = {name: value for name, value in raw.items() if name not in EXCHANGE}
    plain["asset_code"] = code
    if direction.is_deposit:
        plain.pop("amount", None)  # in the off-chain asset: checked below, not as USDC
    req = parse_transfer(
        plain, direction, token=token, settings=context.settings, info=info, assets=assets
    )
    market = await current_market(context)
    sell, buy = _sides(direction, market, req.asset, offchain_name, offchain_id)
    if direction.is_deposit:
        req = replace(req, amount=_sell_amount(raw_amount, sell))
    _check_method(direction, sell if direction.is_deposit else buy, req.funding_method)
    quote_id = _present(raw, "quote_id")
    if quote_id is not None:
        terms = await _quote_terms(context, token, direction, quote_id, sell, buy, req)
    else:
        terms = await _market_terms(token, request, direction, sell, buy, req)
    return req, terms


def stored_exchange_params(txn: Transaction) -> dict[str, Any]:
    """The exchange parameters of ``txn``'s request, from its columns (KYC resume)."""
    code = txn.asset.code
    return {
        "source_asset": txn.amount_in_asset if txn.is_deposit else code,
        "destination_asset": code if txn.is_deposit else txn.amount_out_asset,
        "sell_asset": txn.amount_in_asset,
        "buy_asset": txn.amount_out_asset,
        "quote_id": txn.quote_id,
    }
