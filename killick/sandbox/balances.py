"""/claimable_balances: filtering and paging the live claimable balance entries.

Horizon orders them by (last_modified_ledger, id), which its paging token "<ledger>-<id>"
encodes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .records import claimable_balance_json
from .state import ClaimableBalance

if TYPE_CHECKING:
    from .network import SandboxNetwork


def _order_key(balance: ClaimableBalance) -> tuple[int, str]:
    return balance.last_modified_ledger, balance.balance_id


def _cursor_key(cursor: str) -> tuple[int, str] | None:
    ledger, _, balance_id = cursor.partition("-")
    try:
        return int(ledger), balance_id
    except ValueError:
        return None


def balance_json(network: SandboxNetwork, balance: ClaimableBalance, base: str) -> dict[str, Any]:
    ledger = network.history.ledger(balance.last_modified_ledger)
    return claimable_balance_json(balance, base, ledger.closed_at if ledger else None)


def balance_records(
    network: SandboxNetwork,
    base: str,
    *,
    claimant: str | None,
    asset: str | None,
    sponsor: str | None,
    cursor: str | None,
    descending: bool,
    limit: int,
) -> list[dict[str, Any]]:
    found = [
        b
        for b in network.claimable_balances.values()
        if (asset is None or b.asset == asset)
        and (sponsor is None or b.sponsor == sponsor)
        and (claimant is None or any(dest == claimant for dest, _ in b.claimants))
    ]
    found.sort(key=_order_key, reverse=descending)
    after = _cursor_key(cursor) if cursor else None
    if after is not None:
        found = [
            b for b in found if (_order_key(b) < after if descending else _order_key(b) > after)
        ]
    return [balance_json(network, b, base) for b in found[:limit]]
