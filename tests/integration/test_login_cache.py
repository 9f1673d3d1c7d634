"""Logins taken from the verified-credential cache (auth/credentials.py) never outlive what they stand for: a
password changed at the command line (another process), a suspended business or a removed mailbox is refused at
once, and wrong passwords are still counted towards the lock after the right one was cached."""

from __future__ import annotations

import imaplib

import pytest

from tests.daemon import Daemon

LOCK_AFTER = 3
PASSWORD = "cached password 1"
WRONG = "a wrong Guess-71"

pytestmark = pytest.mark.daemon(f"[login]\nlock_after = {LOCK_AFTER}\nip_lock_after = 1000\n")


def imap_login(server: Daemon, address: str, password: str) -> str:
    """'OK', or the NO text with its response code (passwords are allowed over loopback)."""
    with imaplib.IMAP4("127.0.0.1", server.ports["imap"], timeout=60) as client:
        try:
            return str(client.login(address, password)[0])
        except imaplib.IMAP4.error as exc:
            return str(exc)


def business(server: Daemon, name: str) -> str:
    """A business of its own with its owner mailbox, logged in once over IMAP (its password now cached)."""
    owner = f"owner@{name}.test"
    server.cli("tenant", "create", name, f"{name}.test", owner, "--password-stdin", stdin=PASSWORD + "\n")
    assert imap_login(server, owner, PASSWORD) == "OK"
    assert imap_login(server, owner, PASSWORD) == "OK"
    return owner


def test_a_changed_password_fails_at_once_and_the_new_one_works(server: Daemon) -> None:
    owner = business(server, "changes")
    server.cli("user", "passwd", owner, "--password-stdin", stdin="the new password 2\n")
    assert "[AUTHENTICATIONFAILED]" in imap_login(server, owner, PASSWORD)
    assert imap_login(server, owner, "the new password 2") == "OK"


def test_a_suspended_business_is_refused_at_once_and_welcome_again_on_resume(server: Daemon) -> None:
    owner = business(server, "paused")
    server.cli("tenant", "suspend", "paused")
    assert imap_login(server, owner, PASSWORD) != "OK"
    server.cli("tenant", "resume", "paused")
    assert imap_login(server, owner, PASSWORD) == "OK"


def test_a_removed_mailbox_cannot_log_in_with_its_cached_password(server: Daemon) -> None:
    owner = business(server, "leaving")
    server.cli("user", "add", "clerk@leaving.test", "--password-stdin", stdin=PASSWORD + "\n")
    assert imap_login(server, "clerk@leaving.test", PASSWORD) == "OK"
    server.cli("user", "remove", "clerk@leaving.test")
    assert "[AUTHENTICATIONFAILED]" in imap_login(server, "clerk@leaving.test", PASSWORD)
    assert imap_login(server, owner, PASSWORD) == "OK"


def test_wrong_passwords_still_lock_an_account_whose_password_is_cached(server: Daemon) -> None:
    owner = business(server, "guessed")
    for _ in range(LOCK_AFTER):
        assert "[AUTHENTICATIONFAILED]" in imap_login(server, owner, WRONG)
    reply = imap_login(server, owner, PASSWORD)
    assert "[UNAVAILABLE]" in reply and "Too many failed logins" in reply, reply
