"""Use cases shared by the command line and the admin UI: no SQL here, no HTTP here.

`Services` is the bundle of core objects built once from the configuration; each function takes it and the
acting principal, and does one thing a user asked for.
"""

from __future__ import annotations

import asyncio
import datetime
import email.message
import email.policy
import email.utils
import functools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from smb_suite import db, domain_names, log, tls
from smb_suite.audit import AuditLog
from smb_suite.auth.apppasswords import AppPasswords
from smb_suite.auth.passwords import DUMMY_HASH, hash_password, verify_password
from smb_suite.auth.sessions import WebSessions
from smb_suite.auth.throttle import LoginThrottle, account_key
from smb_suite.config import Config, parse_nameserver
from smb_suite.delivery import Delivery
from smb_suite.directory import OPERATOR, Directory, Domain, Principal, Role, User
from smb_suite.dkimkeys import DkimKey, DkimKeys
from smb_suite.dns import Resolver
from smb_suite.errors import AccountSuspended, AuthenticationFailed, InvalidInput, LoginLocked, PermissionDenied
from smb_suite.mail import dkim, message
from smb_suite.mail.address import parse_stored_address
from smb_suite.queue.spool import QueueStore
from smb_suite.quota import Quota, Usage, format_bytes
from smb_suite.sites import publish, render, themes
from smb_suite.sites.content import ContentStore
from smb_suite.sites.store import SiteStore
from smb_suite.storage import legacy
from smb_suite.storage.runner import StoreRunner
from smb_suite.storage.store import MailStore
from smb_suite.tenants import Tenants

logger = logging.getLogger("smb_suite.auth")
MIN_PASSWORD = 8


@dataclass
class Services:
    config: Config
    engine: sa.Engine
    directory: Directory
    quota: Quota
    store: MailStore
    sites: SiteStore
    content: ContentStore
    audit: AuditLog
    tenants: Tenants
    app_passwords: AppPasswords
    dkim: DkimKeys
    resolver: Resolver
    queue: QueueStore
    delivery: Delivery
    runner: StoreRunner
    throttle: LoginThrottle
    web_sessions: WebSessions
    clock: Callable[[], float] = time.time
    listening: dict[str, int] = field(default_factory=dict)  # service -> bound port, filled in by the daemon

    def close(self) -> None:
        self.runner.close()
        self.engine.dispose()


def open_services(config: Config, clock: Callable[[], float] = time.time) -> Services:
    """Connect to an initialised data folder (see `initialise`)."""
    engine = db.create_engine(config.database_url)
    quota = Quota(engine, config.tiers, config.quota.warn_percent)
    directory = Directory(engine, clock, domain_names.rules_of(config))
    store = MailStore(engine, config.mail_dir, clock, quota)
    runner = StoreRunner()
    queue = QueueStore(engine, config.queue_dir, clock, runner.io)
    services = Services(
        config=config,
        engine=engine,
        directory=directory,
        quota=quota,
        store=store,
        sites=SiteStore(engine, config.sites_dir, quota),
        content=ContentStore(engine, clock),
        audit=AuditLog(engine, clock),
        tenants=Tenants(engine, directory, clock),
        app_passwords=AppPasswords(engine, clock),
        queue=queue,
        delivery=Delivery(directory, store, queue, runner, config, clock),
        runner=runner,
        throttle=LoginThrottle(engine, config.login, clock),
        web_sessions=WebSessions(engine, clock),
        dkim=DkimKeys(engine, clock),
        resolver=Resolver([parse_nameserver(server) for server in config.dns.nameservers], config.dns.timeout),
        clock=clock,
    )
    quota.listeners.append(functools.partial(send_storage_warning, services))
    services.delivery.sign_generated = functools.partial(sign_generated, services)
    return services


