"""Domain ownership proof: a domain an owner or partner adds is pending until DNS shows it is theirs.

The proof is a TXT record `smb-suite-verification=<token>` on the domain itself, the token being the
domain's own (directory/model.Domain.token, shown on its admin page). It is looked for through the one Resolver, when
someone presses "Check now" on the domain's page and every `[domains] verify_interval` by the daemon
(`run_periodically`). Until then the domain receives no mail (RCPT 550 5.7.1), sends none (MAIL FROM 553 5.7.1),
signs nothing and serves no site; see directory/domains.py, smtp/handlers.py, directory/dkimkeys.py and web/app.py.

The operator's domains (command line) and sign-up names below the platform domain are verified when added.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from smb_suite import log
from smb_suite.directory.model import Domain, Principal, Role
from smb_suite.errors import DnsFailure, PermissionDenied
from smb_suite.services import Services

logger = logging.getLogger("smb_suite.domains")
PREFIX = "smb-suite-verification="
CHECKER = Principal(Role.OPERATOR, name="domain-verification", client="dns")  # who the audit log names


def record_value(domain: Domain) -> str:
    """The TXT record's text the domain must publish."""
    return PREFIX + domain.token


@dataclass(frozen=True, slots=True)
class Outcome:
    domain: Domain
    verified: bool
    found: tuple[str, ...] = ()  # our TXT records seen on the name (a wrong token shows up here)
    problem: str = ""  # a DNS failure, said as it is (try again later)


async def check(services: Services, domain: Domain) -> Outcome:
    """Ask DNS for the domain's TXT records; mark it verified when the right one is there."""
    if domain.verified:
        return Outcome(domain, True)
    try:
        texts = await services.resolver.txt(domain.name)
    except DnsFailure as exc:
        log.event(logger, "domain.verify_failed", domain=domain.name, error=str(exc))
        return Outcome(domain, False, (), str(exc))
    ours = tuple(text.decode("utf-8", "replace").strip() for text in texts if text.startswith(PREFIX.encode()))
    if record_value(domain) not in ours:
        return Outcome(domain, False, ours)
    if await services.runner.write(services.directory.mark_verified, domain.id, domain.token):
        await services.runner.write(services.audit.record, CHECKER, "domain.verified", domain.name, domain.tenant_id)
        log.event(logger, "domain.verified", domain=domain.name)
    return Outcome(domain, True, ours)


async def check_now(services: Services, actor: Principal, name: str) -> Outcome:
    """The "Check now" button: the actor must manage the domain (same refusal for foreign and unknown)."""
    domain = await services.runner.read(services.directory.get_domain, actor, name)
    return await check(services, domain)  # a verified one stays verified: nothing to look up


def grant(services: Services, actor: Principal, name: str) -> Domain:
    """The operator vouches for a pending domain without its record (`smb-suite domain verify --grant`)."""
    if actor.role is not Role.OPERATOR:
        raise PermissionDenied("only the operator grants a domain without its verification record")
    domain = services.directory.get_domain(actor, name)
    if services.directory.mark_verified(domain.id, domain.token):
        services.audit.record(actor, "domain.verified", f"{domain.name} (granted)", domain.tenant_id)
    return services.directory.get_domain(actor, name)


async def check_pending(services: Services) -> int:
    """One round over every pending domain; the number verified."""
    verified = 0
    for domain in await services.runner.read(services.directory.pending_domains):
        verified += (await check(services, domain)).verified
    return verified


async def run_periodically(services: Services) -> None:
    """The daemon's task: a round every `[domains] verify_interval` until cancelled."""
    interval = float(services.config.domains.verify_interval)
    while True:
        try:
            await check_pending(services)
        except Exception:  # a round that failed must not end the checks
            logger.exception("domain.verify_round_failed")
        await asyncio.sleep(interval)
