"""Billing use cases: a business's subscription (plan, modules, storage extensions, partner who sold it), the
kind of each named user, a partner's monthly statement and the month's invoice lines of every business."""

from __future__ import annotations

import datetime
from collections.abc import Collection
from dataclasses import dataclass

from smb_suite.billing.contract import Contract, State, UserKind
from smb_suite.billing.invoice import Line, month_lines
from smb_suite.billing.money import Month
from smb_suite.billing.share import PartnerTotal, ShareLine, Total, partner_totals, share_lines, totals
from smb_suite.config import MIB
from smb_suite.directory.model import Principal, Role, Tenant, User
from smb_suite.errors import InvalidInput, PermissionDenied, QuotaExceeded
from smb_suite.quota import format_bytes
from smb_suite.services import Services


@dataclass(frozen=True, slots=True)
class Edit:
    """What to change in a subscription; `plan` "" keeps the plan, "none" drops it."""

    plan: str = ""
    add_modules: Collection[str] = ()
    remove_modules: Collection[str] = ()
    add_extensions: Collection[str] = ()
    remove_extensions: Collection[str] = ()


@dataclass(frozen=True, slots=True)
class Statement:
    partner: str
    month: Month
    lines: list[ShareLine]
    totals: list[Total]


def show_subscription(services: Services, actor: Principal, tenant: str) -> Contract:
    found = services.tenants.get(actor, tenant)
    contract = services.subscriptions.contract(found.id)
    if contract is None:
        raise InvalidInput(f"{found.name} has no subscription yet (smb-suite billing subscription set)")
    return contract


def set_subscription(
    services: Services,
    actor: Principal,
    tenant: str,
    edit: Edit,
    day: datetime.date | None = None,
    partner: str | None = None,
) -> Contract:
    """Record a change from `day` (default today); the first one starts the contract, sold by `partner` (default:
    the partner the business belongs to). Adding or removing a storage extension moves the business to the
    extension's tier or back (refused, changing nothing, when its usage does not fit). The operator, the
    business's partner, or its owner (modules and extensions only: ops/selfservice.py); only the operator dates
    a change or names who sold it. The partner and the operator hear of an owner's change by mail."""
    found = services.tenants.get(actor, tenant)
    owner = actor.role is Role.OWNER and actor.tenant_id == found.id
    if owner and edit.plan:
        raise PermissionDenied("your partner or the operator changes the plan")
    if not owner:
        services.tenants.require_steward(actor, found)
    if actor.role is not Role.OPERATOR and (partner is not None or day not in (None, services.subscriptions.today())):
        raise PermissionDenied("only the operator dates a subscription change or names who sold it")
    contract = services.subscriptions.contract(found.id)
    if contract is not None and partner is not None:
        raise InvalidInput(f"{found.name}'s contract was sold by {contract.partner or 'the operator'}; it stays so")
    before = State() if contract is None else contract.changes[-1].state
    after = _edited(services, before, edit)
    if contract is not None and after == before:
        raise InvalidInput(f"{found.name} already subscribes to {describe(after)}: nothing to change")
    when = day or services.subscriptions.today()
    tier = _tier_after(services, found, before, after)
    partner_id = found.partner_id if partner is None else services.tenants.get(actor, partner).id
    if tier != found.tier:
        services.quota.change_tier(found.id, tier)
    services.subscriptions.record(found.id, when, after, actor.name, partner_id)
    services.audit.record(actor, "subscription.set", f"{found.name} from {when}: {describe(after)}", found.id)
    if owner:
        services.notices.subscription_changed(found.id, actor.name, when, describe(before), describe(after))
    return show_subscription(services, actor, tenant)


def check_first(services: Services, business: str, tier: str, edit: Edit) -> State:
    """The first subscription of a business still to be created on `tier`, refused as set_subscription would."""
    after = _edited(services, State(), edit)
    _tier_after(services, Tenant(0, business, tier), State(), after)
    return after


