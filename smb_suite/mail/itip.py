"""iTIP (RFC 5546) for events an organiser here schedules: what to send after a save or a delete, and applying
an attendee's REPLY. Pure: iCalendar text in, iCalendar text out (the `icalendar` library parses and writes).

What was last sent lives in the stored event itself, in one property of its master VEVENT:

    X-SMB-SUITE-ITIP:<sequence> <fingerprint of the times> <fingerprint of the rest> <address> <address> ...

so no table has to follow events that clients create, move and delete over CalDAV. A client that drops the
property makes the next save a first send (every attendee invited again at the current SEQUENCE), never a lost
update. The property never leaves the server: the copies mailed are made without it.

The sequence rule (RFC 5546 2.1.4): a change of the times or recurrence, of the status, or the removal of an
attendee makes the next save bump SEQUENCE (unless the saving client already did) and invite every attendee
again, their answers set back to NEEDS-ACTION; another visible change (title, place, description) invites them
again at the same SEQUENCE; a save that changes nothing mails nobody, and an added attendee alone gets its
invitation alone.
"""

from __future__ import annotations

import contextlib
import copy
import datetime
import enum
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import dateutil.rrule
import icalendar

from smb_suite.errors import InvalidInput

STATE = "X-SMB-SUITE-ITIP"
REPLIED = "X-SMB-SUITE-REPLIED"  # ATTENDEE parameter: DTSTAMP of the reply applied last (RFC 5546 2.1.5)
PRODID = "-//smb-suite//iTIP//EN"
REQUEST, CANCEL, REPLY = "REQUEST", "CANCEL", "REPLY"
ANSWERS = frozenset({"ACCEPTED", "DECLINED", "TENTATIVE"})  # RFC 5546 3.2.3: what a REPLY may say for a VEVENT
# RFC 5546 2.1.4: changes that invalidate the attendees' answers
TIMES = ("DTSTART", "DTEND", "DURATION", "DUE", "RRULE", "RDATE", "EXDATE", "STATUS")
VISIBLE = ("SUMMARY", "LOCATION", "DESCRIPTION", "URL", "CLASS")
COMPONENTS = ("VEVENT",)


def address(value: object) -> str:
    """The mail address of a CAL-ADDRESS (RFC 5545 3.3.3): 'mailto:' removed, lower case; '' for other URIs."""
    text = str(value).strip()
    if text[:7].lower() != "mailto:":
        return ""
    return text[7:].strip().lower()


def parse(text: str) -> icalendar.Calendar:
    try:
        calendar = icalendar.Calendar.from_ical(text)
    except (ValueError, KeyError, IndexError) as error:
        raise InvalidInput(f"not an iCalendar object: {error}") from error
    if not isinstance(calendar, icalendar.Calendar):
        raise InvalidInput("not an iCalendar object")
    return calendar


def _events(calendar: icalendar.Calendar, uid: str) -> list[icalendar.cal.Component]:
    """The VEVENTs of one UID: the master first, then its overridden occurrences (RFC 5545 3.8.4.4)."""
    found = [c for c in calendar.subcomponents if c.name in COMPONENTS and str(c.get("UID", "")) == uid]
    found.sort(key=lambda component: "RECURRENCE-ID" in component)
    if not found:
        raise InvalidInput(f"no event {uid!r} in this calendar object")
    return found


def _list(value: object) -> list[object]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def mailed(text: str, uid: str) -> tuple[str, ...]:
    """Who was mailed about event `uid` before (from its X-SMB-SUITE-ITIP property)."""
    before = Sent.read(_events(parse(text), uid)[0].get(STATE))
    return before.to if before else ()


def organizer(text: str, uid: str) -> str:
    """The organiser's address ('' when the event has none)."""
    return address(_events(parse(text), uid)[0].get("ORGANIZER", ""))


def attendees(text: str, uid: str) -> list[str]:
    """Every attendee's address, once, in order (occurrences included), the organiser left out."""
    events = _events(parse(text), uid)
    boss = address(events[0].get("ORGANIZER", ""))
    found = (address(value) for event in events for value in _list(event.get("ATTENDEE")))
    return [who for who in dict.fromkeys(found) if who and who != boss]


