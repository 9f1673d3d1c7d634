"""ESEARCH (RFC 4731): SEARCH and UID SEARCH with RETURN options answer one `* ESEARCH` response carrying the
command's tag, checked on the wire; imaplib reads it as a client does."""

from __future__ import annotations

import imaplib
import os
import secrets
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.daemon import OWNER, OWNER_PASSWORD, Daemon
from tests.imapwire import Wire, untagged
from tests.integration.test_imap import plain


def folder_of(wire: Wire, count: int) -> str:
    name = f"E{secrets.token_hex(4)}"
    wire.ok(f"CREATE {name}")
    for n in range(count):
        wire.append(name, plain(f"esearch-{n}"))
    wire.ok(f"SELECT {name}")
    return name


def esearch(wire: Wire, command: str) -> bytes:
    lines = wire.ok(command)
    found = untagged(lines, b"ESEARCH")
    assert len(found) == 1 and not untagged(lines, b"SEARCH"), lines
    return found[0]


def test_capability_advertises_esearch(daemon: Daemon) -> None:
    with Wire(daemon) as wire:
        assert b"ESEARCH" in untagged(wire.ok("CAPABILITY"), b"CAPABILITY")[0].split()


def test_return_min_max_count_all_answer_in_one_esearch_with_the_tag(daemon: Daemon) -> None:
    """RFC 4731 3.1: MIN, MAX, ALL (a sequence-set) and COUNT, correlated by (TAG "...")."""
    with Wire(daemon) as wire:
        folder_of(wire, 6)
        wire.ok("STORE 2,4:5 +FLAGS (\\Flagged)")
        tag = wire.tag()
        wire.send(tag + b" SEARCH RETURN (MIN MAX COUNT ALL) FLAGGED\r\n")
        lines = wire.until(tag)
        assert untagged(lines, b"ESEARCH") == [b'* ESEARCH (TAG "%b") MIN 2 MAX 5 ALL 2,4:5 COUNT 3' % tag]
        assert esearch(wire, "SEARCH RETURN (COUNT) UNFLAGGED").endswith(b") COUNT 3")
        assert esearch(wire, "SEARCH RETURN (MIN) NOT FLAGGED").endswith(b") MIN 1")


def test_empty_return_list_means_all(daemon: Daemon) -> None:
    """RFC 4731 3.1: `RETURN ()` is the same as `RETURN (ALL)`."""
    with Wire(daemon) as wire:
        folder_of(wire, 3)
        assert esearch(wire, "SEARCH RETURN () ALL").endswith(b") ALL 1:3")


def test_uid_search_return_answers_uids_marked_uid(daemon: Daemon) -> None:
    """RFC 4731 3.1: the UID indicator, and UIDs in MIN, MAX and ALL."""
    with Wire(daemon) as wire:
        folder_of(wire, 5)
        wire.ok("STORE 2 +FLAGS (\\Deleted)")
        wire.ok("EXPUNGE")  # UIDs 1, 3, 4, 5 remain as sequence numbers 1-4
        line = esearch(wire, "UID SEARCH RETURN (MIN MAX ALL COUNT) 1:*")
        assert line.split(b") ", 1)[1] == b"UID MIN 1 MAX 5 ALL 1,3:5 COUNT 4"
        assert esearch(wire, "SEARCH RETURN (ALL) 1:*").endswith(b") ALL 1:4")


def test_nothing_found_leaves_out_min_max_all_and_counts_zero(daemon: Daemon) -> None:
    """RFC 4731 3.1: MIN, MAX and ALL are omitted when no message matches; COUNT is 0."""
    with Wire(daemon) as wire:
        folder_of(wire, 2)
        tag = wire.tag()
        wire.send(tag + b" UID SEARCH RETURN (MIN MAX ALL COUNT) DELETED\r\n")
        assert untagged(wire.until(tag), b"ESEARCH") == [b'* ESEARCH (TAG "%b") UID COUNT 0' % tag]
        assert esearch(wire, "SEARCH RETURN (MIN MAX) DELETED").endswith(b'")')


def test_return_options_come_before_charset_and_take_literals(daemon: Daemon) -> None:
    """RFC 4731 4: search = "SEARCH" [search-return-opts] SP search-criteria (CHARSET is a criteria part)."""
    with Wire(daemon) as wire:
        folder_of(wire, 3)
        line = esearch(wire, "SEARCH RETURN (COUNT MAX) CHARSET UTF-8 SUBJECT {9+}\r\nesearch-1")
        assert line.endswith(b") MAX 2 COUNT 1")


