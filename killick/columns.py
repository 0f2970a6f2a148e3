"""Column types that keep money, times and big ids exact on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, DateTime
from sqlalchemy.types import TypeDecorator

from killick.money import from_stroops, to_stroops


class Amount(TypeDecorator[Decimal]):
    """A Decimal stored as integer stroops: exact on both databases, sortable, summable."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect) -> int | None:  # type: ignore[no-untyped-def]
        if value is None:
            return None
        return to_stroops(Decimal(value))

    def process_result_value(self, value: int | None, dialect) -> Decimal | None:  # type: ignore[no-untyped-def]
        return None if value is None else from_stroops(int(value))


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime; SQLite stores it naive, so the zone is put back on read."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:  # type: ignore[no-untyped-def]
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; Killick stores aware UTC times only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:  # type: ignore[no-untyped-def]
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)
