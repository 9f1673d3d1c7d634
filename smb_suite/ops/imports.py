"""Moving a mailbox in from the previous provider over IMAP (imports/): the use cases shared by the CLI and the
admin UI. The actor must be allowed to manage the mailbox; runs are audited (never the password).

The CLI runs an import in its own process (`import_imap`). The admin UI queues one (`queue_import`): a task of
the daemon (`run_periodically`, one per server process) claims queued runs in the database with a lease it
renews after each batch, so a run whose daemon was killed is taken up again by the next one that starts; the
ledger makes the resumed run copy only what is missing.
"""

from __future__ import annotations

import asyncio
import json
import logging

from smb_suite import log
from smb_suite.directory.model import Principal, User
from smb_suite.errors import ImportFailed, UnknownUser
from smb_suite.imports.job import ImportRun, Listener
from smb_suite.imports.records import Claimed, Progress
from smb_suite.imports.remote import Security, Source
from smb_suite.imports.secrets import SecretBox
from smb_suite.services import Services

logger = logging.getLogger(__name__)
LEASE = 30.0  # seconds a daemon process holds a run without renewing it (renewed every third of that)
POLL = 2.0  # seconds between looks for queued runs


async def import_imap(
    services: Services, actor: Principal, address: str, source: Source, listener: Listener
) -> Progress:
    """Copy every folder of `source` into the mailbox, resuming a run of the same source that stopped."""
    user = await services.runner.read(services.directory.get_user, actor, address)
    services.audit.record(actor, "import.started", f"{user.address} <- {source.key}", user.tenant_id)
    try:
        return await ImportRun(services.store, services.runner, services.imports, user, source).run(listener)
    finally:
        await _audit_end(services, actor, user, source.key)


async def queue_import(services: Services, actor: Principal, address: str, source: Source) -> int:
    """An import for the daemon to run (admin UI); its id. The password is kept sealed until the run ends."""
    user = await services.runner.read(services.directory.get_user, actor, address)
    settings = json.dumps(
        {"host": source.host, "port": source.port, "security": source.security.value, "user": source.user}
        | {"verify": source.verify}
    )
    sealed = await asyncio.to_thread(_box(services).seal, source.password)
    import_id = await services.runner.write(services.imports.start, user, source.key, settings=settings, secret=sealed)
    services.audit.record(actor, "import.queued", f"{user.address} <- {source.key}", user.tenant_id)
    return import_id


def latest(services: Services, actor: Principal, address: str) -> Progress | None:
    """The mailbox's newest run, for the page that shows its progress."""
    return services.imports.latest(services.directory.get_user(actor, address))


async def run_periodically(services: Services) -> None:
    """The daemon's task: run queued imports one after another until cancelled."""
    while True:
        try:
            ran = await run_next(services)
        except Exception:  # a run that failed unexpectedly must not end the task
            logger.exception("import.run_failed")
            ran = False
        if not ran:
            await asyncio.sleep(POLL)


async def run_next(services: Services) -> bool:
    """Claim and run one queued (or abandoned) import; False if there was none."""
    claimed = await services.runner.write(services.imports.claim, LEASE)
    if claimed is None:
        return False
    try:
        user = await services.runner.read(services.directory.user_by_id, claimed.user_id)
        if user is None:
            raise UnknownUser("the mailbox was removed")
        source = await asyncio.to_thread(_source, services, claimed)
        run = ImportRun(services.store, services.runner, services.imports, user, source)
        heartbeat = asyncio.create_task(_renew_lease(services, claimed.import_id))
        try:
            await run.run(lambda progress, folder: None, claimed.import_id)
        finally:
            heartbeat.cancel()
    except (ImportFailed, UnknownUser) as exc:  # recorded on the run for its page; the log says it too
        log.event(logger, "import.failed", import_id=claimed.import_id, reason=str(exc))
    finally:
        await services.runner.write(services.imports.finish, claimed.import_id)
    return True


async def _renew_lease(services: Services, import_id: int) -> None:
    """While this process runs the import, nobody else takes it; killed, its lease lapses within LEASE."""
    while True:
        await asyncio.sleep(LEASE / 3)
        await services.runner.write(services.imports.renew, import_id, LEASE)


def _source(services: Services, claimed: Claimed) -> Source:
    settings = json.loads(claimed.settings)
    password = _box(services).open(claimed.secret)
    security = Security(settings["security"])
    return Source(settings["host"], int(settings["port"]), security, settings["user"], password, settings["verify"])


def _box(services: Services) -> SecretBox:
    return SecretBox(services.config.server.data_dir / "keys" / "imports.key")


async def _audit_end(services: Services, actor: Principal, user: User, source: str) -> None:
    done = await services.runner.read(services.imports.latest, user)
    if done is not None:
        target = f"{user.address} <- {source}: {done.state}, {done.messages_done}/{done.messages_total}"
        services.audit.record(actor, "import.ended", target, user.tenant_id)
