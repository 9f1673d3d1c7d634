"""IMAP4rev1 (RFC 3501) as clients use it, checked on the wire: folders, LIST wildcards, STATUS, APPEND with
flags and date, every FETCH item on multipart 8-bit mail, partial and streamed bodies, STORE forms and
keywords, SEARCH keys and charsets, UIDs that only go up, Maildir names in step with flags."""

from __future__ import annotations

import os
import re
import secrets
import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.daemon import USER, USER_PASSWORD, Daemon
from tests.imapwire import Wire, code, untagged
from tests.integration.test_imap import eight_bit, plain

pytestmark = pytest.mark.daemon(services=("smtp", "imap"))


def store_of(daemon: Daemon, folder: str, local: str = "demo") -> Path:
    return daemon.maildir(f"{local}@example.test", folder)


def new_folder(wire: Wire, *messages: bytes) -> str:
    name = f"F{secrets.token_hex(4)}"
    wire.ok(f"CREATE {name}")
    for message in messages:
        wire.append(name, message)
    return name


def names(lines: list[bytes]) -> list[bytes]:
    return [line.rsplit(b' "/" ', 1)[1] for line in untagged(lines, b"LIST")]


def literal_of(response: bytes, label: bytes) -> bytes:
    """The literal (or literal8, RFC 3516) following `label {n}` in a FETCH response."""
    match = re.search(re.escape(label) + rb" ~?\{(\d+)\}\r\n", response)
    assert match is not None, response[:300]
    return response[match.end() : match.end() + int(match.group(1))]


# -- folders (RFC 3501 6.3) -----------------------------------------------------------------------------------


def test_deleting_a_folder_with_subfolders_is_refused_and_keeps_them(server: Daemon) -> None:
    with Wire(server) as wire:
        parent = new_folder(wire, plain("in parent"))
        wire.ok(f"CREATE {parent}/Child")
        assert code(wire.no(f"DELETE {parent}")).startswith(b"HASCHILDREN")
        assert names(wire.ok(f'LIST "" "{parent}*"')) == [f'"{parent}"'.encode(), f'"{parent}/Child"'.encode()]
        wire.ok(f"DELETE {parent}/Child")
        wire.ok(f"DELETE {parent}")
        assert names(wire.ok(f'LIST "" "{parent}*"')) == []


def test_rename_creates_missing_superiors_and_refuses_moving_into_itself(server: Daemon) -> None:
    with Wire(server) as wire:
        old = new_folder(wire, plain("travels"))
        wire.ok(f"CREATE {old}/Sub")
        wire.ok(f"RENAME {old} New{old}/Deep/{old}")
        listed = [name.decode() for name in names(wire.ok(f'LIST "" "New{old}*"'))]
        assert listed == [f'"New{old}"', f'"New{old}/Deep"', f'"New{old}/Deep/{old}"', f'"New{old}/Deep/{old}/Sub"']
        assert b"MESSAGES 1" in wire.ok(f"STATUS New{old}/Deep/{old} (MESSAGES)")[0]
        wire.no(f"RENAME New{old} New{old}/Deep/Inside")
        wire.no(f"RENAME New{old} INBOX")


def test_renaming_inbox_moves_its_messages_and_leaves_it_empty(server: Daemon) -> None:
    with Wire(server, user=USER, password=USER_PASSWORD) as wire:
        wire.append("INBOX", plain("old inbox mail"))
        wire.ok("RENAME INBOX Saved")
        assert b"MESSAGES 0" in wire.ok("STATUS INBOX (MESSAGES)")[0]
        assert b"MESSAGES 1" in wire.ok("STATUS Saved (MESSAGES)")[0]


