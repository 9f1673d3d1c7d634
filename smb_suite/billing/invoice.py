"""A month's invoice lines of one contract: each priced item's days (user-days for per-user prices) at its
monthly price, prorated by day and rounded once to cents.

A monthly price counts price x quantity / days-in-month for each day, so a whole month costs exactly the price.
A line is split at a contract anniversary (one line per contract year), so that the partner's statement can
apply each year's rate to the very amounts the business is billed."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import TypeVar

from smb_suite.billing.contract import Contract, State, UserKind
from smb_suite.billing.money import Month, contract_year, to_cents
from smb_suite.config import BillingConfig
from smb_suite.errors import SmbSuiteError

PER_BUSINESS = "business"
_Item = TypeVar("_Item")


@dataclass(frozen=True, slots=True)
class Line:
    """What one business owes for one item in one month (and one contract year)."""

    business: str
    month: Month
    contract_year: int
    item: str  # "plan suite", "module mail", "extension storage-100"
    unit: str  # "standard" or "deskless" (per user), "business" (per business)
    description: str
    currency: str
    unit_price: Decimal  # per month
    quantity: int  # user-days, or days for a per-business price
    amount: Decimal  # unit_price x quantity / days of the month, to cents

    @property
    def days(self) -> int:
        return self.month.days


@dataclass(frozen=True, slots=True)
class _Charge:
    item: str
    unit: str
    description: str
    currency: str
    unit_price: Decimal


def month_lines(contract: Contract, catalogue: BillingConfig, month: Month) -> list[Line]:
    """The invoice lines of `contract` for `month` (none before it starts)."""
    quantities: dict[tuple[int, _Charge], int] = {}
    for day in month.each_day():
        state = contract.state_on(day)
        if state is None:
            continue
        year = contract_year(contract.start, day)
        for charge, quantity in _daily_charges(contract, catalogue, state, day):
            if quantity:
                quantities[(year, charge)] = quantities.get((year, charge), 0) + quantity
    return [
        Line(
            contract.business,
            month,
            year,
            charge.item,
            charge.unit,
            charge.description,
            charge.currency,
            charge.unit_price,
            quantity,
            to_cents(charge.unit_price * quantity / month.days),
        )
        for (year, charge), quantity in sorted(quantities.items(), key=lambda entry: entry[0][0])
    ]


def _daily_charges(
    contract: Contract, catalogue: BillingConfig, state: State, day: datetime.date
) -> Iterator[tuple[_Charge, int]]:
    users = contract.users_on(day)
    if state.plan is not None:
        plan = _find(catalogue.plans, state.plan, "plan", contract.business)
        yield from _per_user(
            f"plan {state.plan}", plan.description, plan.currency, plan.price, plan.deskless_price, users
        )
    for name in sorted(state.modules):
        module = _find(catalogue.modules, name, "module", contract.business)
        if module.per == PER_BUSINESS:
            yield _Charge(f"module {name}", PER_BUSINESS, module.description, module.currency, module.price), 1
        else:
            yield from _per_user(
                f"module {name}", module.description, module.currency, module.price, module.deskless_price, users
            )
    for name in sorted(state.extensions):
        extension = _find(catalogue.extensions, name, "extension", contract.business)
        charge = _Charge(f"extension {name}", PER_BUSINESS, extension.description, extension.currency, extension.price)
        yield charge, 1


def _per_user(
    item: str, description: str, currency: str, price: Decimal, deskless: Decimal | None, users: dict[UserKind, int]
) -> Iterator[tuple[_Charge, int]]:
    yield _Charge(item, UserKind.STANDARD, description, currency, price), users[UserKind.STANDARD]
    deskless_price = price if deskless is None else deskless
    yield _Charge(item, UserKind.DESKLESS, description, currency, deskless_price), users[UserKind.DESKLESS]


def _find(items: dict[str, _Item], name: str, kind: str, business: str) -> _Item:
    if name not in items:
        raise SmbSuiteError(f"the subscription of {business} names the {kind} {name!r}, no longer in the catalogue")
    return items[name]
