"""A full disk (ENOSPC) answers with codes clients understand and leaves nothing half-written (issue 11):
IMAP APPEND gets NO [UNAVAILABLE] (RFC 5530), never [SERVERBUG]; SMTP gets 452 4.3.1 (RFC 3463).

The data folder is a small tmpfs mounted for the test (root only; skipped where mounting is not permitted).
"""

from __future__ import annotations

import os
import shutil
import smtplib
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from smb_suite.durable import disk_full_as_error
from smb_suite.errors import DiskFull
from tests.daemon import USER, USER_PASSWORD, Daemon, make_daemon
from tests.dnsserver import DnsServer
from tests.imapwire import Wire

DISK = 6 * 1024 * 1024


def _files_in_tmp(data: Path) -> list[Path]:
    return [path for path in data.rglob("*") if path.is_file() and path.parent.name == "tmp"]


@pytest.fixture
def small_disk_daemon(tmp_path: Path, quiet_dns: DnsServer) -> Iterator[Daemon]:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root")
    folder = tmp_path / "d"
    data = folder / "data"
    data.mkdir(parents=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={DISK}", "tmpfs", str(data)], capture_output=True, check=False
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode(errors='replace').strip()}")
    daemon = None
    try:
        daemon = make_daemon(folder, nameservers=(quiet_dns.address,)).start()
        yield daemon
    finally:
        if daemon is not None and daemon.process is not None:
            daemon.kill()
        subprocess.run(["umount", "-l", str(data)], check=False)


def test_a_full_disk_answers_append_unavailable_and_smtp_452(small_disk_daemon: Daemon) -> None:
    daemon = small_disk_daemon
    data = daemon.folder / "data"
    free = shutil.disk_usage(data).free
    too_big = b"Subject: too big\r\n\r\n" + b"x" * 76 + b"\r\n" + (b"y" * 78 + b"\r\n") * (free // 80 + 1000)
    assert free < len(too_big) < 25 * 1024 * 1024  # larger than the disk, smaller than the size limit
    with Wire(daemon) as wire:
        wire.ok("SELECT INBOX")
        before = wire.ok("STATUS INBOX (MESSAGES)")
        answer = wire.command(f"APPEND INBOX {{{len(too_big)}+}}\r\n".encode() + too_big)[-1]
        assert answer.split(b" ")[1] == b"NO", answer
        assert b"[UNAVAILABLE]" in answer and b"SERVERBUG" not in answer, answer
        assert _files_in_tmp(data) == []  # the partial file was removed
        assert wire.ok("STATUS INBOX (MESSAGES)")[0] == before[0]  # and no index row was added
        assert shutil.disk_usage(data).free >= free - 64 * 1024  # the space is given back

        with smtplib.SMTP("127.0.0.1", daemon.ports["smtp"], timeout=60) as client:
            client.ehlo("client.example.org")
            with pytest.raises(smtplib.SMTPDataError) as refused:
                client.sendmail("someone@example.org", [USER], too_big)
        assert refused.value.smtp_code == 452
        assert refused.value.smtp_error.startswith(b"4.3.1"), refused.value.smtp_error
        assert _files_in_tmp(data) == []

        wire.append("INBOX", b"Subject: small\r\n\r\nstill works\r\n")  # a message that fits is stored
        assert wire.ok("STATUS INBOX (MESSAGES)")[0] != before[0]
    with Wire(daemon, user=USER, password=USER_PASSWORD) as wire:
        wire.ok("SELECT INBOX")  # the recipient's folder is intact


def test_a_full_sqlite_database_is_disk_full(tmp_path: Path) -> None:
    """SQLite's SQLITE_FULL (here from a page limit) is recognised like ENOSPC, so the index maps the same way."""
    connection = sqlite3.connect(tmp_path / "small.db")
    connection.execute("PRAGMA max_page_count = 2")
    connection.execute("CREATE TABLE t (x BLOB)")
    with pytest.raises(DiskFull), disk_full_as_error():
        connection.execute("INSERT INTO t VALUES (?)", (b"x" * 100_000,))
    connection.close()
    with pytest.raises(FileNotFoundError), disk_full_as_error():
        open(tmp_path / "missing", "rb")  # noqa: SIM115 - other errors pass unchanged
