"""Use cases of hosted domains: add one (starter site, DKIM keys, audit), remove one, the demo domain."""

from __future__ import annotations

from smb_suite.directory.model import OPERATOR, Domain, Principal, Role, User
from smb_suite.ops import sites, users
from smb_suite.services import Services


def add_domain(services: Services, actor: Principal, name: str, tenant: str | None = None) -> Domain:
    """Host a domain: its starter site and its DKIM keys (RSA-2048 and Ed25519, RFC 8463). An owner's or
    partner's domain is pending until its ownership is proven (ops/verification.py); reserved names are
    refused for everyone (directory/reservation.py)."""
    domain = services.directory.add_domain(actor, name, tenant, services.config.quota.default_tier)
    services.dkim.create_pair(domain.id)
    domain_added(services, actor, domain)
    return domain


def domain_added(
    services: Services, actor: Principal, domain: Domain, first_site: sites.FirstSite | None = None
) -> None:
    """What follows a committed new domain: its first site (from the sign-up answers, else the starter site;
    served once verified), the audit record."""
    services.sites.remove_files(domain)  # ids are never reused; should a folder be left by a restore, drop it
    version = sites.publish_content(services, domain, first_site)
    services.audit.record(actor, "site.publish", f"{domain.name}: {version.name}", domain.tenant_id)
    if services.directory.tenant_suspended(domain.tenant_id):
        services.sites.set_suspended(domain.id, True)
    state = "verified" if domain.verified else "pending"
    services.audit.record(actor, "domain.add", f"{domain.name} ({state})", domain.tenant_id)


def remove_domain(services: Services, actor: Principal, name: str) -> Domain:
    domain = services.directory.remove_domain(actor, name)  # drops its site content and bytes (services.py)
    services.sites.remove_files(domain)
    services.audit.record(actor, "domain.remove", domain.name, domain.tenant_id)
    return domain


# -- demo -----------------------------------------------------------------------------------------------------

DEMO_DOMAIN = "example.test"
DEMO_OWNER = f"demo@{DEMO_DOMAIN}"


def create_demo(services: Services, password: str) -> User | None:
    """Create example.test with owner demo@example.test, unless it exists; None if it already did."""
    if services.directory.find_domain(DEMO_DOMAIN) is None:
        add_domain(services, OPERATOR, DEMO_DOMAIN)
    if services.directory.find_user(DEMO_OWNER) is not None:
        return None
    return users.add_user(services, OPERATOR, DEMO_OWNER, password, Role.OWNER)
