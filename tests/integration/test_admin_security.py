"""Security of the admin UI against the real daemon: one login throttle shared by web, SMTP and IMAP; app
passwords for mail clients only; CSRF on every new form; an audit record for each change; no secret in any
log or audit record."""

from __future__ import annotations

import re
import smtplib
from contextlib import closing

import httpx
import pytest

from tests.adminweb import (
    BOB,
    PASSWORD,
    browser,
    csrf_token,
    imap_login,
    make_admin_daemon,
    post,
    sign_in,
    signed_in,
)
from tests.daemon import DOMAIN, USER, USER_PASSWORD, Daemon
from tests.mailtest import submission

FAILED = re.compile(r"auth\.failed user=account:(\S+) ip=\S+ failures=(\d+)")


pytestmark = pytest.mark.daemon(make=make_admin_daemon)


def test_failed_logins_over_imap_web_and_smtp_count_towards_one_counter(server: Daemon) -> None:
    assert imap_login(server, BOB, "wrong guess") == "NO"
    with browser(server) as web:
        assert sign_in(web, BOB, "wrong again").status_code == 401
    with submission(server) as client, pytest.raises(smtplib.SMTPAuthenticationError):
        client.user, client.password = BOB, "wrong a third time"
        client.auth("PLAIN", client.auth_plain)  # one guess (login() tries each mechanism)
    counts = [(user, int(count)) for user, count in FAILED.findall(server.log_text())]
    assert counts == [(BOB, 1), (BOB, 2), (BOB, 3)]
    with browser(server) as web:
        assert sign_in(web, BOB, PASSWORD).status_code == 303
    # the web login succeeded, so the account's counter starts over
    assert imap_login(server, BOB, "wrong guess") == "NO"
    assert FAILED.findall(server.log_text())[-1] == (BOB, "1")


def dav_status(server: Daemon, password: str) -> int:
    """A calendar app's first request: PROPFIND of the DAV root (CalDAV and CardDAV)."""
    url = f"https://127.0.0.1:{server.ports['https']}/dav/"
    return httpx.request("PROPFIND", url, auth=(USER, password), headers={"Depth": "0"}, verify=False).status_code


def test_app_password_opens_imap_smtp_and_calendars_but_never_the_web_ui(server: Daemon) -> None:
    with closing(signed_in(server, "user")) as web:
        page = post(web, "/admin/account/app-passwords", {"label": "phone"})
        assert page.status_code == 200
        password = re.search(r'<code id="app-password">([^<]+)</code>', page.text)
        assert password is not None
        app_password = password.group(1)
        assert "phone" in web.get("/admin/account").text
    assert imap_login(server, USER, app_password) == "OK"
    with submission(server) as client:
        assert client.login(USER, app_password)[0] == 235
    assert dav_status(server, app_password) == 207
    with browser(server) as other:
        assert sign_in(other, USER, app_password).status_code == 401
    with closing(signed_in(server, "user")) as web:
        revoke = re.search(r'action="(/admin/account/app-passwords/\d+/revoke)"', web.get("/admin/account").text)
        assert revoke is not None
        assert post(web, revoke.group(1)).status_code == 303
    assert imap_login(server, USER, app_password) == "NO"
    assert dav_status(server, app_password) == 401
    assert imap_login(server, USER, USER_PASSWORD) == "OK"


FORMS = [
    "/admin/account/password",
    "/admin/account/app-passwords",
    f"/admin/business/{DOMAIN}/mailboxes",
    f"/admin/business/{DOMAIN}/aliases",
    f"/admin/business/{DOMAIN}/domains",
    f"/admin/mailboxes/{BOB}/password",
    f"/admin/mailboxes/{BOB}/remove",
    f"/admin/tenants/{DOMAIN}/tier",
    f"/admin/tenants/{DOMAIN}/suspend",
    "/admin/tenants",
    "/admin/signup",
]


@pytest.mark.parametrize("path", FORMS)
def test_every_form_refuses_a_post_without_its_csrf_token(server: Daemon, path: str) -> None:
    with closing(signed_in(server, "operator")) as web:
        stolen = "x" * 43
        for data in ({}, {"csrf": stolen}):
            response = web.post(path, data={**data, "password": PASSWORD, "tier": "plus", "domain": "x.test"})
            assert response.status_code == 403 and "nothing was changed" in response.text
    assert "x.test" not in server.cli("domain", "list").stdout


