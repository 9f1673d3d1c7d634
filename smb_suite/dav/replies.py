"""Attendees' answers to invitations (iTIP REPLY, RFC 5546 3.2.3, carried by mail as RFC 6047 says) applied to
the organiser's event when the mail is delivered to the organiser's mailbox.

`Delivery` asks `wants` on the event loop (a bounded look for a text/calendar part) and runs `delivered` in a
thread once the copies are safe; the mail itself is delivered whatever happens here. For each answer, the
event with that UID is looked for in the receiving user's own calendars and its business's; it is changed only
when its ORGANIZER is the receiver, the answering ATTENDEE is one of the event's, the mail's From is that
attendee and our MX's DMARC check did not fail it (no forged answers), and the answer is not older than what is
stored (mail/itip.py `apply_reply`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from smb_suite import log
from smb_suite.dav.layout import tenant_principal, user_principal
from smb_suite.dav.scheduling import CalendarRef, Events
from smb_suite.directory.core import Directory
from smb_suite.directory.model import User
from smb_suite.errors import SmbSuiteError
from smb_suite.mail import authresults, imip, message

if TYPE_CHECKING:  # icalendar is imported by the thread that first applies an answer, not by every process
    from smb_suite.mail import itip

logger = logging.getLogger("smb_suite.invitations")


class Replies:
    def __init__(self, events: Events, directory: Directory, hostname: str) -> None:
        self._events = events
        self._directory = directory
        self._hostname = hostname  # our authserv-id (mail/authresults.py)

    def wants(self, data: bytes) -> bool:
        return imip.may_hold_calendar(data)

    def delivered(self, mailboxes: Sequence[User], data: bytes) -> None:
        """Apply the answers `data` carries to the events its hosted recipients organise. Blocking."""
        answers = imip.replies(data)
        if not answers:
            return
        senders = message.from_addresses(data)
        sender = senders[0] if len(senders) == 1 else ""
        if authresults.dmarc_failed(data, self._hostname):  # a From our MX found forged (policy none)
            sender = ""
        for user in mailboxes:
            addresses = self._directory.sender_addresses(user)
            principals = (user_principal(user.id), tenant_principal(user.tenant_id))
            for answer in answers:
                for calendar in self._events.holding(user.tenant_id, principals, answer.uid):
                    self._apply(user, calendar, answer, sender, addresses)

    def _apply(self, user: User, calendar: CalendarRef, answer: itip.Reply, sender: str, addresses: set[str]) -> None:
        from smb_suite.mail import itip

        outcomes: list[itip.Outcome] = []

        def change(text: str) -> str | None:
            outcome, changed = itip.apply_reply(text, answer, sender, addresses)
            outcomes.append(outcome)
            return changed

        try:
            self._events.change(user.tenant_id, calendar, answer.uid, change)
        except SmbSuiteError as error:  # a full business, an event deleted meanwhile: the mail stays delivered
            log.event(logger, "invitation.reply_failed", organiser=user.address, reason=type(error).__name__)
            return
        log.event(
            logger,
            "invitation.reply",
            organiser=user.address,
            attendee=answer.attendee,
            sender=sender or "-",
            partstat=answer.partstat,
            outcome=outcomes[-1] if outcomes else "-",
        )
