"""QRESYNC (RFC 7162 3.2): ENABLE QRESYNC, SELECT/EXAMINE (QRESYNC (...)) answering what changed and what
vanished since the client's mod-sequence, VANISHED instead of EXPUNGE once enabled, UID FETCH (CHANGEDSINCE n
VANISHED), [CLOSED]; mutt resynchronises its header cache with it."""

from __future__ import annotations

import contextlib
import re
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.daemon import Daemon
from tests.imapwire import Wire, code, untagged
from tests.integration.test_imap import plain
from tests.integration.test_imap_clients import run_mutt
from tests.integration.test_imap_extensions import folder_with

pytestmark = pytest.mark.daemon(services=("imap",))


def state(wire: Wire, folder: str) -> tuple[int, int]:
    """(UIDVALIDITY, HIGHESTMODSEQ) of a folder, as a client remembers them."""
    lines = wire.ok(f"EXAMINE {folder}")
    values = dict(re.findall(rb"\[(UIDVALIDITY|HIGHESTMODSEQ) (\d+)\]", b"".join(lines)))
    wire.ok("UNSELECT")
    return int(values[b"UIDVALIDITY"]), int(values[b"HIGHESTMODSEQ"])


def changed_folder(server: Daemon, count: int) -> tuple[str, int, int]:
    """A new folder of `count` messages, its UIDVALIDITY and HIGHESTMODSEQ as a client saw them, then changed
    by another client (change_elsewhere)."""
    with Wire(server) as setup:
        folder = folder_with(setup, count)
        uidvalidity, modseq = state(setup, folder)
    change_elsewhere(server, folder)
    return folder, uidvalidity, modseq


def change_elsewhere(server: Daemon, folder: str) -> None:
    """Another client flags UID 2 and expunges UIDs 3 and 5."""
    with Wire(server) as other:
        other.ok(f"SELECT {folder}")
        other.ok("UID STORE 2 +FLAGS (\\Flagged)")
        other.ok("UID STORE 3,5 +FLAGS (\\Deleted)")
        other.ok("EXPUNGE")


def qresync_wire(server: Daemon) -> Wire:
    wire = Wire(server)
    assert untagged(wire.ok("ENABLE QRESYNC"), b"ENABLED") == [b"* ENABLED QRESYNC"]
    return wire


def test_qresync_is_offered_and_enable_answers_enabled(server: Daemon) -> None:
    with Wire(server) as wire:
        assert b"QRESYNC" in untagged(wire.ok("CAPABILITY"), b"CAPABILITY")[0].split()
        assert untagged(wire.ok("ENABLE QRESYNC CONDSTORE QRESYNC X-UNKNOWN"), b"ENABLED") == [
            b"* ENABLED QRESYNC CONDSTORE"
        ]


def test_select_with_qresync_before_enable_is_bad_and_selects_nothing(server: Daemon) -> None:
    """RFC 7162 3.2.5: the QRESYNC parameter without ENABLE QRESYNC is BAD."""
    with Wire(server) as wire:
        wire.bad("SELECT INBOX (QRESYNC (1 1))")
        wire.bad("FETCH 1 FLAGS")  # not in the selected state


def test_select_qresync_sends_changed_flags_and_vanished_uids_since_the_clients_modseq(server: Daemon) -> None:
    """RFC 7162 3.2.5.1: FETCH (UID FLAGS MODSEQ) for what changed, VANISHED (EARLIER) for what is gone."""
    folder, uidvalidity, modseq = changed_folder(server, 6)
    with qresync_wire(server) as wire:
        lines = wire.ok(f"SELECT {folder} (QRESYNC ({uidvalidity} {modseq} 1:6))")
        assert untagged(lines, b"VANISHED") == [b"* VANISHED (EARLIER) 3,5"]
        fetches = untagged(lines, b"FETCH")
        assert len(fetches) == 1 and re.fullmatch(
            rb"\* 2 FETCH \(UID 2 FLAGS \(\\Flagged\) MODSEQ \(\d+\)\)", fetches[0]
        )
        assert b"4 EXISTS" in b"".join(lines)


def test_known_uids_limit_what_is_reported_and_a_later_modseq_reports_nothing(server: Daemon) -> None:
    folder, uidvalidity, modseq = changed_folder(server, 6)
    with qresync_wire(server) as wire:
        lines = wire.ok(f"EXAMINE {folder} (QRESYNC ({uidvalidity} {modseq} 4:6))")
        assert untagged(lines, b"VANISHED") == [b"* VANISHED (EARLIER) 5"]
        assert untagged(lines, b"FETCH") == []
        _, now = state(wire, folder)
        lines = wire.ok(f"EXAMINE {folder} (QRESYNC ({uidvalidity} {now}))")
        assert untagged(lines, b"VANISHED") == [] and untagged(lines, b"FETCH") == []