def initialise(config: Config) -> list[str]:
    """Create the data folder, database (migrations applied) and certificate, and move mail stored by old
    versions to the id layout (storage/legacy.py); return what was created."""
    created: list[str] = []
    data_dir = config.server.data_dir
    if not data_dir.exists():
        data_dir.mkdir(parents=True)
        created.append(f"data folder {data_dir}")
    for folder in (config.mail_dir, config.sites_dir, config.queue_dir):
        folder.mkdir(exist_ok=True)
    engine = db.create_engine(config.database_url)
    try:
        if not db.is_current(engine):
            db.migrate(engine)
            created.append("database schema")
        with engine.connect() as conn:
            domains = [
                (int(row.id), str(row.name)) for row in conn.execute(sa.select(db.domains.c.id, db.domains.c.name))
            ]
        moved = legacy.migrate(engine, config.mail_dir)  # once: mail of old versions to paths made of ids
        if moved:
            created.append(f"id layout for mail ({moved} folders moved)")
    finally:
        engine.dispose()
    # Sites in folders named after domain ids (they were named after the domain): moved once, idempotent.
    created.extend(f"site layout: {step}" for step in publish.migrate_layout(config.sites_dir, domains))
    if tls.ensure_self_signed(config.certificate_path, config.key_path, config.server.hostname):
        created.append(f"self-signed certificate {config.certificate_path}")
    return created


# -- domains --------------------------------------------------------------------------------------------------


def publish_site(services: Services, domain: Domain) -> Path:
    """Build the domain's site from its content and theme and make it live (quota checked); the version."""
    config = services.config
    content = services.content.load(domain, config.sites.default_theme)
    theme = themes.get_theme(config.themes_dir, content.info.theme)
    return services.sites.publish_files(domain, render.build_site(theme, content))


def publish_default_site(services: Services, domain: Domain) -> None:
    """Give a new domain its starter site: the default theme with default content (until the owner edits)."""
    publish_site(services, domain)


def add_domain(services: Services, actor: Principal, name: str, tenant: str | None = None) -> Domain:
    """Host a domain: its starter site and its DKIM keys (RSA-2048 and Ed25519, RFC 8463). An owner's or
    partner's domain is pending until its ownership is proven (domain_verification); reserved names are
    refused for everyone (domain_names)."""
    domain = services.directory.add_domain(actor, name, tenant, services.config.quota.default_tier)
    services.dkim.create_pair(domain.id)
    domain_added(services, actor, domain)
    return domain


def domain_added(services: Services, actor: Principal, domain: Domain) -> None:
    """What follows a committed new domain: its starter site (served once verified), the audit record."""
    services.sites.remove_files(domain)  # ids are never reused; should a folder be left by a restore, drop it
    publish_default_site(services, domain)
    if services.directory.tenant_suspended(domain.tenant_id):
        services.sites.set_suspended(domain.id, True)
    state = "verified" if domain.verified else "pending"
    services.audit.record(actor, "domain.add", f"{domain.name} ({state})", domain.tenant_id)


def remove_domain(services: Services, actor: Principal, name: str) -> Domain:
    def forget_site(conn: sa.Connection, domain: Domain) -> None:
        services.content.forget(conn, domain.id)
        services.sites.remove(conn, domain)

    domain = services.directory.remove_domain(actor, name, forget_site)
    services.sites.remove_files(domain)
    services.audit.record(actor, "domain.remove", domain.name, domain.tenant_id)
    return domain


# -- users ----------------------------------------------------------------------------------------------------


def check_new_password(password: str, strict: bool = True) -> None:
    """Refuse an empty password, and (strict) one shorter than MIN_PASSWORD."""
    if not password.strip():
        raise InvalidInput("the password must not be empty")
    if strict and len(password) < MIN_PASSWORD:
        raise InvalidInput(f"the password needs at least {MIN_PASSWORD} characters")


def new_password_hash(password: str, actor: Principal) -> str:
    """The argon2id hash of a password someone chose; slow: not on the loop. Shorter than MIN_PASSWORD is
    refused, except from the operator (scripts and tests at the command line choose their own)."""
    check_new_password(password, strict=actor.role is not Role.OPERATOR)
    return hash_password(password)


