"""Calendar use cases of the admin pages: the signed-in user's view of "Team" (its business's) and of its own
calendar, events written and deleted, .ics files imported, and the secret subscription URLs.

A user only ever names a calendar of its own ("team" or "personal"): the business and the principal come from
the signed-in user, never from the request, so nothing of another business can be reached. A business whose
tier lacks the "collaboration" module gets NotFound, as its DAV requests get 404. Everything goes through the
DAV layer's Radicale storage (dav/calendar_items.py), so quota, ETags and sync tokens are the CalDAV clients' own.
These functions block on files and the database: called through the storage runner's threads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from smb_suite.dav import agenda, ical
from smb_suite.dav.access import DavUser
from smb_suite.dav.calendar_items import CALENDARS, CalendarEvents, calendar_ref, new_href
from smb_suite.directory.model import User
from smb_suite.errors import NotFound
from smb_suite.ops import invitations
from smb_suite.ops.tiers import COLLABORATION, has_module
from smb_suite.services import Services


@dataclass(frozen=True, slots=True)
class Saved:
    href: str
    uid: str


def _dav_user(user: User) -> DavUser:
    return DavUser(user.id, user.tenant_id, str(user.address))


def _events(services: Services, user: User, calendar: str) -> CalendarEvents:
    if calendar not in CALENDARS or not has_module(services, user.tenant_id, COLLABORATION):
        raise NotFound("No such calendar.")
    _, storage = services.dav.calendars(user.tenant_id)
    return CalendarEvents(storage, _dav_user(user), calendar)


def _now(services: Services) -> datetime:
    return datetime.fromtimestamp(services.clock(), UTC).replace(microsecond=0)


def occurrences(
    services: Services, user: User, calendar: str, first: date, last: date, zone: ZoneInfo
) -> list[agenda.Occurrence]:
    """The occurrences of the calendar's events on the days first..last, in `zone`."""
    stored = _events(services, user, calendar).all()
    return agenda.occurrences(((event.href, event.text) for event in stored), first, last, zone)


def event_fields(services: Services, user: User, calendar: str, href: str, zone: ZoneInfo) -> ical.EventFields:
    return ical.fields_of(_events(services, user, calendar).get(href).text, zone)


def save_event(
    services: Services, user: User, calendar: str, href: str | None, fields: ical.EventFields, zone: ZoneInfo
) -> Saved:
    """A new event (href None) or the stored one changed; the signed-in user organises it if it has attendees."""
    events = _events(services, user, calendar)
    previous = events.get(href).text if href is not None else None
    uid = ical.new_uid(services.config.server.hostname)
    text = ical.event_text(fields, uid, str(user.address), zone, _now(services), previous)
    href = href or new_href()
    events.put(href, text)
    return Saved(href, ical.uid_of(text))


def event_uid(services: Services, user: User, calendar: str, href: str) -> str:
    return ical.uid_of(_events(services, user, calendar).get(href).text)


def delete_event(services: Services, user: User, calendar: str, href: str) -> None:
    _events(services, user, calendar).delete(href)


async def save_and_invite(
    services: Services, user: User, calendar: str, href: str | None, fields: ical.EventFields, zone: ZoneInfo
) -> Saved:
    """Save the event, then mail its attendees outside the business (ops/invitations.py: nobody when nothing
    they were told changed). Radicale blocks on files: the save runs in a pool thread, as CalDAV requests do.
    PermissionDenied after the save when the visitor is not the event's organiser and someone should be told."""
    saved = await services.runner.read(save_event, services, user, calendar, href, fields, zone)
    await invitations.invite(services, user, calendar_ref(_dav_user(user), calendar), saved.uid)
    return saved


async def cancel_and_delete(services: Services, user: User, calendar: str, href: str) -> None:
    """Tell the attendees outside the business that the event is cancelled, then delete it."""
    uid = await services.runner.read(event_uid, services, user, calendar, href)
    await invitations.cancel(services, user, calendar_ref(_dav_user(user), calendar), uid)
    await services.runner.read(delete_event, services, user, calendar, href)


def import_events(services: Services, user: User, calendar: str, data: bytes) -> int:
    """The events of an .ics file added (or, same UID, replaced); all or nothing. How many."""
    events = _events(services, user, calendar)
    return events.put_all(ical.split_import(data, services.config.server.hostname))


def feed_token(services: Services, user: User, calendar: str, renew: bool = False) -> str:
    """The user's secret subscription token for the calendar (made on first use, or a new one)."""
    _events(services, user, calendar)
    feeds = services.dav.feeds
    return (feeds.renew if renew else feeds.token_of)(user.id, user.tenant_id, calendar)


def feed(services: Services, token: str) -> str:
    """The whole calendar a subscription token names, as one iCalendar text (RFC 5545 3.4). NotFound for an
    unknown or replaced token, a removed user, a suspended business or one without the module."""
    found = services.dav.feeds.feed_of(token)
    user = services.directory.user_by_id(found.user_id) if found is not None else None
    if found is None or user is None or user.tenant_id != found.tenant_id:
        raise NotFound("No such calendar.")
    if services.directory.tenant_suspended(user.tenant_id):
        raise NotFound("No such calendar.")
    return _events(services, user, found.calendar).serialize()
