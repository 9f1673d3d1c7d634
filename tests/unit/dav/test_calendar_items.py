"""The calendar pages write through Radicale's own storage (smb_suite/dav/calendar_items.py): items get ETags and the
collection's sync token moves; an import is checked whole before writing and undone whole when the quota
refuses part of it."""

from __future__ import annotations

from pathlib import Path

import pytest

from smb_suite.dav import calendars, ical
from smb_suite.dav.access import DavUser
from smb_suite.dav.calendar_items import PERSONAL, TEAM, CalendarEvents
from smb_suite.errors import InvalidInput, NotFound, QuotaExceeded

ALICE = DavUser(user_id=2, tenant_id=1, address="alice@example.test")
EVENT = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20260101T000000Z\r\n"
    "DTSTART;VALUE=DATE:20260310\r\nSUMMARY:{uid}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)


class Budget:
    def __init__(self, room: int) -> None:
        self.room = room

    def __call__(self, delta: int) -> None:
        if delta > self.room:
            raise QuotaExceeded("full")
        self.room -= delta


def events(tmp_path: Path, budget: Budget, calendar: str = TEAM) -> CalendarEvents:
    _, storage = calendars.application(tmp_path, ALICE.tenant_id, budget)
    return CalendarEvents(storage, ALICE, calendar)


def test_a_saved_event_gets_an_etag_and_moves_the_sync_token(tmp_path: Path) -> None:
    team = events(tmp_path, Budget(10**6))
    _, storage = calendars.application(tmp_path, ALICE.tenant_id, Budget(10**6))
    with storage.acquire_lock("r"):
        collection = next(iter(storage.discover("/t1/team/")))
        before, _ = collection.sync()
    etag = team.put("a.ics", EVENT.format(uid="a"))
    assert team.get("a.ics").etag == etag
    with storage.acquire_lock("r"):
        collection = next(iter(storage.discover("/t1/team/")))
        after, changed = collection.sync(before)
    assert after != before and list(changed) == ["a.ics"]
    assert [stored.href for stored in events(tmp_path, Budget(0), PERSONAL).all()] == []  # another collection


def test_a_second_event_with_the_same_uid_is_refused(tmp_path: Path) -> None:
    team = events(tmp_path, Budget(10**6))
    team.put("a.ics", EVENT.format(uid="a"))
    with pytest.raises(InvalidInput):
        team.put("b.ics", EVENT.format(uid="a"))


def test_deleting_an_event_frees_its_bytes_and_a_second_delete_finds_nothing(tmp_path: Path) -> None:
    budget = Budget(10**6)
    team = events(tmp_path, budget)
    team.put("a.ics", EVENT.format(uid="a"))
    team.delete("a.ics")
    assert budget.room == 10**6
    with pytest.raises(NotFound):
        team.delete("a.ics")
    with pytest.raises(NotFound):
        team.get("../a.ics")


def test_an_import_that_does_not_fit_leaves_the_calendar_as_it_was(tmp_path: Path) -> None:
    budget = Budget(len(EVENT) * 3)
    team = events(tmp_path, budget)
    team.put("a.ics", EVENT.format(uid="a"))
    room = budget.room
    texts = [(uid, EVENT.format(uid=uid).replace("SUMMARY:", "SUMMARY:new ")) for uid in ("a", "b", "c", "d")]
    with pytest.raises(QuotaExceeded):
        team.put_all(texts)
    assert [(s.href, "SUMMARY:a" in s.text) for s in team.all()] == [("a.ics", True)]
    assert budget.room == room


def test_an_import_replaces_events_with_the_same_uid_and_adds_the_others(tmp_path: Path) -> None:
    team = events(tmp_path, Budget(10**6))
    team.put("a.ics", EVENT.format(uid="a"))
    data = (EVENT.format(uid="a").replace("SUMMARY:a", "SUMMARY:again") + EVENT.format(uid="b")).encode()
    assert team.put_all(ical.split_import(data, "host.test")) == 2
    texts = {s.href: s.text for s in team.all()}
    assert len(texts) == 2 and "SUMMARY:again" in texts["a.ics"]
