"""One run of an import: list the old server's folders and messages, then copy what the ledger does not hold yet,
folder by folder in batches, each batch stored like an APPEND (files synced, rows and quota in one transaction
with the batch's ledger rows). Killed or failed, the next run of the same source resumes where the ledger ends.
A full tier stops the run with a clear message; nothing half-done stays (the batch's transaction failed whole).
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from smb_suite.config import MIB
from smb_suite.directory.model import User
from smb_suite.errors import AlreadyExists, ImportFailed, QuotaExceeded
from smb_suite.imports.folders import RemoteFolder, local_name
from smb_suite.imports.records import ImportRecords, Progress, SourceFolder
from smb_suite.imports.remote import RemoteMailbox, RemoteMessage, Source
from smb_suite.storage.runner import StoreRunner
from smb_suite.storage.store import MailStore
from smb_suite.storage.transfer import NewMessage

BATCH_MESSAGES = 100
BATCH_BYTES = 8 * MIB

Listener = Callable[[Progress, str], None]  # told after each batch: the run's progress, the folder being copied


@dataclass(frozen=True, slots=True)
class FolderPlan:
    remote: RemoteFolder
    local: str
    ledger: SourceFolder
    todo: list[RemoteMessage]


@dataclass
class Counts:
    messages_total: int = 0
    bytes_total: int = 0
    messages_done: int = 0
    bytes_done: int = 0


class ImportRun:
    def __init__(
        self, store: MailStore, runner: StoreRunner, records: ImportRecords, user: User, source: Source
    ) -> None:
        self._store, self._runner, self._records = store, runner, records
        self._user, self._source = user, source
        self._counts = Counts()
        self._import_id = 0

    async def run(self, listener: Listener, import_id: int | None = None) -> Progress:
        """Run a new import, or the queued one `import_id` (its row exists, claimed by this process)."""
        if import_id is None:
            import_id = await self._runner.write(self._records.start, self._user, self._source.key)
        self._import_id = import_id
        try:
            remote = await RemoteMailbox.open(self._source)
            try:
                plans = await self._plan(remote)
                await self._update()
                for plan in plans:
                    await self._copy(remote, plan, listener)
            finally:
                await remote.close()
        except QuotaExceeded as exc:
            await self._fail(
                f"import stopped, {exc}: free space or raise the limit (the business's tier or the mailbox's own), "
                "then import again: it goes on where it stopped"
            )
        except ImportFailed as exc:
            await self._fail(str(exc))
        await self._update(state="done")
        return await self._runner.read(self._records.progress, self._import_id)

    async def _plan(self, remote: RemoteMailbox) -> list[FolderPlan]:
        """Every selectable folder with the messages not brought in yet; the totals count those already in."""
        plans, claimed = [], Counter[tuple[str, int, int | None]]()
        for folder in await remote.folders():
            if not folder.selectable:
                continue
            uidvalidity = await remote.open_folder(folder)
            messages = await remote.inventory()
            ledger = SourceFolder(self._user.id, self._source.key, folder.wire_name, uidvalidity)
            done = await self._runner.read(self._records.imported, ledger)
            local = local_name(folder)
            claimed.update((local, m.size, m.internaldate) for m in messages if m.uid in done)
            plans.append(FolderPlan(folder, local, ledger, [m for m in messages if m.uid not in done]))
            self._count(messages, len(messages) - len(plans[-1].todo), sum(m.size for m in messages if m.uid in done))
        return [await self._adopt_copies(plan, claimed) for plan in plans]

    async def _adopt_copies(self, plan: FolderPlan, claimed: Counter[tuple[str, int, int | None]]) -> FolderPlan:
        """Messages already in our folder with the same size and internal date as a source message the ledger
        lacks (a run killed between a batch's files and its commit leaves files that the daemon's next start
        indexes, without keywords; or the user dragged some over) are recorded as brought in, with the source's
        flags, rather than copied twice. The oldest copies of a size and date are the ones the ledger accounts
        for; only the others are taken."""
        held = await self._runner.read(self._records.held, self._user, plan.local)
        free = {key: uids[claimed[(plan.local, *key)] :] for key, uids in held.items()}
        adopted: list[tuple[RemoteMessage, int]] = []
        todo = []
        for message in plan.todo:
            spare = free.get((message.size, message.internaldate or 0))
            if spare:
                adopted.append((message, spare.pop(0)))
                claimed[(plan.local, message.size, message.internaldate)] += 1
            else:
                todo.append(message)
        if adopted:
            mailbox = await self._runner.read(self._store.mailbox, self._user, plan.local)
            for message, uid in adopted:
                await self._runner.write(self._store.store_flags, self._user, mailbox, [uid], message.flags, 0)
            await self._runner.write(self._records.adopt, plan.ledger, [message.uid for message, _ in adopted])
            self._count([], len(adopted), sum(message.size for message, _ in adopted))
        return FolderPlan(plan.remote, plan.local, plan.ledger, todo)

    def _count(self, listed: Sequence[RemoteMessage], done: int, done_bytes: int) -> None:
        counts = self._counts
        counts.messages_total += len(listed)
        counts.bytes_total += sum(message.size for message in listed)
        counts.messages_done += done
        counts.bytes_done += done_bytes

    async def _copy(self, remote: RemoteMailbox, plan: FolderPlan, listener: Listener) -> None:
        if not plan.todo:
            return
        if await remote.open_folder(plan.remote) != plan.ledger.uidvalidity:
            raise ImportFailed(f"{plan.remote.wire_name} changed on the old server meanwhile: import again")
        await self._runner.write(_ensure_folder, self._store, self._user, plan.local)
        for batch in _batches(plan.todo):
            bodies = await remote.bodies([message.uid for message in batch])
            kept = [message for message in batch if message.uid in bodies]  # others vanished there meanwhile
            if kept:
                new = [NewMessage(bodies[m.uid], m.flags, m.internaldate) for m in kept]
                staged = await self._runner.read(self._store.stage, self._user, plan.local, new, self._runner.io)
                ledger = self._records.ledger_writer(plan.ledger, [message.uid for message in kept])
                await self._runner.write(self._store.commit_staged, self._user, staged, ledger)
            self._counts.messages_done += len(batch)
            self._counts.bytes_done += sum(message.size for message in batch)
            await self._update()
            listener(await self._runner.read(self._records.progress, self._import_id), plan.local)

    async def _update(self, **values: object) -> None:
        counts = self._counts
        await self._runner.write(
            self._records.update,
            self._import_id,
            messages_total=counts.messages_total,
            bytes_total=counts.bytes_total,
            messages_done=counts.messages_done,
            bytes_done=counts.bytes_done,
            **values,
        )

    async def _fail(self, error: str) -> None:
        await self._update(state="failed", error=error)
        raise ImportFailed(error)


def _ensure_folder(store: MailStore, user: User, name: str) -> None:
    with contextlib.suppress(AlreadyExists):
        store.create_with_parents(user, name)


def _batches(messages: Sequence[RemoteMessage]) -> Iterator[list[RemoteMessage]]:
    batch: list[RemoteMessage] = []
    size = 0
    for message in messages:
        if batch and (len(batch) >= BATCH_MESSAGES or size + message.size > BATCH_BYTES):
            yield batch
            batch, size = [], 0
        batch.append(message)
        size += message.size
    if batch:
        yield batch