def test_modseq_search_adds_the_modseq_of_what_was_returned(daemon: Daemon) -> None:
    """RFC 4731 3.2: MIN or MAX alone carry that message's mod-sequence; ALL and COUNT the highest."""
    with Wire(daemon) as wire:
        folder_of(wire, 3)
        wire.ok("STORE 1 +FLAGS (\\Seen)")  # message 1 now has the highest mod-sequence
        modseqs = {}
        for line in untagged(wire.ok("FETCH 1:3 (MODSEQ)"), b"FETCH"):
            number, value = line.split(b" ")[1], line.rsplit(b"(", 1)[1].rstrip(b")")
            modseqs[int(number)] = int(value)
        assert esearch(wire, "SEARCH RETURN (MAX) MODSEQ 1").endswith(b" MAX 3 MODSEQ %d" % modseqs[3])
        assert esearch(wire, "SEARCH RETURN (COUNT) MODSEQ 1").endswith(b" COUNT 3 MODSEQ %d" % modseqs[1])
        assert esearch(wire, "SEARCH RETURN (MIN) MODSEQ 1").endswith(b" MIN 1 MODSEQ %d" % modseqs[1])


def test_unknown_return_option_is_bad_and_search_without_return_is_unchanged(daemon: Daemon) -> None:
    with Wire(daemon) as wire:
        folder_of(wire, 2)
        wire.bad("SEARCH RETURN (MIN BOGUS) ALL")
        wire.bad("SEARCH RETURN (MIN ALL")
        assert untagged(wire.ok("SEARCH ALL"), b"SEARCH") == [b"* SEARCH 1 2"]  # RFC 3501 form without RETURN


def test_imaplib_reads_esearch_results(daemon: Daemon) -> None:
    client = imaplib.IMAP4("127.0.0.1", daemon.ports["imap"], timeout=30)
    try:
        client.login(OWNER, OWNER_PASSWORD)
        name = f"E{secrets.token_hex(4)}"
        client.create(name)
        for n in range(4):
            client.append(name, "", None, plain(f"imaplib-{n}"))
        client.select(name)
        status, _ = client.uid("SEARCH", "RETURN", "(MIN MAX COUNT)", "ALL")
        assert status == "OK"
        _, data = client.response("ESEARCH")
        assert data[0] is not None and data[0].endswith(b"UID MIN 1 MAX 4 COUNT 4")
    finally:
        client.logout()


@pytest.mark.skipif(os.geteuid() != 0, reason="doveadm reads mail as another user (nobody)")
def test_dovecot_imapc_searches_through_esearch(daemon: Daemon) -> None:
    """A real client that uses ESEARCH: Dovecot's imapc storage (here under `doveadm search`) passes a search on to
    the IMAP server only when it advertises ESEARCH (`imapc_features = search`), as `SEARCH RETURN (ALL)`, and
    takes the messages from the `* ESEARCH ... ALL` set (its raw log shows both)."""
    with Wire(daemon) as wire:
        name = folder_of(wire, 0)
        needle = f"needle{secrets.token_hex(4)}"
        for subject in ("apples", f"{needle} one", "pears", f"{needle} two"):
            wire.append(name, plain(subject))
    with tempfile.TemporaryDirectory(prefix="imapc-") as temporary:
        folder = Path(temporary)
        folder.chmod(0o777)  # doveadm reads mail as nobody (never as root)
        config = folder / "imapc.conf"
        config.write_text(
            f"base_dir = {folder}/run\nlog_path = {folder}/doveadm.log\nssl = no\nmail_uid = nobody\n"
            f"mail_gid = nogroup\nmail_location = imapc:{folder}/imapc\nimapc_host = 127.0.0.1\n"
            f"imapc_port = {daemon.ports['imap']}\nimapc_user = {OWNER}\nimapc_password = {OWNER_PASSWORD}\n"
            f"imapc_features = search\nimapc_rawlog_dir = {folder}\n"
        )
        found = subprocess.run(
            ["doveadm", "-c", str(config), "search", "subject", needle],
            env={"PATH": os.environ["PATH"], "USER": "imapc", "HOME": str(folder)},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert found.returncode == 0, found.stderr
        assert [line.split()[1] for line in found.stdout.splitlines()] == ["2", "4"], found.stdout
        wire_log = b"".join(path.read_bytes() for path in sorted(folder.glob("*.out")) + sorted(folder.glob("*.in")))
    assert f" SEARCH RETURN (ALL) SUBJECT {needle}".encode() in wire_log and b"ALL 2,4" in wire_log, wire_log[-2000:]