def _fingerprint(events: Sequence[icalendar.cal.Component], names: Iterable[str], with_attendees: bool) -> str:
    digest = hashlib.sha256()
    names = tuple(names)
    for event in events:
        for name in ("RECURRENCE-ID", *names):
            for value in _list(event.get(name)):
                params = sorted(getattr(value, "params", {}).items())
                digest.update(f"{name}{params}:".encode() + value.to_ical() + b"\n")  # type: ignore[attr-defined]
        if with_attendees:
            digest.update(" ".join(sorted(address(v) for v in _list(event.get("ATTENDEE")))).encode() + b"\n")
    return digest.hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class Sent:
    """What the organiser last mailed (the X-SMB-SUITE-ITIP property)."""

    sequence: int
    times: str
    rest: str
    to: tuple[str, ...]

    def value(self) -> str:
        return " ".join([str(self.sequence), self.times, self.rest, *self.to])

    @classmethod
    def read(cls, value: object) -> Sent | None:
        parts = str(value or "").split()
        if len(parts) < 3 or not parts[0].isdigit():
            return None
        return cls(int(parts[0]), parts[1], parts[2], tuple(parts[3:]))


@dataclass(frozen=True, slots=True)
class Plan:
    """What one save means for the attendees elsewhere: the event to store again (None: unchanged), who gets the
    REQUEST and who the CANCEL, and the iTIP objects to mail them."""

    stored: str | None
    requests: tuple[str, ...]
    first: tuple[str, ...]  # those of `requests` never mailed before (an invitation; the others an update)
    cancels: tuple[str, ...]
    request: str
    cancel: str
    sequence: int


def _sequence(event: icalendar.cal.Component) -> int:
    try:
        return int(event.get("SEQUENCE", 0))
    except (TypeError, ValueError):
        return 0


def _stamp(now: datetime.datetime) -> datetime.datetime:
    return now.astimezone(datetime.UTC).replace(microsecond=0)


def _itip(calendar: icalendar.Calendar, uid: str, method: str, now: datetime.datetime, only: Sequence[str] = ()) -> str:
    """The iTIP object mailed (RFC 5546 3.2.2, 3.2.5): the event's components and time zones with METHOD, a
    fresh DTSTAMP, RSVP asked of the attendees who have not answered, without our state and without the
    organiser's alarms. `only`: a CANCEL to attendees removed from the event, which names just them."""
    out = icalendar.Calendar()
    out.add("PRODID", PRODID)
    out.add("VERSION", "2.0")
    out.add("METHOD", method)
    for zone in calendar.walk("VTIMEZONE"):
        out.add_component(zone)
    for event in _events(calendar, uid):
        mailed = copy.deepcopy(event)
        mailed.subcomponents = []  # VALARMs are the organiser's own reminders
        for name in (STATE, "DTSTAMP", "ATTENDEE"):
            mailed.pop(name, None)
        mailed.add("DTSTAMP", _stamp(now))
        kept = {address(value): value for value in _list(event.get("ATTENDEE"))}
        for who, value in kept.items() if not only else ((who, kept.get(who)) for who in only):
            attendee = icalendar.vCalAddress(str(value) if value is not None else f"mailto:{who}")
            if value is not None:
                attendee.params.update({k: v for k, v in value.params.items() if k != REPLIED})  # type: ignore[attr-defined]
            if method == REQUEST and who and attendee.params.get("PARTSTAT", "NEEDS-ACTION") == "NEEDS-ACTION":
                attendee.params["RSVP"] = "TRUE"
            mailed.add("ATTENDEE", attendee, encode=False)
        if method == CANCEL and not only:
            mailed["STATUS"] = "CANCELLED"
        out.add_component(mailed)
    # RFC 5546 3.1: a VTIMEZONE for each TZID used; a zone nobody knows is left to the attendee's app
    with contextlib.suppress(ValueError, KeyError):
        out.add_missing_timezones()
    return str(out.to_ical().decode())


