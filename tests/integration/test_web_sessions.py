"""Admin sessions live on the server: the cookie is an opaque token, and logout or a password change (in the
web UI or at the command line) ends the session for every copy of the cookie."""

from __future__ import annotations

import sqlite3
from contextlib import closing

import httpx
import pytest

from tests.adminweb import browser, csrf_token, make_admin_daemon, sign_in
from tests.daemon import DOMAIN, Daemon

PASSWORD = "a session password 1"
NEW_PASSWORD = "another session password 2"


pytestmark = pytest.mark.daemon(make=make_admin_daemon)


def new_user(server: Daemon, local: str) -> str:
    address = f"{local}@{DOMAIN}"
    server.cli("user", "add", address, "--password-stdin", stdin=PASSWORD + "\n")
    return address


def signed_in_as(server: Daemon, address: str, password: str = PASSWORD) -> httpx.Client:
    client = browser(server)
    assert sign_in(client, address, password).status_code == 303
    return client


def copy_of(server: Daemon, client: httpx.Client) -> httpx.Client:
    """Another browser holding a copy of the client's cookies (a stolen cookie)."""
    other = browser(server)
    for cookie in client.cookies.jar:
        other.cookies.set(cookie.name, cookie.value or "", domain=cookie.domain, path=cookie.path)
    return other


def is_signed_in(client: httpx.Client) -> bool:
    response = client.get("/admin/account")
    return response.status_code == 200 and 'action="/admin/logout"' in response.text


def test_the_cookie_holds_an_opaque_token_and_the_database_only_its_hash(server: Daemon) -> None:
    address = new_user(server, "opaque")
    with closing(signed_in_as(server, address)) as web:
        token = web.cookies["smb_session"]
        assert "opaque" not in token and len(token) >= 40
        with sqlite3.connect(server.folder / "data" / "smb-suite.db") as db:
            rows = db.execute("SELECT token_hash FROM web_sessions").fetchall()
        assert rows and all(token not in row[0] for row in rows)


def test_logout_ends_the_session_for_a_copied_cookie_too(server: Daemon) -> None:
    address = new_user(server, "leaver")
    with closing(signed_in_as(server, address)) as web, closing(copy_of(server, web)) as thief:
        assert is_signed_in(thief)
        token = csrf_token(web.get("/admin/account"))
        assert web.post("/admin/logout", data={"csrf": token}).status_code == 303
        assert not is_signed_in(thief)
        assert thief.get("/admin/account").headers["location"] == "/admin/"
        assert not is_signed_in(web)


def test_a_password_change_in_the_web_ui_ends_every_other_session(server: Daemon) -> None:
    address = new_user(server, "changer")
    with (
        closing(signed_in_as(server, address)) as web,
        closing(signed_in_as(server, address)) as laptop,
        closing(copy_of(server, web)) as thief,
    ):
        token = csrf_token(web.get("/admin/account"))
        changed = web.post(
            "/admin/account/password", data={"csrf": token, "current": PASSWORD, "password": NEW_PASSWORD}
        )
        assert changed.status_code == 303
        assert is_signed_in(web)  # the browser that changed it got a new session
        assert not is_signed_in(thief) and not is_signed_in(laptop)
    with closing(signed_in_as(server, address, NEW_PASSWORD)) as again:
        assert is_signed_in(again)


def test_a_password_change_at_the_command_line_ends_the_sessions(server: Daemon) -> None:
    address = new_user(server, "reset")
    with closing(signed_in_as(server, address)) as web, closing(copy_of(server, web)) as thief:
        server.cli("user", "passwd", address, "--password-stdin", stdin=NEW_PASSWORD + "\n")
        assert not is_signed_in(web) and not is_signed_in(thief)