def test_list_wildcards_percent_stays_on_one_level_and_star_descends(server: Daemon) -> None:
    with Wire(server) as wire:
        top = new_folder(wire)
        wire.ok(f"CREATE {top}/a/b")
        wire.ok(f"CREATE {top}/ab")
        assert names(wire.ok(f'LIST "" "{top}/%"')) == [f'"{top}/a"'.encode(), f'"{top}/ab"'.encode()]
        assert len(names(wire.ok(f'LIST "" "{top}/*"'))) == 3
        assert names(wire.ok(f'LIST "{top}/" "a%"')) == [f'"{top}/a"'.encode(), f'"{top}/ab"'.encode()]
        assert names(wire.ok('LIST "" "iNbOx"')) == [b'"INBOX"']
        assert untagged(wire.ok('LIST "" ""'), b"LIST") == [b'* LIST (\\Noselect) "/" ""']
        hierarchy = untagged(wire.ok(f'LIST "" "{top}/a"'), b"LIST")[0]
        assert b"\\HasChildren" in hierarchy
        assert names(wire.ok(f'LIST "" "{top.lower()}"')) == []  # other names are case-sensitive


def test_status_reports_counts_without_selecting(server: Daemon) -> None:
    with Wire(server) as wire:
        name = new_folder(wire, plain("a"), plain("b"), plain("c"))
        wire.ok(f"SELECT {name}")
        wire.ok("STORE 2 +FLAGS (\\Seen)")
        wire.ok("UNSELECT")
        status = wire.ok(f"STATUS {name} (MESSAGES RECENT UIDNEXT UIDVALIDITY UNSEEN)")[0]
        assert re.fullmatch(
            rb'\* STATUS "?%b"? \(MESSAGES 3 RECENT 0 UIDNEXT 4 UIDVALIDITY \d+ UNSEEN 2\)\r\n' % name.encode(), status
        )
        wire.bad(f"STATUS {name} (BOGUS)")
        assert code(wire.no("STATUS NoSuchFolder (MESSAGES)")).startswith(b"NONEXISTENT")


def test_append_keeps_flags_keywords_and_date_which_survive_a_restart(fresh_daemon: Callable[..., Daemon]) -> None:
    daemon = fresh_daemon()
    with Wire(daemon) as wire:
        wire.append("Drafts", plain("dated"), '(\\Draft $Todo) " 7-Feb-1994 21:52:25 -0800" ')
        wire.append("Drafts", plain("now"))
    daemon.restart()
    with Wire(daemon) as wire:
        wire.ok("SELECT Drafts")
        fetched = untagged(wire.ok("FETCH 1:2 (FLAGS INTERNALDATE)"), b"FETCH")
    # never selected before: \Recent in this first session (RFC 3501 2.3.2)
    assert fetched[0] == b'* 1 FETCH (FLAGS ($Todo \\Draft \\Recent) INTERNALDATE "08-Feb-1994 05:52:25 +0000")'
    assert b"FLAGS (\\Recent)" in fetched[1]


# -- FETCH (RFC 3501 6.4.5, 7.4.2) ----------------------------------------------------------------------------


