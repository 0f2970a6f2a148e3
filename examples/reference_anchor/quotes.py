"""SEP-38 for the reference anchor: Brazilian reais for the demo asset, at a fixed rate.

Killick's ``FixedRateQuotes`` does the arithmetic; this subclass only finds the rate by
asset code, because the demo asset's issuer is known only once it is issued.
"""

from __future__ import annotations

from decimal import Decimal

from killick.integrations.fixed_rate import FixedRateQuotes

BRL = "iso4217:BRL"
BRL_PER_UNIT = Decimal("5.00")  # 5.00 BRL buys 1 unit of the Stellar asset


class ReferenceQuotes(FixedRateQuotes):
    def __init__(self) -> None:
        super().__init__({}, fee_percent="1", fee_fixed={BRL: "2"}, valid_seconds=300)

    def _rate(self, sell: str, buy: str) -> Decimal:
        if sell == BRL and buy.startswith("stellar:"):
            return BRL_PER_UNIT
        if buy == BRL and sell.startswith("stellar:"):
            return 1 / BRL_PER_UNIT
        raise ValueError(f"no rate for {sell} -> {buy}")
