"""Subscriptions over a real SQLite data folder with a controlled clock: named users counted from the directory
day by day (added, made deskless, removed in the middle of a month), and who may read a partner's statement.
Numbers worked out by hand with the shipped catalogue (suite: 15.00 USD per user, 5.00 per deskless user)."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from smb_suite.billing.contract import UserKind
from smb_suite.billing.money import Month
from smb_suite.directory.model import OPERATOR, Principal, Role
from smb_suite.errors import InvalidInput, PermissionDenied
from smb_suite.ops import billing, users
from smb_suite.services import Services
from tests.unit.billing.conftest import Clock, business


def test_users_added_made_deskless_and_removed_mid_month_are_billed_by_the_day(
    services: Services, clock: Clock
) -> None:
    clock.at("2026-03-01")
    business(services, "reseller")
    business(services, "bakery", "reseller")
    billing.set_subscription(services, OPERATOR, "bakery", billing.Edit(plan="suite"))
    clock.at("2026-03-11")
    users.add_user(services, OPERATOR, "ann@bakery.test", "pw-5678", Role.USER)
    clock.at("2026-03-21")
    billing.set_user_kind(services, OPERATOR, "ann@bakery.test", UserKind.DESKLESS)
    clock.at("2026-03-26")
    users.remove_user(services, OPERATOR, "ann@bakery.test")

    march = billing.invoice_lines(services, OPERATOR, Month(2026, 3))
    # boss 31 days + ann standard 11th-20th (10 days) = 41 user-days x 15.00 / 31 = 19.839 -> 19.84;
    # ann deskless 21st-25th = 5 days x 5.00 / 31 = 0.806 -> 0.81
    assert [(line.unit, line.quantity, line.amount) for line in march] == [
        ("standard", 41, Decimal("19.84")),
        ("deskless", 5, Decimal("0.81")),
    ]
    statement = billing.statement(services, OPERATOR, "reseller", Month(2026, 3))
    # 19.84 + 0.81 = 20.65; 12 % = 2.478 -> 2.48
    assert [(line.business, line.billed, line.rate, line.share) for line in statement.lines] == [
        ("bakery", Decimal("20.65"), Decimal("12"), Decimal("2.48"))
    ]
    april = billing.invoice_lines(services, OPERATOR, Month(2026, 4))
    assert [(line.unit, line.quantity, line.amount) for line in april] == [("standard", 30, Decimal("15.00"))]


def test_history_is_appended_never_rewritten(services: Services, clock: Clock) -> None:
    clock.at("2026-03-10")
    business(services, "bakery")
    billing.set_subscription(services, OPERATOR, "bakery", billing.Edit(add_modules=["mail"]))
    with pytest.raises(InvalidInput, match="already changed on 2026-03-10"):
        billing.set_subscription(
            services, OPERATOR, "bakery", billing.Edit(add_modules=["website"]), datetime.date(2026, 3, 9)
        )
    with pytest.raises(InvalidInput, match="nothing to change"):
        billing.set_subscription(services, OPERATOR, "bakery", billing.Edit(add_modules=["mail"]))
    with pytest.raises(InvalidInput, match="since 2026-03-10"):
        billing.set_user_kind(services, OPERATOR, "boss@bakery.test", UserKind.DESKLESS, datetime.date(2026, 3, 1))
    contract = billing.show_subscription(services, OPERATOR, "bakery")
    assert [change.day for change in contract.changes] == [datetime.date(2026, 3, 10)]


def test_only_the_operator_and_the_partner_itself_read_its_statement(services: Services, clock: Clock) -> None:
    clock.at("2026-03-01")
    for name in ("reseller", "rival"):
        business(services, name)
    ids = {name: services.tenants.get(OPERATOR, name).id for name in ("reseller", "rival")}
    own = Principal(Role.PARTNER, tenant_id=ids["reseller"], name="p@reseller.test")
    other = Principal(Role.PARTNER, tenant_id=ids["rival"], name="p@rival.test")
    assert billing.statement(services, own, "reseller", Month(2026, 3)).lines == []
    with pytest.raises(PermissionDenied):
        billing.statement(services, other, "reseller", Month(2026, 3))
    with pytest.raises(PermissionDenied):
        billing.invoice_lines(services, own, Month(2026, 3))
