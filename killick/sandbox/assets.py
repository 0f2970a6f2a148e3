"""Asset statistics for /assets, computed from trustlines on demand."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .amounts import format_stroops
from .records import ZERO, flags_json
from .state import (
    AUTHORIZED_FLAG,
    AUTHORIZED_TO_MAINTAIN_LIABILITIES_FLAG,
    Account,
    ClaimableBalance,
    asset_key,
    asset_type_for,
)


@dataclass
class _Stats:
    code: str
    issuer: str
    authorized: int = 0
    maintain: int = 0
    unauthorized: int = 0
    authorized_amount: int = 0
    maintain_amount: int = 0
    unauthorized_amount: int = 0
    claimable_balances: int = 0
    claimable_amount: int = 0

    @property
    def paging_token(self) -> str:
        return f"{self.code}_{self.issuer}_{asset_type_for(self.code)}"


def asset_records(
    accounts: dict[str, Account],
    base: str,
    *,
    code: str | None,
    issuer: str | None,
    balances: dict[str, ClaimableBalance],
    cursor: str | None,
    descending: bool,
    limit: int,
) -> list[dict[str, Any]]:
    stats: dict[tuple[str, str], _Stats] = {}
    for account in accounts.values():
        for line in account.trustlines.values():
            if (code and line.code != code) or (issuer and line.issuer != issuer):
                continue
            entry = stats.setdefault((line.code, line.issuer), _Stats(line.code, line.issuer))
            if line.flags & AUTHORIZED_FLAG:
                entry.authorized += 1
                entry.authorized_amount += line.balance
            elif line.flags & AUTHORIZED_TO_MAINTAIN_LIABILITIES_FLAG:
                entry.maintain += 1
                entry.maintain_amount += line.balance
            else:
                entry.unauthorized += 1
                entry.unauthorized_amount += line.balance
    for balance in balances.values():
        entry = stats.get(tuple(balance.asset.split(":", 1)))  # type: ignore[arg-type]
        if entry is not None and asset_key(entry.code, entry.issuer) == balance.asset:
            entry.claimable_balances += 1
            entry.claimable_amount += balance.amount
    ordered = sorted(stats.values(), key=lambda s: s.paging_token, reverse=descending)
    if cursor:
        ordered = [
            s
            for s in ordered
            if (s.paging_token < cursor if descending else s.paging_token > cursor)
        ]
    return [_asset_json(s, accounts.get(s.issuer), base) for s in ordered[:limit]]


def _asset_json(stats: _Stats, issuer: Account | None, base: str) -> dict[str, Any]:
    domain = issuer.home_domain if issuer else ""
    toml = f"https://{domain}/.well-known/stellar.toml" if domain else ""
    return {
        "_links": {"toml": {"href": toml}},
        "asset_type": asset_type_for(stats.code),
        "asset_code": stats.code,
        "asset_issuer": stats.issuer,
        "paging_token": stats.paging_token,
        "num_accounts": stats.authorized,
        "amount": format_stroops(stats.authorized_amount),
        "accounts": {
            "authorized": stats.authorized,
            "authorized_to_maintain_liabilities": stats.maintain,
            "unauthorized": stats.unauthorized,
        },
        "balances": {
            "authorized": format_stroops(stats.authorized_amount),
            "authorized_to_maintain_liabilities": format_stroops(stats.maintain_amount),
            "unauthorized": format_stroops(stats.unauthorized_amount),
        },
        "num_claimable_balances": stats.claimable_balances,
        "claimable_balances_amount": format_stroops(stats.claimable_amount),
        "num_liquidity_pools": 0,
        "liquidity_pools_amount": ZERO,
        "num_contracts": 0,
        "contracts_amount": ZERO,
        "flags": flags_json(issuer.flags if issuer else 0),
    }
