"""iTIP/iMIP (RFC 5546, RFC 6047): the invitations an organiser's save sends, and the answers applied."""

from __future__ import annotations

import datetime
import email
import email.base64mime
import email.policy

import icalendar
from hypothesis import given
from hypothesis import strategies as st

from smb_suite.mail import imip, itip

UID = "planning-1@example.test"
ORGANISER = "demo@example.test"
BOB = "bob@partner.test"
CAROL = "carol@elsewhere.test"
NOW = datetime.datetime(2026, 12, 3, 12, 0, tzinfo=datetime.UTC)
EVENT = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\n"
    f"UID:{UID}\r\nDTSTAMP:20261201T090000Z\r\n"
    "DTSTART:20270105T090000Z\r\nDTEND:20270105T100000Z\r\nSUMMARY:Planning\r\nLOCATION:Room 1\r\n"
    f"ATTENDEE;CN=Bob:mailto:{BOB}\r\nATTENDEE:mailto:alice@example.test\r\n"
    "BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT15M\r\nDESCRIPTION:soon\r\nEND:VALARM\r\n"
    "END:VEVENT\r\nEND:VCALENDAR\r\n"
)


def event_of(text: str) -> icalendar.cal.Component:
    return icalendar.Calendar.from_ical(text).walk("VEVENT")[0]


def attendee(event: icalendar.cal.Component, who: str) -> icalendar.vCalAddress:
    found = [value for value in event.get("ATTENDEE") if itip.address(value) == who]
    assert len(found) == 1
    return found[0]


def saved(text: str, elsewhere: tuple[str, ...] = (BOB,)) -> itip.Plan:
    return itip.plan_save(text, UID, ORGANISER, elsewhere, NOW)


def test_a_first_save_invites_the_attendees_elsewhere_with_a_request_the_organiser_signs() -> None:
    plan = saved(EVENT)
    assert plan.requests == plan.first == (BOB,) and plan.cancels == ()
    request = icalendar.Calendar.from_ical(plan.request)
    assert request["METHOD"] == "REQUEST"
    event = request.walk("VEVENT")[0]
    assert str(event["UID"]) == UID and itip.address(event["ORGANIZER"]) == ORGANISER
    assert attendee(event, BOB).params["RSVP"] == "TRUE"
    assert not request.walk("VALARM") and itip.STATE not in event  # no alarms, no state of ours
    assert event.decoded("DTSTAMP") == NOW
    stored = event_of(plan.stored or "")
    assert itip.address(stored["ORGANIZER"]) == ORGANISER and stored.walk("VALARM")  # the organiser's own copy


def test_saving_again_unchanged_mails_nobody() -> None:
    first = saved(EVENT)
    again = saved(first.stored or "")
    assert again.requests == () and again.stored is None


def test_moving_the_event_bumps_sequence_and_asks_everyone_again() -> None:
    first = saved(EVENT)
    answered = (first.stored or "").replace(
        f"ATTENDEE;CN=Bob:mailto:{BOB}", f"ATTENDEE;CN=Bob;PARTSTAT=ACCEPTED:mailto:{BOB}"
    )
    moved = answered.replace("DTSTART:20270105T090000Z", "DTSTART:20270106T090000Z")
    plan = saved(moved, (BOB, CAROL))
    assert plan.sequence == 1 and plan.requests == (BOB, CAROL) and plan.first == (CAROL,)
    event = event_of(plan.request)
    assert event["SEQUENCE"] == 1 and attendee(event, BOB).params["PARTSTAT"] == "NEEDS-ACTION"


def test_a_new_title_is_sent_again_at_the_same_sequence_and_an_added_attendee_alone_gets_its_invitation() -> None:
    first = saved(EVENT)
    renamed = saved((first.stored or "").replace("SUMMARY:Planning", "SUMMARY:Planning 2027"))
    assert renamed.requests == (BOB,) and renamed.sequence == 0
    added = saved(renamed.stored or "", (BOB, CAROL))
    assert added.requests == (CAROL,) and added.first == (CAROL,)


