"""The reference anchor's own data: customers (KYC encrypted at rest) and its bank.

A real anchor has its own user database and bank; this one keeps both in one SQLite file
so the example runs anywhere. Hooks are plain functions (Killick runs them in threads),
so the standard library's sqlite3 is enough.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Any

from killick.encryption import SeedCipher
from killick.settings import load_settings

KYC_FIELDS = (
    "first_name",
    "last_name",
    "email_address",
    "address",
    "bank_account_number",
    "bank_number",
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS customer (
    id TEXT PRIMARY KEY,
    owner TEXT UNIQUE NOT NULL,
    fields_encrypted TEXT NOT NULL,
    rejected INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS bank_deposit (
    transaction_id TEXT PRIMARY KEY,
    amount TEXT,
    arrived_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS bank_payout (
    idempotency_key TEXT PRIMARY KEY,
    amount TEXT NOT NULL,
    sent_at REAL NOT NULL,
    calls INTEGER NOT NULL DEFAULT 1
);
"""


def database_path() -> str:
    return os.environ.get("REFERENCE_ANCHOR_DB", "reference_anchor.db")


@lru_cache(maxsize=1)
def cipher() -> SeedCipher:
    """KYC values are encrypted with the same keys Killick uses for seeds."""
    return SeedCipher(load_settings().encryption_secrets())


@contextmanager
def connect() -> Iterator[sqlite3.Connection]:
    connection = sqlite3.connect(database_path(), timeout=10)
    try:
        connection.executescript(_SCHEMA)
        yield connection
        connection.commit()
    finally:
        connection.close()


@dataclass
class User:
    """An anchor customer, in the shape the SEP-6 guide's example reads."""

    id: str
    owner: str
    fields: dict[str, str] = field(default_factory=dict)
    rejected: bool = False

    def __getattr__(self, name: str) -> Any:
        if name in KYC_FIELDS:
            return self.fields.get(name)
        raise AttributeError(name)

    @property
    def kyc_approved(self) -> bool:
        return not self.rejected and all(self.fields.get(name) for name in KYC_FIELDS)

    @property
    def kyc_rejected(self) -> bool:
        return self.rejected

    def add_transaction(self, transaction: Any) -> None:
        """The guide links users to transactions; Killick already records the owner."""


def user_for_account(owner: str) -> User | None:
    with connect() as db:
        row = db.execute(
            "SELECT id, owner, fields_encrypted, rejected FROM customer WHERE owner = ?", (owner,)
        ).fetchone()
    return _user(row) if row else None


def user_by_id(customer_id: str) -> User | None:
    with connect() as db:
        row = db.execute(
            "SELECT id, owner, fields_encrypted, rejected FROM customer WHERE id = ?",
            (customer_id,),
        ).fetchone()
    return _user(row) if row else None


def _user(row: tuple[str, str, str, int]) -> User:
    fields = json.loads(cipher().decrypt(row[2]))
    return User(id=row[0], owner=row[1], fields=fields, rejected=bool(row[3]))


def save_fields(owner: str, updates: dict[str, str]) -> User:
    user = user_for_account(owner) or User(id=str(uuid.uuid4()), owner=owner)
    user.fields.update(updates)
    encrypted = cipher().encrypt(json.dumps(user.fields))
    with connect() as db:
        db.execute(
            "INSERT INTO customer (id, owner, fields_encrypted) VALUES (?, ?, ?) "
            "ON CONFLICT(owner) DO UPDATE SET fields_encrypted = excluded.fields_encrypted",
            (user.id, owner, encrypted),
        )
    return user


def delete_user(owner: str) -> bool:
    with connect() as db:
        return db.execute("DELETE FROM customer WHERE owner = ?", (owner,)).rowcount > 0


# -- the simulated bank ---------------------------------------------------------------------


def mark_deposit_arrived(transaction_id: str, amount: Decimal | None = None) -> None:
    with connect() as db:
        db.execute(
            "INSERT OR IGNORE INTO bank_deposit (transaction_id, amount, arrived_at) "
            "VALUES (?, ?, ?)",
            (transaction_id, str(amount) if amount is not None else None, time.time()),
        )


def arrived_deposits(transaction_ids: list[str]) -> dict[str, Decimal | None]:
    if not transaction_ids:
        return {}
    marks = ",".join("?" for _ in transaction_ids)
    with connect() as db:
        rows = db.execute(
            f"SELECT transaction_id, amount FROM bank_deposit WHERE transaction_id IN ({marks})",  # noqa: S608
            transaction_ids,
        ).fetchall()
    return {row[0]: Decimal(row[1]) if row[1] else None for row in rows}


def send_payout(idempotency_key: str, amount: Decimal) -> None:
    """Idempotent on the key, as a real bank API must be: a retry never pays twice."""
    with connect() as db:
        db.execute(
            "INSERT INTO bank_payout (idempotency_key, amount, sent_at) VALUES (?, ?, ?) "
            "ON CONFLICT(idempotency_key) DO UPDATE SET calls = calls + 1",
            (idempotency_key, str(amount), time.time()),
        )


def confirmed_payouts(keys: list[str], older_than: float) -> set[str]:
    if not keys:
        return set()
    marks = ",".join("?" for _ in keys)
    with connect() as db:
        rows = db.execute(
            f"SELECT idempotency_key FROM bank_payout WHERE idempotency_key IN ({marks}) "  # noqa: S608
            "AND sent_at <= ?",
            [*keys, time.time() - older_than],
        ).fetchall()
    return {row[0] for row in rows}


def payout_calls(idempotency_key: str) -> int:
    with connect() as db:
        row = db.execute(
            "SELECT calls FROM bank_payout WHERE idempotency_key = ?", (idempotency_key,)
        ).fetchone()
    return int(row[0]) if row else 0
