"""The calendar pages and the CalDAV collections are one calendar: an event made on a page is what a CalDAV client
(the python caldav library) reads, and a client's recurring event shows on the month and week pages; the secret
.ics subscription URL serves the calendar without a sign-in until a new one replaces it; an .ics file imports
whole or not at all; each user sees its business's "Team" and its own calendar only; a business without the
collaboration module has neither the pages nor the menu entry."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

import caldav
import httpx
import pytest

from smb_suite.config import load as load_config
from smb_suite.directory.model import OPERATOR, Role
from smb_suite.ops import domains, tiers, users
from smb_suite.services import open_services
from tests.adminweb import BOB, CUSTOMER_OWNER, PASSWORD, browser, make_admin_daemon, post, sign_in, signed_in
from tests.daemon import OWNER, OWNER_PASSWORD, USER, USER_PASSWORD, Daemon

NODAV = ("nora@nodav.test", "nora of nodav, long secret")
EXTRA = '[tiers.nodav]\nstorage_mb = 50\nmodules = ["mail", "site"]\n'
FEED = re.compile(r'<code id="feed-url">https://[^/]+(/admin/ics/[^<]+)</code>')
WEEKLY = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//smb-suite tests//EN
BEGIN:VEVENT
UID:standup@client.example
DTSTAMP:20261101T090000Z
DTSTART;TZID=Europe/Paris:20261102T091500
DTEND;TZID=Europe/Paris:20261102T093000
RRULE:FREQ=WEEKLY;BYDAY=MO
SUMMARY:Monday stand-up
END:VEVENT
END:VCALENDAR
"""
IMPORTED = b"""BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//Microsoft Corporation//Outlook 16.0 MIMEDIR//EN\r
BEGIN:VEVENT\r
UID:fair-2026@outlook.example\r
DTSTAMP:20261101T090000Z\r
DTSTART;VALUE=DATE:20261116\r
DTEND;VALUE=DATE:20261118\r
SUMMARY:Trade fair\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:dentist-2026@outlook.example\r
DTSTAMP:20261101T090000Z\r
DTSTART:20261119T100000Z\r
DTEND:20261119T110000Z\r
SUMMARY:Dentist\r
END:VEVENT\r
END:VCALENDAR\r
"""


def add_nodav(server: Daemon) -> None:
    services = open_services(load_config(server.config))
    try:
        domain = domains.add_domain(services, OPERATOR, "nodav.test")
        users.add_user(services, OPERATOR, NODAV[0], NODAV[1], Role.OWNER)
        tiers.set_tier(services, OPERATOR, domain.tenant_name, "nodav")
    finally:
        services.close()


pytestmark = [
    pytest.mark.daemon(EXTRA, services=("http", "https"), make=make_admin_daemon, before_start=add_nodav),
    pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning"),  # the daemon's own certificate
]


@pytest.fixture(scope="module")
def alice(server: Daemon) -> Any:
    client = signed_in(server, "user")
    client.get("/admin/calendar/team/", params={"tz": "Europe/Paris"})  # remembered for the forms
    yield client
    client.close()


def caldav_client(server: Daemon, account: tuple[str, str]) -> caldav.DAVClient:
    return caldav.DAVClient(
        url=f"https://127.0.0.1:{server.ports['https']}/dav/",
        username=account[0],
        password=account[1],
        ssl_verify_cert=False,
    )


def summaries(server: Daemon, account: tuple[str, str], name: str = "Team") -> set[str]:
    with caldav_client(server, account) as client:
        calendars = {calendar.get_display_name(): calendar for calendar in client.principal().calendars()}
        return {str(event.icalendar_component["SUMMARY"]) for event in calendars[name].events()}


def save(client: httpx.Client, path: str, **fields: str) -> httpx.Response:
    form = {"start_date": "2026-11-10", "end_date": "2026-11-10", "start_time": "14:30", "end_time": "15:30"}
    return post(client, path, {**form, **fields})


def event_links(page: httpx.Response, title: str) -> list[str]:
    return re.findall(
        r'href="(/admin/calendar/\w+/events/[^"]+)"><span class="when">[^<]*</span> ' + re.escape(title), page.text
    )