def test_every_fetch_item_of_a_multipart_8bit_message(server: Daemon) -> None:
    message = eight_bit("Grüße")
    with Wire(server) as wire:
        name = new_folder(wire, message)
        wire.ok(f"EXAMINE {name}")
        response = untagged(
            wire.ok(
                "FETCH 1 (BODYSTRUCTURE BODY ENVELOPE RFC822.SIZE BODY.PEEK[1]<7.10> BODY.PEEK[2.MIME] "
                "BODY.PEEK[HEADER.FIELDS (SUBJECT FROM)] BODY.PEEK[HEADER.FIELDS.NOT (SUBJECT FROM)] RFC822.HEADER)"
            ),
            b"FETCH",
        )[0]
        header, _, text = message.partition(b"\r\n\r\n")
        part1 = "Bonjour, ça marche ? 日本語".encode()
        assert b'("text" "plain" ("charset" "utf-8") NIL NIL "8bit" %d 0 NIL NIL NIL NIL)' % len(part1) in response
        assert b'"mixed" ("boundary" "XYZ") NIL NIL NIL)' in response
        assert b'BODY (("text" "plain" ("charset" "utf-8") NIL NIL "8bit" %d 0)("application"' % len(part1) in response
        assert b"RFC822.SIZE %d" % len(message) in response
        assert literal_of(response, b"BODY[1]<7>") == part1[7:17]
        assert literal_of(response, b"BODY[2.MIME]").startswith(b'Content-Type: application/pdf; name="Report.PDF"')
        subject_from = literal_of(response, b"BODY[HEADER.FIELDS (SUBJECT FROM)]")
        assert subject_from == "From: Zoé <zoe@remote.example>\r\nSubject: Grüße\r\n\r\n".encode()
        assert literal_of(response, b"BODY[HEADER.FIELDS.NOT (SUBJECT FROM)]").startswith(b"To: demo@")
        assert literal_of(response, b"RFC822.HEADER") == header + b"\r\n\r\n"
        assert literal_of(response, b"ENVELOPE (NIL") == "Grüße".encode()
        full = untagged(wire.ok("FETCH 1 (RFC822.TEXT)"), b"FETCH")[0]
        assert literal_of(full, b"RFC822.TEXT") == text
        assert b"\\Seen" not in full  # EXAMINE: read-only, nothing is marked seen
        for macro, items in [("ALL", 4), ("FAST", 3), ("FULL", 5)]:
            line = untagged(wire.ok(f"FETCH 1 {macro}"), b"FETCH")[0]
            found = re.findall(rb"(FLAGS|INTERNALDATE|RFC822\.SIZE|ENVELOPE|BODY) ", line)
            assert len(found) == items, (macro, line)
        wire.bad("FETCH 1 (BODY[3.X])")
        wire.bad("FETCH 1 (NOSUCHITEM)")


def test_large_message_is_streamed_exactly_with_partial_ranges(server: Daemon) -> None:
    body = b"".join(b"line %07d %s\r\n" % (n, secrets.token_hex(20).encode()) for n in range(60_000))
    message = b"Subject: big\r\nFrom: a@b.example\r\n\r\n" + body
    with Wire(server) as wire:
        name = new_folder(wire, message)
        wire.ok(f"SELECT {name}")
        whole = untagged(wire.ok("FETCH 1 (BODY.PEEK[] BODY.PEEK[]<1000000.100> BODY.PEEK[HEADER])"), b"FETCH")[0]
        assert literal_of(whole, b"BODY[]") == message
        assert literal_of(whole, b"BODY[]<1000000>") == message[1_000_000:1_000_100]
        assert literal_of(whole, b"BODY[HEADER]") == b"Subject: big\r\nFrom: a@b.example\r\n\r\n"
        text = untagged(wire.ok("FETCH 1 (BODY[TEXT]<10.20> BODY[TEXT])"), b"FETCH")[0]
        assert literal_of(text, b"BODY[TEXT]<10>") == body[10:30]
        assert literal_of(text, b"BODY[TEXT]") == body
        assert b"FLAGS (\\Recent \\Seen)" in text  # recent in this, the first session to select it
        assert literal_of(untagged(wire.ok("FETCH 1 BODY[]<99999999.10>"), b"FETCH")[0], b"BODY[]<99999999>") == b""


def test_store_sets_adds_and_removes_flags_and_keywords(server: Daemon) -> None:
    with Wire(server) as wire:
        name = new_folder(wire, plain("flags"))
        wire.ok(f"EXAMINE {name}")  # looks without taking \Recent (RFC 3501 6.3.2) ...
        wire.ok(f"SELECT {name}")  # ... so it is recent here; STORE cannot change it (2.3.2)
        stored = untagged(wire.ok("STORE 1 FLAGS (\\Seen $Work)"), b"FETCH")
        assert stored == [b"* 1 FETCH (FLAGS ($Work \\Recent \\Seen))"]
        assert untagged(wire.ok("STORE 1 +FLAGS.SILENT (\\Answered)"), b"FETCH") == []
        stored = untagged(wire.ok("STORE 1 -FLAGS (\\Seen \\Recent)"), b"FETCH")
        assert stored == [b"* 1 FETCH (FLAGS ($Work \\Answered \\Recent))"]
        stored = untagged(wire.ok("UID STORE 1 -FLAGS ($Work)"), b"FETCH")
        assert stored == [b"* 1 FETCH (FLAGS (\\Answered \\Recent) UID 1)"]
        wire.bad("STORE 1 +FLAGS (\\Bogus)")
        wire.bad("STORE 1 FROB (\\Seen)")
        assert b"\\Answered" in untagged(wire.ok("FETCH 1 FLAGS"), b"FETCH")[0]
        flags = untagged(wire.ok(f"SELECT {name}"), b"FLAGS")[0]
        assert b"$Work" not in flags  # no message carries it any more


