"""Helpers for mail flow tests: free ports, reading Maildirs, submitting (polling: tests/polling.py)."""

from __future__ import annotations

import smtplib
import socket

import aioimaplib

from tests.daemon import OWNER, OWNER_PASSWORD, Daemon
from tests.integration.test_smtp import insecure_context

SMOKE = ("smtp", "submission", "submissions")  # mail flow tests need no IMAP or web listeners


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def maildir(daemon: Daemon, address: str) -> list[bytes]:
    """Messages in an address's INBOX (new/ and cur/), oldest first."""
    root = daemon.maildir(address)
    files = [p for sub in ("new", "cur") if (root / sub).is_dir() for p in (root / sub).iterdir()]
    return [p.read_bytes() for p in sorted(files, key=lambda p: p.stat().st_mtime_ns)]


def message(subject: str, to: str, sender: str = OWNER, extra: str = "") -> bytes:
    return (
        f"From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: <{subject.replace(' ', '-')}@test>\r\n"
        f"{extra}\r\nHello from the test.\r\n"
    ).encode()


def submit(
    daemon: Daemon, recipients: list[str], data: bytes, user: str = OWNER, password: str = OWNER_PASSWORD
) -> str:
    """Send through submission (STARTTLS + AUTH); return the final reply text."""
    with smtplib.SMTP("127.0.0.1", daemon.ports["submission"], timeout=30) as client:
        client.starttls(context=insecure_context())
        client.login(user, password)
        assert client.mail(user)[0] == 250
        for recipient in recipients:
            code, text = client.rcpt(recipient)
            assert code == 250, text
        code, text = client.data(data)
    assert code == 250, text
    return text.decode()


def send_inbound(daemon: Daemon, sender: str, recipients: list[str], data: bytes) -> None:
    with smtplib.SMTP("127.0.0.1", daemon.ports["smtp"], timeout=30) as client:
        client.ehlo("client.remote.example")
        assert client.sendmail(sender, recipients, data) == {}


def queue_list(daemon: Daemon) -> str:
    return daemon.cli("queue", "list").stdout


async def imap_logout(client: aioimaplib.IMAP4) -> None:
    """LOGOUT, then close our end too: aioimaplib waits for the server to do it, and a test's event loop that
    ends first leaves an unclosed transport behind (a ResourceWarning that fails a later test)."""
    await client.logout()
    client.protocol.transport.close()
