"""Invitations between two daemons (iMIP, RFC 6047): an event saved on A with an attendee hosted on B reaches B's
mailbox as a METHOD:REQUEST invitation through A's outbound queue, and the attendee's answer, sent from B,
updates the event on A."""

from __future__ import annotations

import asyncio
import concurrent.futures
import email.base64mime
import imaplib
from collections.abc import Iterator
from pathlib import Path

import httpx
import icalendar
import pytest

from smb_suite.config import load as load_config
from smb_suite.dav.scheduling import CalendarRef
from smb_suite.directory.model import OPERATOR, Role
from smb_suite.ops import domains, invitations, users
from smb_suite.services import open_services
from tests.daemon import DOMAIN, OWNER, OWNER_PASSWORD, USER, USER_PASSWORD, Daemon, make_daemon
from tests.dnsserver import DnsServer
from tests.mailtest import free_port, insecure_context, maildir, send_inbound, submit
from tests.polling import wait_for

PARTNER = "partner.test"
BOB = f"bob@{PARTNER}"
BOB_PASSWORD = "bob of partner, long secret"
UID = "planning-2027@example.test"
EVENT = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//smb-suite tests//EN\r\nBEGIN:VEVENT\r\n"
    f"UID:{UID}\r\nDTSTAMP:20261201T090000Z\r\nDTSTART:20270105T090000Z\r\nDTEND:20270105T100000Z\r\n"
    f"RRULE:FREQ=WEEKLY;COUNT=200\r\nSUMMARY:Planning 2027\r\nORGANIZER;CN=Demo:mailto:{OWNER}\r\n"
    f"ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:{BOB}\r\nATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:{USER}\r\n"
    "END:VEVENT\r\nEND:VCALENDAR\r\n"
)


def routes(domain: str, port: int) -> str:
    """Remote mail for `domain` to the other daemon's MX, retried fast."""
    return (
        '[outbound]\nsmarthost = "127.0.0.1:9"\nretry_schedule = ["1s"]\nscan_interval = "1s"\n'
        f'[outbound.routes]\n"{domain}" = "127.0.0.1:{port}"\n'
    )


def partner_only(server: Daemon) -> None:
    """B hosts partner.test and its bob alone (every test daemon starts with example.test, which is A's here)."""
    services = open_services(load_config(server.config))
    try:
        for address in (USER, OWNER):
            users.remove_user(services, OPERATOR, address)
        domains.remove_domain(services, OPERATOR, DOMAIN)
        domains.add_domain(services, OPERATOR, PARTNER)
        users.add_user(services, OPERATOR, BOB, BOB_PASSWORD, Role.OWNER)
    finally:
        services.close()


def invite(server: Daemon, calendar: CalendarRef, actor: str = OWNER) -> invitations.Invitations:
    """What the calendar pages do after `actor` saved the event: the use case, in-process."""
    services = open_services(load_config(server.config))
    try:
        user = services.directory.find_user(actor)
        assert user is not None
        return asyncio.run(invitations.invite(services, user, calendar, UID))
    finally:
        services.close()


def team_of(server: Daemon) -> CalendarRef:
    services = open_services(load_config(server.config))
    try:
        organiser = services.directory.find_user(OWNER)
        assert organiser is not None
        return CalendarRef.team(organiser.tenant_id)
    finally:
        services.close()


def answer(partstat: str) -> bytes:
    """Bob's mail app accepting: a text/calendar METHOD:REPLY part (RFC 6047 2.4), base64 as Gmail sends it."""
    reply = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bob's app//EN\r\nMETHOD:REPLY\r\nBEGIN:VEVENT\r\n"
        f"UID:{UID}\r\nDTSTAMP:20261203T120000Z\r\nSEQUENCE:0\r\nDTSTART:20270105T090000Z\r\n"
        f"ORGANIZER:mailto:{OWNER}\r\nATTENDEE;PARTSTAT={partstat}:mailto:{BOB}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    return (
        f"From: Bob <{BOB}>\r\nTo: {OWNER}\r\nSubject: Accepted: Planning 2027\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/alternative; boundary="reply"\r\n\r\n'
        "--reply\r\nContent-Type: text/plain\r\n\r\nBob has accepted.\r\n"
        '--reply\r\nContent-Type: text/calendar; method=REPLY; charset="utf-8"\r\n'
        "Content-Transfer-Encoding: base64\r\n\r\n" + email.base64mime.body_encode(reply.encode()) + "--reply--\r\n"
    ).encode()


def url(server: Daemon, path: str) -> str:
    return f"http://127.0.0.1:{server.ports['http']}{path}"