def _edited(services: Services, state: State, edit: Edit) -> State:
    catalogue = services.config.billing
    plan = state.plan if edit.plan == "" else None if edit.plan == "none" else edit.plan
    if plan is not None and plan not in catalogue.plans:
        raise InvalidInput(f"no plan {plan!r} in the catalogue; plans: {', '.join(catalogue.plans)}")
    for name in (*edit.add_modules, *edit.remove_modules):
        if name not in catalogue.modules:
            raise InvalidInput(f"no module {name!r} in the catalogue; modules: {', '.join(catalogue.modules)}")
    for name in (*edit.add_extensions, *edit.remove_extensions):
        if name not in catalogue.extensions:
            raise InvalidInput(f"no extension {name!r} in the catalogue; extensions: {', '.join(catalogue.extensions)}")
    modules = (state.modules | set(edit.add_modules)) - set(edit.remove_modules)
    extensions = (state.extensions | set(edit.add_extensions)) - set(edit.remove_extensions)
    included = modules & set(catalogue.plans[plan].includes) if plan is not None else set()
    if included:
        raise InvalidInput(f"the plan {plan} already includes {', '.join(sorted(included))}")
    if plan is None and not modules:
        raise InvalidInput("a subscription needs a plan or at least one module")
    return State(plan, frozenset(modules), frozenset(extensions))


def _tier_after(services: Services, tenant: Tenant, before: State, after: State) -> str:
    tier = tenant.tier
    for name in sorted(before.extensions - after.extensions):
        tier = services.config.billing.extensions[name].from_tier
    for name in sorted(after.extensions - before.extensions):
        extension = services.config.billing.extensions[name]
        if tier != extension.from_tier:
            raise InvalidInput(f"{name} extends the tier {extension.from_tier}; {tenant.name} is on {tier}")
        tier = extension.tier
    return tier


def describe(state: State) -> str:
    """The subscription in a few words, for listings and the audit log."""
    parts = [f"plan {state.plan}"] if state.plan else []
    parts += [f"module {name}" for name in sorted(state.modules)]
    parts += [f"extension {name}" for name in sorted(state.extensions)]
    return ", ".join(parts)


def set_user_kind(
    services: Services, actor: Principal, address: str, kind: UserKind, day: datetime.date | None = None
) -> User:
    """Bill a named user as standard or deskless from `day` (default today). A deskless user gets the deskless
    mailbox limit (refused, changing nothing, when its mail does not fit); a standard one loses that limit."""
    user = services.directory.get_user(actor, address)
    if actor.role not in (Role.OPERATOR, Role.PARTNER, Role.OWNER):
        raise PermissionDenied("only the owner of the business changes how its users are billed")
    limit = services.config.billing.deskless_mailbox_mb * MIB if kind is UserKind.DESKLESS else None
    used, _ = services.quota.mailbox_usage(user.id)
    if limit is not None and used > limit:
        raise QuotaExceeded(f"{user.address} uses {format_bytes(used)}, more than a deskless mailbox holds")
    services.subscriptions.set_kind(user, kind, day or services.subscriptions.today())
    services.quota.set_mailbox_limit(user.id, limit)
    services.audit.record(actor, "user.kind", f"{user.address}: {kind}", user.tenant_id)
    return user


def statement(services: Services, actor: Principal, partner: str, month: Month) -> Statement:
    """What the partner earns for `month` from each business it sold (the operator, or the partner itself)."""
    found = services.tenants.get(actor, partner)
    if actor.role is not Role.OPERATOR and not (actor.role is Role.PARTNER and actor.tenant_id == found.id):
        raise PermissionDenied("only the operator and the partner itself see a partner's statement")
    lines = share_lines(
        (line for contract in services.subscriptions.sold_by(found.id) for line in _lines(services, contract, month)),
        services.config.billing,
    )
    return Statement(found.name, month, lines, totals(lines))


def summary(services: Services, actor: Principal, month: Month) -> list[PartnerTotal]:
    """The operator's view of a month: per partner (first, "" for what the operator sold itself) and currency,
    the businesses billed, the amount billed and the partner's share."""
    if actor.role is not Role.OPERATOR:
        raise PermissionDenied("only the operator sees the summary of all partners")
    by_partner: dict[str, list[Line]] = {}
    for contract in services.subscriptions.contracts():
        by_partner.setdefault(contract.partner or "", []).extend(_lines(services, contract, month))
    return [
        total
        for partner, lines in sorted(by_partner.items())
        for total in partner_totals(partner, share_lines(lines, services.config.billing))
    ]


def invoice_lines(services: Services, actor: Principal, month: Month) -> list[Line]:
    """What every business owes for `month`, line by line (for an accounting system). Operator only."""
    if actor.role is not Role.OPERATOR:
        raise PermissionDenied("only the operator exports invoice lines")
    return [line for contract in services.subscriptions.contracts() for line in _lines(services, contract, month)]


def _lines(services: Services, contract: Contract, month: Month) -> list[Line]:
    return month_lines(contract, services.config.billing, month)
