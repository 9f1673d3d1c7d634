"""Properties of the billing computations over generated contracts: a whole month costs exactly the monthly
price, the statement adds up to the invoice lines, and the month and day parsers raise only our own error."""

from __future__ import annotations

import contextlib
import datetime
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from smb_suite.billing.contract import Change, Contract, Seat, State, UserKind
from smb_suite.billing.invoice import month_lines
from smb_suite.billing.money import Month, parse_day, to_cents
from smb_suite.billing.share import share_lines, totals
from smb_suite.config import BillingConfig
from smb_suite.errors import SmbSuiteError

CATALOGUE = BillingConfig()
DAYS = st.dates(datetime.date(2024, 1, 1), datetime.date(2027, 12, 31))
STATES = st.builds(
    State,
    plan=st.sampled_from([None, "suite"]),
    modules=st.just(frozenset({"mail"})) | st.just(frozenset()),
    extensions=st.sampled_from([frozenset(), frozenset({"storage-100"})]),
)


@st.composite
def contracts(draw: st.DrawFn) -> Contract:
    start = draw(DAYS)
    days = sorted(draw(st.lists(DAYS.filter(lambda day: day >= start), max_size=4)))
    changes = tuple(Change(day, draw(STATES)) for day in [start, *days])
    seats = []
    for first in draw(st.lists(DAYS, max_size=5)):
        length = draw(st.none() | st.integers(1, 800))
        end = None if length is None else first + datetime.timedelta(days=length)
        seats.append(Seat(draw(st.sampled_from(list(UserKind))), first, end))
    return Contract("bakery", "reseller", start, changes, tuple(seats))


@settings(max_examples=150, deadline=None)
@given(contracts(), st.integers(2024, 2027), st.integers(1, 12))
def test_the_statement_adds_up_to_the_invoice_lines(contract: Contract, year: int, month: int) -> None:
    lines = month_lines(contract, CATALOGUE, Month(year, month))
    statement = share_lines(lines, CATALOGUE)
    for total in totals(statement):
        assert total.billed == sum(line.amount for line in lines if line.currency == total.currency)
    for line in statement:
        assert line.share == to_cents(line.billed * line.rate / 100) and line.billed >= 0


@settings(max_examples=100, deadline=None)
@given(st.integers(2024, 2027), st.integers(1, 12), st.integers(0, 20))
def test_a_whole_month_costs_exactly_the_monthly_price(year: int, month: int, users: int) -> None:
    first = datetime.date(year, month, 1)
    contract = Contract(
        "shop", None, first, (Change(first, State(plan="suite")),), (Seat(UserKind.STANDARD, first),) * users
    )
    amounts = [line.amount for line in month_lines(contract, CATALOGUE, Month(year, month))]
    assert sum(amounts, Decimal(0)) == Decimal("15.00") * users


@given(st.text(max_size=20))
def test_month_and_day_parsers_raise_only_our_error(text: str) -> None:
    for parse in (Month.parse, parse_day):
        with contextlib.suppress(SmbSuiteError):
            parse(text)