def test_removing_an_attendee_sends_it_a_cancel_naming_it() -> None:
    first = saved(
        EVENT.replace("ATTENDEE:mailto:alice", f"ATTENDEE:mailto:{CAROL}\r\nATTENDEE:mailto:alice"), (BOB, CAROL)
    )
    without_bob = "\r\n".join(line for line in (first.stored or "").split("\r\n") if BOB not in line or "ITIP" in line)
    plan = saved(without_bob, (CAROL,))
    assert plan.cancels == (BOB,) and plan.sequence == 1 and plan.requests == (CAROL,)
    cancel = icalendar.Calendar.from_ical(plan.cancel)
    assert cancel["METHOD"] == "CANCEL"
    assert itip.address(cancel.walk("VEVENT")[0]["ATTENDEE"]) == BOB
    assert BOB not in itip.attendees(plan.stored or "", UID)


def test_cancelling_tells_everyone_ever_invited_with_a_higher_sequence() -> None:
    first = saved(EVENT, (BOB, CAROL))
    to, text = itip.plan_cancel(first.stored or "", UID, (BOB,), NOW)
    assert to == (BOB, CAROL)
    cancel = icalendar.Calendar.from_ical(text)
    event = cancel.walk("VEVENT")[0]
    assert cancel["METHOD"] == "CANCEL" and event["STATUS"] == "CANCELLED" and event["SEQUENCE"] == 1


def test_the_mail_is_text_and_calendar_alternatives_with_an_ics_attachment() -> None:
    plan = saved(EVENT)
    letter = imip.Letter(ORGANISER, "Demo", BOB, NOW.timestamp(), "m1@example.test")
    data = imip.message("new", itip.REQUEST, plan.request, itip.summary(plan.request, UID), letter)
    mail = email.message_from_bytes(data, policy=email.policy.default)
    assert mail["From"] == f"Demo <{ORGANISER}>" and mail["To"] == BOB
    assert mail["Subject"].startswith("Invitation: Planning @ ")
    assert mail.get_content_type() == "multipart/mixed"
    alternative, attachment = mail.iter_parts()
    text, calendar = alternative.iter_parts()
    assert text.get_content_type() == "text/plain" and "Where: Room 1" in text.get_content()
    assert calendar.get_content_type() == "text/calendar" and calendar.get_param("method") == "REQUEST"
    assert attachment.get_filename() == "invite.ics"
    assert icalendar.Calendar.from_ical(attachment.get_content())["METHOD"] == "REQUEST"


def reply(
    partstat: str = "ACCEPTED", sequence: int = 0, stamp: str = "20261203T130000Z", who: str = BOB, extra: str = ""
) -> str:
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//other//EN\r\nMETHOD:REPLY\r\nBEGIN:VEVENT\r\n"
        f"UID:{UID}\r\nDTSTAMP:{stamp}\r\nSEQUENCE:{sequence}\r\nDTSTART:20270105T090000Z\r\n{extra}"
        f"ORGANIZER:mailto:{ORGANISER}\r\nATTENDEE;PARTSTAT={partstat}:mailto:{who}\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n"
    )


def reply_mail(ics: str, sender: str = BOB) -> bytes:
    return (
        f"From: Bob <{sender}>\r\nTo: {ORGANISER}\r\nSubject: Accepted: Planning\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/alternative; boundary="b"\r\n\r\n'
        "--b\r\nContent-Type: text/plain\r\n\r\nBob accepted.\r\n"
        '--b\r\nContent-Type: text/calendar; method=REPLY; charset="utf-8"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
        + email.base64mime.body_encode(ics.encode())
        + "\r\n--b--\r\n"
    ).encode()


def apply(text: str, answer: str, sender: str = BOB) -> tuple[itip.Outcome, str | None]:
    data = reply_mail(answer, sender)
    assert imip.may_hold_calendar(data)
    (found,) = imip.replies(data)
    return itip.apply_reply(text, found, sender, {ORGANISER})


def test_an_attendees_reply_sets_its_partstat() -> None:
    stored = saved(EVENT).stored or ""
    outcome, text = apply(stored, reply("ACCEPTED"))
    assert outcome is itip.Outcome.APPLIED
    assert attendee(event_of(text or ""), BOB).params["PARTSTAT"] == "ACCEPTED"
    outcome, text = apply(text or "", reply("DECLINED", stamp="20261203T140000Z"))
    assert outcome is itip.Outcome.APPLIED
    assert attendee(event_of(text or ""), BOB).params["PARTSTAT"] == "DECLINED"