def partstat(server: Daemon, path: str, who: str) -> str:
    """The attendee's PARTSTAT in the event as a CalDAV client GETs it from A."""
    response = httpx.get(url(server, path), auth=(OWNER, OWNER_PASSWORD), timeout=60)
    assert response.status_code == 200, response.status_code
    event = icalendar.Calendar.from_ical(response.text).walk("VEVENT")[0]
    found = [value for value in event.get("ATTENDEE") if str(value).lower() == f"mailto:{who}"]
    return str(found[0].params.get("PARTSTAT", ""))


@pytest.fixture
def pair(tmp_path: Path, quiet_dns: DnsServer) -> Iterator[tuple[Daemon, Daemon]]:
    """A (example.test, the organiser's) and B (partner.test, bob's), each routing the other's domain to the
    other's MX; made one after the other, started side by side (start-up is this test's main cost)."""
    a_port, b_port = free_port(), free_port()
    dns = (quiet_dns.address,)
    b = make_daemon(
        tmp_path / "b", routes(DOMAIN, a_port), ("smtp", "submission", "imaps"), nameservers=dns, ports={"smtp": b_port}
    )
    partner_only(b)
    a = make_daemon(tmp_path / "a", routes(PARTNER, b_port), ("smtp", "http"), nameservers=dns, ports={"smtp": a_port})
    try:
        with concurrent.futures.ThreadPoolExecutor(2) as starting:
            for started in [starting.submit(server.start) for server in (a, b)]:
                started.result()
        yield a, b
    finally:
        for server in (a, b):
            if server.process is not None:
                server.kill()


def test_an_invitation_reaches_the_other_daemon_and_the_answer_updates_the_event(pair: tuple[Daemon, Daemon]) -> None:
    a, b = pair
    team = team_of(a)
    path = f"/dav/{team.principal}/{team.collection}/planning.ics"
    put = httpx.put(
        url(a, path),
        content=EVENT,
        auth=(OWNER, OWNER_PASSWORD),
        headers={"Content-Type": "text/calendar"},
        timeout=60,
    )
    assert put.status_code == 201, put.text

    sent = invite(a, team)
    assert sent.invited == (BOB,)  # alice works at the organiser's business: she sees Team, no mail

    wait_for("the invitation in bob's mailbox at B", lambda: maildir(b, BOB))
    with imaplib.IMAP4_SSL("127.0.0.1", b.ports["imaps"], ssl_context=insecure_context()) as client:
        client.login(BOB, BOB_PASSWORD)
        client.select("INBOX")
        _, structure = client.fetch("1", "(BODYSTRUCTURE)")
        _, body = client.fetch("1", "(BODY.PEEK[])")
    assert b'"TEXT" "CALENDAR"' in structure[0].upper() and b'"METHOD" "REQUEST"' in structure[0].upper()
    raw = body[0][1]
    assert (
        b"METHOD:REQUEST" in raw and b"RRULE:FREQ=WEEKLY;COUNT=200" in raw and f"From: Demo <{OWNER}>".encode() in raw
    )
    assert b"DKIM-Signature:" in raw  # signed by A for example.test
    assert invite(a, team) == invitations.Invitations()  # saving again unchanged mails nobody

    submit(b, [OWNER], answer("ACCEPTED"), user=BOB, password=BOB_PASSWORD)
    wait_for("bob's answer on the event at A", lambda: partstat(a, path, BOB) == "ACCEPTED")
    assert partstat(a, path, USER) == "NEEDS-ACTION"
    assert any(b"Accepted: Planning 2027" in mail for mail in maildir(a, OWNER))  # the mail is delivered too

    renamed = httpx.get(url(a, path), auth=(OWNER, OWNER_PASSWORD), timeout=60).text.replace(
        "SUMMARY:Planning 2027", "SUMMARY:Planning 2027 (room 2)"
    )
    assert httpx.put(url(a, path), content=renamed, auth=(USER, USER_PASSWORD), timeout=60).status_code == 204
    assert invite(a, team, USER) == invitations.Invitations(invited=(BOB,))  # alice saved demo's event
    update = wait_for("the update at B", lambda: [m for m in maildir(b, BOB) if b"Updated invitation" in m])[0]
    assert f"From: Demo <{OWNER}>".encode() in update and f"Sender: {USER}".encode() in update
    assert partstat(a, path, BOB) == "ACCEPTED"  # a new title leaves the answer standing (same SEQUENCE)

    forged = answer("DECLINED").replace(f"From: Bob <{BOB}>".encode(), b"From: mallory@evil.test")
    send_inbound(a, "mallory@evil.test", [OWNER], forged)
    wait_for("the forged answer refused", lambda: "outcome=forged" in a.log_text())
    assert partstat(a, path, BOB) == "ACCEPTED"
