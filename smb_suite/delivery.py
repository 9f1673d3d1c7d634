"""Delivery: recipient address -> hosted mailboxes (aliases, plus-addressing, catch-all, forwards) and remote
addresses; local copies go durably into INBOXes, remote ones durably into the outbound queue, both before the
front end answers. Vacation autoreplies (RFC 3834) follow once the mail is safe.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from smb_suite import log
from smb_suite.config import Config
from smb_suite.directory.core import Directory
from smb_suite.directory.model import Resolution, User, Vacation
from smb_suite.errors import RelayDenied, SmbSuiteError, StorageFull, TenantSuspended
from smb_suite.mail import autoreply
from smb_suite.mail.address import parse_address
from smb_suite.queue.spool import QueueStore
from smb_suite.storage.runner import GroupCommit, StoreRunner
from smb_suite.storage.store import MailStore

logger = logging.getLogger("smb_suite.delivery")


def resolve(directory: Directory, store: MailStore, address: str) -> list[User]:
    """Hosted mailboxes that receive mail for `address` (no forwarding elsewhere), for mail we make ourselves.

    Raises RelayDenied, UnknownRecipient, InvalidInput, TenantSuspended (451: its business is suspended), or
    StorageFull when a mailbox has no room left (a temporary failure: the sender retries, and an upgrade or
    clean-up lets the mail in).
    """
    users = list(directory.resolve_recipient(address).mailboxes)
    refuse_suspended(directory, address, users)
    if any(store.is_full(user) for user in users):
        raise StorageFull(f"the storage of {address} is full")
    return users


def refuse_suspended(directory: Directory, address: str, mailboxes: Iterable[User]) -> None:
    """TenantSuspended (451 4.7.1: the sender keeps the mail and retries) when the address's business, or the
    business of a mailbox it reaches, is suspended."""
    domain = directory.find_domain(parse_address(address).domain)
    tenants = {user.tenant_id for user in mailboxes} | ({domain.tenant_id} if domain else set())
    if any(directory.tenant_suspended(tenant) for tenant in tenants):
        raise TenantSuspended(f"{address} is temporarily unavailable")


def deliver(store: MailStore, users: Iterable[User], data: bytes) -> int:
    """Store one copy per distinct mailbox, durably (fsync before return); returns the number of copies."""
    distinct = list({user.id: user for user in users}.values())
    store.deliver(distinct, data)
    return len(distinct)


def deliver_to_junk(store: MailStore, users: Iterable[User], data: bytes) -> int:
    """Store one copy per distinct mailbox in its Junk folder (DMARC quarantine), durably; returns the count."""
    distinct = list({user.id: user for user in users}.values())
    for user in distinct:
        store.append(user, "Junk", data)
    return len(distinct)


@dataclass(frozen=True, slots=True)
class _Item:
    sender: str
    mailboxes: list[User]
    remote: list[str]
    data: bytes


@dataclass(frozen=True, slots=True)
class _Stored:
    queue_id: str | None
    vacations: dict[int, Vacation]


@dataclass(frozen=True, slots=True)
class Accepted:
    copies: int  # local copies stored
    queue_id: str | None  # the outbound queue's id when some recipients are remote


class Delivery:
    def __init__(
        self,
        directory: Directory,
        store: MailStore,
        queue: QueueStore,
        runner: StoreRunner,
        config: Config,
        clock: Callable[[], float],
    ) -> None:
        self._directory = directory
        self._store = store
        self._queue = queue
        self._runner = runner
        self._config = config
        self._clock = clock
        self._batcher = GroupCommit(runner, self._store_batch, self._store_one)
        self.sign_generated: Callable[[bytes], bytes] = lambda data: data  # ops installs DKIM signing

    def resolve(self, address: str) -> Resolution:
        """Where mail for a hosted address goes; raises RelayDenied, UnknownRecipient, InvalidInput, or
        StorageFull when a mailbox has no room left (temporary: the sender retries after a clean-up)."""
        resolution = self._directory.resolve_recipient(address, self._config.delivery.recipient_delimiter)
        refuse_suspended(self._directory, address, resolution.mailboxes)
        if any(self._store.is_full(user) for user in resolution.mailboxes):
            raise StorageFull(f"the storage of {address} is full")
        return resolution

    async def accept(self, sender: str, mailboxes: Sequence[User], remote: Sequence[str], data: bytes) -> Accepted:
        """Store local copies and queue remote copies durably; then send vacation replies. Raises on failure.

        Concurrent calls are committed together (one batch per writer turn), so fsyncs are shared.
        """
        distinct = list({user.id: user for user in mailboxes}.values())
        stored = await self._batcher.submit(_Item(sender, distinct, list(dict.fromkeys(remote)), data))
        if isinstance(stored, SmbSuiteError):
            raise stored
        queue_id, vacations = stored.queue_id, stored.vacations
        if vacations:
            try:
                await self._vacation_replies(sender, [u for u in distinct if u.id in vacations], vacations, data)
            except (SmbSuiteError, OSError) as error:  # the mail is safe; a missed autoreply is only logged
                log.event(logger, "vacation.failed", sender=sender, reason=str(error) or error.__class__.__name__)
        return Accepted(len(distinct), queue_id)

    def _store_batch(self, items: Sequence[_Item]) -> list[_Stored | SmbSuiteError]:
        """On the writer thread: store the local copies, then queue the remote ones of the messages whose local
        part succeeded, each step one group commit. Per message: its queue id and the vacation replies its
        hosted recipients have switched on, or its own error (a full mailbox fails that message alone)."""
        io = self._runner.io
        local = [item for item in items if item.mailboxes]
        errors = self._store.deliver_batch([(i.mailboxes, i.data) for i in local], io) if local else []
        failed = {id(item): error for item, error in zip(local, errors, strict=True) if error is not None}
        queued = [item for item in items if item.remote and id(item) not in failed]
        queue_ids = self._queue.enqueue_batch([(i.sender, i.remote, i.data) for i in queued], io) if queued else []
        ids = dict(zip((id(item) for item in queued), queue_ids, strict=True))
        answerable = {u.id for item in items if item.sender and id(item) not in failed for u in item.mailboxes}
        vacations = self._directory.vacations(answerable) if answerable else {}
        return [
            failed[id(item)]
            if id(item) in failed
            else _Stored(ids.get(id(item)), {u.id: vacations[u.id] for u in item.mailboxes if u.id in vacations})
            for item in items
        ]

    def _store_one(self, item: _Item) -> _Stored | SmbSuiteError:
        return self._store_batch([item])[0]

    async def send(self, sender: str, recipients: Sequence[str], data: bytes) -> Accepted:
        """Deliver a message we generate (report, autoreply): hosted recipients locally, others via the queue."""
        data = await asyncio.to_thread(self.sign_generated, data)
        mailboxes: list[User] = []
        remote: list[str] = []
        for recipient in recipients:
            try:
                resolution = await self._runner.read(self.resolve, recipient)
            except RelayDenied:
                remote.append(str(parse_address(recipient, fold_case=False)))
                continue
            mailboxes += resolution.mailboxes
            remote += [str(address) for address in resolution.remote]
        return await self.accept(sender, mailboxes, remote, data)

    async def _vacation_replies(
        self, sender: str, mailboxes: Sequence[User], vacations: dict[int, Vacation], data: bytes
    ) -> None:
        header = autoreply.parse_header(data)
        if not autoreply.should_reply(sender, header):
            return
        for user in mailboxes:
            if str(user.address) == sender.lower():
                continue
            vacation = vacations[user.id]
            interval = self._config.delivery.vacation_interval
            if not await self._runner.write(self._directory.claim_vacation_reply, user.id, sender, interval):
                continue
            reply = autoreply.build_reply(
                user=str(user.address),
                sender=sender,
                subject=vacation.subject,
                text=vacation.body,
                original=header,
                hostname=self._config.server.hostname,
                now=self._clock(),
            )
            await self.send("", [sender], reply)  # RFC 3834 3.3: null envelope sender, so it never bounces back
            log.event(logger, "vacation.replied", user=user.address, to=sender)