def test_an_event_made_on_the_page_is_what_caldav_clients_read_and_edits_follow(
    server: Daemon, alice: httpx.Client
) -> None:
    saved = save(alice, "/admin/calendar/team/new", title="Budget review", attendees="ann@partner.example")
    assert saved.status_code == 303 and "done=event-saved" in saved.headers["location"]
    assert "Budget review" in summaries(server, (OWNER, OWNER_PASSWORD))  # a colleague's CalDAV client
    with caldav_client(server, (USER, USER_PASSWORD)) as client:
        team = {c.get_display_name(): c for c in client.principal().calendars()}["Team"]
        (event,) = [e for e in team.events() if str(e.icalendar_component["SUMMARY"]) == "Budget review"]
        component = event.icalendar_component
        assert component.start == datetime.fromisoformat("2026-11-10T14:30:00+01:00")
        assert (
            str(component["ORGANIZER"]) == f"mailto:{USER}"
            and str(component["ATTENDEE"]) == "mailto:ann@partner.example"
        )
        assert "ann@partner.example" in str(component["X-SMB-SUITE-ITIP"])  # invited (ops/invitations.py)
    (link,) = event_links(alice.get("/admin/calendar/team/", params={"day": "2026-11-10"}), "Budget review")
    form = alice.get(link).text
    assert 'value="Budget review"' in form and 'value="14:30"' in form and "ann@partner.example" in form
    assert save(alice, link, title="Budget review (moved)", start_time="16:00", end_time="17:00").status_code == 303
    with caldav_client(server, (OWNER, OWNER_PASSWORD)) as client:
        team = {c.get_display_name(): c for c in client.principal().calendars()}["Team"]
        (moved,) = [e for e in team.events() if str(e.icalendar_component["SUMMARY"]) == "Budget review (moved)"]
        assert moved.icalendar_component["SEQUENCE"] == 1  # new times: the attendee is sent an update
    assert post(alice, link + "/delete").status_code == 303
    assert not {"Budget review", "Budget review (moved)"} & summaries(server, (OWNER, OWNER_PASSWORD))
    assert alice.get(link).status_code == 404


def test_a_recurring_event_from_a_caldav_client_shows_in_the_month_and_the_week(
    server: Daemon, alice: httpx.Client
) -> None:
    with caldav_client(server, (OWNER, OWNER_PASSWORD)) as client:
        {c.get_display_name(): c for c in client.principal().calendars()}["Team"].add_event(WEEKLY)
    month = alice.get("/admin/calendar/team/", params={"day": "2026-11-20", "view": "month"})
    mondays = re.findall(r'data-day="(\d{4}-\d\d-\d\d)">(?:(?!</td>).)*Monday stand-up', month.text, re.S)
    assert mondays == ["2026-11-02", "2026-11-09", "2026-11-16", "2026-11-23", "2026-11-30"]
    week = alice.get("/admin/calendar/team/", params={"day": "2026-11-25", "view": "week", "tz": "America/New_York"})
    assert re.search(r'data-day="2026-11-23">(?:(?!</td>).)*03:15–03:30</span> Monday stand-up', week.text, re.S)
    assert "Monday stand-up" not in alice.get("/admin/calendar/personal/", params={"day": "2026-11-20"}).text
    (link,) = set(event_links(month, "Monday stand-up"))  # every occurrence opens the one event
    assert "This event repeats" in alice.get(link).text
    alice.get("/admin/calendar/team/", params={"tz": "Europe/Paris"})


