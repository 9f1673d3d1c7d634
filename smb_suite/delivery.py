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
from smb_suite.directory import Directory, Resolution, User
from smb_suite.errors import RelayDenied, SmbSuiteError
from smb_suite.mail import autoreply
from smb_suite.mail.address import parse_address
from smb_suite.queue.spool import QueueStore
from smb_suite.storage.runner import StoreRunner
from smb_suite.storage.store import MailStore

logger = logging.getLogger("smb_suite.delivery")


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

    def resolve(self, address: str) -> Resolution:
        """Where mail for a hosted address goes; raises RelayDenied, UnknownRecipient or InvalidInput."""
        return self._directory.resolve_recipient(address, self._config.delivery.recipient_delimiter)

    async def accept(self, sender: str, mailboxes: Sequence[User], remote: Sequence[str], data: bytes) -> Accepted:
        """Store local copies and queue remote copies durably; then send vacation replies. Raises on failure."""
        distinct = list({user.id: user for user in mailboxes}.values())
        queue_id = await self._runner.write(self._store_durably, sender, distinct, list(dict.fromkeys(remote)), data)
        if distinct and sender:
            try:
                await self._vacation_replies(sender, distinct, data)
            except (SmbSuiteError, OSError) as error:  # the mail is safe; a missed autoreply is only logged
                log.event(logger, "vacation.failed", sender=sender, reason=str(error) or error.__class__.__name__)
        return Accepted(len(distinct), queue_id)

    def _store_durably(self, sender: str, mailboxes: list[User], remote: list[str], data: bytes) -> str | None:
        queue_id = self._queue.enqueue(sender, remote, data) if remote else None
        if mailboxes:
            self._store.deliver(mailboxes, data)
        return queue_id

    async def send(self, sender: str, recipients: Sequence[str], data: bytes) -> Accepted:
        """Deliver a message we generate (report, autoreply): hosted recipients locally, others via the queue."""
        mailboxes: list[User] = []
        remote: list[str] = []
        for recipient in recipients:
            try:
                resolution = await self._runner.read(self.resolve, recipient)
            except RelayDenied:
                remote.append(str(parse_address(recipient)))
                continue
            mailboxes += resolution.mailboxes
            remote += [str(address) for address in resolution.remote]
        return await self.accept(sender, mailboxes, remote, data)

    async def _vacation_replies(self, sender: str, mailboxes: Sequence[User], data: bytes) -> None:
        header = autoreply.parse_header(data)
        if not autoreply.should_reply(sender, header):
            return
        for user in mailboxes:
            if str(user.address) == sender.lower():
                continue
            vacation = await self._runner.read(self._directory.vacation, user.id)
            if vacation is None:
                continue
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
