"""The calendar pages' logic (smb_suite/dav/agenda.py, ical.py): recurrences expanded within the shown range,
time zones converted, all-day spans, month and week layout, the event form written to iCalendar and read back,
an .ics file split per UID."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import icalendar
import pytest

from smb_suite.dav import agenda, ical
from smb_suite.errors import InvalidInput

PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
WEEKLY = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//EN
BEGIN:VEVENT
UID:weekly@test
DTSTAMP:20260101T000000Z
DTSTART;TZID=Europe/Paris:20260302T090000
DTEND;TZID=Europe/Paris:20260302T100000
RRULE:FREQ=WEEKLY;COUNT=10
SUMMARY:Stand-up
END:VEVENT
BEGIN:VEVENT
UID:weekly@test
DTSTAMP:20260101T000000Z
RECURRENCE-ID;TZID=Europe/Paris:20260309T090000
DTSTART;TZID=Europe/Paris:20260309T140000
DTEND;TZID=Europe/Paris:20260309T150000
SUMMARY:Stand-up (moved)
END:VEVENT
END:VCALENDAR
"""
HOLIDAY = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//EN
BEGIN:VEVENT
UID:holiday@test
DTSTAMP:20260101T000000Z
DTSTART;VALUE=DATE:20260331
DTEND;VALUE=DATE:20260402
SUMMARY:Away
END:VEVENT
END:VCALENDAR
"""


def test_a_weekly_event_shows_once_a_week_within_the_range_with_its_moved_occurrence() -> None:
    found = agenda.occurrences([("w.ics", WEEKLY)], date(2026, 3, 1), date(2026, 3, 15), PARIS)
    assert [(o.start.isoformat(), o.title) for o in found] == [
        ("2026-03-02T09:00:00+01:00", "Stand-up"),
        ("2026-03-09T14:00:00+01:00", "Stand-up (moved)"),
    ]
    assert all(o.recurring and o.href == "w.ics" for o in found)


def test_times_are_shown_in_the_viewers_time_zone_across_daylight_saving() -> None:
    found = agenda.occurrences([("w.ics", WEEKLY)], date(2026, 3, 30), date(2026, 4, 5), NEW_YORK)
    assert [o.start.isoformat() for o in found] == ["2026-03-30T03:00:00-04:00"]  # Paris switched to CEST


def test_an_all_day_event_covers_its_days_and_not_its_end_date() -> None:
    (away,) = agenda.occurrences([("h.ics", HOLIDAY)], date(2026, 3, 30), date(2026, 4, 5), PARIS)
    assert away.all_day
    assert [day.day for day in agenda.lay_out(agenda.week_of(date(2026, 4, 1)), None, [away]) if day.events] == [
        date(2026, 3, 31),
        date(2026, 4, 1),
    ]


def test_an_unreadable_item_is_skipped_and_the_others_shown() -> None:
    found = agenda.occurrences(
        [("bad.ics", "not a calendar"), ("h.ics", HOLIDAY)], date(2026, 3, 1), date(2026, 4, 30), PARIS
    )
    assert [o.uid for o in found] == ["holiday@test"]


def test_the_month_grid_starts_on_monday_and_holds_the_whole_month() -> None:
    weeks = agenda.month_weeks(date(2026, 3, 17))
    assert weeks[0][0] == date(2026, 2, 23) and weeks[-1][-1] == date(2026, 4, 5)
    assert all(len(week) == 7 for week in weeks)
    days = agenda.lay_out([day for week in weeks for day in week], 3, [])
    assert not days[0].in_month and days[6].in_month
    assert agenda.shift_month(date(2026, 12, 31), 1) == date(2027, 1, 1)
    assert agenda.shift_month(date(2026, 1, 31), -1) == date(2025, 12, 1)


def test_an_event_ending_at_midnight_stays_on_its_own_day() -> None:
    late = agenda.Occurrence(
        "x.ics", "x", "Late", datetime(2026, 3, 2, 22, tzinfo=PARIS), datetime(2026, 3, 3, tzinfo=PARIS)
    )
    assert late.covers(date(2026, 3, 2)) and not late.covers(date(2026, 3, 3))


FORM = {
    "title": "Budget review",
    "start_date": "2026-03-10",
    "start_time": "14:30",
    "end_date": "2026-03-10",
    "end_time": "15:30",
    "location": "Room 2",
    "description": "Numbers",
    "attendees": "ann@example.org; Bob@Other.test\nann@example.org",
}


def test_the_event_form_becomes_an_event_with_its_time_zone_organizer_and_attendees() -> None:
    fields = ical.fields_from_form(FORM)
    text = ical.event_text(fields, "uid-1@test", "alice@example.test", PARIS, NOW)
    event = icalendar.Calendar.from_ical(text).walk("VEVENT")[0]
    assert event.start == datetime(2026, 3, 10, 14, 30, tzinfo=PARIS)
    assert "BEGIN:VTIMEZONE" in text and "TZID:Europe/Paris" in text
    assert str(event["ORGANIZER"]) == "mailto:alice@example.test"
    assert [str(a) for a in event["ATTENDEE"]] == ["mailto:ann@example.org", "mailto:Bob@other.test"]
    assert event["ATTENDEE"][0].params["PARTSTAT"] == "NEEDS-ACTION"
    back = ical.fields_of(text, PARIS)
    assert (back.title, back.start_time, back.end_time, back.location) == (
        "Budget review",
        time(14, 30),
        time(15, 30),
        "Room 2",
    )
    assert back.attendees == ("ann@example.org", "bob@other.test")


def test_editing_keeps_the_recurrence_the_replies_and_the_sequence() -> None:
    first = ical.event_text(ical.fields_from_form(FORM), "uid-1@test", "alice@example.test", PARIS, NOW)
    replied = first.replace("PARTSTAT=NEEDS-ACTION", "PARTSTAT=ACCEPTED", 1).replace(
        "SUMMARY:", "RRULE:FREQ=DAILY;COUNT=3\r\nSUMMARY:", 1
    )
    edited = ical.event_text(
        ical.fields_from_form({**FORM, "title": "Budget", "start_time": "15:00", "end_time": "16:00"}),
        "ignored",
        "alice@example.test",
        PARIS,
        NOW,
        replied,
    )
    event = icalendar.Calendar.from_ical(edited).walk("VEVENT")[0]
    assert (str(event["UID"]), event["SEQUENCE"], str(event["SUMMARY"])) == ("uid-1@test", 0, "Budget")
    assert "RRULE" in event and event["ATTENDEE"][0].params["PARTSTAT"] == "ACCEPTED"
    assert ical.fields_of(edited, PARIS).recurring and not ical.fields_of(first, PARIS).recurring


def test_an_all_day_event_is_stored_with_the_day_after_as_its_end() -> None:
    fields = ical.fields_from_form(
        {"title": "Fair", "all_day": "1", "start_date": "2026-03-10", "end_date": "2026-03-11"}
    )
    text = ical.event_text(fields, "u@test", "a@example.test", PARIS, NOW)
    assert "DTSTART;VALUE=DATE:20260310" in text and "DTEND;VALUE=DATE:20260312" in text
    assert "ORGANIZER" not in text  # no attendees: not a meeting
    back = ical.fields_of(text, PARIS)
    assert back.all_day and back.end_date == date(2026, 3, 11)


@pytest.mark.parametrize(
    "change",
    [
        {"title": ""},
        {"start_date": "10/03/2026"},
        {"end_time": "14:00"},
        {"attendees": "not an address"},
        {"start_time": "25:00"},
    ],
)
def test_a_wrong_form_is_refused_with_a_reason(change: dict[str, str]) -> None:
    with pytest.raises(InvalidInput):
        ical.fields_from_form({**FORM, **change})


def test_an_ics_file_is_split_into_one_item_per_uid_with_its_time_zones() -> None:
    data = (WEEKLY.replace("END:VCALENDAR\n", "") + HOLIDAY.split("PRODID:-//test//EN\n", 1)[1]).encode()
    items = dict(ical.split_import(data, "host.test"))
    assert set(items) == {"weekly@test", "holiday@test"}
    assert items["weekly@test"].count("BEGIN:VEVENT") == 2 and "BEGIN:VTIMEZONE" in items["weekly@test"]
    assert "VTIMEZONE" not in items["holiday@test"]


@pytest.mark.parametrize(
    "data",
    [
        b"hello",
        b"BEGIN:VCARD\r\nVERSION:3.0\r\nEND:VCARD\r\n",
        HOLIDAY.replace("BEGIN:VEVENT", "BEGIN:VTODO").replace("END:VEVENT", "END:VTODO").encode(),
    ],
)
def test_a_file_without_events_is_refused(data: bytes) -> None:
    with pytest.raises(InvalidInput):
        ical.split_import(data, "host.test")