def add_user(services: Services, actor: Principal, address: str, password: str, role: Role = Role.USER) -> User:
    services.directory.get_domain(actor, parse_stored_address(address).domain)  # unknown or foreign: say so first
    user = services.directory.add_user(actor, address, new_password_hash(password, actor), role)
    user_added(services, actor, user)
    return user


def user_added(services: Services, actor: Principal, user: User) -> None:
    """What follows a committed new account: its mail folders, the audit record."""
    services.store.create_user_store(user)
    services.audit.record(actor, "mailbox.add", f"{user.address} ({user.role})", user.tenant_id)


def set_password(services: Services, actor: Principal, address: str, password: str) -> User:
    services.directory.get_user(actor, address)  # unknown or foreign: say so before judging the password
    user = services.directory.set_password(actor, address, new_password_hash(password, actor))
    services.web_sessions.end_user(user.id)  # a copied session cookie stops working with the old password
    services.audit.record(actor, "password.set", str(user.address), user.tenant_id)
    return user


def remove_user(services: Services, actor: Principal, address: str) -> User:
    def forget(conn: sa.Connection, user: User) -> None:
        services.app_passwords.forget_user(conn, user.id)
        services.store.forget_user(conn, user)

    user = services.directory.remove_user(actor, address, forget)
    services.store.remove_files(user)
    services.audit.record(actor, "mailbox.remove", str(user.address), user.tenant_id)
    return user


def principal_of(user: User, client: str = "") -> Principal:
    """The principal a signed-in user acts as; `client` is the address its front end saw (for the audit log)."""
    return Principal(user.role, tenant_id=user.tenant_id, user_id=user.id, name=str(user.address), client=client)


def check_password(services: Services, username: str, password: str, app_passwords: bool = False) -> User:
    """Verify a login synchronously (argon2: slow, run it in a thread). Raises AuthenticationFailed.

    With `app_passwords` (SMTP and IMAP, never the web UI) the user's app passwords are accepted too.
    """
    user = services.directory.find_user(username)
    if user is None:
        verify_password(DUMMY_HASH, password)
        raise AuthenticationFailed("wrong user name or password")
    if verify_password(user.password_hash, password):
        return user
    if app_passwords and any(verify_password(h, password) for h in services.app_passwords.hashes(user.id)):
        return user
    raise AuthenticationFailed("wrong user name or password")


