"""Use cases of the provisioning API (web/api/): a partner's own systems create its customers' businesses, add and
remove their users by kind, change what they subscribe to, suspend and resume them, read their usage.

A partner reaches only its customers (tenants.partner_id = its business), never its own business nor anyone
else's; everything else answers NotFound, the same as a business that does not exist, so names cannot be probed.
The operator reaches every business. No SQL and no HTTP here."""

from __future__ import annotations

from dataclasses import dataclass

from smb_suite.billing.contract import Contract, UserKind
from smb_suite.billing.money import Month
from smb_suite.directory.model import Principal, Role, Tenant, User
from smb_suite.errors import InvalidInput, NotFound, PermissionDenied
from smb_suite.mail.address import parse_address
from smb_suite.ops import billing, tenants, users
from smb_suite.quota import Usage
from smb_suite.services import Services

USER_ROLES = (Role.USER, Role.OWNER)
HISTORY_DAYS = 31


@dataclass(frozen=True, slots=True)
class Member:
    """A named user of a business and how it is billed."""

    user: User
    kind: UserKind


@dataclass(frozen=True, slots=True)
class BusinessUsage:
    usage: Usage
    users: dict[UserKind, int]
    history: list[tuple[str, int, int]]  # (day, used, limit), newest first


def business(services: Services, actor: Principal, name: str) -> Tenant:
    """A business the caller provisions: any for the operator, a customer of the partner for a partner."""
    try:
        found = services.tenants.get(actor, name)
    except PermissionDenied:
        found = None
    if found is None or (actor.role is not Role.OPERATOR and found.partner_id != actor.tenant_id):
        raise NotFound(f"unknown business {name!r}")
    return found


def businesses(services: Services, actor: Principal) -> list[tenants.TenantRow]:
    return [row for row in tenants.tenant_rows(services, actor) if row.tenant.id != actor.tenant_id]


def business_row(services: Services, actor: Principal, name: str) -> tenants.TenantRow:
    found = business(services, actor, name)
    return next(row for row in tenants.tenant_rows(services, actor) if row.tenant.id == found.id)


def create_business(
    services: Services,
    actor: Principal,
    name: str,
    domain: str,
    owner: str,
    password: str,
    tier: str | None = None,
    edit: billing.Edit | None = None,
) -> Tenant:
    """A business with its first domain and owner and, when `edit` says what, its subscription from today. The
    subscription is checked before anything is created, so a refusal creates nothing."""
    if edit is not None:
        billing.check_first(services, name, tier or services.config.quota.default_tier, edit)
    tenant, _, _ = tenants.create_tenant(services, actor, name, domain, owner, password, tier)
    if edit is not None:
        billing.set_subscription(services, actor, tenant.name, edit)
    return business(services, actor, tenant.name)


def members(services: Services, actor: Principal, name: str) -> list[Member]:
    found = business(services, actor, name)
    listed = [user for user in services.directory.list_users(actor) if user.tenant_id == found.id]
    return [Member(user, services.subscriptions.kind_of(user.id)) for user in listed]


def member(services: Services, actor: Principal, name: str, address: str) -> Member:
    """A user of this business (NotFound for an address of any other, or none)."""
    try:
        wanted = parse_address(address)
    except InvalidInput:
        wanted = None
    for found in members(services, actor, name):
        if found.user.address == wanted:
            return found
    raise NotFound(f"no user {address!r} in {name}")


def add_member(
    services: Services, actor: Principal, name: str, address: str, password: str, kind: UserKind, role: Role
) -> Member:
    """A mailbox at one of the business's domains, billed as `kind` from today."""
    found = business(services, actor, name)
    if role not in USER_ROLES:
        raise InvalidInput(f"a user's role is {' or '.join(USER_ROLES)}")
    domain = parse_address(address).domain
    if not any(d.name == domain for d in services.directory.list_domains(actor) if d.tenant_id == found.id):
        raise InvalidInput(f"{domain} is not a domain of {found.name}")
    user = users.add_user(services, actor, address, password, role)
    if kind is not UserKind.STANDARD:
        billing.set_user_kind(services, actor, str(user.address), kind)
    return Member(user, kind)


def remove_member(services: Services, actor: Principal, name: str, address: str) -> Member:
    found = member(services, actor, name, address)
    users.remove_user(services, actor, str(found.user.address))
    return found


def subscription(services: Services, actor: Principal, name: str) -> Contract:
    found = business(services, actor, name)
    contract = services.subscriptions.contract(found.id)
    if contract is None:
        raise NotFound(f"{found.name} has no subscription yet")
    return contract


def change_subscription(services: Services, actor: Principal, name: str, edit: billing.Edit) -> Contract:
    found = business(services, actor, name)
    return billing.set_subscription(services, actor, found.name, edit)


def set_suspended(services: Services, actor: Principal, name: str, suspended: bool) -> Tenant:
    return tenants.set_suspended(services, actor, business(services, actor, name).name, suspended)


def usage(services: Services, actor: Principal, name: str) -> BusinessUsage:
    found = business(services, actor, name)
    counts = dict.fromkeys(UserKind, 0)
    for each in members(services, actor, name):
        counts[each.kind] += 1
    history = services.quota.daily_history(found.id, HISTORY_DAYS)
    return BusinessUsage(services.quota.current(found.id), counts, history)


def statement(services: Services, actor: Principal, partner: str | None, month: Month) -> billing.Statement:
    """The partner's statement: a partner reads only its own (`partner` None or its name), the operator any."""
    if actor.role is not Role.OPERATOR:
        own = services.tenants.names([actor.tenant_id] if actor.tenant_id is not None else []).get(
            actor.tenant_id or 0, ""
        )
        if partner not in (None, own):
            raise NotFound(f"unknown partner {partner!r}")
        partner = own
    if partner is None:
        raise InvalidInput("name the partner whose statement you want (?partner=NAME)")
    if services.tenants.find(partner) is None:
        raise NotFound(f"unknown partner {partner!r}")
    return billing.statement(services, actor, partner, month)
