"""A project's task as iCalendar: the VTODO fields the admin pages show and edit (RFC 5545 3.6.2), read from
and written into the item a CalDAV client sees, and the order of the "open tasks per person" overview.

Pure functions over vobject components: no storage, no clock (the time is passed in).

- title: SUMMARY; due date: DUE (a DATE when set here; a client's DATE-TIME, or a DATE-TIME DTSTART, gives its
  time of day);
  status: STATUS, one of NEEDS-ACTION, IN-PROCESS, COMPLETED, CANCELLED (RFC 5545 3.8.1.11), with COMPLETED and
  PERCENT-COMPLETE kept in step as Thunderbird, Tasks.org and Apple's Reminders expect;
  priority: PRIORITY 1-4 high, 5 (or none, 0) normal, 6-9 low (RFC 5545 3.8.1.9), written as 1, 5 or 9;
  assignee: ATTENDEE with the user's mailto: address (RFC 5545 3.8.4.1 "the to-do's assignees"), without
  ORGANIZER, so no client sends invitations (RFC 6638 scheduling needs an organizer); jtx Board and Thunderbird
  show it. An X- property would be shown by no client at all.
- An edit changes only these fields (plus DTSTAMP and LAST-MODIFIED): a client's DESCRIPTION, categories,
  alarms, other attendees and unknown properties stay, and an unchanged priority or due date keeps its
  client's exact value (PRIORITY:2 stays 2).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

import vobject
from vobject.icalendar import utc

MAILTO = "mailto:"
MAX_TITLE = 500


class Status(StrEnum):
    NEEDS_ACTION = "NEEDS-ACTION"
    IN_PROCESS = "IN-PROCESS"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"


OPEN = frozenset({Status.NEEDS_ACTION, Status.IN_PROCESS})


class Priority(StrEnum):
    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"


PRIORITY_VALUE = {Priority.HIGH: 1, Priority.NORMAL: 5, Priority.LOW: 9}
PRIORITY_RANK = {Priority.HIGH: 0, Priority.NORMAL: 1, Priority.LOW: 2}


def priority_of(value: int) -> Priority:
    """RFC 5545 3.8.1.9: 1-4 high, 5 medium, 6-9 low; 0 (undefined) and anything else is normal here."""
    if 1 <= value <= 4:
        return Priority.HIGH
    if 6 <= value <= 9:
        return Priority.LOW
    return Priority.NORMAL


@dataclass(frozen=True, slots=True)
class Fields:
    """What the pages set: the title, its status, priority, due date and assignee (an address or None)."""

    title: str
    status: Status = Status.NEEDS_ACTION
    priority: Priority = Priority.NORMAL
    due: date | None = None
    assignee: str | None = None


@dataclass(frozen=True, slots=True)
class Task:
    """One task as the pages show it: its item's name and ETag in the collection, and its fields."""

    href: str
    etag: str
    uid: str
    title: str
    status: Status
    priority: Priority
    due: date | datetime | None
    assignee: str | None  # the first ATTENDEE that is a user of the business

    @property
    def is_open(self) -> bool:
        return self.status in OPEN

    @property
    def due_date(self) -> date | None:
        return self.due.date() if isinstance(self.due, datetime) else self.due

    def overdue(self, now: datetime) -> bool:
        """Still open after its due time (a due date lasts the whole day)."""
        deadline = _deadline(self.due)
        return self.is_open and deadline is not None and deadline < now

    @property
    def fields(self) -> Fields:
        return Fields(self.title, self.status, self.priority, self.due_date, self.assignee)


def _deadline(due: date | datetime | None) -> datetime | None:
    """A comparable instant: a date's end, a floating time read as UTC."""
    if due is None:
        return None
    if not isinstance(due, datetime):
        return datetime.combine(due + timedelta(days=1), time(), utc)
    return due if due.tzinfo is not None else due.replace(tzinfo=utc)


def master(calendar: Any) -> Any | None:
    """The VTODO of an item that is not an override of one occurrence (RFC 5545 3.8.4.4), or None."""
    todos = list(getattr(calendar, "vtodo_list", []))
    for todo in todos:
        if not hasattr(todo, "recurrence_id"):
            return todo
    return todos[0] if todos else None


def _text(component: Any, name: str) -> str:
    prop = getattr(component, name, None)
    return str(prop.value) if prop is not None and prop.value is not None else ""


def _priority_value(todo: Any) -> int:
    try:
        return int(_text(todo, "priority") or 0)
    except ValueError:
        return 0


def _status(todo: Any) -> Status:
    value = _text(todo, "status").upper()
    if value in Status.__members__.values():
        return Status(value)
    return Status.COMPLETED if hasattr(todo, "completed") else Status.NEEDS_ACTION


def attendees(todo: Any) -> list[str]:
    """The mailto: addresses of the VTODO's attendees, lower case, in order."""
    found = []
    for prop in todo.contents.get("attendee", []):
        value = str(prop.value)
        if value.lower().startswith(MAILTO):
            found.append(value[len(MAILTO) :].strip().lower())
    return found


