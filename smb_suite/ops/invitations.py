"""Invitations to events (iTIP RFC 5546 over iMIP RFC 6047): what the calendar pages call after saving or
before deleting an event that has attendees.

    await invite(services, actor, calendar, uid)   after the event `uid` was saved in `calendar`
    await cancel(services, actor, calendar, uid)   before it is deleted (it reads the event to cancel it)

Attendees of the organiser's own business get no mail: they share its Team calendar and see the event there
(a personal calendar's event stays personal; they are listed as attendees all the same). Every other attendee,
hosted here in another business or anywhere else, gets a METHOD:REQUEST mail from the organiser's address
(mail/imip.py), DKIM signed and passed to the outbound queue like the organiser's own mail
(`Delivery.send`); SEQUENCE and who was mailed are kept in the event (mail/itip.py). Their answers come back
by mail and are applied at delivery (dav/replies.py).
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from smb_suite import log
from smb_suite.dav.layout import tenant_principal, user_principal
from smb_suite.dav.scheduling import CalendarRef
from smb_suite.directory.model import User
from smb_suite.errors import NotFound, PermissionDenied, RelayDenied, SmbSuiteError
from smb_suite.mail import imip, itip, message
from smb_suite.services import Services

logger = logging.getLogger("smb_suite.invitations")


@dataclass(frozen=True, slots=True)
class Invitations:
    """Who was mailed: invited (REQUEST) and told of a cancellation (CANCEL)."""

    invited: tuple[str, ...] = ()
    cancelled: tuple[str, ...] = ()


def _check_calendar(actor: User, calendar: CalendarRef) -> None:
    """The actor's own calendars and its business's; any other is NotFound, as it would be over CalDAV."""
    if calendar.principal not in (user_principal(actor.id), tenant_principal(actor.tenant_id)):
        raise NotFound(f"no calendar {calendar.path}")


def _elsewhere(services: Services, actor: User, text: str, uid: str) -> list[str]:
    """The attendees that are no mailbox of the actor's business (they need mail); hosted addresses nobody
    receives are left out (there is nobody to tell)."""
    delimiter = services.config.delivery.recipient_delimiter
    found: list[str] = []
    for who in itip.attendees(text, uid):
        try:
            resolution = services.directory.resolve_recipient(who, delimiter)
        except RelayDenied:
            found.append(who)
            continue
        except SmbSuiteError:
            continue
        if resolution.remote or any(user.tenant_id != actor.tenant_id for user in resolution.mailboxes):
            found.append(who)
    return found


@dataclass(frozen=True, slots=True)
class _Organiser:
    address: str
    on_behalf: str  # the colleague who saved the event (the mail's Sender, RFC 5322 3.6.2), or ''


def _organiser(services: Services, actor: User, text: str, uid: str) -> _Organiser:
    """Whose name the mail goes out in: the event's organiser (the actor when none is set), which must be an
    address the actor may send as, or a colleague's (a Team event someone else organised: Sender names the actor)."""
    named = itip.organizer(text, uid)
    if not named or named in services.directory.sender_addresses(actor):
        return _Organiser(named or str(actor.address), "")
    try:
        resolution = services.directory.resolve_recipient(named, services.config.delivery.recipient_delimiter)
    except SmbSuiteError:
        resolution = None
    colleague = resolution is not None and not resolution.remote and bool(resolution.mailboxes)
    if not colleague or any(user.tenant_id != actor.tenant_id for user in resolution.mailboxes):  # type: ignore[union-attr]
        raise PermissionDenied(f"{actor.address} may not send invitations as {named}")
    return _Organiser(named, str(actor.address))


def _now(services: Services) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(services.clock(), datetime.UTC)


async def _mail(
    services: Services,
    uid: str,
    method: str,
    ics: str,
    organiser: _Organiser,
    to: Iterable[str],
    first: Iterable[str] = (),
) -> None:
    """One message per recipient (each sees its own To), from the organiser's address."""
    domain = message.domain_of(organiser.address)
    about = await asyncio.to_thread(itip.summary, ics, uid)
    news = set(first)
    for recipient in to:
        kind = imip.CANCEL if method == itip.CANCEL else imip.NEW if recipient in news else imip.UPDATE
        message_id = f"{secrets.token_hex(12)}@{domain}"
        letter = imip.Letter(
            organiser.address, about.organiser_name, recipient, services.clock(), message_id, organiser.on_behalf
        )
        data = await asyncio.to_thread(imip.message, kind, method, ics, about, letter)
        await services.delivery.send(organiser.address, [recipient], data)  # DKIM signed, queued if remote
        log.event(logger, "invitation.sent", method=method, organiser=organiser.address, to=recipient)


async def invite(services: Services, actor: User, calendar: CalendarRef, uid: str) -> Invitations:
    """Mail the attendees outside the actor's business what the save of event `uid` means for them: the
    invitation (first time, or the event changed), or a cancellation for those removed from it. A save that
    changed nothing mails nobody. Raises NotFound (no such calendar or event), PermissionDenied (the organiser
    is neither an address of the actor nor a colleague's), InvalidInput (not an event), QuotaExceeded (SEQUENCE
    and the record of who was mailed could not be stored: nothing is sent)."""
    _check_calendar(actor, calendar)
    text = await asyncio.to_thread(services.events.read, actor.tenant_id, calendar, uid)
    elsewhere = await services.runner.read(_elsewhere, services, actor, text, uid)
    if not elsewhere and not await asyncio.to_thread(itip.mailed, text, uid):
        return Invitations()  # nobody to mail, now or before
    organiser = await services.runner.read(_organiser, services, actor, text, uid)
    plans: list[itip.Plan] = []

    def planned(current: str) -> str | None:
        plans.append(itip.plan_save(current, uid, organiser.address, elsewhere, _now(services)))
        return plans[-1].stored

    await asyncio.to_thread(services.events.change, actor.tenant_id, calendar, uid, planned)
    plan = plans[-1]
    await _mail(services, uid, itip.REQUEST, plan.request, organiser, plan.requests, plan.first)
    if plan.cancels:
        await _mail(services, uid, itip.CANCEL, plan.cancel, organiser, plan.cancels)
    return Invitations(plan.requests, plan.cancels)


async def cancel(services: Services, actor: User, calendar: CalendarRef, uid: str) -> Invitations:
    """Mail the attendees outside the actor's business (and anyone invited before) that event `uid` is
    cancelled. Call it before deleting the event: it reads it. Raises as `invite`."""
    _check_calendar(actor, calendar)
    text = await asyncio.to_thread(services.events.read, actor.tenant_id, calendar, uid)
    elsewhere = await services.runner.read(_elsewhere, services, actor, text, uid)
    to, ics = await asyncio.to_thread(itip.plan_cancel, text, uid, elsewhere, _now(services))
    if not to:
        return Invitations()
    organiser = await services.runner.read(_organiser, services, actor, text, uid)
    await _mail(services, uid, itip.CANCEL, ics, organiser, to)
    return Invitations(cancelled=to)