def plan_save(text: str, uid: str, organiser: str, elsewhere: Iterable[str], now: datetime.datetime) -> Plan:
    """What a save of event `uid` (stored as `text`) sends to the attendees in `elsewhere` (those not of the
    organiser's business), by the rule in this module's docstring. The ORGANIZER is set when missing."""
    calendar = parse(text)
    events = _events(calendar, uid)
    master = events[0]
    changed = False
    if not address(master.get("ORGANIZER", "")):
        for event in events:
            event["ORGANIZER"] = icalendar.vCalAddress(f"mailto:{organiser}")
        changed = True
    to = tuple(dict.fromkeys(who for who in elsewhere))
    before = Sent.read(master.get(STATE))
    times = _fingerprint(events, TIMES, with_attendees=False)
    rest = _fingerprint(events, VISIBLE, with_attendees=True)
    sequence = _sequence(master)
    removed = tuple(who for who in before.to if who not in to) if before else ()
    if before is None:
        requests = to
    else:
        if (times != before.times or removed) and sequence <= before.sequence:
            sequence = before.sequence + 1
        if times != before.times:
            _ask_again(events, to)
        everyone = sequence != before.sequence or rest != before.rest
        requests = to if everyone else tuple(who for who in to if who not in before.to)
    if sequence != _sequence(master):
        for event in events:
            event["SEQUENCE"] = sequence
    state = Sent(sequence, times, rest, to)
    if before != state:
        master[STATE] = state.value()
        changed = True
    return Plan(
        stored=calendar.to_ical().decode() if changed else None,
        requests=requests,
        first=tuple(who for who in requests if before is None or who not in before.to),
        cancels=removed,
        request=_itip(calendar, uid, REQUEST, now),
        cancel=_itip(calendar, uid, CANCEL, now, only=removed) if removed else "",
        sequence=sequence,
    )


def _ask_again(events: Sequence[icalendar.cal.Component], who: Sequence[str]) -> None:
    """New times: the answers of the attendees told by mail no longer hold (RFC 5546 2.1.4)."""
    for event in events:
        for value in _list(event.get("ATTENDEE")):
            if address(value) in who:
                value.params["PARTSTAT"] = "NEEDS-ACTION"  # type: ignore[attr-defined]
                value.params.pop(REPLIED, None)  # type: ignore[attr-defined]


def plan_cancel(text: str, uid: str, elsewhere: Iterable[str], now: datetime.datetime) -> tuple[tuple[str, ...], str]:
    """Who hears that event `uid` is cancelled (the attendees elsewhere, and anyone mailed before), and the
    CANCEL object (RFC 5546 3.2.5), its SEQUENCE bumped."""
    calendar = parse(text)
    events = _events(calendar, uid)
    before = Sent.read(events[0].get(STATE))
    to = tuple(dict.fromkeys([*elsewhere, *(before.to if before else ())]))
    sequence = max(_sequence(events[0]), before.sequence if before else 0) + 1
    for event in events:
        event["SEQUENCE"] = sequence
    return to, _itip(calendar, uid, CANCEL, now)


class Outcome(enum.StrEnum):
    APPLIED = "applied"
    NOT_FOUND = "not-found"  # no such event or occurrence, or the organiser is someone else
    UNKNOWN_ATTENDEE = "unknown-attendee"
    FORGED = "forged"  # the mail's sender is not the attendee the reply speaks for
    STALE = "stale"  # older than what is stored (SEQUENCE, then DTSTAMP)
    INVALID = "invalid"


@dataclass(frozen=True, slots=True)
class Reply:
    """One attendee's answer to one event (or occurrence) from a METHOD:REPLY object (RFC 5546 3.2.3)."""

    uid: str
    attendee: str
    partstat: str
    sequence: int
    dtstamp: datetime.datetime | None
    recurrence_id: datetime.date | None  # a datetime.datetime for timed events (RFC 5545 3.8.4.4)


