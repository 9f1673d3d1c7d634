"""Use cases of the operator and partners (many businesses) and of sign-up: create a business for a customer,
list and search businesses with usage, suspend and resume, give a business to a partner; and the audit log.
Shared by cli/ and web/. No SQL and no HTTP here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from smb_suite.directory import reservation
from smb_suite.directory.audit import Entry
from smb_suite.directory.model import OPERATOR, Domain, Principal, Role, Tenant, User
from smb_suite.errors import AlreadyExists, InvalidInput, PermissionDenied
from smb_suite.mail.address import normalize_domain, parse_address
from smb_suite.ops import brands, domains, recovery, sites, users
from smb_suite.quota import Usage
from smb_suite.services import Services
from smb_suite.sites.content import check_text

IDENTIFIER = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?")
RESERVED = reservation.SIGNUP_RESERVED
SIGNUP_OWNER = "owner"


@dataclass(frozen=True, slots=True)
class TenantRow:
    """One business in the operator's and partners' lists."""

    tenant: Tenant
    usage: Usage
    domains: tuple[str, ...]
    partner: str


def tenant_rows(services: Services, actor: Principal, search: str = "") -> list[TenantRow]:
    """The businesses the actor manages, with tier, usage and domains; `search` matches a name or a domain."""
    if actor.role not in (Role.OPERATOR, Role.PARTNER):
        raise PermissionDenied("only the operator and partners list businesses")
    tenants = services.directory.list_tenants(actor)
    usages = {usage.tenant_id: usage for usage in services.quota.current_all()}
    domains: dict[int, list[str]] = {}
    for domain in services.directory.list_domains(actor):
        domains.setdefault(domain.tenant_id, []).append(domain.name)
    partners = services.tenants.names([t.partner_id for t in tenants if t.partner_id is not None])
    needle = search.strip().lower()
    rows = []
    for tenant in tenants:
        names = tuple(domains.get(tenant.id, ()))
        if needle and needle not in tenant.name.lower() and not any(needle in name for name in names):
            continue
        partner = partners.get(tenant.partner_id, "") if tenant.partner_id is not None else ""
        rows.append(TenantRow(tenant, usages[tenant.id], names, partner))
    return rows


def create_tenant(
    services: Services,
    actor: Principal,
    name: str,
    domain: str,
    owner: str,
    password: str,
    tier: str | None = None,
    first_site: sites.FirstSite | None = None,
) -> tuple[Tenant, Domain, User]:
    """A business for a customer: its first domain (with its first site, pending unless the operator's) and its
    owner's mailbox at that domain. One transaction: when any part is refused, nothing is created."""
    if actor.role not in (Role.OPERATOR, Role.PARTNER):
        raise PermissionDenied("only the operator or a partner creates a business")
    chosen = tier or services.config.quota.default_tier
    if chosen not in services.config.tiers:
        raise InvalidInput(f"no tier named {chosen!r}")
    domain_name = normalize_domain(domain)
    owner_address = parse_address(owner)
    if owner_address.domain != domain_name:
        raise InvalidInput(f"the owner's address must be at the business's domain {domain_name}")
    password_hash = users.new_password_hash(password, actor)  # before anything is created
    with services.engine.begin() as conn:
        tenant = services.tenants.insert(conn, actor, name, chosen)
        hosted = services.directory.insert_domain(conn, actor, domain_name, tenant.id, tenant.name)
        services.dkim.create_pair(hosted.id, conn)
        user = services.directory.insert_user(conn, hosted, owner_address, password_hash, Role.OWNER)
    services.audit.record(actor, "tenant.create", f"{tenant.name} ({chosen})", tenant.id)
    domains.domain_added(services, actor, hosted, first_site)
    users.user_added(services, actor, user)
    return tenant, hosted, user


def set_suspended(services: Services, actor: Principal, name: str, suspended: bool) -> Tenant:
    """Suspend a business (mail waits at senders with 451, no login, sites answer 503; data kept) or resume it."""
    tenant = services.tenants.set_suspended(actor, name, suspended)
    for domain in services.directory.list_domains(OPERATOR):
        if domain.tenant_id == tenant.id:
            services.sites.set_suspended(domain.id, suspended)
    services.audit.record(actor, "tenant.suspend" if suspended else "tenant.resume", tenant.name, tenant.id)
    return tenant


def set_partner(services: Services, actor: Principal, name: str, partner: str | None) -> Tenant:
    tenant = services.tenants.set_partner(actor, name, partner)
    services.audit.record(actor, "tenant.partner", f"{tenant.name}: {partner or 'none'}", tenant.id)
    return tenant


def audit_entries(services: Services, actor: Principal, tenant: str | None = None, limit: int = 200) -> list[Entry]:
    tenant_id = None if tenant is None else services.tenants.get(actor, tenant).id
    return services.audit.entries(actor, tenant_id, limit)


# -- sign-up --------------------------------------------------------------------------------------------------


def check_identifier(services: Services, identifier: str, platform: str = "") -> str:
    """A sign-up identifier: one DNS label (lower case, digits, inner hyphens), free and not reserved."""
    label = identifier.strip().lower()
    if not IDENTIFIER.fullmatch(label) or len(label) < 2:
        raise InvalidInput("the identifier has 2 to 40 lower-case letters, digits or inner hyphens, like 'my-shop'")
    platform = platform or services.config.sites.platform_domain.strip(".").lower()
    taken = services.tenants.find(label) is not None or services.directory.find_domain(f"{label}.{platform}")
    if label in RESERVED or taken:
        raise AlreadyExists(f"the identifier {label!r} is taken: choose another")
    return label


def signup(
    services: Services,
    answers: sites.FirstSite,
    identifier: str,
    password: str,
    client: str,
    partner: str = "",
    recovery_address: str = "",
) -> User:
    """Self-service sign-up (when [signup] enabled): a business on the default tier, the domain
    <identifier>.<platform domain>, the owner's mailbox owner@ that domain, and a first site made from the
    answers (name, activity, phone, city, theme) in the language of the sign-up, live at once. Through a
    partner with a platform domain (white label), the domain is under the partner's and the business its.
    A recovery address (optional, outside the new domain) gets its confirmation link in that language."""
    if not services.config.signup.enabled:
        raise PermissionDenied("sign-up is closed on this server")
    brand = brands.signup_brand(services, partner)
    label = check_identifier(services, identifier, brand.platform_domain)
    users.check_new_password(password)
    answers = replace(
        answers, **{name: getattr(answers, name).strip() for name in ("business_name", "activity", "phone", "city")}
    )
    if not answers.business_name or len(answers.business_name) > 200:
        raise InvalidInput("give your business's name (up to 200 characters)")
    for name in ("activity", "phone", "city"):  # single lines of bounded length, like the site's own fields
        check_text({"activity": "tagline", "city": "address"}.get(name, name), getattr(answers, name))
    actor = Principal(Role.OPERATOR, name="signup", client=client)
    domain = f"{label}.{brand.platform_domain}"
    owner = f"{SIGNUP_OWNER}@{domain}"
    if recovery_address.strip():  # refused before anything is created
        recovery.check_address(services, 0, recovery_address, (domain,))
    _, _, user = create_tenant(services, actor, label, domain, owner, password, first_site=answers)
    if brand.partner_id is not None:
        set_partner(services, actor, label, services.tenants.names([brand.partner_id])[brand.partner_id])
    if recovery_address.strip():
        recovery.set_address(services, users.principal_of(user, client), recovery_address, answers.lang)
    return user
