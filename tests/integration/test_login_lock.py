"""Login throttling against the real daemon: failed logins of one account, in any spelling and over any protocol,
count towards one temporary lock; while it lasts even the right password is refused (SMTP 454 4.7.0, IMAP
NO [UNAVAILABLE], web 429); the business's owners get one mail about it; the lock ends by itself; a client
address that fails too often is locked the same way."""

from __future__ import annotations

import imaplib
import re
import smtplib
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.adminweb import browser, csrf_token, make_admin_daemon, sign_in
from tests.daemon import DOMAIN, OWNER, USER, USER_PASSWORD, Daemon, Daemons
from tests.mailtest import insecure_context
from tests.polling import wait_for

LOCK_AFTER = 3
PASSWORD = "the right password 1"
WRONG = "a wrong Guess-93"


pytestmark = pytest.mark.daemon(
    f'[login]\nlock_after = {LOCK_AFTER}\nlock_window = "15m"\nlock_duration = "10m"\nip_lock_after = 1000\n',
    make=make_admin_daemon,
)


@pytest.fixture(scope="module")
def brief(start_daemon: Daemons) -> Daemon:
    """Locks of two seconds, and a client address locked after five failures."""
    extra = f'[login]\nlock_after = {LOCK_AFTER}\nlock_duration = "2s"\nip_lock_after = 5\n'
    return start_daemon(extra, make=make_admin_daemon, name="brief")


def add_user(server: Daemon, address: str) -> None:
    server.cli("user", "add", address, "--password-stdin", stdin=PASSWORD + "\n")


def imap_login(server: Daemon, address: str, password: str) -> str:
    """'OK', or the NO text (with its response code) for a LOGIN after STARTTLS."""
    with imaplib.IMAP4("127.0.0.1", server.ports["imap"], timeout=60) as client:
        client.starttls(ssl_context=insecure_context())
        try:
            return str(client.login(address, password)[0])
        except imaplib.IMAP4.error as exc:
            return str(exc)


def imap_authenticate(server: Daemon, address: str, password: str) -> str:
    """'OK', or the NO text, for AUTHENTICATE PLAIN over IMAPS."""
    with imaplib.IMAP4_SSL("127.0.0.1", server.ports["imaps"], ssl_context=insecure_context(), timeout=60) as client:
        try:
            return str(client.authenticate("PLAIN", lambda _: f"\0{address}\0{password}".encode())[0])
        except imaplib.IMAP4.error as exc:
            return str(exc)


def smtp_login(server: Daemon, address: str, password: str) -> tuple[int, str]:
    with smtplib.SMTP("127.0.0.1", server.ports["submission"], timeout=60) as client:
        client.starttls(context=insecure_context())
        client.ehlo("laptop")
        client.user, client.password = address, password
        try:  # one AUTH PLAIN (smtplib's login() would try each mechanism in turn: two guesses)
            code, text = client.auth("PLAIN", client.auth_plain)
        except smtplib.SMTPAuthenticationError as exc:
            code, text = exc.smtp_code, exc.smtp_error
        return code, text.decode()


def web_login(server: Daemon, address: str, password: str) -> tuple[int, str]:
    with browser(server) as web:
        response = sign_in(web, address, password)
        return response.status_code, response.text


def lock_notices(server: Daemon, address: str) -> list[bytes]:
    return [data for data in server.messages(OWNER) if f"Logins to {address} locked".encode() in data]


def test_every_spelling_of_an_address_counts_towards_one_lock(server: Daemon) -> None:
    address = f"spell@{DOMAIN}"
    add_user(server, address)
    spellings = [f"<SPELL@{DOMAIN.upper()}>", f"spell@{DOMAIN}.", "Spell@Example.Test"]
    assert len(spellings) == LOCK_AFTER
    for spelling in spellings:
        reply = imap_login(server, spelling, WRONG)
        assert "[AUTHENTICATIONFAILED]" in reply, reply
    reply = imap_login(server, address, PASSWORD)
    assert "[UNAVAILABLE]" in reply and "Too many failed logins" in reply, reply
    assert imap_login(server, USER, USER_PASSWORD) == "OK"  # other accounts are not touched


def test_an_idna_domain_in_either_form_counts_towards_one_lock(server: Daemon) -> None:
    server.cli("domain", "add", "bücher.test")
    address = "kim@xn--bcher-kva.test"
    add_user(server, address)
    for spelling in ("kim@BÜCHER.test", "kim@xn--bcher-kva.test.", "KIM@bücher.test"):
        status, _ = web_login(server, spelling, WRONG)
        assert status == 401
    status, page = web_login(server, "kim@bücher.test", PASSWORD)
    assert status == 429 and "Too many failed logins" in page


