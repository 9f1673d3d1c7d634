"""An owner's self-service over a real data folder (ops/selfservice.py): the offer follows the catalogue and the
business's tier, each change is a dated subscription change made by the owner, the plan stays the partner's,
and a storage downgrade that does not fit the usage is refused and changes nothing."""

from __future__ import annotations

import datetime

import pytest

from smb_suite.config import MIB
from smb_suite.directory.model import OPERATOR, Principal, Role
from smb_suite.errors import PermissionDenied, QuotaExceeded
from smb_suite.ops import billing, selfservice, users
from smb_suite.services import Services
from tests.unit.billing.conftest import Clock, business


def _owner(services: Services, name: str) -> Principal:
    user = services.directory.find_user(f"boss@{name}.test")
    assert user is not None
    return users.principal_of(user)


def _tier(services: Services, name: str) -> str:
    return services.tenants.get(OPERATOR, name).tier


def test_an_owner_upgrades_storage_and_adds_a_module_itself(services: Services, clock: Clock) -> None:
    clock.at("2026-05-10")
    business(services, "reseller")
    business(services, "bakery", "reseller")
    billing.set_subscription(services, OPERATOR, "bakery", billing.Edit(add_modules=["mail"]))
    owner = _owner(services, "bakery")
    offer = selfservice.offer(services, owner, services.tenants.get(OPERATOR, "bakery").id)
    assert [item.name for item in offer.add_extensions] == ["storage-100"]
    assert [item.name for item in offer.add_modules] == ["website", "collaboration"]
    assert [item.name for item in offer.remove_modules] == ["mail"]
    clock.at("2026-05-12")
    selfservice.change(services, owner, "bakery", "add-extension", "storage-100")
    contract = selfservice.change(services, owner, "bakery", "add-module", "website")
    assert _tier(services, "bakery") == "plus"
    assert contract.changes[-1].day == datetime.date(2026, 5, 12)
    assert contract.changes[-1].state.modules == {"mail", "website"}
    assert contract.changes[-1].state.extensions == {"storage-100"}
    assert contract.partner == "reseller"
    offer = selfservice.offer(services, owner, services.tenants.get(OPERATOR, "bakery").id)
    assert offer.add_extensions == [] and [item.name for item in offer.remove_extensions] == ["storage-100"]


def test_the_plan_other_businesses_and_plain_users_are_not_the_owners_to_change(
    services: Services, clock: Clock
) -> None:
    clock.at("2026-05-10")
    business(services, "bakery")
    business(services, "florist")
    users.add_user(services, OPERATOR, "clerk@bakery.test", "pw-12345678")
    owner = _owner(services, "bakery")
    with pytest.raises(PermissionDenied, match="plan"):
        billing.set_subscription(services, owner, "bakery", billing.Edit(plan="suite"))
    with pytest.raises(PermissionDenied):
        selfservice.change(services, _owner(services, "florist"), "bakery", "add-module", "mail")
    clerk = services.directory.find_user("clerk@bakery.test")
    assert clerk is not None and clerk.role is Role.USER
    with pytest.raises(PermissionDenied):
        selfservice.change(services, users.principal_of(clerk), "bakery", "add-module", "mail")
    with pytest.raises(PermissionDenied, match="dates"):
        billing.set_subscription(
            services, owner, "bakery", billing.Edit(add_modules=["mail"]), datetime.date(2026, 5, 1)
        )
    assert services.subscriptions.contract(services.tenants.get(OPERATOR, "bakery").id) is None


def test_a_storage_downgrade_below_the_usage_is_refused_and_changes_nothing(services: Services, clock: Clock) -> None:
    clock.at("2026-05-10")
    business(services, "bakery")
    owner = _owner(services, "bakery")
    assert selfservice.offer(services, owner, services.tenants.get(OPERATOR, "bakery").id).add_extensions == []
    selfservice.change(services, owner, "bakery", "add-module", "mail")
    selfservice.change(services, owner, "bakery", "add-extension", "storage-100")
    tenant_id = services.tenants.get(OPERATOR, "bakery").id
    with services.engine.begin() as conn:
        services.quota.reserve(conn, tenant_id, 60 * MIB)  # more than starter's 50 MB
    with pytest.raises(QuotaExceeded, match="free"):
        selfservice.change(services, owner, "bakery", "remove-extension", "storage-100")
    assert _tier(services, "bakery") == "plus"
    contract = services.subscriptions.contract(tenant_id)
    assert contract is not None and contract.changes[-1].state.extensions == {"storage-100"}