def test_maildir_file_names_follow_the_flags(server: Daemon) -> None:
    with Wire(server) as wire:
        name = new_folder(wire, plain("named"))
        wire.ok(f"SELECT {name}")
        wire.ok("STORE 1 +FLAGS (\\Seen \\Flagged $Keyword)")
        files = [p.name for p in (store_of(server, name) / "cur").iterdir()]
        assert len(files) == 1 and files[0].endswith(":2,FS")
        wire.ok("STORE 1 -FLAGS (\\Flagged)")
        assert [p.name for p in (store_of(server, name) / "cur").iterdir()][0].endswith(":2,S")


def test_uids_only_go_up_even_after_expunge_and_restart(fresh_daemon: Callable[..., Daemon]) -> None:
    daemon = fresh_daemon()
    with Wire(daemon) as wire:
        for n in range(3):
            wire.append("Archive", plain(f"u{n}"))
        wire.ok("SELECT Archive")
        wire.ok("STORE 2:3 +FLAGS (\\Deleted)")
        wire.ok("EXPUNGE")
    daemon.restart()
    with Wire(daemon) as wire:
        assert code(wire.append("Archive", plain("after"))[-1]).endswith(b" 4")
        wire.ok("SELECT Archive")
        assert untagged(wire.ok("UID SEARCH ALL"), b"SEARCH") == [b"* SEARCH 1 4"]


# -- SEARCH (RFC 3501 6.4.4) ----------------------------------------------------------------------------------


def test_search_keys_and_charsets(server: Daemon) -> None:
    with Wire(server) as wire:
        name = new_folder(wire, plain("alpha"), eight_bit("Grüße aus Köln"), plain("gamma" * 40))
        wire.ok(f"SELECT {name}")
        wire.ok("STORE 1 +FLAGS ($Sale \\Answered)")

        def search(keys: str | bytes) -> bytes:
            return untagged(wire.ok(b"SEARCH " + (keys.encode() if isinstance(keys, str) else keys)), b"SEARCH")[0]

        assert search("KEYWORD $Sale") == b"* SEARCH 1"
        assert search("UNKEYWORD $Sale UNANSWERED") == b"* SEARCH 2 3"
        assert search("FROM zoe") == b"* SEARCH 2"
        assert search('HEADER Message-ID "alpha@"') == b"* SEARCH 1"
        assert search("SENTON 7-Feb-1994") == b"* SEARCH 1 3"
        assert search(f"LARGER {len(plain('alpha'))} SMALLER 100000") == b"* SEARCH 2 3"
        assert search("NEW") == b"* SEARCH 1 2 3"  # recent (first session to select) and unseen
        assert search("OLD") == b"* SEARCH"
        assert search("ALL NOT 2") == b"* SEARCH 1 3"
        assert search("CHARSET US-ASCII SUBJECT gamma") == b"* SEARCH 3"
        assert search("CHARSET US-ASCII FROM {3+}\r\nZOE") == b"* SEARCH 2"
        assert search(b"CHARSET UTF-8 SUBJECT {5+}\r\n" + "Köln".encode()) == b"* SEARCH 2"
        assert code(wire.no("SEARCH CHARSET KOI8-R ALL")).startswith(b"BADCHARSET")
        wire.bad("SEARCH NOSUCHKEY")


