"""The services container and its composition: `open_services` builds the core objects once from the
configuration, each given what it needs at construction (delivery its DKIM keys; the postmaster's notices
subscribed to the quota's warning levels); `initialise` prepares the data folder they open. No use cases here:
those are in ops/."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa

from smb_suite import log, tls
from smb_suite.auth.apitokens import ApiTokens
from smb_suite.auth.apppasswords import AppPasswords
from smb_suite.auth.credentials import CredentialCache
from smb_suite.auth.idempotency import IdempotencyKeys
from smb_suite.auth.ratelimit import RateLimits
from smb_suite.auth.recovery import Recovery
from smb_suite.auth.sessions import WebSessions
from smb_suite.auth.throttle import LoginThrottle
from smb_suite.billing.records import Subscriptions
from smb_suite.config import Config, parse_nameserver
from smb_suite.dav.layout import DavLayout
from smb_suite.dav.replies import Replies
from smb_suite.dav.scheduling import Events
from smb_suite.dav.store import DavStore
from smb_suite.delivery import Delivery
from smb_suite.delivery.notices import OwnerNotices
from smb_suite.directory import reservation
from smb_suite.directory.audit import AuditLog
from smb_suite.directory.brands import Brands, default_brand
from smb_suite.directory.core import Directory
from smb_suite.directory.dkimkeys import DkimKeys
from smb_suite.directory.tenants import Tenants
from smb_suite.dns import Resolver
from smb_suite.imports.records import ImportRecords
from smb_suite.metrics import Metrics
from smb_suite.queue.spool import QueueStore
from smb_suite.quota import Quota
from smb_suite.sites import publish
from smb_suite.sites.content import ContentStore
from smb_suite.sites.library import MediaLibrary
from smb_suite.sites.store import SiteStore
from smb_suite.storage import database, db, legacy, tenantrows
from smb_suite.storage.correspondents import Correspondents
from smb_suite.storage.runner import StoreRunner
from smb_suite.storage.serving import ServingMark
from smb_suite.storage.store import MailStore

logger = logging.getLogger("smb_suite.daemon")


@dataclass
class Services:
    """The core objects, built once from the configuration by `open_services`, passed to every use case."""

    config: Config
    engine: sa.Engine
    directory: Directory
    quota: Quota
    store: MailStore
    sites: SiteStore
    content: ContentStore
    media: MediaLibrary
    audit: AuditLog
    tenants: Tenants
    app_passwords: AppPasswords
    dkim: DkimKeys
    resolver: Resolver
    queue: QueueStore
    delivery: Delivery
    notices: OwnerNotices
    runner: StoreRunner
    throttle: LoginThrottle
    rate_limits: RateLimits
    credentials: CredentialCache
    web_sessions: WebSessions
    subscriptions: Subscriptions
    dav: DavStore
    events: Events
    correspondents: Correspondents
    api_tokens: ApiTokens
    brands: Brands
    idempotency: IdempotencyKeys
    imports: ImportRecords
    recovery: Recovery
    serving: ServingMark
    clock: Callable[[], float] = time.time
    metrics: Metrics = field(default_factory=Metrics)
    listening: dict[str, int] = field(default_factory=dict)  # service -> bound port, filled in by the daemon
    draining: bool = False  # set by the daemon on SIGTERM: /healthz turns the balancer away (web/health.py)

    def close(self) -> None:
        self.serving.close()
        self.runner.close()
        self.engine.dispose()


def open_services(config: Config, clock: Callable[[], float] = time.time) -> Services:
    """Connect to an initialised data folder (see `initialise`)."""
    engine = database.create_engine(config.database_url)
    quota = Quota(engine, config.tiers, config.quota.warn_percent)
    store = MailStore(engine, config.mail_dir, clock, quota)
    sites = SiteStore(engine, config.sites_dir, quota)
    content = ContentStore(engine, clock)
    media = MediaLibrary(engine, quota, clock)
    app_passwords = AppPasswords(engine, clock)
    subscriptions = Subscriptions(engine, clock)
    imports = ImportRecords(engine, clock)
    # what other parts keep about a user or a domain goes in the directory's transaction that removes it
    dav = DavStore(engine, quota, DavLayout(config.server.data_dir))
    directory = Directory(
        engine,
        clock,
        reservation.rules_of(config),
        user_records=(app_passwords, store, subscriptions, imports, dav),
        domain_records=(content, media, sites),
    )
    runner = StoreRunner(engine)
    queue = QueueStore(engine, config.queue_dir, clock, runner.io)
    dkim = DkimKeys(engine, clock)
    metrics = Metrics()
    correspondents = Correspondents(engine)
    delivery = Delivery(directory, store, queue, runner, dkim, config, clock, metrics, correspondents)
    brands = Brands(engine, clock, default_brand(config.brand, config.sites.platform_domain.strip(".").lower()))
    notices = OwnerNotices(delivery, directory, quota, config, clock, brands)
    quota.listeners.append(notices.storage_warning)  # the owners hear of a warning level crossed, by mail
    events = Events(dav)
    delivery.listeners.append(
        Replies(events, directory, config.server.hostname)
    )  # attendees' answers to invitations update the event
    services = Services(
        config=config,
        engine=engine,
        directory=directory,
        quota=quota,
        store=store,
        sites=sites,
        content=content,
        media=media,
        audit=AuditLog(engine, clock),
        tenants=Tenants(engine, directory, clock),
        app_passwords=app_passwords,
        queue=queue,
        delivery=delivery,
        notices=notices,
        runner=runner,
        throttle=LoginThrottle(engine, config.login, clock),
        rate_limits=RateLimits(engine, clock),
        credentials=CredentialCache(config.login.credential_cache_ttl, clock),
        web_sessions=WebSessions(engine, clock),
        subscriptions=subscriptions,
        dav=dav,
        events=events,
        correspondents=correspondents,
        api_tokens=ApiTokens(engine, clock),
        brands=brands,
        idempotency=IdempotencyKeys(engine, clock, float(config.api.idempotency_ttl)),
        imports=imports,
        recovery=Recovery(engine, clock),
        serving=ServingMark(engine),
        dkim=dkim,
        resolver=Resolver([parse_nameserver(server) for server in config.dns.nameservers], config.dns.timeout),
        clock=clock,
        metrics=metrics,
    )
    return services


async def start_serving(services: Services) -> None:
    """Before this node serves: repair what a crash left (storage/reconcile.py, the queue's) when no other node
    serves; then hold the serving mark (storage/serving.py) until `Services.close`. Once per node: the
    supervisor does it for its workers."""
    if await asyncio.to_thread(services.serving.try_alone):
        repaired = await services.runner.write(services.store.reconcile)
        log.event(logger, "store.reconciled", repaired=repaired)
        repaired = await services.runner.write(services.queue.reconcile)
        log.event(logger, "queue.reconciled", repaired=repaired)
    else:  # their mail in flight would look like a crash's debris: the repairs wait for a start alone
        log.event(logger, "store.reconcile_skipped", reason="other nodes are serving")
    await asyncio.to_thread(services.serving.serve)
    released = await services.runner.write(services.queue.release_host_claims)
    log.event(logger, "queue.claims_released", messages=released)


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
    engine = database.create_engine(config.database_url)
    try:
        if not database.is_current(engine):
            database.migrate(engine)
            created.append("database schema")
        with engine.connect() as conn:
            domains = [
                (int(row.id), str(row.name)) for row in conn.execute(sa.select(db.domains.c.id, db.domains.c.name))
            ]
        moved = legacy.migrate(engine, config.mail_dir)  # once: mail of old versions to paths made of ids
        if moved:
            created.append(f"id layout for mail ({moved} folders moved)")
        created.extend(
            f"removed {left} (a tenant import killed before its commit)"
            for left in tenantrows.clear_interrupted(engine, data_dir)
        )
    finally:
        engine.dispose()
    # Sites in folders named after domain ids (they were named after the domain): moved once, idempotent.
    created.extend(f"site layout: {step}" for step in publish.migrate_layout(config.sites_dir, domains))
    if tls.ensure_self_signed(config.certificate_path, config.key_path, config.server.hostname):
        created.append(f"self-signed certificate {config.certificate_path}")
    return created
