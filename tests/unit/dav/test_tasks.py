"""A task's fields in iCalendar (smb_suite/dav/tasks.py): what the pages read from a client's VTODO, what they
write back (and what they leave alone), and the order of the open tasks per person."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import vobject

from smb_suite.dav.tasks import Fields, Listed, Priority, Status, apply, by_person, new_calendar, priority_of, read_task

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
MEMBERS = ["alice@example.test", "bob@example.test"]
CLIENT = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Tasks.org//EN
BEGIN:VTODO
UID:abc
DTSTAMP:20261201T090000Z
SUMMARY:Call the bank
DESCRIPTION:ask for the new card
PRIORITY:2
DUE:20261202T170000Z
CATEGORIES:money
ATTENDEE;CN=Accountant:mailto:books@elsewhere.test
ATTENDEE:mailto:Bob@Example.test
X-APPLE-SORT-ORDER:3
END:VTODO
END:VCALENDAR
"""


def client_task() -> object:
    return vobject.readOne(CLIENT)


@pytest.mark.parametrize(
    ("value", "level"),
    [(1, Priority.HIGH), (4, Priority.HIGH), (5, Priority.NORMAL), (0, Priority.NORMAL), (6, Priority.LOW),
     (9, Priority.LOW), (42, Priority.NORMAL)],
)  # fmt: skip
def test_priority_follows_rfc_5545_ranges(value: int, level: Priority) -> None:
    assert priority_of(value) is level


def test_a_client_task_reads_with_its_assignee_among_the_business_users() -> None:
    task = read_task("abc.ics", '"e1"', client_task(), MEMBERS)
    assert task is not None
    assert (task.title, task.status, task.priority) == ("Call the bank", Status.NEEDS_ACTION, Priority.HIGH)
    assert task.assignee == "bob@example.test"  # the outside accountant is not a user of the business
    assert task.due_date == date(2026, 12, 2) and task.overdue(NOW)


def test_an_edit_changes_only_the_fields_of_the_page() -> None:
    calendar = client_task()
    apply(
        calendar, Fields("Call the bank today", Status.IN_PROCESS, Priority.HIGH, date(2026, 12, 2), None), MEMBERS, NOW
    )
    text = calendar.serialize()
    for kept in ("DESCRIPTION:ask for the new card", "PRIORITY:2", "DUE:20261202T170000Z", "CATEGORIES:money",
                 "mailto:books@elsewhere.test", "X-APPLE-SORT-ORDER:3"):  # fmt: skip
        assert kept in text, kept
    assert "SUMMARY:Call the bank today" in text and "STATUS:IN-PROCESS" in text
    assert "bob@" not in text.lower()  # unassigned: only the business's user left the attendees


def test_a_new_due_date_keeps_a_clients_time_of_day_and_a_new_priority_is_written_as_1_5_or_9() -> None:
    calendar = client_task()
    apply(
        calendar,
        Fields("Call the bank", Status.NEEDS_ACTION, Priority.LOW, date(2026, 12, 9), MEMBERS[0]),
        MEMBERS,
        NOW,
    )
    task = read_task("abc.ics", "", calendar, MEMBERS)
    assert task is not None and task.due == datetime(2026, 12, 9, 17, 0, tzinfo=task.due.tzinfo)  # type: ignore[union-attr]
    assert "PRIORITY:9" in calendar.serialize() and task.assignee == MEMBERS[0]


def test_completing_sets_completed_and_percent_and_reopening_removes_them() -> None:
    calendar = new_calendar("u1", Fields("Sweep"), MEMBERS, NOW)
    apply(calendar, Fields("Sweep", Status.COMPLETED), MEMBERS, NOW)
    assert "COMPLETED:20261203T120000Z" in calendar.serialize() and "PERCENT-COMPLETE:100" in calendar.serialize()
    apply(calendar, Fields("Sweep", Status.NEEDS_ACTION), MEMBERS, NOW)
    text = calendar.serialize()
    assert "COMPLETED:" not in text and "PERCENT-COMPLETE" not in text and "STATUS:NEEDS-ACTION" in text


def test_a_new_task_is_a_single_vtodo_assigned_without_an_organizer() -> None:
    fields = Fields("Order tiles", Status.NEEDS_ACTION, Priority.HIGH, date(2026, 12, 20), MEMBERS[1])
    text = new_calendar("u2", fields, MEMBERS, NOW).serialize()
    assert text.count("BEGIN:VTODO") == 1 and "UID:u2" in text and "DUE;VALUE=DATE:20261220" in text
    assert "ATTENDEE:mailto:bob@example.test" in text and "ORGANIZER" not in text and "PRIORITY:1" in text


def test_a_task_without_status_but_completed_reads_as_completed() -> None:
    calendar = vobject.readOne(CLIENT.replace("PRIORITY:2", "COMPLETED:20261202T100000Z"))
    task = read_task("abc.ics", "", calendar, MEMBERS)
    assert task is not None and task.status is Status.COMPLETED and not task.overdue(NOW)


def listed(title: str, assignee: str | None, due: date | None = None, status: Status = Status.NEEDS_ACTION,
           priority: Priority = Priority.NORMAL) -> Listed:  # fmt: skip
    calendar = new_calendar(title, Fields(title, status, priority, due, assignee), MEMBERS, NOW)
    task = read_task(f"{title}.ics", "", calendar, MEMBERS)
    assert task is not None
    return Listed("p1", "Kitchen", task)


def test_open_tasks_per_person_come_overdue_first_then_by_due_date_then_priority() -> None:
    entries = [
        listed("later", "bob@example.test", date(2027, 1, 1)),
        listed("no date", "bob@example.test"),
        listed("urgent no date", "bob@example.test", priority=Priority.HIGH),
        listed("late", "bob@example.test", date(2026, 11, 1)),
        listed("today", "bob@example.test", date(2026, 12, 3)),  # due today is not overdue yet
        listed("done", "bob@example.test", date(2026, 1, 1), Status.COMPLETED),
        listed("cancelled", "alice@example.test", status=Status.CANCELLED),
        listed("hers", "alice@example.test", status=Status.IN_PROCESS),
        listed("anyone's", None, date(2020, 1, 1)),
    ]
    groups = by_person(entries, NOW)
    assert [person for person, _ in groups] == ["alice@example.test", "bob@example.test", None]
    assert [entry.task.title for entry in groups[1][1]] == ["late", "today", "later", "urgent no date", "no date"]
    assert [entry.task.title for entry in groups[0][1]] == ["hers"]


def test_a_due_date_set_on_a_task_with_a_start_time_is_a_date_time_like_its_start() -> None:
    calendar = vobject.readOne(CLIENT.replace("DUE:20261202T170000Z", "DTSTART:20261201T080000Z"))
    apply(calendar, Fields("Call the bank", due=date(2026, 12, 4)), MEMBERS, NOW)
    assert "DUE:20261204T080000Z" in calendar.serialize()  # RFC 5545 3.6.2: DUE and DTSTART of one value type
