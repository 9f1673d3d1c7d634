"""Moving a mailbox in from the previous provider (issue 17): `smb-suite import imap` copies every folder of a
Dovecot account (Debian's dovecot-imapd plays the old provider) with flags and internal dates, maps its special
folders to ours, resumes after being killed with every message exactly once, stops with a clear message when the
tier is full, and refuses a wrong password without importing anything."""

from __future__ import annotations

import imaplib
import os
import re
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from subprocess import CompletedProcess

import pytest

from bench.dovecot import Dovecot, mail_folder
from tests.daemon import OWNER, OWNER_PASSWORD, USER, USER_PASSWORD, Daemon, run_cli

pytestmark = pytest.mark.daemon(services=("imap", "imaps"))

OLD_USER, OLD_PASSWORD = "bakery@old-provider.example", "old-secret"
# The old account: folder (Dovecot's "." hierarchy) -> how many messages; 2,000 in all.
OLD_FOLDERS = {"INBOX": 900, "Sent Items": 400, "Projects": 150, "Projects.2026": 250, "Projects.2026.Bids": 100}
OLD_FOLDERS |= {"Deleted Items": 100, "Spam": 100}
# A second, smaller account with bigger messages (200 of about 8 KB) for the cases that need no 2,000: a full
# mailbox and a message found already there; the suite copies 2,000 messages twice instead of six times.
SMALL_USER = "deli@old-provider.example"
SMALL_FOLDERS = {folder: count // 10 for folder, count in OLD_FOLDERS.items()}
SMALL_LINES = 130
OURS = {
    "INBOX": "INBOX",
    "Sent Items": "Sent",
    "Projects": "Projects",
    "Projects.2026": "Projects/2026",
    "Projects.2026.Bids": "Projects/2026/Bids",
    "Deleted Items": "Trash",
    "Spam": "Junk",
}
KEYWORD = "$Label1"
Finished = CompletedProcess[str]
MAILDIR_LETTERS = {"\\Seen": "S", "\\Flagged": "F", "\\Answered": "R", KEYWORD: "a"}  # Dovecot's Maildir names


@dataclass(frozen=True)
class Seen:
    """What a client sees of one message: its folder, flags (no \\Recent) and internal date."""

    folder: str
    flags: frozenset[str]
    date: str


def flags_of(number: int) -> tuple[str, ...]:
    flags = ["\\Seen"] if number % 2 else []
    flags += ["\\Flagged"] * (number % 5 == 0) + ["\\Answered"] * (number % 11 == 0) + [KEYWORD] * (number % 7 == 0)
    return tuple(flags)


def message(number: int, folder: str, lines: int = 16) -> bytes:
    return (
        f"From: client{number}@customers.example\r\nTo: {OLD_USER}\r\nSubject: Order {number} ({folder})\r\n"
        f"Message-ID: <order-{number}@customers.example>\r\nDate: Mon, 5 Feb 2024 10:00:00 +0000\r\n\r\n"
        f"Order number {number}.\r\n" + "Two dozen croissants and a tarte Tatin, delivered at eight.\r\n" * lines
    ).encode()  # 16 lines: about 1.2 KB; 130 lines: about 8 KB, the small account's 200 make 1.6 MB


@pytest.fixture(scope="module")
def old_provider() -> Iterator[Dovecot]:
    """The old provider with both accounts."""
    with tempfile.TemporaryDirectory(prefix="old-provider-") as folder:
        os.chmod(folder, 0o755)  # Dovecot's auth and mail processes are not root
        fill(mail_folder(Path(folder), OLD_USER), OLD_FOLDERS, 16)
        fill(mail_folder(Path(folder), SMALL_USER), SMALL_FOLDERS, SMALL_LINES)
        provider = Dovecot(Path(folder), OLD_USER, OLD_PASSWORD, connections=10, others=[(SMALL_USER, OLD_PASSWORD)])
        try:
            yield provider
        finally:
            provider.stop()


def fill(account: Path, folders: dict[str, int], lines: int) -> None:
    """The old account as Dovecot keeps it (Maildir++: subfolders are ".A.B" beside INBOX's cur/; flags in the
    file name, keywords as letters listed in dovecot-keywords; the internal date is the file's time)."""
    number = 0
    for folder, count in folders.items():
        path = account if folder == "INBOX" else account / f".{folder}"
        for sub in ("tmp", "new", "cur"):
            (path / sub).mkdir(parents=True, exist_ok=True)
        (path / "dovecot-keywords").write_text(f"0 {KEYWORD}\n")
        for _ in range(count):
            number += 1
            data = message(number, folder, lines)
            letters = "".join(sorted(MAILDIR_LETTERS[flag] for flag in flags_of(number)))
            file = path / "cur" / f"{1709280000 + number}.M{number}P1.old,S={len(data)}:2,{letters}"
            file.write_bytes(data)
            when = 1709280000 + number * 600  # March 2024, ten minutes apart
            os.utime(file, (when, when))


def source_view(provider: Dovecot) -> dict[str, Seen]:
    """Message-ID -> what the old provider shows of it."""
    with imaplib.IMAP4("127.0.0.1", provider.port, timeout=60) as imap:
        imap.login(OLD_USER, OLD_PASSWORD)
        return {
            mid: Seen(OURS[folder], flags, date) for folder in OLD_FOLDERS for mid, (flags, date) in read(imap, folder)
        }


def our_view(server: Daemon, user: str = OWNER, password: str = OWNER_PASSWORD) -> list[tuple[str, Seen]]:
    """Every imported message in our mailbox as (Message-ID, what a client sees), duplicates included."""
    found = []
    with imaplib.IMAP4("127.0.0.1", server.ports["imap"], timeout=60) as imap:
        imap.starttls()
        imap.login(user, password)
        for folder in OURS.values():
            found += [(mid, Seen(folder, flags, date)) for mid, (flags, date) in read(imap, folder)]
    return found


def read(imap: imaplib.IMAP4, folder: str) -> list[tuple[str, tuple[frozenset[str], str]]]:
    status, _ = imap.select(f'"{folder}"', readonly=True)
    if status != "OK":  # not made yet: an import copies folder after folder
        return []
    _, data = imap.uid("FETCH", "1:*", "(FLAGS INTERNALDATE BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
    found = []
    for item in data:
        if isinstance(item, tuple):
            flags = re.search(rb"FLAGS \(([^)]*)\)", item[0])
            date = re.search(rb'INTERNALDATE "([^"]+)"', item[0])
            mid = re.search(rb"<([^>]+)>", item[1])
            if flags and date and mid and b"customers.example" in mid[1]:
                kept = frozenset(f.decode() for f in flags[1].split() if f != b"\\Recent")
                found.append((mid[1].decode(), (kept, date[1].decode())))
    return found


def import_command(server: Daemon, provider: Dovecot, address: str = OWNER, user: str = OLD_USER) -> list[str]:
    return [
        sys.executable, "-m", "smb_suite", "-c", str(server.config), "import", "imap", address,
        "--host", "127.0.0.1", "--port", str(provider.port), "--security", "none",
        "--user", user, "--password-stdin",
    ]  # fmt: skip


def import_into(server: Daemon, provider: Dovecot, address: str, user: str, password: str = OLD_PASSWORD) -> Finished:
    command = import_command(server, provider, address, user)
    return subprocess.run(command, input=password + "\n", capture_output=True, text=True, timeout=600)


def test_an_import_killed_midway_resumes_and_brings_every_message_once_with_flags_and_dates(
    server: Daemon, old_provider: Dovecot
) -> None:
    first = subprocess.Popen(
        import_command(server, old_provider), stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert first.stdin is not None and first.stdout is not None
    first.stdin.write(OLD_PASSWORD + "\n")
    first.stdin.close()
    for line in first.stdout:  # "INBOX: 300/2000 messages, ...": kill it while it copies
        done = re.match(r".*: (\d+)/2000 messages", line)
        if done and int(done[1]) >= 300:
            first.send_signal(signal.SIGKILL)
            break
    first.wait(60)
    first.stdout.close()
    assert first.returncode == -signal.SIGKILL
    partial = our_view(server)
    assert 300 <= len(partial) < 2000

    second = import_into(server, old_provider, OWNER, OLD_USER)
    assert second.returncode == 0, second.stderr
    assert f"2000/2000 messages from {OLD_USER}@127.0.0.1:{old_provider.port}" in second.stdout
    ours = our_view(server)
    assert len(ours) == 2000 and len({mid for mid, _ in ours}) == 2000  # every message, exactly once
    assert dict(ours) == source_view(old_provider)  # in the mapped folder, same flags, same internal date
    assert "import.started" in server.cli("audit", "--limit", "10").stdout


def test_a_wrong_password_is_refused_clearly_and_imports_nothing(server: Daemon, old_provider: Dovecot) -> None:
    refused = import_into(server, old_provider, USER, SMALL_USER, password="wrong")
    assert refused.returncode == 1
    assert f"refused the login of {SMALL_USER}" in refused.stderr and "Traceback" not in refused.stderr
    assert our_view(server, USER, USER_PASSWORD) == []


def test_a_full_mailbox_stops_the_import_with_a_clear_message_and_it_finishes_after_an_upgrade(
    server: Daemon, old_provider: Dovecot
) -> None:
    run_cli(server.config, "user", "quota", USER, "1")  # 1 MB: about half of the small account fits
    stopped = import_into(server, old_provider, USER, SMALL_USER)
    assert stopped.returncode == 1
    assert "import stopped, this mailbox is full" in stopped.stderr and "goes on where it stopped" in stopped.stderr
    partial = our_view(server, USER, USER_PASSWORD)
    assert 0 < len(partial) < 200 and len({mid for mid, _ in partial}) == len(partial)
    run_cli(server.config, "user", "quota", USER, "off")
    finished = import_into(server, old_provider, USER, SMALL_USER)
    assert finished.returncode == 0, finished.stderr
    assert len(our_view(server, USER, USER_PASSWORD)) == 200


def test_a_message_already_in_the_mailbox_is_not_copied_twice(server: Daemon, old_provider: Dovecot) -> None:
    """Left by a run killed between a batch's files and its commit (indexed at the daemon's next start), or
    dragged over by the user: the same size and internal date in the same folder count as brought in."""
    address, password = "carol@example.test", "carol-password"
    run_cli(server.config, "user", "add", address, "--password-stdin", stdin=password + "\n")
    first = message(1, "INBOX", SMALL_LINES)  # the small account's first message, as its INBOX holds it
    with imaplib.IMAP4("127.0.0.1", server.ports["imap"], timeout=60) as imap:
        imap.starttls()
        imap.login(address, password)
        imap.append("INBOX", "()", imaplib.Time2Internaldate(1709280000 + 600), first)  # unread here
    done = import_into(server, old_provider, address, SMALL_USER)
    assert done.returncode == 0, done.stderr
    inbox = [(mid, seen) for mid, seen in our_view(server, address, password) if seen.folder == "INBOX"]
    assert len(inbox) == 90 and [mid for mid, _ in inbox].count("order-1@customers.example") == 1
    assert dict(inbox)["order-1@customers.example"].flags == {"\\Seen"}  # the old provider's flags win


def test_an_import_over_implicit_tls_and_starttls_brings_the_messages(server: Daemon) -> None:
    """Our own daemon plays a provider with TLS: a mailbox of one message copied into another (its certificate
    is self-signed: --insecure)."""
    source, target, password = "tls-source@example.test", "tls-target@example.test", "tls-password"
    for address in (source, target):
        run_cli(server.config, "user", "add", address, "--password-stdin", stdin=password + "\n")
    with imaplib.IMAP4("127.0.0.1", server.ports["imap"], timeout=60) as imap:
        imap.starttls()
        imap.login(source, password)
        imap.create("TlsSource")
        imap.append("TlsSource", "(\\Flagged)", None, message(99999, "tls"))
    for security, port in (("ssl", server.ports["imaps"]), ("starttls", server.ports["imap"])):
        command = [
            sys.executable, "-m", "smb_suite", "-c", str(server.config), "import", "imap", target,
            "--host", "127.0.0.1", "--port", str(port), "--security", security, "--insecure",
            "--user", source, "--password-stdin",
        ]  # fmt: skip
        done = subprocess.run(command, input=password + "\n", capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, (security, done.stderr)
    with imaplib.IMAP4("127.0.0.1", server.ports["imap"], timeout=60) as imap:
        imap.starttls()
        imap.login(target, password)
        imap.select("TlsSource", readonly=True)
        _, data = imap.uid("SEARCH", "HEADER", "Message-ID", "order-99999@customers.example")
        assert len(data[0].split()) == 1  # the second run (another port: another source) finds it there already
