"""Real mail clients against the real daemon: mbsync (isync) keeps a local Maildir in two-way sync with an
account of 500 messages in nested folders, and mutt reads and moves mail. Both come from Debian
(scripts/test installs isync and mutt)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.daemon import OWNER, OWNER_PASSWORD, Daemon
from tests.imapwire import Wire, untagged
from tests.integration.test_imap import plain

FOLDERS = {"INBOX": 300, "Work": 100, "Work/Projects": 60, "Archive": 40}  # 500 messages
LETTERS = {"\\Seen": "S", "\\Flagged": "F", "\\Answered": "R", "\\Draft": "D"}


def flags_for(n: int) -> list[str]:
    chosen = []
    if n % 2:
        chosen.append("\\Seen")
    if n % 7 == 0:
        chosen.append("\\Flagged")
    if n % 11 == 0:
        chosen.append("\\Answered")
    return chosen


def fill(daemon: Daemon) -> None:
    """500 messages, pipelined with non-synchronizing literals."""
    with Wire(daemon) as wire:
        wire.ok("CREATE Work/Projects")
        commands = []
        for folder, count in FOLDERS.items():
            for n in range(count):
                message = plain(f"{folder.replace('/', '-')}-{n}")
                flags = " ".join(flags_for(n))
                commands.append(
                    b'a%d APPEND "%s" (%s) {%d+}\r\n%s\r\n'
                    % (len(commands), folder.encode(), flags.encode(), len(message), message)
                )
        wire.send(b"".join(commands))
        for n in range(len(commands)):
            assert wire.until(b"a%d" % n)[-1].startswith(b"a%d OK" % n)


def server_state(daemon: Daemon) -> dict[str, tuple[bytes, dict[int, set[str]]]]:
    """Per folder: STATUS (messages, uidnext, highestmodseq) and every message's flags by UID."""
    state = {}
    with Wire(daemon) as wire:
        for folder in FOLDERS:
            status = wire.ok(f'STATUS "{folder}" (MESSAGES UIDNEXT HIGHESTMODSEQ)')[0]
            wire.ok(f'EXAMINE "{folder}"')
            flags = {}
            for line in untagged(wire.ok("FETCH 1:* (UID FLAGS)"), b"FETCH"):
                match = re.search(rb"UID (\d+)", line)
                found = re.search(rb"FLAGS \(([^)]*)\)", line)
                assert match is not None and found is not None
                flags[int(match.group(1))] = set(found.group(1).decode().split())
            state[folder] = (status.split(b"(", 1)[1], flags)
    return state


def local_files(local: Path) -> dict[str, str]:
    return {
        str(p.relative_to(local)): p.read_bytes().decode()
        for p in sorted(local.rglob("*"))
        if p.is_file() and not p.name.startswith(".")
    }


def local_flags(local: Path, folder: str) -> dict[int, set[str]]:
    """UID -> flags from mbsync's file names ('...,U=17:2,FS')."""
    found = {}
    for path in (local / folder).glob("*/*"):
        match = re.search(r",U=(\d+):2,([A-Z]*)$", path.name)
        if match is not None and path.parent.name in ("cur", "new"):
            letters = set(match.group(2))
            found[int(match.group(1))] = {flag for flag, letter in LETTERS.items() if letter in letters}
    return found


