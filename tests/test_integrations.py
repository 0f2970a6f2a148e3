"""The integration registry: wrong types stop start-up; sync hooks run off the loop."""

from __future__ import annotations

import sys
import threading
import types
from decimal import Decimal

import pytest

from killick.integrations import (
    DepositIntegration,
    IntegrationImportError,
    WithdrawalIntegration,
    call_hook,
    default_fee,
    load_integrations,
    register_integrations,
    registry,
)
from killick.models import Asset


def test_wrong_types_are_refused_at_registration() -> None:
    with pytest.raises(TypeError, match="DepositIntegration"):
        register_integrations(deposit=object())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="toml"):
        register_integrations(toml="not callable")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="WithdrawalIntegration"):
        register_integrations(withdraw=DepositIntegration())  # type: ignore[arg-type]


def test_withdraw_and_withdrawal_are_the_same_hook() -> None:
    hook = WithdrawalIntegration()
    register_integrations(withdraw=hook)
    assert registry.withdrawal is hook
    other = WithdrawalIntegration()
    register_integrations(withdrawal=other)
    assert registry.withdrawal is other
    with pytest.raises(TypeError):
        register_integrations(withdraw=hook, withdrawal=other)


async def test_sync_hooks_run_in_a_thread_and_async_hooks_are_awaited() -> None:
    loop_thread = threading.get_ident()

    def sync_hook(value: int) -> tuple[int, int]:
        return value * 2, threading.get_ident()

    async def async_hook(value: int) -> tuple[int, int]:
        return value * 3, threading.get_ident()

    doubled, sync_thread = await call_hook(sync_hook, 2)
    tripled, async_thread = await call_hook(async_hook, 2)
    assert (doubled, tripled) == (4, 6)
    assert sync_thread != loop_thread
    assert async_thread == loop_thread


def test_the_integrations_module_is_imported_and_registers() -> None:
    module = types.ModuleType("my_test_anchor")
    module.__dict__["hook"] = DepositIntegration()
    exec(  # noqa: S102
        "from killick.integrations import register_integrations\n"
        "register_integrations(deposit=hook)\n",
        module.__dict__,
    )
    sys.modules.pop("my_test_anchor", None)
    assert registry.deposit is module.__dict__["hook"]
    with pytest.raises(IntegrationImportError, match="INTEGRATIONS"):
        load_integrations("no_such_anchor_module_xyz")


def test_default_fee_is_fixed_plus_percent_rounded() -> None:
    asset = Asset(
        code="USD",
        issuer="G",
        significant_decimals=2,
        deposit_fee_fixed=Decimal("1"),
        deposit_fee_percent=Decimal("0.5"),
    )
    fee = default_fee(
        {"operation": "deposit", "asset": asset, "amount": Decimal("101"), "asset_code": "USD"}
    )
    assert fee == Decimal("1.51")
    asset.withdrawal_fee_fixed = None
    assert default_fee(
        {"operation": "withdraw", "asset": asset, "amount": Decimal("5"), "asset_code": "USD"}
    ) == Decimal("0.00")
