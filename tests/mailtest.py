"""Helpers for mail flow tests: SMTP clients (inbound, submission), free ports, reading Maildirs, submitting."""

from __future__ import annotations

import smtplib
import socket
import ssl

import aioimaplib

from tests.daemon import OWNER, OWNER_PASSWORD, Daemon

SMOKE = ("smtp", "submission", "submissions")  # mail flow tests need no IMAP or web listeners
MESSAGE = b"From: someone@remote.example\r\nTo: demo@example.test\r\nSubject: hello\r\n\r\nHi there.\r\n"


def insecure_context() -> ssl.SSLContext:
    """Our embedded default uses a self-signed certificate."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def inbound(daemon: Daemon) -> smtplib.SMTP:
    client = smtplib.SMTP("127.0.0.1", daemon.ports["smtp"], timeout=30)
    client.ehlo("client.remote.example")
    return client


def submission(daemon: Daemon) -> smtplib.SMTP:
    client = smtplib.SMTP("127.0.0.1", daemon.ports["submission"], timeout=30)
    client.starttls(context=insecure_context())
    client.ehlo("laptop")
    return client


def rcpt_reply(client: smtplib.SMTP, recipient: str) -> tuple[int, bytes]:
    client.rset()
    code, _ = client.mail("someone@remote.example")
    assert code == 250
    return client.rcpt(recipient)


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
