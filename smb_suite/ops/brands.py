"""White-label use cases: a partner sets its brand (name, colour, support address and phone, logo); the operator
sets a partner's platform domain (sign-ups under it get <name>.<platform domain>, so the operator vouches for
it, as it does for its own); every page, mail-app setting and notice shows the brand of the business it is for
(directory/brands.py)."""

from __future__ import annotations

import re
from dataclasses import replace

from smb_suite.config import COLOUR
from smb_suite.directory.brands import Brand
from smb_suite.directory.model import Principal, Role, Tenant
from smb_suite.errors import AlreadyExists, InvalidInput, PermissionDenied
from smb_suite.mail.address import normalize_domain, parse_address
from smb_suite.services import Services

MAX_LOGO = 256 * 1024
PHONE = re.compile(r"\+?[0-9 ().-]{3,40}")
# Image types by their first bytes; no SVG: a script in it would run on our admin origin.
LOGO_TYPES = ((b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"), (b"RIFF", "image/webp"))


def _partner(services: Services, actor: Principal, partner: str) -> Tenant:
    """The partner's business, if the actor is that partner or the operator."""
    found = services.tenants.get(actor, partner)
    if actor.role is not Role.OPERATOR and not (actor.role is Role.PARTNER and actor.tenant_id == found.id):
        raise PermissionDenied("only the partner itself and the operator set a partner's brand")
    return found


def brand_for(services: Services, tenant_id: int) -> Brand:
    return services.brands.for_tenant(tenant_id)


def brand_of(services: Services, actor: Principal, partner: str) -> Brand:
    """The partner's own brand (the operator's as a start when it has none yet)."""
    found = _partner(services, actor, partner)
    return services.brands.of_partner(found.id) or replace(services.brands.default, platform_domain="")


def set_brand(
    services: Services,
    actor: Principal,
    partner: str,
    name: str,
    colour: str,
    support_email: str = "",
    support_phone: str = "",
) -> Brand:
    found = _partner(services, actor, partner)
    name, support_email, support_phone = name.strip(), support_email.strip(), support_phone.strip()
    if not name or len(name) > 100 or any(ch < " " for ch in name):
        raise InvalidInput("the brand's name has 1 to 100 characters on one line")
    if not COLOUR.fullmatch(colour):
        raise InvalidInput('a colour is written like "#1a5fb4"')
    if support_email:
        support_email = str(parse_address(support_email))
    if support_phone and not PHONE.fullmatch(support_phone):
        raise InvalidInput("a phone number has digits, spaces, + ( ) . and -")
    current = services.brands.of_partner(found.id)
    platform = current.platform_domain if current else ""
    saved = services.brands.save(found.id, Brand(name, colour.lower(), support_email, support_phone, platform))
    services.audit.record(actor, "brand.set", f"{found.name}: {name}", found.id)
    return saved


def set_logo(services: Services, actor: Principal, partner: str, data: bytes) -> Brand:
    """A PNG, JPEG or WebP image of at most 256 KiB (the brand must exist)."""
    found = _partner(services, actor, partner)
    media_type = next((kind for magic, kind in LOGO_TYPES if data.startswith(magic)), None)
    if media_type is None or len(data) > MAX_LOGO or (media_type == "image/webp" and data[8:12] != b"WEBP"):
        raise InvalidInput(f"a logo is a PNG, JPEG or WebP image of at most {MAX_LOGO // 1024} KiB")
    if services.brands.of_partner(found.id) is None:
        raise InvalidInput(f"{found.name} has no brand yet: set its name and colour first")
    services.brands.set_logo(found.id, data, media_type)
    services.audit.record(actor, "brand.logo", found.name, found.id)
    return brand_of(services, actor, partner)


def set_platform_domain(services: Services, actor: Principal, partner: str, domain: str) -> Brand:
    """Sign-ups through the partner get <name>.<domain> (operator only: it vouches for the domain)."""
    if actor.role is not Role.OPERATOR:
        raise PermissionDenied("only the operator sets a partner's platform domain")
    found = _partner(services, actor, partner)
    name = normalize_domain(domain) if domain else ""
    other = services.brands.by_platform(name) if name else None
    if name == services.brands.default.platform_domain or (other is not None and other.partner_id != found.id):
        raise AlreadyExists(f"{name} is already the platform domain of another brand")
    current = services.brands.of_partner(found.id)
    if current is None:
        raise InvalidInput(f"{found.name} has no brand yet: set its name and colour first")
    saved = services.brands.save(found.id, replace(current, platform_domain=name))
    services.audit.record(actor, "brand.platform", f"{found.name}: {name or 'none'}", found.id)
    return saved


def signup_brand(services: Services, partner: str) -> Brand:
    """The brand of a sign-up page: the partner's when it has a platform domain, else the operator's."""
    found = services.tenants.find(partner) if partner else None
    brand = None if found is None else services.brands.of_partner(found.id)
    return brand if brand is not None and brand.platform_domain else services.brands.default