def replies(text: str) -> list[Reply]:
    """The answers in an iCalendar object whose METHOD is REPLY (none for any other object)."""
    calendar = parse(text)
    if str(calendar.get("METHOD", "")).upper() != REPLY:
        return []
    found: list[Reply] = []
    for event in calendar.walk("VEVENT"):
        answers = _list(event.get("ATTENDEE"))
        if len(answers) != 1 or not event.get("UID"):  # RFC 5546 3.2.3: exactly one ATTENDEE
            continue
        stamp = event.get("DTSTAMP")
        when = stamp.dt if stamp is not None else None
        recurrence = getattr(event.get("RECURRENCE-ID"), "dt", None)
        found.append(
            Reply(
                uid=str(event["UID"]),
                attendee=address(answers[0]),
                partstat=str(answers[0].params.get("PARTSTAT", "")).upper(),  # type: ignore[attr-defined]
                sequence=_sequence(event),
                dtstamp=when if isinstance(when, datetime.datetime) else None,
                recurrence_id=recurrence if isinstance(recurrence, datetime.date) else None,
            )
        )
    return found


def _utc(value: datetime.datetime) -> datetime.datetime:
    return value.replace(tzinfo=datetime.UTC) if value.tzinfo is None else value.astimezone(datetime.UTC)


def apply_reply(text: str, reply: Reply, sender: str, organisers: Iterable[str]) -> tuple[Outcome, str | None]:
    """`text` with the attendee's PARTSTAT from `reply`, sent by `sender` to one of `organisers` (the receiving
    mailbox's addresses), or why not: the event's organiser must be the receiver, the attendee one of the
    event's, the sender that attendee (no forged answers), and the reply not older than the answer or the
    version stored (RFC 5546 2.1.5: SEQUENCE first, then DTSTAMP)."""
    if reply.partstat not in ANSWERS or not reply.attendee:
        return Outcome.INVALID, None
    calendar = parse(text)
    try:
        events = _events(calendar, reply.uid)
    except InvalidInput:
        return Outcome.NOT_FOUND, None
    if address(events[0].get("ORGANIZER", "")) not in set(organisers):
        return Outcome.NOT_FOUND, None
    master = events[0]
    if reply.recurrence_id is not None:
        instance = reply.recurrence_id
        events = [e for e in events if _same_time(getattr(e.get("RECURRENCE-ID"), "dt", None), instance)]
        if not events:
            override = _override(master, instance)  # RFC 5546 3.2.3: an answer for one occurrence
            if override is None:
                return Outcome.NOT_FOUND, None
            mailed = _mailed_as_stored(_events(calendar, reply.uid))
            calendar.add_component(override)
            if mailed is not None:
                _restate(_events(calendar, reply.uid), mailed)
            events = [override]
    event = events[0]
    matching = [value for value in _list(event.get("ATTENDEE")) if address(value) == reply.attendee]
    if not matching:
        return Outcome.UNKNOWN_ATTENDEE, None
    if sender.lower() != reply.attendee:
        return Outcome.FORGED, None
    if reply.sequence < _sequence(event):
        return Outcome.STALE, None
    attendee = matching[0]
    params = attendee.params  # type: ignore[attr-defined]
    last = params.get(REPLIED)
    if reply.dtstamp is not None and last:
        try:
            if _utc(reply.dtstamp) <= _utc(datetime.datetime.strptime(last, "%Y%m%dT%H%M%SZ")):
                return Outcome.STALE, None
        except ValueError:
            pass
    params["PARTSTAT"] = reply.partstat
    params.pop("RSVP", None)
    if reply.dtstamp is not None:
        params[REPLIED] = _utc(reply.dtstamp).strftime("%Y%m%dT%H%M%SZ")
    return Outcome.APPLIED, calendar.to_ical().decode()


def _same_time(stored: object, wanted: datetime.date) -> bool:
    """Whether a RECURRENCE-ID names the same occurrence: the same instant (or the same floating time or date)."""
    if isinstance(stored, datetime.datetime) and isinstance(wanted, datetime.datetime):
        if (stored.tzinfo is None) != (wanted.tzinfo is None):
            return stored.replace(tzinfo=None) == wanted.replace(tzinfo=None)
        return stored == wanted
    return type(stored) is type(wanted) and stored == wanted


