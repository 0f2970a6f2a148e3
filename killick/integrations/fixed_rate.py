"""``FixedRateQuotes``: a ``QuoteIntegration`` with fixed rates, for the reference anchor,
local development and tests.

    register_integrations(quote=FixedRateQuotes(
        {("iso4217:BRL", "stellar:USDC:G..."): "5.00"},   # 5.00 BRL buys 1 USDC
        fee_percent="1", fee_fixed={"iso4217:BRL": "2"}, valid_seconds=300,
    ))

A rate is the price of one unit of the buy asset in the sell asset, fees excluded. The
fee is charged in the sell asset: ``fee_fixed`` (per sell asset) plus ``fee_percent`` of
the sell amount. Amounts are rounded half up to each asset's decimals and prices are
the shortest for which SEP-38's formulas hold, so Killick's checks always pass. Firm
quotes last ``valid_seconds``, or until the wallet's ``expire_after`` when that is within
``max_valid_seconds``. Nothing is reserved: a real anchor holds the quoted amount.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from typing import Any

from killick.integrations.base import QuoteIntegration
from killick.sep38.formulas import fit_price


def _places(decimals: int) -> Decimal:
    return Decimal(1).scaleb(-decimals)


class FixedRateQuotes(QuoteIntegration):
    def __init__(
        self,
        rates: Mapping[tuple[str, str], Decimal | str],
        *,
        fee_percent: Decimal | str = "0",
        fee_fixed: Mapping[str, Decimal | str] | None = None,
        valid_seconds: int = 300,
        max_valid_seconds: int | None = None,
    ) -> None:
        self.rates = {pair: Decimal(rate) for pair, rate in rates.items()}
        self.fee_percent = Decimal(fee_percent)
        self.fee_fixed = {asset: Decimal(fee) for asset, fee in (fee_fixed or {}).items()}
        self.valid = timedelta(seconds=valid_seconds)
        self.max_valid = timedelta(seconds=max(max_valid_seconds or 0, valid_seconds))
        if any(rate <= 0 for rate in self.rates.values()) or not 0 <= self.fee_percent < 100:
            raise ValueError("rates must be positive and fee_percent from 0 to 100")

    def _rate(self, sell: str, buy: str) -> Decimal:
        rate = self.rates.get((sell, buy))
        if rate is None:
            raise ValueError(f"no rate for {sell} -> {buy}")
        return rate

    def price_for(
        self,
        sell: str,
        buy: str,
        sell_amount: Decimal | None,
        buy_amount: Decimal | None,
        sell_decimals: int,
        buy_decimals: int,
    ) -> dict[str, Any]:
        """The SEP-38 price answer for one of the two amounts (the other computed)."""
        rate = self._rate(sell, buy)
        fixed = self.fee_fixed.get(sell, Decimal(0))
        share = self.fee_percent / 100
        sell_unit, buy_unit = _places(sell_decimals), _places(buy_decimals)
        if sell_amount is not None:
            fee = (fixed + sell_amount * share).quantize(sell_unit, ROUND_HALF_UP)
            buy_amount = ((sell_amount - fee) / rate).quantize(buy_unit, ROUND_HALF_UP)
            if fee >= sell_amount or buy_amount <= 0:
                raise ValueError(f"sell_amount: {sell_amount} does not cover the fee of {fee}")
        else:
            assert buy_amount is not None
            net = (rate * buy_amount).quantize(sell_unit, ROUND_HALF_UP)
            sell_amount = ((net + fixed) / (1 - share)).quantize(sell_unit, ROUND_CEILING)
            fee = sell_amount - net
        fee_text = str(fee)
        return {
            "sell_amount": str(sell_amount),
            "buy_amount": str(buy_amount),
            "price": str(rate),
            "total_price": str(fit_price(sell_amount, buy_amount, sell_decimals, buy_decimals)),
            "fee": {
                "total": fee_text,
                "asset": sell,
                "details": [{"name": "Service fee", "amount": fee_text}],
            },
        }

    def get_prices(self, token, request, params, *args, **kwargs):  # type: ignore[no-untyped-def]
        sell, buy = params.get("sell_asset"), params.get("buy_asset")
        amount = params.get("sell_amount") or params.get("buy_amount")
        decimals = params["decimals"]
        prices = []
        for other in params["assets"]:
            pair = (sell, other) if sell else (other, buy)
            try:
                rate = self._rate(*pair)
            except ValueError:
                continue
            if amount is None:
                price = rate
            else:
                amounts = (amount, None) if sell else (None, amount)
                answer = self.price_for(*pair, *amounts, decimals[pair[0]], decimals[pair[1]])
                price = Decimal(answer["total_price"])
            prices.append({"asset": other, "price": str(price)})
        return prices

    def get_price(self, token, request, params, *args, **kwargs):  # type: ignore[no-untyped-def]
        return self.price_for(
            params["sell_asset"],
            params["buy_asset"],
            params["sell_amount"],
            params["buy_amount"],
            params["sell_decimals"],
            params["buy_decimals"],
        )

    def post_quote(self, token, request, quote, *args, **kwargs):  # type: ignore[no-untyped-def]
        answer = self.price_for(
            quote.sell_asset,
            quote.buy_asset,
            quote.sell_amount,
            quote.buy_amount,
            quote.sell_decimals,
            quote.buy_decimals,
        )
        quote.sell_amount = Decimal(answer["sell_amount"])
        quote.buy_amount = Decimal(answer["buy_amount"])
        quote.price = answer["price"]
        quote.total_price = answer["total_price"]
        quote.fee = answer["fee"]
        now = datetime.now(UTC)
        expires = now + self.valid
        wanted = quote.requested_expire_after
        if wanted is not None and expires < wanted <= now + self.max_valid:
            expires = wanted
        quote.expires_at = expires
        return quote
