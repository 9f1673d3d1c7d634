"""A suspended business: mail to it waits (451 4.7.1 at RCPT), its users cannot log in (IMAP NO, SMTP 535,
web refused), its sites answer a neutral 503; its data is kept and everything works again on resume."""

from __future__ import annotations

import smtplib
from contextlib import closing

import httpx
import pytest

from tests.adminweb import CUSTOMER, PASSWORD, browser, imap_login, make_admin_daemon, post, sign_in, signed_in
from tests.daemon import DOMAIN, OWNER, OWNER_PASSWORD, USER, USER_PASSWORD, Daemon
from tests.mailtest import MESSAGE, inbound, rcpt_reply, submission

pytestmark = pytest.mark.daemon(make=make_admin_daemon)


def site(server: Daemon, host: str) -> httpx.Response:
    return httpx.get(f"http://127.0.0.1:{server.ports['http']}/", headers={"Host": host})


def maildir_files(server: Daemon, local: str) -> list[str]:
    folder = server.maildir(f"{local}@{DOMAIN}")
    return sorted(p.name for sub in ("new", "cur") for p in (folder / sub).iterdir())


def test_suspended_business_refuses_mail_logins_and_site_until_resumed(server: Daemon) -> None:
    with inbound(server) as client:
        client.sendmail("someone@remote.example", [OWNER], MESSAGE)
    kept = maildir_files(server, "demo")
    assert kept

    suspended = server.cli("tenant", "suspend", DOMAIN)
    assert "suspended" in suspended.stdout

    with inbound(server) as client:
        code, text = rcpt_reply(client, OWNER)
    assert (code, text[:5]) == (451, b"4.7.1")
    assert imap_login(server, USER, USER_PASSWORD) == "NO"
    with submission(server) as client, pytest.raises(smtplib.SMTPAuthenticationError) as refused:
        client.login(OWNER, OWNER_PASSWORD)
    assert refused.value.smtp_code == 535
    with browser(server) as web:
        response = sign_in(web, OWNER, OWNER_PASSWORD)
        assert response.status_code == 401 and "suspended" in response.text
    page = site(server, DOMAIN)
    assert page.status_code == 503 and "temporarily unavailable" in page.text
    assert "Welcome to" not in page.text
    assert site(server, "agency.test").status_code == 200  # other businesses carry on
    assert imap_login(server, "pat@agency.test", PASSWORD) == "OK"

    server.cli("tenant", "resume", DOMAIN)
    assert maildir_files(server, "demo") == kept  # nothing was lost
    assert imap_login(server, USER, USER_PASSWORD) == "OK"
    assert site(server, DOMAIN).status_code == 200
    with inbound(server) as client:
        assert rcpt_reply(client, OWNER)[0] == 250


def test_partner_suspends_its_customer_in_the_web_ui_and_the_owner_is_signed_out(server: Daemon) -> None:
    with closing(signed_in(server, "partner")) as partner, browser(server) as customer:
        assert sign_in(customer, "boss@client.test", PASSWORD).status_code == 303
        assert "Mailboxes of your business" in customer.get("/admin/").text
        assert post(partner, f"/admin/tenants/{CUSTOMER}/suspend").status_code == 303
        listing = partner.get("/admin/?done=suspended")
        assert "The business is suspended." in listing.text and "Suspended" in listing.text
        assert "Sign in" in customer.get("/admin/").text  # the open session no longer counts
        assert site(server, "client.test").status_code == 503
        assert post(partner, f"/admin/tenants/{CUSTOMER}/resume").status_code == 303
        assert site(server, "client.test").status_code == 200
    audit = server.cli("audit", "--tenant", CUSTOMER).stdout
    assert "tenant.suspend" in audit and "tenant.resume" in audit and "pat@agency.test" in audit


def test_operator_creates_a_business_and_gives_it_to_a_partner_at_the_command_line(server: Daemon) -> None:
    created = server.cli(
        "tenant",
        "create",
        "cli-co",
        "cli-co.test",
        "owner@cli-co.test",
        "--password-stdin",
        "--tier",
        "plus",
        stdin=PASSWORD + "\n",
    )
    assert "created cli-co (plus) with cli-co.test and owner owner@cli-co.test" in created.stdout
    assert "the partner agency.test" in server.cli("tenant", "partner", "cli-co", "agency.test").stdout
    with closing(signed_in(server, "partner")) as partner:
        assert "/admin/business/cli-co/" in partner.get("/admin/").text
    assert imap_login(server, "owner@cli-co.test", PASSWORD) == "OK"
