"""Money rules: Decimal only, at most 7 places, exact integer stroops."""

from __future__ import annotations

from decimal import Decimal

import pytest

from killick.money import (
    MAX_AMOUNT,
    AmountError,
    as_json_number,
    format_amount,
    from_stroops,
    parse_amount,
    round_amount,
    to_stroops,
)


def test_largest_stellar_amount_round_trips_exactly() -> None:
    assert MAX_AMOUNT == Decimal("922337203685.4775807")
    assert to_stroops(MAX_AMOUNT) == 2**63 - 1
    assert from_stroops(2**63 - 1) == MAX_AMOUNT


@pytest.mark.parametrize(
    "bad", ["", "abc", "-1", "0", "1.12345678", "NaN", "Infinity", "922337203685.4775808"]
)
def test_invalid_amounts_are_refused(bad: str) -> None:
    with pytest.raises(AmountError):
        parse_amount(bad)


def test_zero_allowed_only_when_asked() -> None:
    assert parse_amount("0", allow_zero=True) == 0


def test_stroops_refuse_rather_than_round() -> None:
    with pytest.raises(AmountError):
        to_stroops(Decimal("0.00000001"))


def test_round_half_up_and_format() -> None:
    assert round_amount(Decimal("1.005"), 2) == Decimal("1.01")
    assert format_amount(Decimal("10"), 2) == "10.00"
    assert format_amount(None) is None


def test_json_numbers_for_info_only() -> None:
    assert as_json_number(Decimal("5")) == 5
    assert as_json_number(Decimal("0.5")) == 0.5
