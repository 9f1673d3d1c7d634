"""Cents rounding, months and contract years."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from smb_suite.billing.money import Month, contract_year, to_cents
from smb_suite.errors import SmbSuiteError


@pytest.mark.parametrize(
    ("amount", "cents"),
    [("0.005", "0.01"), ("2.675", "2.68"), ("0.0049", "0.00"), ("0.855", "0.86"), ("-0.005", "-0.01"), ("7", "7.00")],
)
def test_amounts_are_rounded_to_cents_half_up(amount: str, cents: str) -> None:
    assert to_cents(Decimal(amount)) == Decimal(cents)


def test_a_month_knows_its_days_and_refuses_other_forms() -> None:
    assert Month.parse("2024-02").days == 29
    assert [day.day for day in Month.parse("2025-02").each_day()] == list(range(1, 29))
    for text in ("2025-13", "2025-1", "January", "2025-01-01"):
        with pytest.raises(SmbSuiteError, match="YYYY-MM"):
            Month.parse(text)


@pytest.mark.parametrize(
    ("start", "day", "year"),
    [
        ("2025-01-15", "2025-01-15", 1),
        ("2025-01-15", "2026-01-14", 1),
        ("2025-01-15", "2026-01-15", 2),
        ("2025-01-15", "2027-01-15", 3),
        ("2024-02-29", "2025-02-27", 1),
        ("2024-02-29", "2025-02-28", 2),
    ],
)
def test_the_contract_year_changes_on_each_anniversary(start: str, day: str, year: int) -> None:
    assert contract_year(datetime.date.fromisoformat(start), datetime.date.fromisoformat(day)) == year
