"""What sessions showing one folder hear about its messages, checked on the wire from the RFC text: \\Recent
(RFC 3501 2.3.2, 6.3.1, 7.3.2), FLAGS when a keyword is new (RFC 3501 7.2.6), mod-sequences that never go
backwards under concurrent STOREs (RFC 7162 3.2), and the order of EXPUNGE and EXISTS after MOVE (RFC 6851 3.3).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable

import pytest

from tests.daemon import Daemon
from tests.imapwire import Wire, untagged
from tests.integration.test_imap import plain

pytestmark = pytest.mark.daemon(services=("smtp", "imap"))

_FETCH_MODSEQ = re.compile(rb"^\* (\d+) FETCH \(.*MODSEQ \((\d+)\)", re.M)


def folder_with(wire: Wire, count: int) -> str:
    name = f"S{secrets.token_hex(4)}"
    wire.ok(f"CREATE {name}")
    for n in range(count):
        wire.append(name, plain(f"{name}-{n}"))
    return name


# -- CONDSTORE (RFC 7162) -------------------------------------------------------------------------------------


def test_a_messages_modseq_never_goes_backwards_for_any_session_under_concurrent_stores(server: Daemon) -> None:
    """RFC 7162 3.2: a message's mod-sequence only grows, so a client keeps the highest it saw; every FETCH a
    session receives (its own STOREs' and the unsolicited ones from the others) must carry one at least as high
    as the last it received for that message."""
    sessions = [Wire(server) for _ in range(3)]
    try:
        name = folder_with(sessions[0], 3)
        for wire in sessions:
            wire.ok("ENABLE CONDSTORE")
            wire.ok(f"SELECT {name}")
        tags: list[list[bytes]] = []
        for number, wire in enumerate(sessions):  # all commands sent first: the server runs them interleaved
            tags.append([wire.tag() for _ in range(30)])
            toggles = (f"{'+-'[n % 2]}FLAGS (k{number})".encode() for n in range(30))
            wire.send(b"".join(b"%b STORE 1:3 %b\r\n" % pair for pair in zip(tags[-1], toggles, strict=True)))
        for wire, sent in zip(sessions, tags, strict=True):
            received: list[bytes] = []
            for tag in sent:
                received += wire.until(tag)
            received += wire.ok("NOOP")
            last: dict[int, int] = {}
            for seq, value in _FETCH_MODSEQ.findall(b"".join(received)):
                assert int(value) >= last.get(int(seq), 0), f"MODSEQ of {seq} dropped {last[int(seq)]} -> {value}"
                last[int(seq)] = int(value)
            assert len(last) == 3
    finally:
        for wire in sessions:
            wire.close()


def test_a_fetch_that_sets_seen_reports_the_new_modseq_once_condstore_is_on(server: Daemon) -> None:
    """RFC 7162 3.2 (after ENABLE CONDSTORE every FETCH reporting a flag change carries MODSEQ) with RFC 3501
    6.4.5 (BODY[] without .PEEK sets \\Seen)."""
    with Wire(server) as wire:
        name = folder_with(wire, 1)
        wire.ok("ENABLE CONDSTORE")
        wire.ok(f"SELECT {name}")
        before = int(re.findall(rb"MODSEQ \((\d+)\)", wire.ok("FETCH 1 MODSEQ")[0])[0])
        fetched = untagged(wire.ok("FETCH 1 BODY[TEXT]"), b"FETCH")[0]
        assert b"\\Seen" in fetched
        match = re.search(rb"MODSEQ \((\d+)\)", fetched)
        assert match is not None and int(match.group(1)) > before, fetched


# -- \Recent (RFC 3501 2.3.2, 6.3.1, 6.3.2, 6.3.10, 6.4.4, 7.3.2) ---------------------------------------------


def recent(lines: list[bytes]) -> int:
    counts = untagged(lines, b"RECENT")
    assert len(counts) == 1, lines
    return int(counts[0].split()[1])


def test_a_new_message_is_recent_in_the_first_session_that_selects_its_folder_and_no_other(server: Daemon) -> None:
    """RFC 3501 2.3.2: the first session to be told of the message sees \\Recent; after a read-write one,
    later sessions do not. EXAMINE (6.3.2) sees it but leaves it recent; STATUS (6.3.10) counts it until then."""
    with Wire(server) as first, Wire(server) as later, Wire(server) as looker:
        name = folder_with(first, 0)
        first.append(name, plain("old"))
        first.ok(f"SELECT {name}")  # claims the first message
        first.ok("UNSELECT")
        first.append(name, plain("new"))
        assert untagged(looker.ok(f"STATUS {name} (RECENT)"), b"STATUS")[0].endswith(b"(RECENT 1)")
        assert recent(looker.ok(f"EXAMINE {name}")) == 1
        assert recent(first.ok(f"SELECT {name}")) == 1
        fetched = untagged(first.ok("FETCH 1:2 FLAGS"), b"FETCH")
        assert fetched == [b"* 1 FETCH (FLAGS ())", b"* 2 FETCH (FLAGS (\\Recent))"]
        assert untagged(first.ok("SEARCH RECENT"), b"SEARCH") == [b"* SEARCH 2"]
        assert untagged(first.ok("SEARCH NEW"), b"SEARCH") == [b"* SEARCH 2"]
        assert untagged(first.ok("SEARCH OLD"), b"SEARCH") == [b"* SEARCH 1"]
        first.ok("STORE 2 +FLAGS.SILENT (\\Seen)")
        assert untagged(first.ok("SEARCH NEW"), b"SEARCH") == [b"* SEARCH"]  # NEW is RECENT UNSEEN
        assert recent(later.ok(f"SELECT {name}")) == 0
        assert untagged(later.ok("SEARCH RECENT"), b"SEARCH") == [b"* SEARCH"]
        assert untagged(looker.ok(f"STATUS {name} (RECENT)"), b"STATUS")[0].endswith(b"(RECENT 0)")


def test_mail_arriving_while_two_sessions_have_the_folder_selected_is_recent_in_exactly_one(server: Daemon) -> None:
    """RFC 3501 7.3.2: RECENT comes with EXISTS when the folder grows; the message is recent in one session."""
    with Wire(server) as one, Wire(server) as two, Wire(server) as sender:
        name = folder_with(sender, 1)
        sender.ok(f"SELECT {name}")  # the first message is recent there, and only there
        sender.ok("UNSELECT")
        assert recent(one.ok(f"SELECT {name}")) == 0
        assert recent(two.ok(f"SELECT {name}")) == 0
        sender.append(name, plain("arrives"))
        heard = [one.ok("NOOP"), two.ok("NOOP")]
        for lines in heard:
            assert untagged(lines, b"EXISTS") == [b"* 2 EXISTS"]
            words = [line.split()[2] for line in lines[:-1]]
            assert words.index(b"EXISTS") + 1 == words.index(b"RECENT"), lines
        assert sorted(recent(lines) for lines in heard) == [0, 1]


def test_a_message_appended_to_the_selected_folder_is_recent_in_the_appending_session_alone(server: Daemon) -> None:
    """RFC 3501 6.3.11 and 7.3.2: the appending session hears EXISTS and RECENT before its OK, and the message is
    \\Recent there (the first session told of it, RFC 3501 2.3.2); another read-write session is not."""
    with Wire(server) as appender, Wire(server) as other:
        name = folder_with(appender, 1)
        assert recent(other.ok(f"SELECT {name}")) == 1
        assert recent(appender.ok(f"SELECT {name}")) == 0
        answer = appender.append(name, plain("mine"))
        assert untagged(answer, b"EXISTS") == [b"* 2 EXISTS"] and recent(answer) == 1
        assert b"APPENDUID" in answer[-1]
        assert untagged(appender.ok("FETCH 2 FLAGS"), b"FETCH") == [b"* 2 FETCH (FLAGS (\\Recent))"]
        assert recent(other.ok("NOOP")) == 1  # still the first message only, which it claimed at SELECT
        assert untagged(other.ok("FETCH 2 FLAGS"), b"FETCH") == [b"* 2 FETCH (FLAGS ())"]


def test_recent_claims_live_in_the_index_and_survive_a_restart(fresh_daemon: Callable[..., Daemon]) -> None:
    """Another process (or this one restarted) must not show a message recent again (RFC 3501 2.3.2)."""
    daemon = fresh_daemon()
    with Wire(daemon) as wire:
        name = folder_with(wire, 2)
        assert recent(wire.ok(f"SELECT {name}")) == 2
    daemon.restart()
    with Wire(daemon) as wire:
        assert recent(wire.ok(f"SELECT {name}")) == 0


# -- FLAGS for a new keyword (RFC 3501 7.2.6) ---------------------------------------------------------------


def test_a_keyword_new_to_the_folder_is_announced_in_flags_before_the_fetch_that_shows_it(server: Daemon) -> None:
    """RFC 3501 7.2.6: FLAGS lists the flags applicable to the folder; a client must hear of a keyword (with
    PERMANENTFLAGS, 7.1) before a FETCH carries it, in the session that stored it and in the others."""
    with Wire(server) as actor, Wire(server) as watcher:
        name = folder_with(actor, 2)
        actor.ok(f"SELECT {name}")
        watcher.ok(f"SELECT {name}")
        for lines in (actor.ok("STORE 1 +FLAGS ($Label7)"), watcher.ok("NOOP")):
            starts = [line.split(b" (")[0].split(b" [")[0] for line in lines[:-1]]
            assert starts == [b"* FLAGS", b"* OK", b"* 1 FETCH"], lines
            assert b"$Label7" in lines[0] and b"$Label7 \\*)]" in lines[1]
        assert untagged(actor.ok("STORE 2 +FLAGS ($Label7)"), b"FLAGS") == []  # known by now: no repeat


# -- MOVE (RFC 6851 3.3) ------------------------------------------------------------------------------------


def test_move_into_the_selected_folder_itself_says_expunge_before_the_new_exists(server: Daemon) -> None:
    """RFC 6851 3.3: the moved message is expunged from the selected folder, then it exists again (as a new
    UID): EXPUNGE first, so the EXISTS count is right; the other session sees the same order."""
    with Wire(server) as mover, Wire(server) as other:
        name = folder_with(mover, 2)
        mover.ok(f"SELECT {name}")
        other.ok(f"SELECT {name}")
        lines = [line.rstrip(b"\r\n") for line in mover.ok(f"MOVE 1 {name}")]
        assert lines[0].startswith(b"* OK [COPYUID ")
        assert lines[1:3] == [b"* 1 EXPUNGE", b"* 2 EXISTS"], lines
        heard = [line.rstrip(b"\r\n") for line in other.ok("NOOP")]
        assert heard[:2] == [b"* 1 EXPUNGE", b"* 2 EXISTS"], heard
        assert untagged(mover.ok("UID SEARCH ALL"), b"SEARCH") == [b"* SEARCH 2 3"]