def read_task(href: str, etag: str, calendar: Any, members: Iterable[str]) -> Task | None:
    """The task an item holds (None for an item without a VTODO); its assignee is the first attendee that is
    one of `members` (the business's addresses, lower case)."""
    todo = master(calendar)
    if todo is None:
        return None
    known = set(members)
    due = getattr(todo, "due", None)
    due_value = due.value if due is not None and isinstance(due.value, date) else None
    return Task(
        href=href,
        etag=etag,
        uid=_text(todo, "uid"),
        title=_text(todo, "summary"),
        status=_status(todo),
        priority=priority_of(_priority_value(todo)),
        due=due_value,
        assignee=next((address for address in attendees(todo) if address in known), None),
    )


def _set(todo: Any, name: str, value: Any) -> None:
    """Replace every `name` property of the component by one holding `value` (none when None)."""
    name = name.replace("_", "-")
    for prop in list(todo.contents.get(name, [])):
        todo.remove(prop)
    if value is not None:
        todo.add(name).value = value


def _day(value: object) -> object:
    return value.date() if isinstance(value, datetime) else value


def _set_due(todo: Any, due: date | None) -> None:
    old = getattr(todo, "due", None)
    old_value = old.value if old is not None else None
    if _day(old_value) == due:
        return
    start = getattr(todo, "dtstart", None)
    start_value = start.value if start is not None else None
    # A client's due time of day stays; with a DATE-TIME start, DUE is one too (RFC 5545 3.6.2: same type).
    template = old_value if isinstance(old_value, datetime) else start_value
    value: date | None = due
    if due is not None and isinstance(template, datetime):
        value = template.replace(year=due.year, month=due.month, day=due.day)
    _set(todo, "due", value)
    if value is not None:
        _set(todo, "duration", None)  # RFC 5545 3.6.2: DUE and DURATION never both


def _set_status(todo: Any, status: Status, now: datetime) -> None:
    if _status(todo) is status and hasattr(todo, "status"):
        return
    _set(todo, "status", status.value)
    if status is Status.COMPLETED:
        _set(todo, "completed", now)  # RFC 5545 3.8.2.1: a UTC date-time
        _set(todo, "percent_complete", "100")
    else:
        _set(todo, "completed", None)
        if _text(todo, "percent_complete") == "100":
            _set(todo, "percent_complete", None)


def _set_assignee(todo: Any, assignee: str | None, members: Iterable[str]) -> None:
    """The business's users among the attendees become exactly `assignee`; other attendees stay."""
    known = set(members)
    current = [address for address in attendees(todo) if address in known]
    if current == ([assignee] if assignee else []):
        return
    for prop in list(todo.contents.get("attendee", [])):
        value = str(prop.value).lower()
        if value.startswith(MAILTO) and value[len(MAILTO) :].strip() in known:
            todo.remove(prop)
    if assignee:
        todo.add("attendee").value = MAILTO + assignee


def apply(calendar: Any, fields: Fields, members: Sequence[str], now: datetime) -> None:
    """Write the page's fields into the item's VTODO, leaving everything else as the client wrote it."""
    todo = master(calendar)
    if todo is None:
        raise ValueError("the item holds no task")
    now = now.astimezone(utc)  # vobject writes UTC times with its own tzinfo only
    _set(todo, "summary", fields.title)
    _set_status(todo, fields.status, now)
    if priority_of(_priority_value(todo)) is not fields.priority:
        _set(todo, "priority", str(PRIORITY_VALUE[fields.priority]))
    _set_due(todo, fields.due)
    _set_assignee(todo, fields.assignee, members)
    _set(todo, "dtstamp", now)
    _set(todo, "last_modified", now)


def new_calendar(uid: str, fields: Fields, members: Sequence[str], now: datetime) -> Any:
    """A new item: VCALENDAR with one VTODO (RFC 4791 4.1: one component per resource)."""
    calendar = vobject.iCalendar()
    calendar.add("prodid").value = "-//smb-suite//tasks//EN"
    todo = calendar.add("vtodo")
    todo.add("uid").value = uid
    todo.add("created").value = now.astimezone(utc)
    apply(calendar, fields, members, now)
    return calendar


@dataclass(frozen=True, slots=True)
class Listed:
    """A task of the overview, with the project it belongs to."""

    project_id: str
    project_name: str
    task: Task


def order_key(task: Task, now: datetime) -> tuple[bool, bool, datetime, int, str]:
    """Overdue first, then by due time (tasks without one last), then by priority, then by title."""
    deadline = _deadline(task.due)
    return (
        not task.overdue(now),
        deadline is None,
        deadline or now,
        PRIORITY_RANK[task.priority],
        task.title.casefold(),
    )


def by_person(listed: Iterable[Listed], now: datetime) -> list[tuple[str | None, list[Listed]]]:
    """Open tasks grouped by assignee (addresses in order, the unassigned last), each group overdue first."""
    groups: dict[str | None, list[Listed]] = {}
    for entry in listed:
        if entry.task.is_open:
            groups.setdefault(entry.task.assignee, []).append(entry)
    people = sorted(person for person in groups if person is not None)
    order: list[str | None] = [*people, None] if None in groups else list(people)
    return [(person, sorted(groups[person], key=lambda entry: order_key(entry.task, now))) for person in order]