async def login(services: Services, username: str, password: str, client_ip: str, app_passwords: bool = False) -> User:
    """The one login path for SMTP AUTH, IMAP and the web UI, throttled per account and per client address
    (auth/throttle.py): attempts for one account run one at a time; a locked account or address is refused with
    LoginLocked before the password is looked at; the failure that locks an account mails its business's owners
    once. A user of a suspended business is refused (AccountSuspended) even with the right password."""
    throttle = services.throttle
    account = account_key(username)
    async with throttle.serialised(account):
        until = await services.runner.read(throttle.locked_until, account, client_ip)
        if until is not None:
            log.event(logger, "auth.locked", user=account, ip=client_ip, until=until)
            minutes = max(1, -(-(until - int(services.clock())) // 60))
            text = f"Too many failed logins: logins are refused for now. Try again in {minutes} minutes."
            raise LoginLocked(text, until)
        try:
            user = await asyncio.to_thread(check_password, services, username, password, app_passwords)
        except AuthenticationFailed:
            failure = await services.runner.write(throttle.failed, account, client_ip)
            log.event(logger, "auth.failed", user=account, ip=client_ip, failures=failure.failures)
            if failure.address_locked:
                log.event(logger, "auth.lock", ip=client_ip, minutes=int(throttle.settings.lock_duration) // 60)
            if failure.account_locked:
                log.event(logger, "auth.lock", user=account, ip=client_ip)
                await services.runner.write(send_lock_notice, services, username, client_ip)
            raise
        await services.runner.write(throttle.succeeded, account)
    if await services.runner.read(services.directory.tenant_suspended, user.tenant_id):
        log.event(logger, "auth.suspended", user=username, ip=client_ip)
        raise AccountSuspended("this business is suspended: ask your provider")
    return user


def mail_owners(services: Services, owners: list[User], subject: str, body: str) -> None:
    """Deliver one automatic notice from the postmaster to a business's owners (outside the quota)."""
    notice = email.message.EmailMessage(policy=email.policy.SMTP)
    notice["From"] = f"postmaster@{services.config.server.hostname}"
    notice["To"] = ", ".join(str(owner.address) for owner in owners)
    notice["Subject"] = subject
    notice["Date"] = email.utils.formatdate(services.clock(), localtime=True)
    notice["Auto-Submitted"] = "auto-generated"  # RFC 3834 5
    notice.set_content(body)
    services.store.deliver(owners, notice.as_bytes(), enforce=False)


def send_lock_notice(services: Services, username: str, client_ip: str) -> None:
    """Mail the owners of the business once when one of its accounts gets locked (nothing for unknown names)."""
    user = services.directory.find_user(username)
    if user is None:
        return
    owners = services.directory.owners(user.tenant_id)
    if not owners:
        return
    settings = services.config.login
    window, duration = int(settings.lock_window) // 60 or 1, int(settings.lock_duration) // 60 or 1
    body = (
        f"There were {settings.lock_after} failed logins to {user.address} within {window} minutes, the last one "
        f"from {client_ip or 'an unknown address'}.\r\n\r\n"
        f"To protect the account, every login to it (mail apps and the admin pages) is refused for the next "
        f"{duration} minutes, even with the right password; then it opens again by itself.\r\n\r\n"
        "If nobody in your business mistyped a password, someone may be guessing it: choose a long password "
        "that is used nowhere else.\r\n"
    )
    mail_owners(services, owners, f"Logins to {user.address} locked for {duration} minutes", body)


# -- demo -----------------------------------------------------------------------------------------------------

DEMO_DOMAIN = "example.test"
DEMO_OWNER = f"demo@{DEMO_DOMAIN}"


def create_demo(services: Services, password: str) -> User | None:
    """Create example.test with owner demo@example.test, unless it exists; None if it already did."""
    if services.directory.find_domain(DEMO_DOMAIN) is None:
        add_domain(services, OPERATOR, DEMO_DOMAIN)
    if services.directory.find_user(DEMO_OWNER) is not None:
        return None
    return add_user(services, OPERATOR, DEMO_OWNER, password, Role.OWNER)


def parse_role(text: str) -> Role:
    try:
        return Role(text)
    except ValueError as exc:
        raise InvalidInput(f"role must be one of {', '.join(Role)}, not {text!r}") from exc


# -- DKIM and DNS ---------------------------------------------------------------------------------------------

DMARC_SUGGESTION = "v=DMARC1; p=quarantine; adkim=r; aspf=r; pct=100"


def grace_seconds(services: Services) -> int:
    return services.config.dkim.rotation_grace_days * 86400


def sign(services: Services, message: bytes, domain: str) -> bytes:
    """The message with DKIM signatures of `domain` on top, one per active key (unchanged without keys).

    Blocking (database read, RSA): call it from a thread. Used for local delivery of submitted mail and by the
    outbound queue.
    """
    keys = services.dkim.signing_keys(domain)
    return dkim.sign(message, domain, keys, int(services.clock())) + message


def sign_generated(services: Services, data: bytes) -> bytes:
    """DKIM-sign mail we write ourselves (vacation replies, reports) when its From is one of our domains, so it
    passes DMARC at Gmail and Outlook like the user's own mail. Blocking: call it from a thread."""
    senders = message.from_addresses(data)
    if len(senders) != 1:
        return data
    domain = message.domain_of(senders[0])
    return sign(services, data, domain) if services.directory.find_domain(domain) is not None else data


def rotate_dkim(services: Services, actor: Principal, name: str) -> list[DkimKey]:
    """New signing keys for a domain; the old public keys stay in `dns` output for the grace period."""
    domain = services.directory.get_domain(actor, name)
    services.dkim.rotate(domain.id, grace_seconds(services))
    services.audit.record(actor, "dkim.rotate", domain.name, domain.tenant_id)
    return services.dkim.active(domain.name)


# -- the outbound queue (the operator's) ------------------------------------------------------------------------


def queue_retry(services: Services, actor: Principal, queue_ids: list[str]) -> int:
    """Try waiting mail again at the next queue run (all of it without ids); the number of recipients."""
    if actor.role is not Role.OPERATOR:
        raise PermissionDenied("only the operator manages the outbound queue")
    count = services.queue.retry(queue_ids)
    services.audit.record(actor, "queue.retry", " ".join(queue_ids) or "all")
    return count


def queue_delete(services: Services, actor: Principal, queue_ids: list[str]) -> list[str]:
    """Remove waiting mail without telling its senders; the ids that were removed."""
    if actor.role is not Role.OPERATOR:
        raise PermissionDenied("only the operator manages the outbound queue")
    removed = services.queue.delete(queue_ids)
    if removed:
        services.audit.record(actor, "queue.delete", " ".join(removed))
    return removed


# -- storage tiers --------------------------------------------------------------------------------------------


def tenant_usage(services: Services, actor: Principal) -> list[Usage]:
    """Tier, usage and limit of every business the actor may see."""
    visible = {tenant.id for tenant in services.directory.list_tenants(actor)}
    return [usage for usage in services.quota.current_all() if usage.tenant_id in visible]


def set_tier(services: Services, actor: Principal, tenant: str, tier: str) -> Usage:
    """Upgrade or downgrade a business; a downgrade below its usage is refused with what to free."""
    found = services.tenants.get(actor, tenant)
    services.tenants.require_steward(actor, found)
    usage = services.quota.change_tier(found.id, tier)
    services.audit.record(actor, "tier.set", f"{found.name}: {tier}", found.id)
    return usage


def set_mailbox_limit(services: Services, actor: Principal, address: str, limit: int | None) -> User:
    """An owner caps one mailbox inside the business's quota (None: only the business's limit applies)."""
    user = services.directory.get_user(actor, address)
    if actor.role is Role.USER:
        raise PermissionDenied("only the owner of the business sets mailbox limits")
    services.quota.set_mailbox_limit(user.id, limit)
    shown = "none" if limit is None else format_bytes(limit)
    services.audit.record(actor, "mailbox.limit", f"{user.address}: {shown}", user.tenant_id)
    return user


def send_storage_warning(services: Services, tenant_id: int, level: int) -> None:
    """Mail the owners of a business once when it crosses a warning level (runs after the writer's commit)."""
    usage = services.quota.current(tenant_id)
    owners = services.directory.owners(tenant_id)
    if not owners:
        return
    upgrades = [name for name, tier in services.config.tiers.items() if tier.storage_bytes > usage.limit]
    advice = f"Upgrade to {upgrades[0]} or delete old mail to make room." if upgrades else "Delete old mail."
    body = (
        f"Your storage for {usage.tenant} is {level} % full: {format_bytes(usage.used)} of "
        f"{format_bytes(usage.limit)} ({usage.tier} tier).\r\n\r\n{advice}\r\n"
        "When it is full, new mail waits at the senders' servers until there is room again.\r\n"
    )
    mail_owners(services, owners, f"Storage {level} % full", body)


def usage_history(services: Services, actor: Principal, tenant: str, days: int) -> list[tuple[str, int, int]]:
    """Daily usage records of a business, newest first (for reports and billing)."""
    return services.quota.daily_history(services.directory.get_tenant(actor, tenant).id, days)


def record_daily_usage(services: Services) -> int:
    """Record today's usage of every business (billing and reports)."""
    today = datetime.datetime.fromtimestamp(services.clock(), datetime.UTC).date()
    return services.quota.record_today(today)