def mbsync(config: Path, *options: str) -> str:
    command = ["mbsync", *options, "-c", str(config), "-a"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout + result.stderr


def mbsync_config(folder: Path, daemon: Daemon, local: Path) -> Path:
    config = folder / "mbsyncrc"
    config.write_text(
        f'IMAPAccount smb\nHost 127.0.0.1\nPort {daemon.ports["imap"]}\nUser {OWNER}\nPass "{OWNER_PASSWORD}"\n'
        "SSLType None\nAuthMechs PLAIN LOGIN\n\nIMAPStore remote\nAccount smb\n\n"
        f"MaildirStore local\nPath {local}/\nInbox {local}/INBOX\nSubFolders Verbatim\n\n"
        "Channel all\nFar :remote:\nNear :local:\nPatterns INBOX Work Work/Projects Archive\n"
        "Create Both\nExpunge Both\nSyncState *\nSync All\n"
    )
    return config


@pytest.mark.skipif(shutil.which("mbsync") is None, reason="isync (mbsync) is not installed")
def test_mbsync_syncs_500_messages_both_ways_and_a_second_run_changes_nothing(
    fresh_daemon: Callable[..., Daemon], tmp_path: Path
) -> None:
    daemon = fresh_daemon()
    fill(daemon)
    local = tmp_path / "local"
    local.mkdir()
    config = mbsync_config(tmp_path, daemon, local)

    mbsync(config)
    before = server_state(daemon)
    for folder, count in FOLDERS.items():
        assert local_flags(local, folder) == before[folder][1], folder
        assert len(before[folder][1]) == count
    files = local_files(local)

    mbsync(config)  # nothing changed on either side: nothing may change
    assert local_files(local) == files
    assert server_state(daemon) == before

    unflagged = next(p for p in sorted((local / "INBOX" / "cur").iterdir()) if "F" not in p.name.split(":2,")[1])
    uid = int(re.search(r",U=(\d+):", unflagged.name).group(1))  # type: ignore[union-attr]
    unflagged.rename(unflagged.with_name(unflagged.name.replace(":2,", ":2,F")))
    (local / "Work" / "new" / "1700000000.local_1.laptop").write_bytes(plain("written offline"))
    mbsync(config)
    after = server_state(daemon)
    assert "\\Flagged" in after["INBOX"][1][uid]
    assert len(after["Work"][1]) == FOLDERS["Work"] + 1
    with Wire(daemon) as wire:
        wire.ok("EXAMINE Work")
        assert untagged(wire.ok("SEARCH SUBJECT offline"), b"SEARCH") == [b"* SEARCH %d" % (FOLDERS["Work"] + 1)]


def run_mutt(daemon: Daemon, home: Path, keys: str, settings: str = "", options: str = "") -> None:
    """mutt driven by pushed keys in a pseudo-terminal (`script`), as a person at a terminal would; `settings`
    are more muttrc lines, `options` more command-line options."""
    url = f"imap://{OWNER.replace('@', '%40')}@127.0.0.1:{daemon.ports['imap']}"
    rc = home / "muttrc"
    rc.write_text(
        f'set imap_user="{OWNER}"\nset imap_pass="{OWNER_PASSWORD}"\nset folder="{url}/"\nset spoolfile="+INBOX"\n'
        "set ssl_starttls=no\nset ssl_force_tls=no\nset quit=yes\nset move=no\nset delete=yes\n"
        "set confirmappend=no\nset confirmcreate=no\nset mail_check=0\nset sleep_time=0\nset wait_key=no\n"
        "set pipe_decode=no\n" + settings
    )
    command = f"mutt -n {options} -F {rc} -e 'push \"{keys}<sync-mailbox><quit>\"'"
    env = {**os.environ, "TERM": "xterm", "HOME": str(home)}
    result = subprocess.run(
        ["script", "-qec", command, "/dev/null"], capture_output=True, timeout=120, env=env, stdin=subprocess.DEVNULL
    )
    assert result.returncode == 0, result.stdout[-2000:]


@pytest.mark.skipif(shutil.which("mutt") is None, reason="mutt is not installed")
def test_mutt_reads_and_moves_mail(fresh_daemon: Callable[..., Daemon], tmp_path: Path) -> None:
    daemon = fresh_daemon()
    with Wire(daemon) as wire:
        for subject in ("first note", "move me", "last note"):
            wire.append("INBOX", plain(subject.replace(" ", "-")))
    saved = tmp_path / "read.eml"
    keys = f"<search>move-me<enter><display-message><exit><pipe-message>cat > {saved}<enter>"
    keys += "<save-message>=Archive<enter>"
    run_mutt(daemon, tmp_path, keys)
    assert b"Subject: move-me" in saved.read_bytes()
    with Wire(daemon) as wire:
        assert b"MESSAGES 2" in wire.ok("STATUS INBOX (MESSAGES)")[0]
        wire.ok("EXAMINE Archive")
        fetched = untagged(wire.ok("FETCH 1 (FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])"), b"FETCH")[0]
        assert b"Subject: move-me" in fetched and b"\\Seen" in fetched
