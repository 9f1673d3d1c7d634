"""Cents, months and contract years: the calendar arithmetic every billing computation shares."""

from __future__ import annotations

import calendar
import datetime
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from smb_suite.errors import InvalidInput, SmbSuiteError

CENT = Decimal("0.01")
_MONTH = re.compile(r"(\d{4})-(\d{2})")


def to_cents(amount: Decimal) -> Decimal:
    """Round to cents, half up (0.005 -> 0.01, 2.675 -> 2.68): the rule accountants expect, applied once per
    invoice line and once per share, never to intermediate per-day amounts."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class Month:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        """'2026-01' -> Month(2026, 1); anything else is refused with the expected form."""
        match = _MONTH.fullmatch(text.strip())
        if match is None or not 1 <= int(match[2]) <= 12 or int(match[1]) < 1:
            raise InvalidInput(f"expected a month as YYYY-MM, not {text!r}")
        return cls(int(match[1]), int(match[2]))

    @property
    def days(self) -> int:
        return calendar.monthrange(self.year, self.month)[1]

    def each_day(self) -> Iterator[datetime.date]:
        first = datetime.date(self.year, self.month, 1)
        return (first + datetime.timedelta(days=offset) for offset in range(self.days))

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


def parse_day(text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text.strip())
    except ValueError:
        raise SmbSuiteError(f"expected a day as YYYY-MM-DD, not {text!r}") from None


def anniversary(start: datetime.date, years: int) -> datetime.date:
    """`start` plus whole years; a contract started on 29 February has its anniversary on 28 February."""
    try:
        return start.replace(year=start.year + years)
    except ValueError:
        return start.replace(year=start.year + years, day=28)


def contract_year(start: datetime.date, day: datetime.date) -> int:
    """1 from the start day to the day before the first anniversary, then 2, 3 ... (day >= start)."""
    years = day.year - start.year
    return years if anniversary(start, years) > day else years + 1
