"""Ledger entries as plain dataclasses, plus the copy-on-write view transactions apply through.

Everything here is plain data (ints, strings, bytes, dicts) so that `--state FILE` can
serialise it without knowing about XDR.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from .amounts import INT64_MAX

AUTHORIZED_FLAG = 1
AUTHORIZED_TO_MAINTAIN_LIABILITIES_FLAG = 2
TRUSTLINE_CLAWBACK_ENABLED_FLAG = 4

AUTH_REQUIRED = 1
AUTH_REVOCABLE = 2
AUTH_IMMUTABLE = 4
AUTH_CLAWBACK_ENABLED = 8
ALL_ACCOUNT_FLAGS = AUTH_REQUIRED | AUTH_REVOCABLE | AUTH_IMMUTABLE | AUTH_CLAWBACK_ENABLED

CLAIMABLE_BALANCE_CLAWBACK_ENABLED_FLAG = 1

MAX_SIGNERS = 20

NATIVE = "native"


def asset_key(code: str, issuer: str) -> str:
    """The key trustlines are stored under: "CODE:ISSUER" (Horizon's canonical asset string)."""
    return f"{code}:{issuer}"


def asset_type_for(code: str) -> str:
    return "credit_alphanum4" if len(code) <= 4 else "credit_alphanum12"


@dataclass(slots=True)
class TrustLine:
    code: str
    issuer: str
    balance: int = 0
    limit: int = INT64_MAX
    flags: int = AUTHORIZED_FLAG
    last_modified_ledger: int = 0

    @property
    def authorized(self) -> bool:
        return bool(self.flags & AUTHORIZED_FLAG)

    @property
    def authorized_to_maintain_liabilities(self) -> bool:
        return bool(self.flags & (AUTHORIZED_FLAG | AUTHORIZED_TO_MAINTAIN_LIABILITIES_FLAG))

    @property
    def asset_type(self) -> str:
        return asset_type_for(self.code)


@dataclass
class Account:
    account_id: str
    balance: int
    sequence: int
    master_weight: int = 1
    low_threshold: int = 0
    med_threshold: int = 0
    high_threshold: int = 0
    flags: int = 0
    home_domain: str = ""
    inflation_dest: str | None = None
    signers: dict[str, int] = field(default_factory=dict)
    """Extra signers by strkey (G… ed25519, T… pre-auth tx, X… sha256 hash) → weight."""
    data: dict[str, bytes] = field(default_factory=dict)
    trustlines: dict[str, TrustLine] = field(default_factory=dict)
    last_modified_ledger: int = 0
    last_modified_time: int = 0
    sequence_ledger: int = 0
    sequence_time: int = 0
    num_sponsoring: int = 0
    """Reserves this account pays for entries it sponsors (claimable balances it created)."""
    num_sponsored: int = 0

    @property
    def subentry_count(self) -> int:
        return len(self.signers) + len(self.data) + len(self.trustlines)

    def min_balance(self, base_reserve: int, extra_subentries: int = 0) -> int:
        """(2 + subentries + sponsoring - sponsored) * base reserve: what the account must keep."""
        entries = self.subentry_count + extra_subentries + self.num_sponsoring - self.num_sponsored
        return (2 + entries) * base_reserve

    def available_balance(self, base_reserve: int) -> int:
        return self.balance - self.min_balance(base_reserve)

    def clone(self) -> Account:
        """A copy safe to mutate (much cheaper than deepcopy on the apply path)."""
        twin = copy.copy(self)
        twin.signers = dict(self.signers)
        twin.data = dict(self.data)
        twin.trustlines = {key: copy.copy(line) for key, line in self.trustlines.items()}
        return twin


@dataclass
class ClaimableBalance:
    balance_id: str
    """Hex of the XDR ClaimableBalanceID ("00000000" + sha256), as Horizon shows it."""
    asset: str
    """"native" or "CODE:ISSUER"."""
    amount: int
    sponsor: str
    claimants: list[tuple[str, dict[str, Any]]]
    """(destination, predicate) with relative times already made absolute, as core stores it."""
    flags: int = 0
    last_modified_ledger: int = 0

    @property
    def reserve_entries(self) -> int:
        """Base reserves the sponsor pays: one per claimant."""
        return len(self.claimants)

    def clone(self) -> ClaimableBalance:
        return copy.copy(self)


class LedgerState:
    """The committed ledger entries: the root every LedgerView reads through to.

    Committed objects are replaced, never mutated, so older references (the lag fault keeps
    some) stay as they were.
    """

    def __init__(self) -> None:
        self.accounts: dict[str, Account] = {}
        self.claimable_balances: dict[str, ClaimableBalance] = {}

    def peek(self, account_id: str) -> Account | None:
        return self.accounts.get(account_id)

    def peek_balance(self, balance_id: str) -> ClaimableBalance | None:
        return self.claimable_balances.get(balance_id)


class LedgerView:
    """Copy-on-write access to ledger entries, so a failing transaction can be thrown away whole.

    A view reads through to its parent (the LedgerState or another view); `load` hands out a
    private copy that is written back to the parent only on `commit`. `None` marks a deletion.
    """

    def __init__(self, parent: LedgerState | LedgerView) -> None:
        self._parent = parent
        self._accounts: dict[str, Account | None] = {}
        self._balances: dict[str, ClaimableBalance | None] = {}

    # ----- accounts --------------------------------------------------------------------

    def peek(self, account_id: str) -> Account | None:
        """Read-only access: callers must not mutate the returned account."""
        if account_id in self._accounts:
            return self._accounts[account_id]
        return self._parent.peek(account_id)

    def load(self, account_id: str) -> Account | None:
        """Writable copy of an account (None if it does not exist)."""
        if account_id in self._accounts:
            return self._accounts[account_id]
        found = self._parent.peek(account_id)
        if found is None:
            return None
        mine = found.clone()
        self._accounts[account_id] = mine
        return mine

    def create(self, account: Account) -> None:
        self._accounts[account.account_id] = account

    def delete(self, account_id: str) -> None:
        self._accounts[account_id] = None

    # ----- claimable balances ----------------------------------------------------------

    def peek_balance(self, balance_id: str) -> ClaimableBalance | None:
        if balance_id in self._balances:
            return self._balances[balance_id]
        return self._parent.peek_balance(balance_id)

    def create_balance(self, balance: ClaimableBalance) -> None:
        self._balances[balance.balance_id] = balance

    def delete_balance(self, balance_id: str) -> None:
        self._balances[balance_id] = None

    # ----- commit ----------------------------------------------------------------------

    def commit(self) -> tuple[dict[str, Account | None], dict[str, ClaimableBalance | None]]:
        """Write changes into the parent; returns what changed (None = deleted)."""
        accounts, balances = self._accounts, self._balances
        parent = self._parent
        if isinstance(parent, LedgerView):
            parent._accounts.update(accounts)
            parent._balances.update(balances)
        else:
            apply_changes(parent, accounts, balances)
        self._accounts, self._balances = {}, {}
        return accounts, balances


def apply_changes(
    state: LedgerState,
    accounts: dict[str, Account | None],
    balances: dict[str, ClaimableBalance | None],
) -> None:
    """Write a ledger's changed entries into the committed state (also used to replay)."""
    for account_id, account in accounts.items():
        if account is None:
            state.accounts.pop(account_id, None)
        else:
            state.accounts[account_id] = account
    for balance_id, balance in balances.items():
        if balance is None:
            state.claimable_balances.pop(balance_id, None)
        else:
            state.claimable_balances[balance_id] = balance
