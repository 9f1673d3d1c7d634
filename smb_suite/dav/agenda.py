"""What the calendar pages show: the occurrences of a calendar's events within a range (recurrences expanded by
`recurring_ical_events`, RFC 5545 3.8.5), in the viewer's time zone, laid out as a month grid or a week.

Pure functions over iCalendar text: no storage, no HTTP. An event without a time zone ("floating", RFC 5545
3.3.5) is shown at its written time in any zone; an all-day event (DTSTART;VALUE=DATE) covers its dates, DTEND
excluded (RFC 5545 3.6.1).
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events

from smb_suite.errors import InvalidInput

WEEK = 7
MAX_OCCURRENCES = 2000  # in one shown range: a daily event repeated every minute stays bounded


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One occurrence of an event; `start`/`end` are dates for all-day events, else datetimes in the zone."""

    href: str  # the item in its collection: what the edit page names
    uid: str
    title: str
    start: date | datetime
    end: date | datetime
    location: str = ""
    recurring: bool = False

    @property
    def all_day(self) -> bool:
        return not isinstance(self.start, datetime)

    def covers(self, day: date) -> bool:
        """Whether the occurrence shows on `day` (its end instant or date excluded, a zero-length one kept)."""
        if isinstance(self.start, datetime) and isinstance(self.end, datetime):
            first, last = self.start.date(), self.end.date()
            if self.end > self.start and self.end.time() == time(0):
                last -= timedelta(days=1)
            return first <= day <= max(first, last)
        first, last = _day(self.start), _day(self.end)
        return first <= day < max(last, first + timedelta(days=1))

    def sort_key(self) -> tuple[int, str, str]:
        return (0 if self.all_day else 1, self.start.isoformat() if not self.all_day else "", self.title)


@dataclass(frozen=True, slots=True)
class Day:
    day: date
    in_month: bool
    events: list[Occurrence] = field(default_factory=list)


def _day(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


def zone_of(name: str) -> ZoneInfo:
    """An IANA zone by name (InvalidInput when unknown)."""
    try:
        return ZoneInfo(name)
    except (ValueError, KeyError) as error:  # ZoneInfoNotFoundError is a KeyError
        raise InvalidInput(f"unknown time zone: {name}") from error


def _in_zone(value: date | datetime, zone: ZoneInfo) -> date | datetime:
    if not isinstance(value, datetime):
        return value
    if value.tzinfo is None:  # floating: the same wall-clock time everywhere
        return value.replace(tzinfo=zone)
    return value.astimezone(zone)


def occurrences(items: Iterable[tuple[str, str]], first: date, last: date, zone: ZoneInfo) -> list[Occurrence]:
    """The occurrences of the events of `items` (href, iCalendar text) touching the days first..last in `zone`,
    sorted by start; an item that cannot be read is skipped (a client may have stored anything Radicale took)."""
    begin = datetime.combine(first, time(0), zone)
    end = datetime.combine(last + timedelta(days=1), time(0), zone)
    found: list[Occurrence] = []
    for href, text in items:
        try:
            calendar_item = icalendar.Calendar.from_ical(text)
            events = recurring_ical_events.of(calendar_item, components=["VEVENT"]).between(begin, end)
            for event in events:
                found.append(_occurrence(href, event, zone))
                if len(found) >= MAX_OCCURRENCES:
                    break
        except (ValueError, KeyError, TypeError, recurring_ical_events.InvalidCalendar):
            continue
    return sorted(found, key=lambda item: (item.start.isoformat()[:10], *item.sort_key()))


def _occurrence(href: str, event: icalendar.Event, zone: ZoneInfo) -> Occurrence:
    start = _in_zone(event.start, zone)
    try:
        end = _in_zone(event.end, zone)
    except icalendar.InvalidCalendar:
        end = start
    return Occurrence(
        href=href,
        uid=str(event.get("UID", "")),
        title=str(event.get("SUMMARY", "")) or "(no title)",
        start=start,
        end=end,
        location=str(event.get("LOCATION", "")),
        recurring="RRULE" in event or "RECURRENCE-ID" in event or "RDATE" in event,
    )


def week_of(day: date, first_weekday: int = calendar.MONDAY) -> list[date]:
    """The seven days of the week holding `day` (weeks start on Monday, ISO 8601)."""
    start = day - timedelta(days=(day.weekday() - first_weekday) % WEEK)
    return [start + timedelta(days=offset) for offset in range(WEEK)]


def month_weeks(day: date) -> list[list[date]]:
    """The weeks (Monday first) covering the month of `day`, days of the months around included."""
    weeks = calendar.Calendar(calendar.MONDAY).monthdatescalendar(day.year, day.month)
    return [list(week) for week in weeks]


def lay_out(days: Sequence[date], month: int | None, found: Sequence[Occurrence]) -> list[Day]:
    """Each day with the occurrences it shows, all-day ones first, then by start time."""
    return [
        Day(
            day,
            month is None or day.month == month,
            sorted((o for o in found if o.covers(day)), key=Occurrence.sort_key),
        )
        for day in days
    ]


def shift_month(day: date, months: int) -> date:
    """The first day of the month `months` away."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)
