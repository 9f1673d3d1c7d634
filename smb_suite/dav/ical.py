"""iCalendar (RFC 5545) for the calendar pages: an event written from the page's fields, the fields read back
from a stored event, and an uploaded .ics file split into one item per UID (RFC 4791 4.1: a calendar object
resource holds one event, its overridden occurrences and the time zones they use).

Editing keeps what the page does not show (RRULE, alarms, a client's own properties, overridden occurrences,
SEQUENCE and the record of who was invited: ops/invitations.py raises SEQUENCE when the change is one attendees
must hear of, RFC 5546 2.1.4).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import icalendar

from smb_suite.errors import InvalidInput
from smb_suite.mail.address import parse_address

PRODID = "-//smb-suite//calendar//EN"
MAX_TITLE = 200
MAX_TEXT = 4000
MAX_ATTENDEES = 50
MAX_IMPORT_EVENTS = 5000
MAILTO = "mailto:"


@dataclass(frozen=True, slots=True)
class EventFields:
    """What the event form holds. Times are wall-clock times in `zone`; all-day events have no times and an
    inclusive end date (the form's), stored as DTEND the day after (RFC 5545 3.6.1)."""

    title: str
    start_date: date
    end_date: date
    all_day: bool
    start_time: time | None = None
    end_time: time | None = None
    location: str = ""
    description: str = ""
    attendees: tuple[str, ...] = ()
    recurring: bool = False  # a stored event that repeats: the form changes every occurrence

    def span(self, zone: ZoneInfo) -> tuple[date | datetime, date | datetime]:
        if self.all_day:
            return self.start_date, self.end_date + timedelta(days=1)
        assert self.start_time is not None and self.end_time is not None
        return (
            datetime.combine(self.start_date, self.start_time, zone),
            datetime.combine(self.end_date, self.end_time, zone),
        )


def _date(text: str, what: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError as error:
        raise InvalidInput(f"give the {what} date as YYYY-MM-DD") from error


def _time(text: str, what: str) -> time:
    try:
        return time.fromisoformat(text.strip())
    except ValueError as error:
        raise InvalidInput(f"give the {what} time as HH:MM") from error


def attendee_list(text: str) -> tuple[str, ...]:
    """The addresses of a comma-, semicolon- or line-separated list, each checked, duplicates dropped."""
    found: dict[str, None] = {}
    for part in text.replace(";", ",").replace("\n", ",").split(","):
        if part.strip():
            found.setdefault(str(parse_address(part, fold_case=False)), None)
    if len(found) > MAX_ATTENDEES:
        raise InvalidInput(f"at most {MAX_ATTENDEES} attendees")
    return tuple(found)


def fields_from_form(form: Mapping[str, str]) -> EventFields:
    """The event form's fields checked (InvalidInput names what is wrong)."""
    title = form.get("title", "").strip()
    if not title or len(title) > MAX_TITLE:
        raise InvalidInput("give the event a title (at most 200 characters)")
    all_day = form.get("all_day", "") == "1"
    start_date = _date(form.get("start_date", ""), "start")
    end_date = _date(form.get("end_date", "") or form.get("start_date", ""), "end")
    start_time = end_time = None
    if not all_day:
        start_time = _time(form.get("start_time", ""), "start")
        end_time = _time(form.get("end_time", ""), "end")
        if (end_date, end_time) <= (start_date, start_time):
            raise InvalidInput("the event must end after it starts")
    elif end_date < start_date:
        raise InvalidInput("the event must end after it starts")
    location, description = form.get("location", "").strip(), form.get("description", "").strip()
    if len(location) > MAX_TITLE or len(description) > MAX_TEXT:
        raise InvalidInput("the location or the description is too long")
    return EventFields(
        title,
        start_date,
        end_date,
        all_day,
        start_time,
        end_time,
        location,
        description,
        attendee_list(form.get("attendees", "")),
    )


def new_uid(hostname: str) -> str:
    return f"{uuid.uuid4()}@{hostname}"


def _master(calendar_item: icalendar.Calendar) -> icalendar.Event | None:
    """The event itself: the VEVENT without RECURRENCE-ID (overrides carry one)."""
    for event in calendar_item.walk("VEVENT"):
        if isinstance(event, icalendar.Event) and "RECURRENCE-ID" not in event:
            return event
    return None


def uid_of(text: str) -> str:
    event = _master(icalendar.Calendar.from_ical(text))
    return str(event.get("UID", "")) if event is not None else ""


def event_text(
    fields: EventFields,
    uid: str,
    organizer: str,
    zone: ZoneInfo,
    now: datetime,
    previous: str | None = None,
) -> str:
    """The iCalendar text of the event: a new one, or `previous` with the page's fields replaced."""
    calendar_item = icalendar.Calendar.from_ical(previous) if previous else icalendar.Calendar.new(prodid=PRODID)
    event = _master(calendar_item) if previous else None
    if event is None:
        event = icalendar.Event.new(uid=uid, created=now, sequence=0)
        calendar_item.add_component(event)
    start, end = fields.span(zone)
    for name in ("DTSTART", "DTEND", "DURATION", "SUMMARY", "LOCATION", "DESCRIPTION", "DTSTAMP", "LAST-MODIFIED"):
        event.pop(name, None)
    event.add("DTSTART", start)
    event.add("DTEND", end)
    event.add("SUMMARY", fields.title)
    event.add("DTSTAMP", now)
    event.add("LAST-MODIFIED", now)
    if fields.location:
        event.add("LOCATION", fields.location)
    if fields.description:
        event.add("DESCRIPTION", fields.description)
    _set_attendees(event, fields.attendees, organizer)
    calendar_item.add_missing_timezones()
    return str(calendar_item.to_ical().decode("utf-8"))


def _set_attendees(event: icalendar.Event, attendees: tuple[str, ...], organizer: str) -> None:
    """ATTENDEE and ORGANIZER (RFC 5545 3.8.4.1, 3.8.4.3): an attendee already there keeps its PARTSTAT (its
    reply); a new one NEEDS-ACTION with RSVP. No attendee, no organizer (a plain event, not a meeting)."""
    kept = {_address(value): value for value in _as_list(event.pop("ATTENDEE", []))}
    if not attendees:
        event.pop("ORGANIZER", None)
        return
    if "ORGANIZER" not in event:
        event.add("ORGANIZER", icalendar.vCalAddress(MAILTO + organizer))
    for address in attendees:
        value = kept.get(address.lower())
        if value is None:
            value = icalendar.vCalAddress(MAILTO + address)
            value.params.update({"ROLE": "REQ-PARTICIPANT", "PARTSTAT": "NEEDS-ACTION", "RSVP": "TRUE"})
        event.add("ATTENDEE", value)


def _as_list(value: object) -> list[object]:
    return value if isinstance(value, list) else [value]


def _address(value: object) -> str:
    text = str(value)
    return (text[len(MAILTO) :] if text.lower().startswith(MAILTO) else text).lower()


def fields_of(text: str, zone: ZoneInfo) -> EventFields:
    """The form's fields for a stored event (its master), times shown in `zone`."""
    event = _master(icalendar.Calendar.from_ical(text))
    if event is None:
        raise InvalidInput("this item holds no event")
    start, end = event.start, event.end
    if not isinstance(start, datetime):
        assert not isinstance(end, datetime)
        return _fields(event, start, max(start, end - timedelta(days=1)), True, None, None)
    assert isinstance(end, datetime)
    start = start.replace(tzinfo=zone) if start.tzinfo is None else start.astimezone(zone)
    end = end.replace(tzinfo=zone) if end.tzinfo is None else end.astimezone(zone)
    return _fields(event, start.date(), end.date(), False, start.time(), end.time())


def _fields(
    event: icalendar.Event, first: date, last: date, all_day: bool, begins: time | None, ends: time | None
) -> EventFields:
    attendees = tuple(_address(value) for value in _as_list(event.get("ATTENDEE", [])))
    return EventFields(
        str(event.get("SUMMARY", "")),
        first,
        last,
        all_day,
        begins,
        ends,
        str(event.get("LOCATION", "")),
        str(event.get("DESCRIPTION", "")),
        attendees,
        recurring="RRULE" in event or "RDATE" in event,
    )


def split_import(data: bytes, hostname: str) -> list[tuple[str, str]]:
    """(UID, iCalendar text) for each event of an uploaded .ics file, each with the time zones it uses; only
    VEVENTs are taken. InvalidInput when the file is not iCalendar or holds no event."""
    try:
        calendars = icalendar.Calendar.from_ical(data, multiple=True)
    except (ValueError, IndexError, KeyError, TypeError) as error:
        raise InvalidInput("this file is not an iCalendar (.ics) file") from error
    grouped: dict[str, list[icalendar.Event]] = {}
    zones: dict[str, icalendar.Timezone] = {}
    for found in calendars:
        if found.name != "VCALENDAR":
            raise InvalidInput("this file is not an iCalendar (.ics) file")
        zones.update({str(zone["TZID"]): zone for zone in found.walk("VTIMEZONE") if "TZID" in zone})  # type: ignore[misc]
        for event in found.walk("VEVENT"):
            assert isinstance(event, icalendar.Event)
            if "DTSTART" not in event:
                raise InvalidInput("an event of this file has no start (DTSTART)")
            uid = str(event.get("UID", "")) or new_uid(hostname)
            event["UID"] = uid
            grouped.setdefault(uid, []).append(event)
    if not grouped:
        raise InvalidInput("this file holds no event")
    if len(grouped) > MAX_IMPORT_EVENTS:
        raise InvalidInput(f"at most {MAX_IMPORT_EVENTS} events in one file")
    return [(uid, _item_text(events, zones)) for uid, events in grouped.items()]


def _item_text(events: list[icalendar.Event], zones: Mapping[str, icalendar.Timezone]) -> str:
    item = icalendar.Calendar.new(prodid=PRODID)
    for event in events:
        item.add_component(event)
    for tzid in sorted(item.get_used_tzids()):
        if tzid in zones:
            item.add_component(zones[tzid])
    try:
        item.add_missing_timezones()
    except ValueError as error:
        raise InvalidInput(f"unknown time zone in this file: {error}") from error
    return str(item.to_ical().decode("utf-8"))