def _override(master: icalendar.cal.Component, instance: datetime.date) -> icalendar.cal.Component | None:
    """A copy of the master for one of its occurrences (RFC 5545 3.8.4.4), or None when `instance` is not one:
    only the RRULE's own occurrences are taken, so an answer cannot add a meeting to the calendar."""
    rule = master.get("RRULE")
    start, end = getattr(master.get("DTSTART"), "dt", None), getattr(master.get("DTEND"), "dt", None)
    if rule is None or not isinstance(start, datetime.date) or isinstance(rule, list):
        return None
    timed = isinstance(start, datetime.datetime)
    if timed != isinstance(instance, datetime.datetime):
        return None
    if isinstance(instance, datetime.datetime) and isinstance(start, datetime.datetime):
        if (instance.tzinfo is None) != (start.tzinfo is None):
            instance = instance.replace(tzinfo=start.tzinfo)
        elif start.tzinfo is not None:
            instance = instance.astimezone(start.tzinfo)
    first = start if timed else datetime.datetime.combine(start, datetime.time())
    wanted = instance if timed else datetime.datetime.combine(instance, datetime.time())
    try:
        if wanted not in dateutil.rrule.rrulestr(rule.to_ical().decode(), dtstart=first):
            return None
    except (ValueError, TypeError):
        return None
    excluded = (value.dt for lines in _list(master.get("EXDATE")) for value in getattr(lines, "dts", []))
    if any(_same_time(gone, instance) for gone in excluded):
        return None  # RFC 5545 3.8.5.1: no longer an occurrence
    override = copy.deepcopy(master)
    for name in ("RRULE", "RDATE", "EXDATE", "DTSTART", "DTEND", "DURATION", STATE):
        override.pop(name, None)
    override.add("RECURRENCE-ID", instance)
    override.add("DTSTART", instance)
    if isinstance(end, datetime.date):
        override.add("DTEND", instance + (end - start))
    elif master.get("DURATION") is not None:
        override["DURATION"] = master["DURATION"]
    return override


def _mailed_as_stored(events: Sequence[icalendar.cal.Component]) -> Sent | None:
    """What was mailed, when the event is still as it was then (else None: a change waits for its invitation)."""
    before = Sent.read(events[0].get(STATE))
    if before is None or _fingerprint(events, TIMES, with_attendees=False) != before.times:
        return None
    return before if _fingerprint(events, VISIBLE, with_attendees=True) == before.rest else None


def _restate(events: Sequence[icalendar.cal.Component], mailed: Sent) -> None:
    """An occurrence's new component is no change the organiser made: the fingerprints take it in, so the next
    save does not take it for new times."""
    times = _fingerprint(events, TIMES, with_attendees=False)
    rest = _fingerprint(events, VISIBLE, with_attendees=True)
    events[0][STATE] = Sent(mailed.sequence, times, rest, mailed.to).value()


@dataclass(frozen=True, slots=True)
class Summary:
    """What the text part of an invitation tells a reader whose mail app shows no calendar."""

    title: str
    when: str
    where: str
    description: str
    organiser_name: str


def _when(value: object) -> str:
    moment = getattr(value, "dt", None)
    if isinstance(moment, datetime.datetime):
        zone = moment.tzname() or ""
        return moment.strftime("%A %d %B %Y, %H:%M") + (f" ({zone})" if zone else "")
    if isinstance(moment, datetime.date):
        return moment.strftime("%A %d %B %Y")
    return ""


def summary(text: str, uid: str) -> Summary:
    event = _events(parse(text), uid)[0]
    return Summary(
        title=str(event.get("SUMMARY", "")).strip(),
        when=_when(event.get("DTSTART")),
        where=str(event.get("LOCATION", "")).strip(),
        description=str(event.get("DESCRIPTION", "")).strip(),
        organiser_name=str(getattr(event.get("ORGANIZER"), "params", {}).get("CN", "")).strip(),
    )
