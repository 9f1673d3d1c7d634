"""Self-service of a business's owner: what it can add to or drop from its subscription (modules sold apart,
storage extensions) and the change itself, recorded as a subscription change from today like any other. The
plan stays the partner's and the operator's to change. Dropping an extension moves the business back to its
smaller tier, refused when its usage does not fit (the rule of every downgrade). The business's partner and the
operator hear of every owner's change by mail (delivery/notices.py)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from smb_suite.billing.contract import Contract, State
from smb_suite.directory.model import Principal, Role
from smb_suite.errors import InvalidInput, PermissionDenied
from smb_suite.ops import billing
from smb_suite.services import Services

ACTIONS = ("add-module", "remove-module", "add-extension", "remove-extension")


@dataclass(frozen=True, slots=True)
class Item:
    """A module or an extension of the catalogue, as an owner is offered it."""

    name: str
    description: str
    price: Decimal
    currency: str
    per: str  # "user" or "business"
    tier: str = ""  # extensions: the tier it gives


@dataclass(frozen=True, slots=True)
class Offer:
    """What the business has and what it may add or drop itself."""

    state: State | None
    add_modules: list[Item]
    remove_modules: list[Item]
    add_extensions: list[Item]
    remove_extensions: list[Item]


def _modules(services: Services, names: list[str]) -> list[Item]:
    catalogue = services.config.billing.modules
    return [
        Item(n, catalogue[n].description or n, catalogue[n].price, catalogue[n].currency, catalogue[n].per)
        for n in names
    ]


def _extensions(services: Services, names: list[str]) -> list[Item]:
    catalogue = services.config.billing.extensions
    return [
        Item(n, e.description or n, e.price, e.currency, "business", e.tier)
        for n, e in ((n, catalogue[n]) for n in names)
    ]


def offer(services: Services, actor: Principal, tenant_id: int) -> Offer:
    """The owner's choices for its business (the partner and the operator see the same)."""
    services.directory.require_tenant(actor, tenant_id)
    tier = services.quota.current(tenant_id).tier
    contract = services.subscriptions.contract(tenant_id)
    state = None if contract is None else contract.changes[-1].state
    current = state or State()
    included = set(services.config.billing.plans[current.plan].includes) if current.plan else set()
    catalogue = services.config.billing
    addable = [n for n in catalogue.modules if n not in current.modules and n not in included]
    upgrades = [  # an extension alone is no subscription: it extends one
        n for n, e in catalogue.extensions.items() if state and e.from_tier == tier and n not in current.extensions
    ]
    return Offer(
        state,
        _modules(services, addable),
        _modules(services, sorted(current.modules)),
        _extensions(services, upgrades),
        _extensions(services, sorted(current.extensions)),
    )


def change(services: Services, actor: Principal, tenant: str, action: str, item: str) -> Contract:
    """One self-service change from today (an owner of the business, its partner, or the operator)."""
    if action not in ACTIONS:
        raise InvalidInput(f"unknown change {action!r}")
    if actor.role is Role.USER:
        raise PermissionDenied("only the owner of the business changes its subscription")
    edit = billing.Edit(
        add_modules=[item] if action == "add-module" else [],
        remove_modules=[item] if action == "remove-module" else [],
        add_extensions=[item] if action == "add-extension" else [],
        remove_extensions=[item] if action == "remove-extension" else [],
    )
    return billing.set_subscription(services, actor, tenant, edit)
