"""Use cases of a business's owner and of each user: mailboxes with their storage, aliases, app passwords
for mail clients, the tier and how to upgrade. Shared by cli/ and web/. No SQL and no HTTP here.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass

from smb_suite.auth.apppasswords import AppPassword
from smb_suite.auth.passwords import hash_password
from smb_suite.config import TierConfig
from smb_suite.directory.model import Domain, Principal, Role, User, Vacation
from smb_suite.errors import PermissionDenied
from smb_suite.mail.address import Address
from smb_suite.quota import Usage
from smb_suite.services import Services

AliasChange = Callable[[Principal, str, str], tuple[Address, Address]]


@dataclass(frozen=True, slots=True)
class MailboxRow:
    user: User
    used: int
    limit: int  # its own limit, else the business's
    own_limit: bool = False  # an owner set this mailbox a limit of its own
    recovery: bool = False  # it has a confirmed recovery address: its owner can mail it a reset link

    @property
    def percent(self) -> float:
        return min(100.0, 100.0 * self.used / self.limit) if self.limit else 0.0


@dataclass(frozen=True, slots=True)
class Business:
    """What an owner sees of its business: usage against the tier, the tiers on offer, its mailboxes."""

    usage: Usage
    tiers: dict[str, TierConfig]
    mailboxes: list[MailboxRow]
    aliases: list[tuple[Address, Address]]
    domains: list[str]
    catchalls: dict[str, str]  # domain -> where its unknown addresses' mail goes
    pending: frozenset[str] = frozenset()  # domains still waiting for their ownership proof
    name: str = ""  # the business's name as its website shows it (the tenant's identifier until it has one)


def _require_manager(actor: Principal) -> None:
    if actor.role is Role.USER:
        raise PermissionDenied("only an owner of the business may do this")


def business(services: Services, actor: Principal, tenant_id: int) -> Business:
    """One business as its owner (or partner, or the operator) sees it."""
    _require_manager(actor)
    services.directory.require_tenant(actor, tenant_id)
    domains = [d for d in services.directory.list_domains(actor) if d.tenant_id == tenant_id]
    names = {d.name for d in domains}
    usage = services.quota.current(tenant_id)
    rows = []
    members = [user for user in services.directory.list_users(actor) if user.tenant_id == tenant_id]
    recoverable = services.recovery.confirmed(user.id for user in members)
    for user in members:
        used, own = services.quota.mailbox_usage(user.id)
        limit = own if own is not None else usage.limit
        rows.append(MailboxRow(user, used, limit, own is not None, user.id in recoverable))
    aliases = [pair for pair in services.directory.list_aliases(actor) if pair[0].domain in names]
    targets = services.directory.catchalls(d.id for d in domains)
    catchalls = {d.name: targets[d.id] for d in domains if d.id in targets}
    pending = frozenset(d.name for d in domains if not d.verified)
    name = usage.tenant
    if domains:
        first = min(domains, key=lambda d: d.id)
        name = services.content.load(first, services.config.sites.default_theme).info.business_name or name
    return Business(usage, dict(services.config.tiers), rows, aliases, sorted(names), catchalls, pending, name)


def mailbox_row(services: Services, actor: Principal, address: str) -> MailboxRow:
    user = services.directory.get_user(actor, address)
    used, own = services.quota.mailbox_usage(user.id)
    limit = own if own is not None else services.quota.current(user.tenant_id).limit
    return MailboxRow(user, used, limit, own is not None)


def add_alias(services: Services, actor: Principal, alias: str, target: str) -> tuple[Address, Address]:
    return _change_alias(services, actor, "alias.add", services.directory.add_alias, alias, target)


def remove_alias(services: Services, actor: Principal, alias: str, target: str) -> tuple[Address, Address]:
    return _change_alias(services, actor, "alias.remove", services.directory.remove_alias, alias, target)


def _change_alias(
    services: Services, actor: Principal, action: str, change: AliasChange, alias: str, target: str
) -> tuple[Address, Address]:
    _require_manager(actor)
    source, destination = change(actor, alias, target)
    tenant_id = services.directory.get_domain(actor, source.domain).tenant_id
    services.audit.record(actor, action, f"{source} -> {destination}", tenant_id)
    return source, destination


def set_catchall(services: Services, actor: Principal, domain: str, target: str | None) -> Domain:
    """Mail for unknown addresses of the domain goes to `target` (None: refused again, 550)."""
    _require_manager(actor)
    hosted = services.directory.set_catchall(actor, domain, target)
    services.audit.record(actor, "catchall.set", f"{hosted.name}: {target or 'off'}", hosted.tenant_id)
    return hosted


# -- forwarding and vacation: a user's own (or, by its owner, a mailbox of the business) -----------------------


@dataclass(frozen=True, slots=True)
class MailRules:
    forward_to: str | None
    keep_copy: bool
    vacation: Vacation | None


def mail_rules(services: Services, actor: Principal, address: str) -> MailRules:
    user = services.directory.get_user(actor, address)
    forward_to, keep_copy = services.directory.forwarding(user.id)
    return MailRules(forward_to, keep_copy, services.directory.vacations([user.id]).get(user.id))


def set_forwarding(services: Services, actor: Principal, address: str, target: str | None, keep_copy: bool) -> User:
    user = services.directory.set_forwarding(actor, address, target, keep_copy)
    shown = f"{target}{' (copy kept)' if keep_copy else ''}" if target else "off"
    services.audit.record(actor, "forwarding.set", f"{user.address}: {shown}", user.tenant_id)
    return user


def set_vacation(services: Services, actor: Principal, address: str, vacation: Vacation | None) -> User:
    user = services.directory.set_vacation(actor, address, vacation)
    services.audit.record(actor, "vacation.on" if vacation else "vacation.off", str(user.address), user.tenant_id)
    return user


# -- app passwords: the user's own, for mail clients only ------------------------------------------------------


def _own(services: Services, actor: Principal) -> User:
    if actor.user_id is None:
        raise PermissionDenied("app passwords belong to a signed-in user")
    user = services.directory.find_user(actor.name)
    if user is None or user.id != actor.user_id:
        raise PermissionDenied("app passwords belong to a signed-in user")
    return user


def app_passwords(services: Services, actor: Principal) -> list[AppPassword]:
    return services.app_passwords.of_user(_own(services, actor).id)


def create_app_password(services: Services, actor: Principal, label: str) -> tuple[AppPassword, str]:
    """A new random app password (shown once to the user, stored only as its argon2id hash)."""
    user = _own(services, actor)
    password = "-".join(secrets.token_hex(2) for _ in range(5))
    created = services.app_passwords.add(user.id, label, hash_password(password))
    services.audit.record(actor, "app_password.add", f"{user.address}: {created.label}", user.tenant_id)
    return created, password


def revoke_app_password(services: Services, actor: Principal, password_id: int) -> AppPassword:
    user = _own(services, actor)
    removed = services.app_passwords.remove(user.id, password_id)
    services.audit.record(actor, "app_password.remove", f"{user.address}: {removed.label}", user.tenant_id)
    return removed