def test_parallel_wrong_guesses_never_exceed_the_limit(server: Daemon) -> None:
    address = f"racer@{DOMAIN}"
    add_user(server, address)

    def guess(number: int) -> str:
        """'failed' or 'locked', over IMAP, SMTP or the web in turn."""
        if number % 3 == 0:
            reply = imap_login(server, address, WRONG)
            return "failed" if "[AUTHENTICATIONFAILED]" in reply else "locked" if "[UNAVAILABLE]" in reply else reply
        if number % 3 == 1:
            code, text = smtp_login(server, address, WRONG)
            return {535: "failed", 454: "locked"}.get(code, text)
        status, page = web_login(server, address, WRONG)
        return {401: "failed", 429: "locked"}.get(status, page)

    with ThreadPoolExecutor(15) as pool:
        replies = list(pool.map(guess, range(15)))
    checked = re.findall(rf"auth\.failed user=account:{re.escape(address)} ", server.log_text())
    assert len(checked) == LOCK_AFTER  # the other guesses were refused before any password check
    assert sorted(replies) == ["failed"] * LOCK_AFTER + ["locked"] * (15 - LOCK_AFTER)
    assert len(lock_notices(server, address)) == 1


def test_a_locked_account_refuses_the_right_password_everywhere_and_the_owner_hears_once(server: Daemon) -> None:
    address = f"carol@{DOMAIN}"
    add_user(server, address)
    for _ in range(LOCK_AFTER):
        assert smtp_login(server, address, WRONG)[0] == 535
    assert len(lock_notices(server, address)) == 1
    code, text = smtp_login(server, address, PASSWORD)
    assert code == 454 and text.startswith("4.7.0"), text
    reply = imap_login(server, address, PASSWORD)
    assert "[UNAVAILABLE]" in reply, reply
    assert "[UNAVAILABLE]" in imap_authenticate(server, address, PASSWORD)
    status, page = web_login(server, address, PASSWORD)
    assert status == 429 and "Too many failed logins" in page and "Try again in 10 minutes" in page
    for _ in range(LOCK_AFTER):  # more guesses while locked: no further mail
        assert "[UNAVAILABLE]" in imap_login(server, address, WRONG)
    [notice] = lock_notices(server, address)
    assert b"Auto-Submitted: auto-generated" in notice and b"127.0.0.1" in notice
    assert WRONG.encode() not in notice and PASSWORD.encode() not in notice
    log = server.log_text()
    assert WRONG not in log and PASSWORD not in log


def test_a_lock_ends_by_itself(brief: Daemon) -> None:
    address = f"dora@{DOMAIN}"
    add_user(brief, address)
    for _ in range(LOCK_AFTER):
        assert "[AUTHENTICATIONFAILED]" in imap_login(brief, address, WRONG)
    assert "[UNAVAILABLE]" in imap_login(brief, address, PASSWORD)
    wait_for("the lock to end", lambda: imap_login(brief, address, PASSWORD) == "OK")
    assert smtp_login(brief, address, PASSWORD)[0] == 235


def test_a_client_address_with_many_failures_is_locked_for_every_account(brief: Daemon) -> None:
    # five different names, so no account reaches its own limit (the other test's failures may count too)
    replies = [imap_login(brief, f"nobody{number}@{DOMAIN}", WRONG) for number in range(5)]
    assert "[AUTHENTICATIONFAILED]" in replies[0]
    assert all("[AUTHENTICATIONFAILED]" in reply or "[UNAVAILABLE]" in reply for reply in replies), replies
    assert "[UNAVAILABLE]" in imap_login(brief, USER, USER_PASSWORD)
    assert smtp_login(brief, USER, USER_PASSWORD)[0] == 454
    wait_for("the address lock to end", lambda: imap_login(brief, USER, USER_PASSWORD) == "OK")


def test_guessing_the_current_password_on_the_account_page_counts_towards_the_lock(server: Daemon) -> None:
    address = f"erin@{DOMAIN}"
    add_user(server, address)
    with browser(server) as web:
        assert sign_in(web, address, PASSWORD).status_code == 303
        statuses = []
        for _ in range(LOCK_AFTER + 1):
            token = csrf_token(web.get("/admin/account"))
            form = {"csrf": token, "current": WRONG, "password": "a new password 123"}
            statuses.append(web.post("/admin/account/password", data=form).status_code)
        assert statuses == [401] * LOCK_AFTER + [429]
    assert "[UNAVAILABLE]" in imap_login(server, address, PASSWORD)


def test_a_lock_outlives_a_restart_of_the_daemon(fresh_daemon: Daemons) -> None:
    """The counters and locks are in the database, not only in the process's memory."""
    extra = '[login]\nlock_after = 2\nlock_duration = "1h"\n'
    server = fresh_daemon(extra, make=make_admin_daemon, name="restart")
    for _ in range(2):
        assert "[AUTHENTICATIONFAILED]" in imap_login(server, USER, WRONG)
    server.restart()
    assert "[UNAVAILABLE]" in imap_login(server, USER, USER_PASSWORD)
    assert smtp_login(server, USER, USER_PASSWORD)[0] == 454
