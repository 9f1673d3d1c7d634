"""Domain names nobody may claim, whatever their role (issue 11, "anyone can claim any name").

Pure rules over a name and the hosted names related to it; the directory asks `refusal` inside the
transaction that adds a domain, so two claims cannot race past each other. Reserved for ever, for the operator
at the command line too:

- the server's host name (the admin host) and every name below it;
- the platform domain itself; below it, only the operator (sign-up acts as the operator) gives out names, one
  label each, never one of SIGNUP_RESERVED;
- `www.`, `autoconfig.`, `autodiscover.` and `mta-sts.` of any hosted domain (we answer them for that domain);
- any sub-domain, or parent, of a *verified* domain another business holds. A pending claim reserves nothing
  around it, so a squatter on `www.victim.test` cannot keep the real owner from adding `victim.test`.

A name that is taken exactly is refused by the directory (AlreadyExists); the operator removes a squatted
pending domain with `smb-suite domain remove`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from smb_suite.config import Config

AUTOMATIC_PREFIXES = ("www", "autoconfig", "autodiscover", "mta-sts")
SIGNUP_RESERVED = frozenset(
    {"www", "mail", "admin", "autoconfig", "autodiscover", "mta-sts", "smtp", "imap", "postmaster"}
)


@dataclass(frozen=True, slots=True)
class Rules:
    """What the reservations depend on: the server's own name and the platform domain (both lower case)."""

    hostname: str = ""
    platform_domain: str = ""


@dataclass(frozen=True, slots=True)
class Held:
    """A hosted domain related to the name asked for (an ancestor or a descendant of it)."""

    name: str
    tenant_id: int
    verified: bool


def rules_of(config: Config) -> Rules:
    return Rules(
        hostname=config.server.hostname.strip().rstrip(".").lower(),
        platform_domain=config.sites.platform_domain.strip().strip(".").lower(),
    )


def is_under(name: str, parent: str) -> bool:
    """True when `name` is `parent` or a name below it."""
    return name == parent or name.endswith("." + parent)


def ancestors(name: str) -> list[str]:
    """`a.b.c` -> [`b.c`, `c`]: the names a domain could be below."""
    labels = name.split(".")
    return [".".join(labels[index:]) for index in range(1, len(labels))]


def under_platform(name: str, rules: Rules) -> bool:
    """True for a name below the platform domain (a sign-up name: it needs no ownership proof)."""
    return bool(rules.platform_domain) and name.endswith("." + rules.platform_domain)


def refusal(name: str, tenant_id: int | None, rules: Rules, held: Iterable[Held], operator: bool) -> str | None:
    """Why `name` (normalised) may not be added to the business `tenant_id`; None when it may."""
    if rules.hostname and is_under(name, rules.hostname):
        if name == rules.hostname:
            return f"{name} is this server's own name: it cannot be a hosted domain"
        return f"{name} is below this server's own name {rules.hostname}: it cannot be a hosted domain"
    platform = rules.platform_domain
    if platform and name == platform:
        return f"{name} is the platform domain of this server: it cannot be a hosted domain"
    if under_platform(name, rules):
        label = name[: -len(platform) - 1]
        if not operator:
            return f"names below {platform} are given by sign-up only"
        if "." in label or label in SIGNUP_RESERVED:
            return f"{name} is reserved: below {platform} only one label, and not {label!r}"
    for other in held:
        for prefix in AUTOMATIC_PREFIXES:
            if name == f"{prefix}.{other.name}":
                return f"{name} is reserved: it is answered for the hosted domain {other.name}"
        if other.tenant_id == tenant_id or not other.verified or other.name == name:
            continue
        if is_under(name, other.name):
            return f"{name} is below {other.name}, which another business holds"
        if is_under(other.name, name):
            return f"{name} is above {other.name}, which another business holds"
    return None
