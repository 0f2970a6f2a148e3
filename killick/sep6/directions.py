"""Deposit and withdraw: the names each direction goes by, and its asset settings.

SEP-6 spells one direction three ways (CHECKLIST P-10): the endpoint and ``/info`` key
``withdraw``, the transaction kind ``withdrawal``, and Killick's asset columns
``withdrawal_*``. The exchange variants (``/deposit-exchange``, ``/withdraw-exchange``)
are Directions of their own that share the hooks and asset settings of their plain twin.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from killick.integrations import DepositIntegration, WithdrawalIntegration, registry
from killick.models import Asset


@dataclass(frozen=True)
class Direction:
    name: str  # endpoint, /info key and /fee operation: "deposit" | "withdraw"
    kind: str  # transaction kind: "deposit" | "withdrawal"
    columns: str  # asset column prefix: "deposit" | "withdrawal"
    exchange: bool = False  # a SEP-38 exchange (another asset on the off-chain side)

    @property
    def is_deposit(self) -> bool:
        return self.columns == "deposit"

    def integration(self) -> DepositIntegration | WithdrawalIntegration:
        return registry.deposit if self.columns == "deposit" else registry.withdrawal

    def hook_name(self) -> str:
        return f"{self.columns}.process_sep6_request"

    def implemented(self) -> bool:
        """Whether the anchor registered a hook for this direction (else it is disabled)."""
        base = DepositIntegration if self.columns == "deposit" else WithdrawalIntegration
        hook = type(self.integration()).process_sep6_request
        return hook is not base.process_sep6_request

    def enabled(self, asset: Asset) -> bool:
        """Open for SEP-6 requests: asset switched on, a hook to answer, and, for
        withdrawals, a distribution account to receive the user's payment."""
        if not (asset.sep6_enabled and getattr(asset, f"{self.columns}_enabled")):
            return False
        if self.columns == "withdrawal" and not asset.distribution_account:
            return False
        return self.implemented()

    def limits(self, asset: Asset) -> tuple[Decimal | None, Decimal | None]:
        return (
            getattr(asset, f"{self.columns}_min_amount"),
            getattr(asset, f"{self.columns}_max_amount"),
        )

    def fee_settings(self, asset: Asset) -> tuple[Decimal | None, Decimal | None]:
        return (
            getattr(asset, f"{self.columns}_fee_fixed"),
            getattr(asset, f"{self.columns}_fee_percent"),
        )


DEPOSIT = Direction(name="deposit", kind="deposit", columns="deposit")
WITHDRAW = Direction(name="withdraw", kind="withdrawal", columns="withdrawal")
DIRECTIONS = {d.name: d for d in (DEPOSIT, WITHDRAW)}
DEPOSIT_EXCHANGE = Direction(
    name="deposit-exchange", kind="deposit-exchange", columns="deposit", exchange=True
)
WITHDRAW_EXCHANGE = Direction(
    name="withdraw-exchange", kind="withdrawal-exchange", columns="withdrawal", exchange=True
)