def test_the_subscription_url_serves_the_calendar_until_a_new_one_replaces_it(
    server: Daemon, alice: httpx.Client
) -> None:
    save(alice, "/admin/calendar/personal/new", title="Private appointment")
    found = FEED.search(alice.get("/admin/calendar/personal/").text)
    assert found is not None
    old = found.group(1)
    outlook = browser(server)  # no session: the token is the credential
    try:
        answer = outlook.get(old)
        assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/calendar")
        assert "BEGIN:VCALENDAR" in answer.text and "SUMMARY:Private appointment" in answer.text
        assert outlook.get(old, headers={"If-None-Match": answer.headers["etag"]}).status_code == 304  # unchanged
        assert "Monday stand-up" not in answer.text  # the personal calendar, not Team
        assert outlook.put(old, content=b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n").status_code == 405  # read-only
        assert outlook.get(old[:-8] + "A" * 4 + ".ics").status_code == 404
        assert post(alice, "/admin/calendar/personal/feed").status_code == 303
        assert outlook.get(old).status_code == 404
        new = FEED.search(alice.get("/admin/calendar/personal/").text)
        assert new is not None and new.group(1) != old and outlook.get(new.group(1)).status_code == 200
        team = FEED.search(alice.get("/admin/calendar/team/").text)
        assert team is not None and "Monday stand-up" in outlook.get(team.group(1)).text
    finally:
        outlook.close()


def _import(client: httpx.Client, data: bytes) -> httpx.Response:
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/admin/calendar/team/").text)
    assert token is not None
    return client.post(
        "/admin/calendar/team/import",
        data={"csrf": token.group(1)},
        files={"file": ("outlook.ics", data, "text/calendar")},
    )


def test_an_ics_file_is_imported_whole_and_a_bad_one_changes_nothing(server: Daemon, alice: httpx.Client) -> None:
    before = summaries(server, (USER, USER_PASSWORD))
    refused = _import(alice, b"Subject,Start Date\r\nnot,an ics file\r\n")
    assert refused.status_code == 400 and "iCalendar" in refused.text
    assert summaries(server, (USER, USER_PASSWORD)) == before
    imported = _import(alice, IMPORTED)
    assert imported.status_code == 303 and "done=imported" in imported.headers["location"]
    assert summaries(server, (USER, USER_PASSWORD)) == before | {"Trade fair", "Dentist"}
    week = alice.get("/admin/calendar/team/", params={"day": "2026-11-17", "view": "week"}).text
    assert re.search(r'data-day="2026-11-17">(?:(?!</td>).)*Trade fair', week, re.S)
    assert not re.search(r'data-day="2026-11-18">(?:(?!</td>).)*Trade fair', week, re.S)  # DTEND excluded
    services = open_services(load_config(server.config))
    try:
        assert tiers.check_drift(services) == []  # what `quota check` runs: the imported bytes are counted
    finally:
        services.close()


def test_each_user_sees_its_business_team_and_its_own_calendar_only(server: Daemon, alice: httpx.Client) -> None:
    save(alice, "/admin/calendar/personal/new", title="Alice only", start_date="2026-11-12", end_date="2026-11-12")
    (link,) = event_links(alice.get("/admin/calendar/personal/", params={"day": "2026-11-12"}), "Alice only")
    owner = signed_in(server, "owner")
    stranger = browser(server)
    try:
        assert sign_in(stranger, CUSTOMER_OWNER, PASSWORD).status_code == 303
        shown = owner.get("/admin/calendar/personal/", params={"day": "2026-11-12"}).text
        assert (
            "Alice only" not in shown
            and "Monday stand-up" in owner.get("/admin/calendar/team/", params={"day": "2026-11-12"}).text
        )
        assert owner.get(link).status_code == 404  # the same name in the owner's own calendar: nothing
        assert "Monday stand-up" not in stranger.get("/admin/calendar/team/", params={"day": "2026-11-12"}).text
        assert stranger.get(link.replace("personal", "team")).status_code == 404
        assert post(stranger, link + "/delete").status_code == 404
        assert alice.get(link).status_code == 200
        assert alice.get("/admin/calendar/someone/").status_code == 404
        assert 'href="/admin/calendar/"' in alice.get("/admin/").text  # the menu entry
    finally:
        owner.close()
        stranger.close()


def test_a_removed_users_subscription_url_stops_working(server: Daemon) -> None:
    bob = browser(server)
    owner = signed_in(server, "owner")
    try:
        assert sign_in(bob, BOB, PASSWORD).status_code == 303
        found = FEED.search(bob.get("/admin/calendar/personal/").text)
        assert found is not None and bob.get(found.group(1)).status_code == 200
        assert post(owner, f"/admin/mailboxes/{BOB}/remove").status_code == 303
        assert owner.get(found.group(1)).status_code == 404
    finally:
        bob.close()
        owner.close()


def test_a_business_without_the_collaboration_module_has_no_calendar(server: Daemon) -> None:
    nora = browser(server)
    try:
        assert sign_in(nora, *NODAV).status_code == 303
        assert 'href="/admin/calendar/"' not in nora.get("/admin/").text
        assert nora.get("/admin/calendar/team/").status_code == 404
        assert (
            post(
                nora,
                "/admin/calendar/team/new",
                {"title": "x", "start_date": date(2026, 1, 1).isoformat(), "all_day": "1"},
            ).status_code
            == 404
        )
    finally:
        nora.close()
