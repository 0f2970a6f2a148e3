"""Ledger entries as plain dataclasses, plus the copy-on-write view transactions apply through.

Everything here is plain data (ints, strings, bytes, dicts) so that a later `--state FILE`
can serialise it without knowing about XDR.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from .amounts import INT64_MAX

AUTHORIZED_FLAG = 1
AUTHORIZED_TO_MAINTAIN_LIABILITIES_FLAG = 2

AUTH_REQUIRED = 1
AUTH_REVOCABLE = 2
AUTH_IMMUTABLE = 4
AUTH_CLAWBACK_ENABLED = 8
ALL_ACCOUNT_FLAGS = AUTH_REQUIRED | AUTH_REVOCABLE | AUTH_IMMUTABLE | AUTH_CLAWBACK_ENABLED

MAX_SIGNERS = 20


def asset_key(code: str, issuer: str) -> str:
    """The key trustlines are stored under: "CODE:ISSUER"."""
    return f"{code}:{issuer}"


def asset_type_for(code: str) -> str:
    return "credit_alphanum4" if len(code) <= 4 else "credit_alphanum12"


@dataclass
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

    @property
    def subentry_count(self) -> int:
        return len(self.signers) + len(self.data) + len(self.trustlines)

    def min_balance(self, base_reserve: int, extra_subentries: int = 0) -> int:
        """(2 + subentries) * base reserve: what the account must keep."""
        return (2 + self.subentry_count + extra_subentries) * base_reserve

    def available_balance(self, base_reserve: int) -> int:
        return self.balance - self.min_balance(base_reserve)


class AccountView:
    """Copy-on-write access to accounts, so a failing transaction can be thrown away whole.

    A view reads through to its parent (a plain dict or another view); `load` hands out a
    private copy that is written back to the parent only on `commit`.
    """

    def __init__(self, parent: dict[str, Account] | AccountView) -> None:
        self._parent = parent
        self._changed: dict[str, Account] = {}

    def peek(self, account_id: str) -> Account | None:
        """Read-only access: callers must not mutate the returned account."""
        if account_id in self._changed:
            return self._changed[account_id]
        if isinstance(self._parent, AccountView):
            return self._parent.peek(account_id)
        return self._parent.get(account_id)

    def load(self, account_id: str) -> Account | None:
        """Writable copy of an account (None if it does not exist)."""
        if account_id in self._changed:
            return self._changed[account_id]
        found = self.peek(account_id)
        if found is None:
            return None
        mine = copy.deepcopy(found)
        self._changed[account_id] = mine
        return mine

    def create(self, account: Account) -> None:
        self._changed[account.account_id] = account

    @property
    def changed_ids(self) -> set[str]:
        return set(self._changed)

    def commit(self) -> set[str]:
        """Write changes into the parent; returns the ids that changed."""
        if isinstance(self._parent, AccountView):
            self._parent._changed.update(self._changed)
        else:
            self._parent.update(self._changed)
        ids = set(self._changed)
        self._changed = {}
        return ids
