"""A partner's revenue share: per business and contract year, the amount billed in the month, the rate of that
contract year (the first year's rate, then the later years' rate), and the share, rounded to cents half up."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from smb_suite.billing.invoice import Line
from smb_suite.billing.money import Month, to_cents
from smb_suite.config import BillingConfig


@dataclass(frozen=True, slots=True)
class ShareLine:
    business: str
    month: Month
    contract_year: int
    currency: str
    billed: Decimal  # the sum of the business's invoice lines of that year and currency
    rate: Decimal  # percent
    share: Decimal


@dataclass(frozen=True, slots=True)
class Total:
    currency: str
    billed: Decimal
    share: Decimal


@dataclass(frozen=True, slots=True)
class PartnerTotal:
    """One line of the operator's monthly summary: a partner ("" for what the operator sold) and a currency."""

    partner: str
    currency: str
    businesses: int
    billed: Decimal
    share: Decimal


def rate(rates: BillingConfig, year: int) -> Decimal:
    return rates.first_year_percent if year == 1 else rates.later_years_percent


def share_lines(lines: Iterable[Line], rates: BillingConfig) -> list[ShareLine]:
    """One statement line per business, contract year and currency of the invoice lines."""
    billed: dict[tuple[str, Month, int, str], Decimal] = {}
    for line in lines:
        key = (line.business, line.month, line.contract_year, line.currency)
        billed[key] = billed.get(key, Decimal(0)) + line.amount
    return [
        ShareLine(
            business, month, year, currency, amount, rate(rates, year), to_cents(amount * rate(rates, year) / 100)
        )
        for (business, month, year, currency), amount in billed.items()
    ]


def totals(lines: Iterable[ShareLine]) -> list[Total]:
    """Billed and share per currency, in alphabetical order of currency."""
    sums: dict[str, tuple[Decimal, Decimal]] = {}
    for line in lines:
        billed, share = sums.get(line.currency, (Decimal(0), Decimal(0)))
        sums[line.currency] = (billed + line.billed, share + line.share)
    return [Total(currency, billed, share) for currency, (billed, share) in sorted(sums.items())]


def partner_totals(partner: str, lines: Sequence[ShareLine]) -> list[PartnerTotal]:
    """The partner's totals per currency with the number of businesses billed in it; what the operator sold
    itself (partner "") earns no share."""
    return [
        PartnerTotal(
            partner,
            total.currency,
            len({line.business for line in lines if line.currency == total.currency}),
            total.billed,
            total.share if partner else Decimal("0.00"),
        )
        for total in totals(lines)
    ]