def test_a_repeated_header_search_sees_new_and_expunged_messages(server: Daemon) -> None:
    """The second search on a header answers from what the first one read; it must stay exact."""

    def tagged(subject: str, team: str) -> bytes:
        return plain(subject).replace(b"\r\n\r\n", f"\r\nX-Team: {team}\r\n\r\n".encode(), 1)

    with Wire(server) as wire:
        name = new_folder(wire, tagged("one", "north"), tagged("two", "south"), plain("three"))
        wire.ok(f"SELECT {name}")

        def search(keys: str) -> bytes:
            return untagged(wire.ok(f"UID SEARCH {keys}"), b"SEARCH")[0]

        assert search("HEADER X-Team north") == search("HEADER X-Team north") == b"* SEARCH 1"
        assert search('HEADER X-Team ""') == b"* SEARCH 1 2"
        wire.append(name, tagged("four", "north"))
        wire.ok("NOOP")
        assert search("HEADER X-Team north") == b"* SEARCH 1 4"
        wire.ok("UID STORE 1 +FLAGS.SILENT (\\Deleted)")
        wire.ok("EXPUNGE")
        assert search("HEADER X-Team north") == b"* SEARCH 4"
        assert search('NOT HEADER X-Team ""') == b"* SEARCH 3"


def test_check_noop_and_logout(server: Daemon) -> None:
    with Wire(server) as wire:
        wire.ok("SELECT INBOX")
        wire.ok("CHECK")
        wire.ok("NOOP")
        lines = wire.ok("LOGOUT")
        assert lines[0].startswith(b"* BYE")
        assert wire.file.read() == b""


def test_select_reads_the_index_not_the_message_files(server: Daemon) -> None:
    """Summaries stored at delivery answer ENVELOPE and BODYSTRUCTURE; only bodies need the files."""
    with Wire(server) as wire:
        name = new_folder(wire, plain("kept in the index"), plain("second"))
        for path in store_of(server, name).rglob("*,S=*"):
            os.unlink(path)  # as if the disk lost them: the index still knows the messages
        assert b"2 EXISTS" in b"".join(wire.ok(f"SELECT {name}"))
        meta = untagged(wire.ok("FETCH 1:2 (FLAGS RFC822.SIZE ENVELOPE BODYSTRUCTURE)"), b"FETCH")
        assert len(meta) == 2 and b'"kept in the index"' in meta[0]
        assert code(wire.no("FETCH 1 BODY.PEEK[]")).startswith(b"EXPUNGEISSUED")


def rss_kib(pid: int) -> int:
    match = re.search(r"^VmRSS:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text(), re.M)
    assert match is not None
    return int(match.group(1))


def test_downloading_a_50_mb_folder_keeps_server_memory_bounded(fresh_daemon: Callable[..., Daemon]) -> None:
    """Bodies are streamed as the client reads them: the server never holds the folder (or a message) whole."""
    daemon = fresh_daemon()
    assert daemon.process is not None
    chunk = b"".join(b"%08d %s\r\n" % (n, b"y" * 70) for n in range(1000))  # 80 KB of text
    with Wire(daemon) as wire:
        for n in range(5):
            wire.append("Archive", b"Subject: big %d\r\n\r\n" % n + chunk * 125)  # 10 MB each
        wire.ok("SELECT Archive")
        before = rss_kib(daemon.process.pid)
        wire.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
        wire.send(b"big FETCH 1:* BODY.PEEK[]\r\n")
        received, peak = 0, before
        while True:
            data = wire.sock.recv(256 * 1024)
            assert data, "connection closed"
            received += len(data)
            peak = max(peak, rss_kib(daemon.process.pid))
            if data.endswith(b"big OK FETCH completed\r\n"):
                break
    assert received > 50_000_000
    assert peak - before < 20 * 1024, f"server grew by {peak - before} KiB while sending {received} octets"
