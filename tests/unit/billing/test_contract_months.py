"""A year and a half of one contract with changes in the middle of months, every statement line checked against
numbers worked out by hand (prices of the shipped catalogue: module mail 4.00 USD per user, 2.00 per deskless
user; module website 9.00 USD per business; extension storage-100 4.00 EUR per business; shares 12 % then 6 %).

The contract: sold by partner "reseller", started 2025-01-15 with modules mail and website and two users;
a third user from 2025-03-10; storage-100 from 2025-06-20; website removed from 2025-09-05; the first
anniversary is 2026-01-15; a deskless user from 2026-01-20."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from smb_suite.billing.contract import Change, Contract, Seat, State, UserKind
from smb_suite.billing.invoice import month_lines
from smb_suite.billing.money import Month
from smb_suite.billing.share import share_lines, totals
from smb_suite.config import BillingConfig

day = datetime.date.fromisoformat
MAIL_WEBSITE = State(modules=frozenset({"mail", "website"}))
WITH_STORAGE = State(modules=frozenset({"mail", "website"}), extensions=frozenset({"storage-100"}))
WITHOUT_WEBSITE = State(modules=frozenset({"mail"}), extensions=frozenset({"storage-100"}))
CONTRACT = Contract(
    business="bakery",
    partner="reseller",
    start=day("2025-01-15"),
    changes=(
        Change(day("2025-01-15"), MAIL_WEBSITE),
        Change(day("2025-06-20"), WITH_STORAGE),
        Change(day("2025-09-05"), WITHOUT_WEBSITE),
    ),
    seats=(
        Seat(UserKind.STANDARD, day("2025-01-15")),
        Seat(UserKind.STANDARD, day("2025-01-15")),
        Seat(UserKind.STANDARD, day("2025-03-10")),
        Seat(UserKind.DESKLESS, day("2026-01-20")),
    ),
)

# month: [(contract year, currency, billed, rate, share)], worked out by hand:
STATEMENTS = {
    # 17 days (15-31) of 31: mail 2 users x 17 days x 4.00 / 31 = 4.387 -> 4.39; website 17 x 9.00 / 31 = 4.935
    # -> 4.94; billed 9.33, share 12 % = 1.1196 -> 1.12
    "2024-12": [],
    "2025-01": [(1, "USD", "9.33", "12", "1.12")],
    "2025-02": [(1, "USD", "17.00", "12", "2.04")],  # 2 x 4.00 + 9.00
    # mail: 2 users x 31 days + 1 user x 22 days (10-31) = 84 user-days x 4.00 / 31 = 10.839 -> 10.84; + 9.00
    "2025-03": [(1, "USD", "19.84", "12", "2.38")],  # 19.84 x 12 % = 2.3808
    "2025-04": [(1, "USD", "21.00", "12", "2.52")],
    "2025-05": [(1, "USD", "21.00", "12", "2.52")],
    # storage 11 days (20-30) of 30 x 4.00 = 1.4667 -> 1.47; 12 % = 0.1764 -> 0.18
    "2025-06": [(1, "USD", "21.00", "12", "2.52"), (1, "EUR", "1.47", "12", "0.18")],
    "2025-07": [(1, "USD", "21.00", "12", "2.52"), (1, "EUR", "4.00", "12", "0.48")],
    "2025-08": [(1, "USD", "21.00", "12", "2.52"), (1, "EUR", "4.00", "12", "0.48")],
    # website 4 days (1-4) of 30 x 9.00 = 1.20, mail 12.00: 13.20 x 12 % = 1.584 -> 1.58
    "2025-09": [(1, "USD", "13.20", "12", "1.58"), (1, "EUR", "4.00", "12", "0.48")],
    "2025-10": [(1, "USD", "12.00", "12", "1.44"), (1, "EUR", "4.00", "12", "0.48")],
    "2025-11": [(1, "USD", "12.00", "12", "1.44"), (1, "EUR", "4.00", "12", "0.48")],
    "2025-12": [(1, "USD", "12.00", "12", "1.44"), (1, "EUR", "4.00", "12", "0.48")],
    # year 1 is days 1-14, year 2 days 15-31. Year 1: mail 3 x 14 = 42 user-days x 4.00 / 31 = 5.419 -> 5.42
    # (12 % = 0.6504 -> 0.65); storage 14 x 4.00 / 31 = 1.806 -> 1.81 (0.2172 -> 0.22). Year 2: mail 3 x 17 = 51
    # x 4.00 / 31 = 6.581 -> 6.58, deskless 12 days (20-31) x 2.00 / 31 = 0.774 -> 0.77: 7.35 (6 % = 0.441
    # -> 0.44); storage 17 x 4.00 / 31 = 2.194 -> 2.19 (6 % = 0.1314 -> 0.13)
    "2026-01": [
        (1, "USD", "5.42", "12", "0.65"),
        (1, "EUR", "1.81", "12", "0.22"),
        (2, "USD", "7.35", "6", "0.44"),
        (2, "EUR", "2.19", "6", "0.13"),
    ],
    **{
        month: [(2, "USD", "14.00", "6", "0.84"), (2, "EUR", "4.00", "6", "0.24")]  # 3 x 4.00 + 2.00
        for month in ("2026-02", "2026-03", "2026-04", "2026-05", "2026-06")
    },
}


@pytest.mark.parametrize("month", list(STATEMENTS))
def test_every_statement_line_of_a_year_and_a_half_matches_the_hand_worked_numbers(month: str) -> None:
    lines = share_lines(month_lines(CONTRACT, BillingConfig(), Month.parse(month)), BillingConfig())
    got = [(line.contract_year, line.currency, line.billed, line.rate, line.share) for line in lines]
    expected = [
        (year, cur, Decimal(billed), Decimal(rate), Decimal(share))
        for year, cur, billed, rate, share in STATEMENTS[month]
    ]
    assert sorted(got) == sorted(expected)


def test_invoice_lines_count_user_days_and_split_at_the_anniversary() -> None:
    lines = month_lines(CONTRACT, BillingConfig(), Month.parse("2026-01"))
    got = {(line.contract_year, line.item, line.unit, line.quantity, line.amount) for line in lines}
    assert got == {
        (1, "module mail", "standard", 42, Decimal("5.42")),
        (1, "extension storage-100", "business", 14, Decimal("1.81")),
        (2, "module mail", "standard", 51, Decimal("6.58")),
        (2, "module mail", "deskless", 12, Decimal("0.77")),
        (2, "extension storage-100", "business", 17, Decimal("2.19")),
    }


def test_totals_are_per_currency() -> None:
    lines = share_lines(month_lines(CONTRACT, BillingConfig(), Month.parse("2026-01")), BillingConfig())
    assert [(t.currency, t.billed, t.share) for t in totals(lines)] == [
        ("EUR", Decimal("4.00"), Decimal("0.35")),
        ("USD", Decimal("12.77"), Decimal("1.09")),
    ]


def test_a_plan_bills_each_named_user_per_month_and_deskless_users_less() -> None:
    contract = Contract(
        "shop",
        None,
        day("2025-04-01"),
        (Change(day("2025-04-01"), State(plan="suite")),),
        (Seat(UserKind.STANDARD, day("2025-01-01")), Seat(UserKind.DESKLESS, day("2025-01-01"), day("2025-04-16"))),
    )
    lines = month_lines(contract, BillingConfig(), Month.parse("2025-04"))
    # suite: 15.00 USD per user; the deskless user (5.00) is removed on the 16th: 15 days x 5.00 / 30 = 2.50
    assert {(line.unit, line.quantity, line.amount) for line in lines} == {
        ("standard", 30, Decimal("15.00")),
        ("deskless", 15, Decimal("2.50")),
    }
