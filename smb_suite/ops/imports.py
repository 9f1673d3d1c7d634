"""Moving a mailbox in from the previous provider over IMAP (imports/): the use case shared by the CLI and the
admin UI. The actor must be allowed to manage the mailbox; the run is audited (never the password)."""

from __future__ import annotations

from smb_suite.directory.model import Principal
from smb_suite.imports.job import ImportRun, Listener
from smb_suite.imports.records import Progress
from smb_suite.imports.remote import Source
from smb_suite.services import Services


async def import_imap(
    services: Services, actor: Principal, address: str, source: Source, listener: Listener
) -> Progress:
    """Copy every folder of `source` into the mailbox, resuming a run of the same source that stopped."""
    user = await services.runner.read(services.directory.get_user, actor, address)
    services.audit.record(actor, "import.started", f"{user.address} <- {source.key}", user.tenant_id)
    run = ImportRun(services.store, services.runner, services.imports, user, source)
    try:
        progress = await run.run(listener)
    finally:
        latest = await services.runner.read(services.imports.latest, user)
        if latest is not None:
            target = f"{user.address} <- {source.key}: {latest.state}, {latest.messages_done}/{latest.messages_total}"
            services.audit.record(actor, "import.ended", target, user.tenant_id)
    return progress