def test_another_uidvalidity_gets_a_plain_select(server: Daemon) -> None:
    """RFC 7162 3.2.5.1: a UIDVALIDITY that does not match: no VANISHED, no FETCH."""
    folder, uidvalidity, _ = changed_folder(server, 3)
    with qresync_wire(server) as wire:
        lines = wire.ok(f"SELECT {folder} (QRESYNC ({uidvalidity + 1} 1 1:3 (1:3 1:3)))")
        assert untagged(lines, b"VANISHED") == [] and untagged(lines, b"FETCH") == []


def test_malformed_qresync_parameters_are_bad(server: Daemon) -> None:
    with qresync_wire(server) as wire:
        for params in ("(QRESYNC)", "(QRESYNC (1))", "(QRESYNC (0 1))", "(QRESYNC (1 x))", "(QRESYNC (1 1 a:b))"):
            wire.bad(f"SELECT INBOX {params}")
        wire.bad("SELECT INBOX (QRESYNC (1 1 1:3 (1:3)))")
        wire.ok("SELECT INBOX (QRESYNC (1 1) CONDSTORE)")


def test_once_enabled_expunges_are_reported_as_vanished(server: Daemon) -> None:
    """RFC 7162 3.2.10: VANISHED (without EARLIER) replaces EXPUNGE, for our own expunge and for another's."""
    with qresync_wire(server) as wire, Wire(server) as other:
        folder = folder_with(wire, 4)
        wire.ok(f"SELECT {folder}")
        lines = wire.ok("UID STORE 1,2 +FLAGS.SILENT (\\Deleted)")
        lines = wire.ok("EXPUNGE")
        assert untagged(lines, b"VANISHED") == [b"* VANISHED 1:2"] and untagged(lines, b"EXPUNGE") == []
        other.ok(f"SELECT {folder}")
        other.ok("UID STORE 4 +FLAGS.SILENT (\\Deleted)")
        other.ok("EXPUNGE")
        assert untagged(wire.ok("NOOP"), b"VANISHED") == [b"* VANISHED 4"]
        assert untagged(wire.ok("UID MOVE 3 INBOX"), b"VANISHED") == [b"* VANISHED 3"]


def test_uid_fetch_changedsince_vanished_reports_what_vanished_first(server: Daemon) -> None:
    """RFC 7162 3.2.6: VANISHED (EARLIER) for the set's UIDs expunged since, then the FETCHes."""
    folder, _, modseq = changed_folder(server, 6)
    with qresync_wire(server) as wire:
        wire.ok(f"SELECT {folder}")
        lines = wire.ok(f"UID FETCH 1:* (FLAGS) (CHANGEDSINCE {modseq} VANISHED)")
        assert lines[0] == b"* VANISHED (EARLIER) 3,5\r\n"
        assert [re.sub(rb"MODSEQ \(\d+\)", b"M", line) for line in untagged(lines, b"FETCH")] == [
            b"* 2 FETCH (UID 2 FLAGS (\\Flagged) M)"
        ]
        assert untagged(wire.ok(f"UID FETCH 4:6 (FLAGS) (VANISHED CHANGEDSINCE {modseq})"), b"VANISHED") == [
            b"* VANISHED (EARLIER) 5"
        ]
        wire.bad(f"FETCH 1:* (FLAGS) (CHANGEDSINCE {modseq} VANISHED)")  # UID FETCH only
        wire.bad("UID FETCH 1:* (FLAGS) (VANISHED)")  # needs CHANGEDSINCE
    with Wire(server) as plain_wire:
        plain_wire.ok(f"SELECT {folder}")
        plain_wire.bad(f"UID FETCH 1:* (FLAGS) (CHANGEDSINCE {modseq} VANISHED)")  # needs ENABLE QRESYNC


def test_selecting_another_folder_says_closed_first(server: Daemon) -> None:
    """RFC 7162 3.2.11: [CLOSED] separates the old folder's responses from the new one's."""
    with qresync_wire(server) as wire:
        assert not any(b"[CLOSED]" in line for line in wire.ok("SELECT INBOX"))
        lines = wire.ok("EXAMINE INBOX")
        assert code(lines[0]) == b"CLOSED"


