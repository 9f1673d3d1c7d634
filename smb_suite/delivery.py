"""Delivery: recipient address -> hosted mailboxes (aliases, plus-addressing, catch-all, forwards) and remote
addresses; local copies go durably into INBOXes, remote ones durably into the outbound queue, both before the
front end answers. Vacation autoreplies (RFC 3834) follow once the mail is safe.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from smb_suite import log
from smb_suite.config import Config
from smb_suite.directory import Directory, Resolution, User, Vacation
from smb_suite.errors import RelayDenied, SmbSuiteError
from smb_suite.mail import autoreply
from smb_suite.mail.address import parse_address
from smb_suite.queue.spool import QueueStore
from smb_suite.storage.runner import GroupCommit, StoreRunner
from smb_suite.storage.store import MailStore

logger = logging.getLogger("smb_suite.delivery")


@dataclass(frozen=True, slots=True)
class _Item:
    sender: str
    mailboxes: list[User]
    remote: list[str]
    data: bytes


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

    def resolve(self, address: str) -> Resolution:
        """Where mail for a hosted address goes; raises RelayDenied, UnknownRecipient or InvalidInput."""
        return self._directory.resolve_recipient(address, self._config.delivery.recipient_delimiter)

    async def accept(self, sender: str, mailboxes: Sequence[User], remote: Sequence[str], data: bytes) -> Accepted:
        """Store local copies and queue remote copies durably; then send vacation replies. Raises on failure.

        Concurrent calls are committed together (one batch per writer turn), so fsyncs are shared.
        """
        distinct = list({user.id: user for user in mailboxes}.values())
        queue_id, vacations = await self._batcher.submit(_Item(sender, distinct, list(dict.fromkeys(remote)), data))
        if vacations:
            try:
                await self._vacation_replies(sender, [u for u in distinct if u.id in vacations], vacations, data)
            except (SmbSuiteError, OSError) as error:  # the mail is safe; a missed autoreply is only logged
                log.event(logger, "vacation.failed", sender=sender, reason=str(error) or error.__class__.__name__)
        return Accepted(len(distinct), queue_id)

    def _store_batch(self, items: Sequence[_Item]) -> list[tuple[str | None, dict[int, Vacation]]]:
        """On the writer thread: queue the remote copies, then store the local ones, each as one group commit.
        Returns each item's queue id and the vacation replies its hosted recipients have switched on."""
        io = self._runner.io
        queued = [item for item in items if item.remote]
        queue_ids = self._queue.enqueue_batch([(i.sender, i.remote, i.data) for i in queued], io) if queued else []
        ids = dict(zip((id(item) for item in queued), queue_ids, strict=True))
        local = [(item.mailboxes, item.data) for item in items if item.mailboxes]
        if local:
            self._store.deliver_batch(local, io)
        answerable = {user.id for item in items if item.sender for user in item.mailboxes}
        vacations = self._directory.vacations(answerable) if answerable else {}
        return [
            (ids.get(id(item)), {u.id: vacations[u.id] for u in item.mailboxes if item.sender and u.id in vacations})
            for item in items
        ]

    def _store_one(self, item: _Item) -> tuple[str | None, dict[int, Vacation]]:
        return self._store_batch([item])[0]

    async def send(self, sender: str, recipients: Sequence[str], data: bytes) -> Accepted:
        """Deliver a message we generate (report, autoreply): hosted recipients locally, others via the queue."""
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
