"""A message sent over SMTP is read back, unchanged, by three different IMAP clients."""

from __future__ import annotations

import asyncio
import imaplib
import re
import secrets
import smtplib
import subprocess

import aioimaplib

from tests.daemon import USER, USER_PASSWORD, Daemon
from tests.mailtest import imap_logout, insecure_context


def send(daemon: Daemon, subject: str) -> bytes:
    """Send a multipart 8-bit message to alice over the inbound port; return its exact bytes."""
    message = (
        f"From: Zoé <zoe@remote.example>\r\nTo: {USER}\r\nSubject: {subject}\r\n"
        "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=XYZ\r\n\r\n"
        "--XYZ\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        "Bonjour, ça marche ? 日本語\r\n"
        "--XYZ\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        "AAECAwQFBgcICQ==\r\n--XYZ--\r\n"
    ).encode()
    with smtplib.SMTP("127.0.0.1", daemon.ports["smtp"], timeout=30) as client:
        assert client.sendmail("zoe@remote.example", [USER], message) == {}
    return message


def test_smtp_message_reads_back_byte_for_byte_with_imaplib(daemon: Daemon) -> None:
    subject = f"imaplib {secrets.token_hex(4)}"
    sent = send(daemon, subject)
    with imaplib.IMAP4_SSL("127.0.0.1", daemon.ports["imaps"], ssl_context=insecure_context()) as client:
        client.login(USER, USER_PASSWORD)
        client.select("INBOX")
        _, found = client.uid("SEARCH", "SUBJECT", f'"{subject}"')
        uid = found[0].split()[-1]
        _, data = client.uid("FETCH", uid, "(BODY.PEEK[])")
    fetched = data[0][1]
    assert fetched.startswith(b"Received: from ")
    assert fetched.endswith(sent)
    header_end = fetched.index(sent)
    assert b"by mail.example.test (smb-suite) with ESMTP" in fetched[:header_end]


def test_smtp_message_reads_back_byte_for_byte_with_aioimaplib(daemon: Daemon) -> None:
    subject = f"aioimaplib {secrets.token_hex(4)}"
    sent = send(daemon, subject)

    async def fetch() -> bytes:
        client = aioimaplib.IMAP4_SSL("127.0.0.1", daemon.ports["imaps"], ssl_context=insecure_context())
        await client.wait_hello_from_server()
        assert (await client.login(USER, USER_PASSWORD)).result == "OK"
        assert (await client.select("INBOX")).result == "OK"
        search = await client.uid_search(f'SUBJECT "{subject}"')
        uid = search.lines[0].split()[-1].decode()
        response = await client.uid("fetch", uid, "(BODY.PEEK[])")
        await imap_logout(client)
        return bytes(response.lines[1])

    assert asyncio.run(fetch()).endswith(sent)


def test_smtp_message_reads_back_with_curl_over_imaps(daemon: Daemon) -> None:
    subject = f"curl {secrets.token_hex(4)}"
    sent = send(daemon, subject)
    url = f"imaps://127.0.0.1:{daemon.ports['imaps']}/INBOX"
    user = f"{USER}:{USER_PASSWORD}"
    search = subprocess.run(
        ["curl", "-sS", "--insecure", "--user", user, url, "-X", f'UID SEARCH SUBJECT "{subject}"'],
        capture_output=True,
        timeout=60,
        check=True,
    )
    uid = re.findall(rb"\d+", search.stdout)[-1].decode()
    fetched = subprocess.run(
        ["curl", "-sS", "--insecure", "--user", user, f"{url};UID={uid}"],
        capture_output=True,
        timeout=60,
        check=True,
    )
    assert fetched.stdout.endswith(sent)