def test_every_change_is_in_the_audit_log_with_who_when_and_where(server: Daemon) -> None:
    with closing(signed_in(server, "owner")) as owner:
        post(owner, f"/admin/business/{DOMAIN}/aliases", {"alias": f"sales@{DOMAIN}", "target": BOB})
        post(
            owner,
            f"/admin/business/{DOMAIN}/mailboxes",
            {"local": "carol", "domain": DOMAIN, "password": PASSWORD, "role": "user"},
        )
        post(owner, f"/admin/mailboxes/carol@{DOMAIN}/password", {"password": "carol's new password"})
        post(owner, f"/admin/mailboxes/carol@{DOMAIN}/remove")
        audit = owner.get("/admin/audit/").text
    for action in ("alias.add", "mailbox.add", "password.set", "mailbox.remove"):
        assert action in audit
    assert "demo@example.test" in audit and "127.0.0.1" in audit
    assert "ops.test" not in audit  # an owner reads its own business's records only
    server.cli("user", "add", f"dave@{DOMAIN}", "--password-stdin", stdin=PASSWORD + "\n")
    lines = server.cli("audit", "--tenant", DOMAIN).stdout.splitlines()
    assert any("operator@cli\tcli" in line and "mailbox.add" in line and "dave@" in line for line in lines)


def test_no_password_reaches_the_log_or_the_audit_log(server: Daemon) -> None:
    secrets = ["first-Secret-value-1", "second-Secret-value-2", "wrong-Secret-guess-3"]
    with closing(signed_in(server, "owner")) as owner:
        post(
            owner,
            f"/admin/business/{DOMAIN}/mailboxes",
            {"local": "erin", "domain": DOMAIN, "password": secrets[0], "role": "user"},
        )
        post(owner, f"/admin/mailboxes/erin@{DOMAIN}/password", {"password": secrets[1]})
    with browser(server) as web:
        sign_in(web, f"erin@{DOMAIN}", secrets[2])
        assert sign_in(web, f"erin@{DOMAIN}", secrets[1]).status_code == 303
        token = csrf_token(web.get("/admin/account"))
        web.post("/admin/account/password", data={"csrf": token, "current": secrets[1], "password": secrets[0]})
        token = csrf_token(web.get("/admin/account"))  # a new password starts a new session
        created = web.post("/admin/account/app-passwords", data={"csrf": token, "label": "laptop"})
        app_password = re.search(r'<code id="app-password">([^<]+)</code>', created.text)
        assert app_password is not None
    with smtplib.SMTP("127.0.0.1", server.ports["submission"], timeout=30):
        pass
    assert imap_login(server, f"erin@{DOMAIN}", app_password.group(1)) == "OK"
    text = server.all_logs() + server.cli("audit", "--limit", "1000").stdout
    assert "erin@" in text
    for secret in [*secrets, app_password.group(1)]:
        assert secret not in text


def test_sign_up_refuses_a_taken_identifier_and_a_short_password_and_keeps_the_form(server: Daemon) -> None:
    with browser(server) as visitor:
        form = visitor.get("/admin/signup")
        data = {"csrf": csrf_token(form), "business": "Shop", "identifier": "www", "password": PASSWORD}
        taken = visitor.post("/admin/signup", data=data)
        assert taken.status_code == 409 and "is taken" in taken.text and 'value="Shop"' in taken.text
        short = visitor.post("/admin/signup", data={**data, "identifier": "shop-two", "password": "short"})
        assert short.status_code == 400 and "at least 8 characters" in short.text
        made = visitor.post("/admin/signup", data={**data, "identifier": "shop-two"})
        assert made.status_code == 303 and made.headers["location"] == "/admin/?done=welcome"
    audit = server.cli("audit", "--tenant", "shop-two").stdout
    assert "signup\t127.0.0.1" in audit and "tenant.create" in audit


def test_an_existing_mailbox_is_a_clear_conflict_not_an_error(server: Daemon) -> None:
    with closing(signed_in(server, "owner")) as owner:
        again = post(
            owner,
            f"/admin/business/{DOMAIN}/mailboxes",
            {"local": "bob", "domain": DOMAIN, "password": PASSWORD, "role": "user"},
        )
        assert again.status_code == 409 and "already exists" in again.text
