"""Database models: assets, transactions, the event outbox and the configuration version.

Money columns are ``Amount`` (integer stroops, exact everywhere); muxed ids and memos are
strings (muxed ids are unsigned 64-bit). Every status change goes through
``killick.transactions.transition``; nothing else writes ``Transaction.status``.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from killick.columns import Amount, UTCDateTime, utcnow
from killick.encryption import SeedCipher

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only auto-increments an INTEGER PRIMARY KEY, not a BIGINT one.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Asset(Base):
    """A Stellar asset the anchor issues or distributes, with its fees and limits."""

    __tablename__ = "asset"
    __table_args__ = (UniqueConstraint("code", "issuer"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(12))
    issuer: Mapped[str] = mapped_column(String(56))
    distribution_account: Mapped[str | None] = mapped_column(String(56))
    distribution_seed_encrypted: Mapped[str | None] = mapped_column(Text)
    significant_decimals: Mapped[int] = mapped_column(Integer, default=2)
    symbol: Mapped[str] = mapped_column(String(8), default="$")
    name: Mapped[str | None] = mapped_column(String(20))

    deposit_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    deposit_fee_fixed: Mapped[Decimal | None] = mapped_column(Amount)
    deposit_fee_percent: Mapped[Decimal | None] = mapped_column(Amount)
    deposit_min_amount: Mapped[Decimal | None] = mapped_column(Amount)
    deposit_max_amount: Mapped[Decimal | None] = mapped_column(Amount)

    withdrawal_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    withdrawal_fee_fixed: Mapped[Decimal | None] = mapped_column(Amount)
    withdrawal_fee_percent: Mapped[Decimal | None] = mapped_column(Amount)
    withdrawal_min_amount: Mapped[Decimal | None] = mapped_column(Amount)
    withdrawal_max_amount: Mapped[Decimal | None] = mapped_column(Amount)

    sep6_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    sep24_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    sep31_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    sep38_enabled: Mapped[bool] = mapped_column(Boolean, default=False)

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def asset_identifier(self) -> str:
        """The SEP-38 form, ``stellar:CODE:ISSUER``."""
        return f"stellar:{self.code}:{self.issuer}"

    def set_distribution_seed(self, cipher: SeedCipher, seed: str) -> None:
        self.distribution_seed_encrypted = cipher.encrypt(seed)

    def distribution_seed(self, cipher: SeedCipher) -> str | None:
        if self.distribution_seed_encrypted is None:
            return None
        return cipher.decrypt(self.distribution_seed_encrypted)

    def __repr__(self) -> str:  # never includes the seed
        return f"Asset({self.code}:{self.issuer})"


def _new_id() -> str:
    return str(uuid.uuid4())


class Transaction(Base):
    """One SEP-6 (later SEP-24/31) deposit or withdrawal: every 4.3 field plus internals."""

    __tablename__ = "transaction"
    __table_args__ = (
        Index("ix_transaction_principal_started", "principal", "started_at", "id"),
        Index("ix_transaction_principal_asset_started", "principal", "asset_id", "started_at"),
        Index("ix_transaction_status", "status"),
        Index("ix_transaction_stellar_transaction_id", "stellar_transaction_id"),
        Index("ix_transaction_external_transaction_id", "external_transaction_id"),
        UniqueConstraint("withdraw_anchor_account", "withdraw_memo"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=_new_id)
    protocol: Mapped[str] = mapped_column(String(8), default="sep6")
    kind: Mapped[str] = mapped_column(String(24))
    status: Mapped[str] = mapped_column(String(40))
    status_eta: Mapped[int | None] = mapped_column(Integer)
    message: Mapped[str | None] = mapped_column(Text)
    more_info_url: Mapped[str | None] = mapped_column(Text)

    asset_id: Mapped[int] = mapped_column(ForeignKey("asset.id"))
    asset: Mapped[Asset] = relationship(lazy="joined", innerjoin=True)

    # Who created it (the SEP-10 token's subject): the owner for every read.
    principal: Mapped[str] = mapped_column(String(120))
    stellar_account: Mapped[str] = mapped_column(String(56))
    account_memo: Mapped[str | None] = mapped_column(String(20))
    muxed_account: Mapped[str | None] = mapped_column(String(69))
    client_domain: Mapped[str | None] = mapped_column(String(255))
    on_change_callback: Mapped[str | None] = mapped_column(Text)
    claimable_balance_supported: Mapped[bool] = mapped_column(Boolean, default=False)

    amount_expected: Mapped[Decimal | None] = mapped_column(Amount)
    amount_in: Mapped[Decimal | None] = mapped_column(Amount)
    amount_in_asset: Mapped[str | None] = mapped_column(String(128))
    amount_out: Mapped[Decimal | None] = mapped_column(Amount)
    amount_out_asset: Mapped[str | None] = mapped_column(String(128))
    amount_fee: Mapped[Decimal | None] = mapped_column(Amount)
    amount_fee_asset: Mapped[str | None] = mapped_column(String(128))
    fee_details: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    quote_id: Mapped[str | None] = mapped_column(String(36))

    from_address: Mapped[str | None] = mapped_column(String(255))
    to_address: Mapped[str | None] = mapped_column(String(255))
    external_extra: Mapped[str | None] = mapped_column(String(255))
    external_extra_text: Mapped[str | None] = mapped_column(String(255))
    deposit_memo: Mapped[str | None] = mapped_column(String(128))
    deposit_memo_type: Mapped[str | None] = mapped_column(String(8))
    withdraw_anchor_account: Mapped[str | None] = mapped_column(String(69))
    withdraw_memo: Mapped[str | None] = mapped_column(String(128))
    withdraw_memo_type: Mapped[str | None] = mapped_column(String(8))

    funding_method: Mapped[str | None] = mapped_column(String(64))
    country_code: Mapped[str | None] = mapped_column(String(3))
    lang: Mapped[str | None] = mapped_column(String(16))
    customer_id: Mapped[str | None] = mapped_column(String(64))
    location_id: Mapped[str | None] = mapped_column(String(64))
    wallet_name: Mapped[str | None] = mapped_column(String(255))
    wallet_url: Mapped[str | None] = mapped_column(Text)
    dest: Mapped[str | None] = mapped_column(String(255))
    dest_extra: Mapped[str | None] = mapped_column(String(255))
    refund_memo: Mapped[str | None] = mapped_column(String(128))
    refund_memo_type: Mapped[str | None] = mapped_column(String(8))

    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    user_action_required_by: Mapped[datetime | None] = mapped_column(UTCDateTime)

    stellar_transaction_id: Mapped[str | None] = mapped_column(String(64))
    external_transaction_id: Mapped[str | None] = mapped_column(String(255))
    refunded: Mapped[bool] = mapped_column(Boolean, default=False)
    refunds: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    required_info_message: Mapped[str | None] = mapped_column(Text)
    required_info_updates: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    instructions: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    how: Mapped[str | None] = mapped_column(Text)
    extra_info: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    claimable_balance_id: Mapped[str | None] = mapped_column(String(80))

    # Stellar submission (never-pay-twice): saved before the envelope is submitted.
    envelope_xdr: Mapped[str | None] = mapped_column(Text)
    envelope_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    fee_bump_hash: Mapped[str | None] = mapped_column(String(64))
    submission_source: Mapped[str | None] = mapped_column(String(56))
    submission_sequence: Mapped[str | None] = mapped_column(String(20))
    submission_attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Incoming withdrawal payment: where the observer found it.
    paging_token: Mapped[str | None] = mapped_column(String(32))
    # Work leases shared by worker processes.
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Withdrawals: when execute_outgoing_transaction last returned for this transaction.
    outgoing_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __init__(self, **values: Any) -> None:
        # The id and times exist from construction: the first transition() and the
        # hooks see them before the row is flushed.
        values.setdefault("id", _new_id())
        now = values.pop("_now", None) or utcnow()
        values.setdefault("started_at", now)
        values.setdefault("updated_at", now)
        super().__init__(**values)

    def save(self) -> None:
        """Accepted for django-polaris compatibility: Killick persists the transaction
        itself when the hook returns, in the same database transaction."""

    @property
    def is_deposit(self) -> bool:
        return self.kind in ("deposit", "deposit-exchange")

    def __repr__(self) -> str:
        return f"Transaction({self.id}, {self.kind}, {self.status})"


class Event(Base):
    """The outbox: one row per status change, written in the same database transaction.

    The callbacks loop delivers undelivered rows to the wallet's callback URL, in order
    per transaction (or customer); ``next_attempt_at`` NULL on an undelivered row with a
    URL means it gave up (``last_error`` says why). See docs/workers.md.
    """

    __tablename__ = "event"
    __table_args__ = (Index("ix_event_pending", "delivered_at", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))
    transaction_id: Mapped[str | None] = mapped_column(
        ForeignKey("transaction.id", ondelete="CASCADE"), index=True
    )
    # Declared so the unit of work inserts a new transaction before its first event.
    transaction: Mapped[Transaction | None] = relationship(lazy="raise")
    customer_id: Mapped[str | None] = mapped_column(String(64), index=True)
    from_status: Mapped[str | None] = mapped_column(String(40))
    to_status: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(64), default="killick")
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    callback_url: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    # The callbacks loop's lease, so that two workers never deliver the same event.
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ConfigVersion(Base):
    """A counter bumped whenever assets change, so every process rebuilds its caches."""

    __tablename__ = "config_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)


class UsedChallenge(Base):
    """SEP-10 challenges already exchanged for a token, kept until they expire.

    In the database so that several server processes agree: one token per challenge.
    """

    __tablename__ = "sep10_used_challenge"

    hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class AuthAccountMode(Base):
    """Whether a classic account authenticates as shared (memo/muxed) or alone (S10-33)."""

    __tablename__ = "sep10_account_mode"

    account: Mapped[str] = mapped_column(String(56), primary_key=True)
    shared: Mapped[bool] = mapped_column(Boolean)
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Submission(Base):
    """A signed Stellar transaction that pays deposits, saved before it is submitted.

    The never-pay-twice protocol: the envelope and its hash are committed before the
    first submission, so after any crash or unclear answer Killick can look the hash up
    instead of guessing. ``status``: ``pending`` (saved; maybe submitted), ``applied``
    (in a ledger, successful or not: see ``successful``), ``abandoned`` (provably never
    applicable: a ledger closed after ``max_time`` while the source's sequence stayed
    below ``sequence``). ``plan`` maps each deposit id to what the envelope does for it.
    """

    __tablename__ = "stellar_submission"
    __table_args__ = (Index("ix_stellar_submission_status", "status"),)

    hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    fee_bump_hash: Mapped[str | None] = mapped_column(String(64))
    source_account: Mapped[str] = mapped_column(String(56))
    sequence: Mapped[str] = mapped_column(String(20))
    max_time: Mapped[int] = mapped_column(BigInteger)
    envelope_xdr: Mapped[str] = mapped_column(Text)
    plan: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    successful: Mapped[bool | None] = mapped_column(Boolean)
    result_codes: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    ledger: Mapped[int | None] = mapped_column(BigInteger)
    submit_attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ChannelAccount(Base):
    """A source account for payment envelopes, so several can be in flight at once.

    Held under a lease; never reused while ``pending_hash`` names an unresolved
    submission. A distribution account with no channels acts as its own channel
    (``seed_encrypted`` empty: its seed is the asset's).
    """

    __tablename__ = "channel_account"

    public_key: Mapped[str] = mapped_column(String(56), primary_key=True)
    seed_encrypted: Mapped[str | None] = mapped_column(Text)
    pending_hash: Mapped[str | None] = mapped_column(String(64))
    last_sequence: Mapped[str | None] = mapped_column(String(20))
    leased_by: Mapped[str | None] = mapped_column(String(64))
    leased_until: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:  # never includes the seed
        return f"ChannelAccount({self.public_key})"


class StellarCursor(Base):
    """Where the observer of one receiving account is in its payment stream.

    Advanced in the same database transaction as the matches it produced; held under a
    lease so exactly one process observes an account at a time.
    """

    __tablename__ = "stellar_cursor"

    account: Mapped[str] = mapped_column(String(56), primary_key=True)
    cursor: Mapped[str] = mapped_column(String(32), default="now")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    leased_by: Mapped[str | None] = mapped_column(String(64))
    leased_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class UnmatchedPayment(Base):
    """An incoming payment no withdrawal could take: kept with every detail, never dropped."""

    __tablename__ = "unmatched_payment"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    paging_token: Mapped[str] = mapped_column(String(32), unique=True)
    account: Mapped[str] = mapped_column(String(69))
    stellar_transaction_id: Mapped[str] = mapped_column(String(64))
    from_address: Mapped[str] = mapped_column(String(69))
    amount: Mapped[Decimal] = mapped_column(Amount)
    asset_code: Mapped[str | None] = mapped_column(String(12))
    asset_issuer: Mapped[str | None] = mapped_column(String(56))
    memo: Mapped[str | None] = mapped_column(String(128))
    memo_type: Mapped[str | None] = mapped_column(String(8))
    transaction_id: Mapped[str | None] = mapped_column(String(36))
    reason: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    refunded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WorkerHeartbeat(Base):
    """Each worker loop's last beat: what /health and operators read."""

    __tablename__ = "worker_heartbeat"

    worker_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    loop: Mapped[str] = mapped_column(String(32), primary_key=True)
    beat_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    detail: Mapped[str | None] = mapped_column(Text)


class KycCustomer(Base):
    """A SEP-12 customer id the customer integration issued, and the principal owning it.

    Killick enforces ownership itself: a wallet reaches a customer id only when its
    SEP-10 principal owns it, whatever the anchor's hook would answer.
    """

    __tablename__ = "kyc_customer"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    principal: Mapped[str] = mapped_column(String(140), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class KycCustomerStatus(Base):
    """The last customer status Killick learned per SEP-12 ``type`` ("" when none), so
    a change is noticed (and recorded in the outbox) exactly once."""

    __tablename__ = "kyc_customer_status"

    customer_id: Mapped[str] = mapped_column(
        ForeignKey("kyc_customer.id", ondelete="CASCADE"), primary_key=True
    )
    type: Mapped[str] = mapped_column(String(64), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class KycCallback(Base):
    """The wallet's ``PUT /customer/callback`` URL for one principal (a new one replaces
    it; it ends once the customer reaches ACCEPTED or REJECTED, as SEP-12 says)."""

    __tablename__ = "kyc_callback"

    principal: Mapped[str] = mapped_column(String(140), primary_key=True)
    url: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class KycFile(Base):
    """A file id ``POST /customer/files`` handed out, and the principal that uploaded it."""

    __tablename__ = "kyc_file"

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    principal: Mapped[str] = mapped_column(String(140), index=True)
    customer_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OffChainAsset(Base):
    """An asset the anchor trades off the network (SEP-38 ``iso4217:BRL``), and how users
    deliver it to the anchor (``sell``) or receive it (``buy``). Changed only through
    ``killick.offchain_assets``."""

    __tablename__ = "offchain_asset"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # "iso4217:BRL"
    decimals: Mapped[int] = mapped_column(Integer, default=2)
    country_codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    # [{"name": "PIX", "description": "..."}]: SEP-38 /info's delivery methods.
    sell_delivery_methods: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    buy_delivery_methods: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ExchangePair(Base):
    """One direction the anchor trades in: users sell ``sell_asset`` to buy ``buy_asset``
    (SEP-38 identifiers; one side off-chain, the other a Stellar asset)."""

    __tablename__ = "exchange_pair"

    sell_asset: Mapped[str] = mapped_column(String(128), primary_key=True)
    buy_asset: Mapped[str] = mapped_column(String(128), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Quote(Base):
    """A SEP-38 firm quote: reserved for the principal that asked for it, kept (and
    readable) after it expires, used by at most one transaction (``transaction_id``).

    Prices are exact decimal text (they may need more than 7 places); amounts are
    ``Amount`` (asset decimals are at most 7). ``sell_decimals``/``buy_decimals`` are the
    assets' decimals when the quote was made, so its answer never changes afterwards.
    """

    __tablename__ = "sep38_quote"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=_new_id)
    principal: Mapped[str] = mapped_column(String(140))
    client_domain: Mapped[str | None] = mapped_column(String(255))
    context: Mapped[str] = mapped_column(String(8))
    sell_asset: Mapped[str] = mapped_column(String(128))
    buy_asset: Mapped[str] = mapped_column(String(128))
    sell_amount: Mapped[Decimal | None] = mapped_column(Amount)
    buy_amount: Mapped[Decimal | None] = mapped_column(Amount)
    sell_decimals: Mapped[int] = mapped_column(Integer)
    buy_decimals: Mapped[int] = mapped_column(Integer)
    price: Mapped[str | None] = mapped_column(String(64))
    total_price: Mapped[str | None] = mapped_column(String(64))
    fee: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    sell_delivery_method: Mapped[str | None] = mapped_column(String(64))
    buy_delivery_method: Mapped[str | None] = mapped_column(String(64))
    country_code: Mapped[str | None] = mapped_column(String(16))
    requested_expire_after: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    transaction_id: Mapped[str | None] = mapped_column(String(36), unique=True)

    def __init__(self, **values: Any) -> None:
        values.setdefault("id", _new_id())
        values.setdefault("created_at", utcnow())
        super().__init__(**values)

    def __repr__(self) -> str:
        return f"Quote({self.id}, {self.sell_asset} -> {self.buy_asset})"


class RateLimitWindow(Base):
    """A fixed-window request counter per client and endpoint group (``killick/limits.py``).

    In the database so that every server process counts against the same limit; one row
    per bucket, reset in place when a new window starts.
    """

    __tablename__ = "rate_limit_window"

    bucket: Mapped[str] = mapped_column(String(200), primary_key=True)
    window: Mapped[int] = mapped_column("window_no", BigInteger, index=True)
    hits: Mapped[int] = mapped_column(Integer)
