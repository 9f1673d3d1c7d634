"""Use cases shared by the command line and the admin UI: no SQL here, no HTTP here.

`Services` is the bundle of core objects built once from the configuration; each function takes it and the
acting principal, and does one thing a user asked for.
"""

from __future__ import annotations

import asyncio
import datetime
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa

from smb_suite import db, tls
from smb_suite.auth.passwords import DUMMY_HASH, hash_password, verify_password
from smb_suite.auth.throttle import LoginThrottle
from smb_suite.config import Config
from smb_suite.delivery import Delivery
from smb_suite.directory import OPERATOR, Directory, Domain, Principal, Role, User
from smb_suite.errors import AuthenticationFailed, InvalidInput
from smb_suite.queue.spool import QueueStore
from smb_suite.sites import publish
from smb_suite.storage.runner import StoreRunner
from smb_suite.storage.store import MailStore


@dataclass
class Services:
    config: Config
    engine: sa.Engine
    directory: Directory
    store: MailStore
    queue: QueueStore
    delivery: Delivery
    runner: StoreRunner
    throttle: LoginThrottle = field(default_factory=LoginThrottle)
    clock: Callable[[], float] = time.time

    def close(self) -> None:
        self.runner.close()
        self.engine.dispose()


def open_services(config: Config, clock: Callable[[], float] = time.time) -> Services:
    """Connect to an initialised data folder (see `initialise`)."""
    engine = db.create_engine(config.database_url)
    directory = Directory(engine, clock)
    store = MailStore(engine, config.mail_dir, clock)
    runner = StoreRunner()
    queue = QueueStore(engine, config.queue_dir, clock, runner.io)
    return Services(
        config=config,
        engine=engine,
        directory=directory,
        store=store,
        queue=queue,
        delivery=Delivery(directory, store, queue, runner, config, clock),
        runner=runner,
        clock=clock,
    )


def initialise(config: Config) -> list[str]:
    """Create the data folder, database (migrations applied) and certificate; return what was created."""
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
    finally:
        engine.dispose()
    if tls.ensure_self_signed(config.certificate_path, config.key_path, config.server.hostname):
        created.append(f"self-signed certificate {config.certificate_path}")
    return created


# -- domains --------------------------------------------------------------------------------------------------


def publish_default_site(services: Services, domain: Domain) -> None:
    """Give a new domain its starter page from the default theme."""
    config = services.config
    context = {
        "lang": "en",
        "business_name": domain.tenant_name,
        "domain": domain.name,
        "contact": f"contact@{domain.name}",
        "year": datetime.date.today().year,
    }
    publish.publish(config.sites_dir, domain.name, config.themes_dir / config.sites.default_theme, context)


def add_domain(services: Services, actor: Principal, name: str, tenant: str | None = None) -> Domain:
    domain = services.directory.add_domain(actor, name, tenant)
    publish_default_site(services, domain)
    return domain


def remove_domain(services: Services, actor: Principal, name: str) -> Domain:
    domain = services.directory.remove_domain(actor, name)
    publish.remove_site(services.config.sites_dir, domain.name)
    return domain


# -- users ----------------------------------------------------------------------------------------------------


def add_user(services: Services, actor: Principal, address: str, password: str, role: Role = Role.USER) -> User:
    user = services.directory.add_user(actor, address, hash_password(password), role)
    services.store.create_user_store(user)
    return user


def set_password(services: Services, actor: Principal, address: str, password: str) -> User:
    return services.directory.set_password(actor, address, hash_password(password))


def remove_user(services: Services, actor: Principal, address: str) -> User:
    user = services.directory.remove_user(actor, address, services.store.forget_user)
    services.store.remove_files(user)
    return user


def principal_of(user: User) -> Principal:
    return Principal(user.role, tenant_id=user.tenant_id, user_id=user.id, name=str(user.address))


def check_password(services: Services, username: str, password: str) -> User:
    """Verify a login synchronously (argon2: slow, run it in a thread). Raises AuthenticationFailed."""
    user = services.directory.find_user(username)
    if user is None:
        verify_password(DUMMY_HASH, password)
        raise AuthenticationFailed("wrong user name or password")
    if not verify_password(user.password_hash, password):
        raise AuthenticationFailed("wrong user name or password")
    return user


async def login(services: Services, username: str, password: str, client_ip: str) -> User:
    """The one login path for SMTP AUTH, IMAP and the web UI: throttled per account and per address."""
    delay = services.throttle.delay(username, client_ip)
    if delay:
        await asyncio.sleep(delay)
    try:
        user = await asyncio.to_thread(check_password, services, username, password)
    except AuthenticationFailed:
        services.throttle.failed(username, client_ip)
        raise
    services.throttle.succeeded(username, client_ip)
    return user


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
        role = Role(text)
    except ValueError as exc:
        raise InvalidInput(f"role must be owner or user, not {text!r}") from exc
    if role is Role.OPERATOR:
        raise InvalidInput("role must be owner or user")
    return role


def dns_records(services: Services, domain: Domain) -> list[str]:
    """Zone-file lines a domain's owner publishes so that mail reaches us (DKIM follows with signing)."""
    host = services.config.server.hostname.rstrip(".")
    return [
        f"{domain.name}.\t3600\tIN\tMX\t10 {host}.",
        f'{domain.name}.\t3600\tIN\tTXT\t"v=spf1 mx -all"',
    ]