def test_a_reply_from_someone_else_than_the_attendee_changes_nothing() -> None:
    stored = saved(EVENT).stored or ""
    assert apply(stored, reply(), sender="mallory@evil.test") == (itip.Outcome.FORGED, None)
    assert apply(stored, reply(who=CAROL), sender=CAROL) == (itip.Outcome.UNKNOWN_ATTENDEE, None)
    elsewhere = itip.apply_reply(stored, imip.replies(reply_mail(reply()))[0], BOB, {"other@example.test"})
    assert elsewhere == (itip.Outcome.NOT_FOUND, None)  # the receiver does not organise this event


def test_an_older_reply_is_ignored() -> None:
    first = saved(EVENT)
    moved = saved((first.stored or "").replace("DTSTART:20270105T090000Z", "DTSTART:20270106T090000Z"))
    assert moved.sequence == 1
    assert apply(moved.stored or "", reply(sequence=0)) == (itip.Outcome.STALE, None)  # answers the old time
    outcome, text = apply(moved.stored or "", reply("TENTATIVE", sequence=1, stamp="20261203T150000Z"))
    assert outcome is itip.Outcome.APPLIED
    late = apply(text or "", reply("DECLINED", sequence=1, stamp="20261203T140000Z"))  # written before that one
    assert late == (itip.Outcome.STALE, None)


def test_an_answer_for_one_occurrence_makes_that_occurrence_only() -> None:
    weekly = EVENT.replace(
        "SUMMARY:Planning", "RRULE:FREQ=WEEKLY;COUNT=10\r\nEXDATE:20270119T090000Z\r\nSUMMARY:Planning"
    )
    stored = saved(weekly).stored or ""
    # the second week, named in another time zone than the event's (10:00 in Paris is 09:00 UTC)
    answer = reply("DECLINED", extra="RECURRENCE-ID;TZID=Europe/Paris:20270112T100000\r\n")
    outcome, text = apply(stored, answer)
    assert outcome is itip.Outcome.APPLIED
    master, occurrence = icalendar.Calendar.from_ical(text or "").walk("VEVENT")
    assert attendee(master, BOB).params.get("PARTSTAT") is None  # the series is unanswered
    assert attendee(occurrence, BOB).params["PARTSTAT"] == "DECLINED"
    assert occurrence.decoded("DTSTART") == datetime.datetime(2027, 1, 12, 9, 0, tzinfo=datetime.UTC)
    assert occurrence.decoded("DTEND") - occurrence.decoded("DTSTART") == datetime.timedelta(hours=1)
    assert "RRULE" not in occurrence
    assert saved(text or "").requests == ()  # the organiser's next save sees no change of its own
    not_one = reply("DECLINED", extra="RECURRENCE-ID:20270113T090000Z\r\n")  # a Wednesday: no such occurrence
    assert apply(stored, not_one) == (itip.Outcome.NOT_FOUND, None)
    excluded = reply("ACCEPTED", extra="RECURRENCE-ID:20270119T090000Z\r\n")  # the third week was taken out
    assert apply(stored, excluded) == (itip.Outcome.NOT_FOUND, None)


def test_mail_without_a_reply_object_has_no_answers() -> None:
    request = saved(EVENT).request
    assert imip.replies(reply_mail(request)) == []  # a REQUEST is no answer
    assert not imip.may_hold_calendar(b"Subject: hello\r\n\r\nno calendar here\r\n")
    assert imip.replies(reply_mail("BEGIN:VCALENDAR\r\nnot really")) == []


@given(st.binary(max_size=2000))
def test_any_bytes_give_answers_or_none_never_an_error(data: bytes) -> None:
    assert isinstance(imip.replies(data), list)


@given(st.text(max_size=300))
def test_any_calendar_part_gives_answers_or_none_never_an_error(text: str) -> None:
    body = "BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nBEGIN:VEVENT\r\n" + text + "\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    assert isinstance(imip.replies(reply_mail(body)), list)
