"""`Delivery.accept()`: the one way into a mailbox (see the package docstring for who calls it).

Local copies go durably into the mailboxes' folders and remote ones durably into the outbound queue, both
before `accept` returns (and the front end answers); vacation autoreplies (RFC 3834) follow once the mail is
safe. Concurrent calls from the event loop are committed together (one batch per writer turn), so fsyncs are
shared; callers already on the writer thread (the contact form, the postmaster's notices) use `accept_now`,
the same path without the batching.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from smb_suite import log
from smb_suite.config import Config
from smb_suite.delivery import recipients
from smb_suite.directory.core import Directory
from smb_suite.directory.dkimkeys import DkimKeys
from smb_suite.directory.model import Resolution, User, Vacation
from smb_suite.errors import RelayDenied, SmbSuiteError
from smb_suite.mail import autoreply, message
from smb_suite.mail.address import parse_address
from smb_suite.metrics import Metrics
from smb_suite.queue.spool import QueueStore
from smb_suite.storage.correspondents import Correspondents
from smb_suite.storage.runner import GroupCommit, StoreRunner
from smb_suite.storage.store import MailStore

logger = logging.getLogger("smb_suite.delivery")
INBOX = "INBOX"
JUNK = "Junk"  # DMARC quarantine: kept for the recipients here, never passed on, never answered


class Listener(Protocol):
    """Told of mail delivered into INBOXes (the answers to invitations: dav/replies.py), subscribed at
    composition. `wants` runs on the event loop and must be quick and bounded; `delivered` runs in a thread once
    the copies are safe, and whatever it raises is logged, never turned into a failed delivery."""

    def wants(self, data: bytes) -> bool: ...

    def delivered(self, mailboxes: Sequence[User], data: bytes) -> None: ...


@dataclass(frozen=True, slots=True)
class _Item:
    sender: str
    mailboxes: list[User]  # one per user: `_item` removes repeats
    remote: list[str]
    data: bytes
    folder: str
    enforce: bool  # False: the postmaster's notices, which must reach a full mailbox
    submitter: int | None  # the business of the user who submitted it (None: it came from outside)


@dataclass(frozen=True, slots=True)
class _Stored:
    queue_id: str | None
    vacations: dict[int, Vacation]


@dataclass(frozen=True, slots=True)
class Accepted:
    copies: int  # local copies stored
    queue_id: str | None  # the outbound queue's id when some recipients are remote


def _item(
    sender: str,
    mailboxes: Sequence[User],
    remote: Sequence[str],
    data: bytes,
    folder: str,
    enforce: bool,
    submitter: User | None = None,
) -> _Item:
    """One copy per user, one queue entry per remote address; quarantined mail is never passed on."""
    distinct = list({user.id: user for user in mailboxes}.values())
    passed_on = [] if folder == JUNK else list(dict.fromkeys(remote))
    return _Item(sender, distinct, passed_on, data, folder, enforce, submitter.tenant_id if submitter else None)


def _correspondents(item: _Item, now: int) -> list[tuple[int, str, int]]:
    """The CRM's last contact (storage/correspondents.py): for each business that received it, the message's
    From (RFC 5322 3.6.2); for the business that sent it, its recipients outside that business. Mail without
    a sender (bounces, our notices) and quarantined mail count for nobody."""
    if not item.sender or item.folder != INBOX:
        return []
    rows: list[tuple[int, str, int]] = []
    receivers = {user.tenant_id for user in item.mailboxes} - {item.submitter}
    if receivers:
        senders = message.from_addresses(item.data)
        rows += [(tenant_id, address, now) for tenant_id in receivers for address in senders]
    if item.submitter is not None:
        others = [str(user.address) for user in item.mailboxes if user.tenant_id != item.submitter]
        rows += [(item.submitter, address, now) for address in (*item.remote, *others)]
    return rows


class Delivery:
    def __init__(
        self,
        directory: Directory,
        store: MailStore,
        queue: QueueStore,
        runner: StoreRunner,
        dkim: DkimKeys,
        config: Config,
        clock: Callable[[], float],
        metrics: Metrics | None = None,
        correspondents: Correspondents | None = None,
    ) -> None:
        self._metrics = metrics or Metrics()
        self._correspondents = correspondents
        self._directory = directory
        self._store = store
        self._queue = queue
        self._runner = runner
        self._dkim = dkim
        self._config = config
        self._clock = clock
        self._batcher = GroupCommit(runner, self._store_batch, self._store_one)
        self.listeners: list[Listener] = []

    def resolve(self, address: str) -> Resolution:
        """Where mail for a hosted address goes, with the configured recipient delimiter (recipients.resolve)."""
        delimiter = self._config.delivery.recipient_delimiter
        return recipients.resolve(self._directory, self._store, address, delimiter)

    async def accept(
        self,
        sender: str,
        mailboxes: Sequence[User],
        remote: Sequence[str],
        data: bytes,
        folder: str = INBOX,
        enforce: bool = True,
        submitter: User | None = None,
    ) -> Accepted:
        """Store local copies and queue remote copies durably; then send vacation replies. Raises on failure.
        `submitter`: the signed-in user who sent it (submission), whose business's last contacts it updates."""
        item = _item(sender, mailboxes, remote, data, folder, enforce, submitter)
        stored = await self._batcher.submit(item)
        if isinstance(stored, SmbSuiteError):
            raise stored
        if stored.vacations:
            answering = [user for user in item.mailboxes if user.id in stored.vacations]
            try:
                await self._vacation_replies(sender, answering, stored.vacations, data)
            except (SmbSuiteError, OSError) as error:  # the mail is safe; a missed autoreply is only logged
                log.event(logger, "vacation.failed", sender=sender, reason=str(error) or error.__class__.__name__)
        if item.mailboxes and item.folder == INBOX:
            await self._tell_listeners(item)
        self._metrics.delivered.labels("local").inc(len(item.mailboxes))
        return Accepted(len(item.mailboxes), stored.queue_id)

    def accept_now(
        self, mailboxes: Sequence[User], data: bytes, enforce: bool = True, remote: Sequence[str] = ()
    ) -> Accepted:
        """`accept` for mail we make, on the writer thread (the contact form, the postmaster's notices): the same
        path into the INBOXes and the outbound queue (`remote`) without batching, with the null envelope sender,
        which no vacation reply answers (RFC 3834 2)."""
        item = _item("", mailboxes, remote, data, INBOX, enforce)
        stored = self._store_one(item)
        if isinstance(stored, SmbSuiteError):
            raise stored
        self._metrics.delivered.labels("local").inc(len(item.mailboxes))
        return Accepted(len(item.mailboxes), stored.queue_id)

    async def _tell_listeners(self, item: _Item) -> None:
        for listener in self.listeners:
            if not listener.wants(item.data):
                continue
            try:
                await asyncio.to_thread(listener.delivered, item.mailboxes, item.data)
            except Exception as error:  # the mail is delivered: a listener's failure is only logged
                name = type(listener).__name__
                log.event(logger, "delivery.listener_failed", listener=name, error=type(error).__name__)
                logger.warning("delivery.listener_failed traceback", exc_info=error)

    def _store_batch(self, items: Sequence[_Item]) -> list[_Stored | SmbSuiteError]:
        """On the writer thread: store the local copies, then queue the remote ones of the messages whose local
        part succeeded, each step one group commit. Per message: its queue id and the vacation replies its
        hosted recipients have switched on, or its own error (a full mailbox fails that message alone)."""
        io = self._runner.io
        grouped = [item for item in items if item.mailboxes and item.folder == INBOX and item.enforce]
        errors = self._store.deliver_batch([(i.mailboxes, i.data) for i in grouped], io) if grouped else []
        failed = {id(item): error for item, error in zip(grouped, errors, strict=True) if error is not None}
        for item in items:
            if item.mailboxes and not (item.folder == INBOX and item.enforce):
                try:
                    self._store_apart(item)
                except SmbSuiteError as error:
                    failed[id(item)] = error
        queued = [item for item in items if item.remote and id(item) not in failed]
        queue_ids = self._queue.enqueue_batch([(i.sender, i.remote, i.data) for i in queued], io) if queued else []
        ids = dict(zip((id(item) for item in queued), queue_ids, strict=True))
        answerable = {
            u.id for item in items if self._answerable(item) and id(item) not in failed for u in item.mailboxes
        }
        vacations = self._directory.vacations(answerable) if answerable else {}
        if self._correspondents is not None:  # one upsert for the batch, committed with its other writes
            now = int(self._clock())
            self._correspondents.record(
                row for item in items if id(item) not in failed for row in _correspondents(item, now)
            )
        return [
            failed[id(item)]
            if id(item) in failed
            else _Stored(ids.get(id(item)), {u.id: vacations[u.id] for u in item.mailboxes if u.id in vacations})
            for item in items
        ]

    def _store_apart(self, item: _Item) -> None:
        """Copies outside the group commit: into INBOX without the quota check, or into another folder."""
        if item.folder == INBOX:
            self._store.deliver(item.mailboxes, item.data, enforce=False)
            return
        for user in item.mailboxes:
            self._store.append(user, item.folder, item.data)

    @staticmethod
    def _answerable(item: _Item) -> bool:
        """Vacation replies go to a real sender of mail that reached the INBOX (RFC 3834 2: never to <>)."""
        return bool(item.sender) and item.folder == INBOX

    def _store_one(self, item: _Item) -> _Stored | SmbSuiteError:
        return self._store_batch([item])[0]

    def sign_generated(self, data: bytes) -> bytes:
        """DKIM-sign mail we write ourselves (vacation replies, reports) when its From is one of our domains, so
        it passes DMARC at Gmail and Outlook like the user's own mail. Blocking: call it from a thread."""
        senders = message.from_addresses(data)
        if len(senders) != 1:
            return data
        domain = message.domain_of(senders[0])
        return self._dkim.sign(data, domain) if self._directory.find_domain(domain) is not None else data

    async def send(self, sender: str, recipients: Sequence[str], data: bytes) -> Accepted:
        """Deliver a message we generate (DSN, autoreply): hosted recipients locally, others via the queue."""
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
