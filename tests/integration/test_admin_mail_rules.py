"""Forwarding, vacation replies and catch-all set in the admin UI take effect for real mail (real daemon)."""

from __future__ import annotations

import email
import email.policy
from contextlib import closing
from email.message import EmailMessage

import pytest

from tests import polling
from tests.adminweb import BOB, PASSWORD, make_admin_daemon, post, signed_in
from tests.daemon import DOMAIN, USER, Daemon
from tests.mailtest import inbound, submission

DEADLINE = 30.0


pytestmark = pytest.mark.daemon(make=make_admin_daemon)


def messages(server: Daemon, address: str) -> list[EmailMessage]:
    folder = server.maildir(address)
    files = sorted(p for sub in ("new", "cur") for p in (folder / sub).iterdir())
    return [email.message_from_bytes(p.read_bytes(), policy=email.policy.default) for p in files]  # type: ignore[misc]


def wait_for(server: Daemon, address: str, subject: str) -> EmailMessage:
    def arrived() -> EmailMessage | None:
        return next((message for message in messages(server, address) if subject in str(message["Subject"])), None)

    return polling.wait_for(f"message {subject!r} for {address}", arrived, DEADLINE)


def send(server: Daemon, to: str, subject: str, sender: str = "someone@remote.example") -> None:
    body = f"From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: <{subject}@remote.example>\r\n\r\nHi\r\n"
    with inbound(server) as client:
        client.sendmail(sender, [to], body.encode())


def test_forwarding_set_in_the_ui_delivers_to_the_target_and_keeps_a_copy(server: Daemon) -> None:
    with closing(signed_in(server, "user")) as alice:
        saved = post(alice, "/admin/account/forwarding", {"target": BOB, "keep_copy": "on"})
        assert saved.status_code == 303
        page = alice.get("/admin/account?done=forwarding").text
        assert "Forwarding is saved." in page and f"Your mail goes to {BOB}." in page
        send(server, USER, "forwarded-1")
        wait_for(server, BOB, "forwarded-1")
        wait_for(server, USER, "forwarded-1")
        post(alice, "/admin/account/forwarding", {"off": "1"})
        assert "Your mail stays in this mailbox." in alice.get("/admin/account").text


def test_catch_all_set_by_the_owner_takes_mail_for_unknown_addresses(server: Daemon) -> None:
    with closing(signed_in(server, "owner")) as owner:
        assert post(owner, f"/admin/domains/{DOMAIN}/catchall", {"target": BOB}).status_code == 303
        assert f'value="{BOB}"' in owner.get("/admin/").text
        send(server, f"nobody-here@{DOMAIN}", "catch-all-1")
        wait_for(server, BOB, "catch-all-1")
        post(owner, f"/admin/domains/{DOMAIN}/catchall", {"off": "1"})
    with inbound(server) as client:
        client.mail("someone@remote.example")
        assert client.rcpt(f"nobody-here@{DOMAIN}")[0] == 550


def test_vacation_reply_set_in_the_ui_answers_the_sender_once(server: Daemon) -> None:
    with closing(signed_in(server, "user")) as alice:
        on = post(alice, "/admin/account/vacation", {"subject": "Away until Monday", "body": "Back on Monday."})
        assert on.status_code == 303
        assert "Your vacation reply is on." in alice.get("/admin/account?done=vacation-on").text
    message = f"From: {BOB}\r\nTo: {USER}\r\nSubject: question-1\r\nMessage-ID: <q1@example.test>\r\n\r\nHello?\r\n"
    with submission(server) as client:
        client.login(BOB, PASSWORD)
        client.sendmail(BOB, [USER], message.encode())
    reply = wait_for(server, BOB, "Away until Monday")
    assert reply["Auto-Submitted"] == "auto-replied" and "Back on Monday." in reply.get_content()
    audit = server.cli("audit", "--tenant", DOMAIN).stdout
    assert "vacation.on" in audit and "forwarding.set" in audit and "catchall.set" in audit
    with closing(signed_in(server, "user")) as alice:
        post(alice, "/admin/account/vacation", {"off": "1"})
        assert "Off: nobody gets an automatic answer." in alice.get("/admin/account").text


def test_admin_forms_refuse_unsafe_names_with_the_reason_and_create_nothing(server: Daemon) -> None:
    with closing(signed_in(server, "owner")) as owner, closing(signed_in(server, "user")) as alice:
        mailbox = {"local": "a/b", "domain": DOMAIN, "password": PASSWORD, "role": "user"}
        refused = post(owner, f"/admin/business/{DOMAIN}/mailboxes", mailbox)
        assert refused.status_code == 400 and "not a valid mail address" in refused.text
        assert "contains the character" in refused.text
        refused = post(owner, f"/admin/business/{DOMAIN}/mailboxes", {**mailbox, "local": "x\x85y"})
        assert refused.status_code == 400 and "U+0085" in refused.text
        refused = post(owner, f"/admin/domains/{DOMAIN}/catchall", {"target": f"..@{DOMAIN}"})
        assert refused.status_code == 400 and "&#39;..&#39; segment" in refused.text
        refused = post(alice, "/admin/account/forwarding", {"target": "x\\y@elsewhere.example"})
        assert refused.status_code == 400 and "not a valid mail address" in refused.text
    listing = server.cli("user", "list").stdout
    assert "a/b" not in listing and "x\x85y" not in listing
    assert not (server.folder / "data" / "mail" / DOMAIN / "a").exists()