def test_a_client_whose_modseq_predates_what_is_remembered_gets_every_absent_uid(
    fresh_daemon: Callable[..., Daemon],
) -> None:
    """When the server may have forgotten removals (older than its bounded memory), every known UID that is
    not in the folder is reported (a superset is allowed, RFC 7162 3.2.5.1)."""
    daemon = fresh_daemon()
    with Wire(daemon) as wire:
        folder = folder_with(wire, 5)
        uidvalidity, modseq = state(wire, folder)
    change_elsewhere(daemon, folder)
    daemon.stop()
    with contextlib.closing(sqlite3.connect(daemon.folder / "data" / "smb-suite.db")) as db, db:
        db.execute("DELETE FROM expunged")  # as if forgotten, beyond the bounded memory
        db.execute("UPDATE mailboxes SET vanished_floor = highestmodseq")
    daemon.start()
    with qresync_wire(daemon) as wire:
        lines = wire.ok(f"SELECT {folder} (QRESYNC ({uidvalidity} {modseq} 2:9))")
        assert untagged(lines, b"VANISHED") == [b"* VANISHED (EARLIER) 3,5:9"]


@pytest.mark.skipif(shutil.which("mutt") is None, reason="mutt is not installed")
def test_mutt_resyncs_its_header_cache_with_qresync(fresh_daemon: Callable[..., Daemon], tmp_path: Path) -> None:
    """mutt (imap_qresync) caches headers on its first visit; on the next it asks only for what changed and
    vanished (UID FETCH ... (CHANGEDSINCE n VANISHED)), and acts on the flag it learned that way."""
    daemon = fresh_daemon()
    with Wire(daemon) as wire:
        for n in range(6):
            wire.append("INBOX", plain(f"note-{n}"))
    settings = f"set header_cache={tmp_path}/hcache\nset imap_qresync=yes\nset imap_condstore=yes\n"
    run_mutt(daemon, tmp_path, "", settings)
    change_elsewhere(daemon, "INBOX")
    run_mutt(daemon, tmp_path, "<tag-pattern>~F<enter><tag-prefix><copy-message>=Archive<enter>", settings, "-d 2")
    log = (tmp_path / ".muttdebug0").read_text(errors="replace")
    assert "ENABLE QRESYNC" in log and "* ENABLED QRESYNC" in log
    assert re.search(r"UID FETCH \S+ \(FLAGS\) \(CHANGEDSINCE \d+ VANISHED\)", log), log[-3000:]
    assert "* VANISHED (EARLIER) 3,5" in log
    with Wire(daemon) as wire:
        wire.ok("EXAMINE Archive")
        copied = untagged(wire.ok("FETCH 1:* (BODY.PEEK[HEADER.FIELDS (SUBJECT)])"), b"FETCH")
        assert len(copied) == 1 and b"Subject: note-1" in copied[0]


def test_modseqs_sent_while_expunges_wait_come_with_a_highestmodseq_below_those_expunges(server: Daemon) -> None:
    """RFC 7162 3.2.10 and RFC 5162 errata 1810: a non-UID FETCH may not report the expunge another client made
    (RFC 3501 7.4.1), yet it reports a newer MODSEQ; the server then says HIGHESTMODSEQ below that expunge, and
    a client resynchronising from it later hears of the expunged message."""
    with Wire(server) as setup:
        folder = folder_with(setup, 4)
    with qresync_wire(server) as wire, Wire(server) as other:
        selected = wire.ok(f"SELECT {folder}")
        uidvalidity = int(code(next(line for line in selected if b"UIDVALIDITY" in line)).split()[1])
        wire.ok("NOOP")
        other.ok(f"SELECT {folder}")
        other.ok("UID STORE 3 +FLAGS (\\Deleted)")
        other.ok("EXPUNGE")
        other.ok("UID STORE 1 +FLAGS (\\Flagged)")
        fetched = wire.ok("FETCH 1:* (FLAGS)")
        assert untagged(fetched, b"VANISHED") == []  # held back: a FETCH must not renumber messages
        sent = [int(m) for m in re.findall(rb"MODSEQ \((\d+)\)", b"".join(fetched))]
        floors = [int(code(line).split()[1]) for line in fetched if b"[HIGHESTMODSEQ" in line and line.startswith(b"*")]
        assert sent and len(floors) == 1 and floors[0] < max(sent)
        assert untagged(wire.ok("NOOP"), b"VANISHED") == [b"* VANISHED 3"]
    with qresync_wire(server) as again:
        resumed = again.ok(f"SELECT {folder} (QRESYNC ({uidvalidity} {floors[0]}))")
        assert untagged(resumed, b"VANISHED") == [b"* VANISHED (EARLIER) 3"]
