"""MULTIAPPEND (RFC 3502): several messages in one APPEND are all kept, with one APPENDUID naming their UIDs,
or none is kept (a message over APPENDLIMIT, the quota, a malformed message argument), on the wire."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime

import pytest
from imapclient import IMAPClient

from tests.daemon import OWNER, OWNER_PASSWORD, Daemon
from tests.imapwire import Wire, code, untagged

LIMIT = 100_000  # this daemon's APPENDLIMIT
QUOTA = '[tiers.starter]\nstorage_mb = 1\n[tiers.plus]\nstorage_mb = 100\n[quota]\ndefault_tier = "starter"\n'
pytestmark = pytest.mark.daemon(f"[smtp]\nmax_message_size = {LIMIT}\n{QUOTA}", services=("smtp", "imap"))


def message(subject: str, size: int = 0) -> bytes:
    head = f"From: a@x.test\r\nSubject: {subject}\r\n\r\n".encode()
    return head + b"x" * max(0, size - len(head) - 2) + b"\r\n"


def literal(data: bytes) -> bytes:
    return b"{%d+}\r\n%b" % (len(data), data)


def new_folder(wire: Wire) -> str:
    name = f"M{secrets.token_hex(4)}"
    wire.ok(f"CREATE {name}")
    return name


def count(wire: Wire, name: str) -> int:
    return int(untagged(wire.ok(f"STATUS {name} (MESSAGES)"), b"STATUS")[0].rsplit(b" ", 1)[1].rstrip(b")"))


def test_capability_advertises_multiappend(server: Daemon) -> None:
    with Wire(server) as wire:
        assert b"MULTIAPPEND" in untagged(wire.ok("CAPABILITY"), b"CAPABILITY")[0].split()


def test_several_messages_are_kept_in_order_with_their_flags_dates_and_one_appenduid(server: Daemon) -> None:
    """RFC 3502 6.3.11: each message takes its own flags and date; RFC 4315 3: APPENDUID with a UID set."""
    with Wire(server) as wire:
        name = new_folder(wire)
        first, second, third = message("one"), message("two"), message("three")
        command = b'APPEND %b (\\Seen) %b (\\Flagged) "01-Feb-2024 10:00:00 +0000" %b %b' % (
            name.encode(),
            literal(first),
            literal(second),
            literal(third),
        )
        done = wire.ok(command)[-1]
        uidvalidity = untagged(wire.ok(f"STATUS {name} (UIDVALIDITY)"), b"STATUS")[0].rsplit(b" ", 1)[1]
        assert code(done) == b"APPENDUID %b 1:3" % uidvalidity.rstrip(b")")
        wire.ok(f"SELECT {name}")
        fetched = untagged(wire.ok("FETCH 1:3 (FLAGS INTERNALDATE BODY.PEEK[HEADER.FIELDS (SUBJECT)])"), b"FETCH")
        assert [b"Subject: one" in f for f in fetched] == [True, False, False]
        assert b"Subject: three" in fetched[2]
        # new to this, the first session to select the folder: \Recent too (RFC 3501 2.3.2)
        assert b"FLAGS (\\Recent \\Seen)" in fetched[0] and b"FLAGS (\\Flagged \\Recent)" in fetched[1]
        assert b"FLAGS (\\Recent)" in fetched[2]
        assert b'INTERNALDATE "01-Feb-2024 10:00:00 +0000"' in fetched[1]


def test_synchronizing_literals_each_wait_for_their_continuation(server: Daemon) -> None:
    """RFC 3502 6.3.11 with RFC 3501 synchronizing literals: one `+` per message."""
    with Wire(server) as wire:
        name = new_folder(wire)
        first, second = message("sync one"), message("sync two")
        wire.send(b"s1 APPEND %b {%d}\r\n" % (name.encode(), len(first)))
        assert wire.response().startswith(b"+ ")
        wire.send(first + b" {%d}\r\n" % len(second))
        assert wire.response().startswith(b"+ ")
        wire.send(second + b"\r\n")
        assert code(wire.until(b"s1")[-1]).endswith(b" 1:2")
        assert count(wire, name) == 2


def test_a_message_over_appendlimit_keeps_none_and_is_refused_before_it_is_sent(server: Daemon) -> None:
    """RFC 3502 6.3.11: if the server cannot keep one message, none is kept; RFC 7889: TOOBIG before its octets."""
    with Wire(server) as wire:
        name = new_folder(wire)
        small = message("small")
        wire.send(b"t1 APPEND %b %b {%d}\r\n" % (name.encode(), literal(small), LIMIT + 1))
        assert code(wire.until(b"t1")[-1]).startswith(b"TOOBIG")
        assert count(wire, name) == 0


def test_a_non_synchronizing_message_over_appendlimit_is_read_away_and_keeps_none(server: Daemon) -> None:
    """RFC 7888 4: the octets of a refused {n+} literal are never taken for commands; the messages after it too."""
    with Wire(server) as wire:
        name = new_folder(wire)
        junk = b"x NOOP\r\n" * (LIMIT // 8 + 1)
        wire.send(
            b"t2 APPEND %b %b %b %b\r\nnext NOOP\r\n"
            % (name.encode(), literal(message("a")), literal(junk), literal(b"y NOOP\r\n"))
        )
        assert code(wire.until(b"t2")[-1]).startswith(b"TOOBIG")
        assert wire.until(b"next") == [b"next OK NOOP completed\r\n"]
        assert count(wire, name) == 0


def test_over_quota_keeps_none_even_when_the_first_messages_would_fit(server: Daemon) -> None:
    """RFC 3502 6.3.11 all or nothing, with the quota charged for all messages at once (RFC 9208 OVERQUOTA)."""
    with Wire(server) as wire:
        name = new_folder(wire)
        big = message("filler", LIMIT - 100)
        stored = 0
        while True:  # fill the 1 MB business quota to its last 100 KB
            lines = wire.command(b"APPEND %b %b" % (name.encode(), literal(big)))
            if b" OK " not in lines[-1]:
                break
            stored += 1
        wire.ok(f"SELECT {name}")
        wire.ok(f"STORE {stored} +FLAGS.SILENT (\\Deleted)")
        wire.ok("EXPUNGE")  # now there is room for one more, not for two
        wire.ok(b"APPEND %b %b" % (name.encode(), literal(big)))
        wire.ok(f"STORE {stored} +FLAGS.SILENT (\\Deleted)")
        wire.ok("EXPUNGE")
        done = wire.command(b"APPEND %b %b %b" % (name.encode(), literal(big), literal(big)))[-1]
        assert code(done).startswith(b"OVERQUOTA")
        assert count(wire, name) == stored - 1


def test_a_malformed_later_message_is_bad_and_keeps_none(server: Daemon) -> None:
    with Wire(server) as wire:
        name = new_folder(wire)
        wire.bad(b"APPEND %b %b (\\Seen) not-a-literal" % (name.encode(), literal(message("a"))))
        wire.bad(b"APPEND %b %b (\\Seen" % (name.encode(), literal(message("a"))))
        assert count(wire, name) == 0
        wire.ok("NOOP")


def test_imapclient_appends_several_messages_in_one_command(server: Daemon) -> None:
    """A real client that uses the extension: IMAPClient.multiappend sends every message in one APPEND (RFC
    3502), so one APPENDUID names the three UIDs; each keeps the flags or the date the client gave it."""
    name = f"M{secrets.token_hex(4)}"
    with IMAPClient("127.0.0.1", port=server.ports["imap"], ssl=False, timeout=30) as client:
        client.normalise_times = False  # INTERNALDATE with its zone
        client.login(OWNER, OWNER_PASSWORD)
        client.create_folder(name)
        saved = datetime(2024, 2, 1, 10, 0, tzinfo=UTC)
        status, answer = client.multiappend(
            name,
            [
                {"msg": message("one"), "flags": [b"\\Flagged"]},
                message("two"),
                {"msg": message("three"), "date": saved},
            ],
        )
        assert status == "OK" and re.match(rb"\[APPENDUID \d+ 1:3\]", answer[-1]), answer
        client.select_folder(name, readonly=True)
        fetched = client.fetch(client.search(), ["FLAGS", "INTERNALDATE", "BODY.PEEK[HEADER.FIELDS (SUBJECT)]"])
        subjects = [fetched[uid][b"BODY[HEADER.FIELDS (SUBJECT)]"].strip() for uid in sorted(fetched)]
        assert subjects == [b"Subject: one", b"Subject: two", b"Subject: three"]
        assert b"\\Flagged" in fetched[1][b"FLAGS"] and b"\\Flagged" not in fetched[2][b"FLAGS"]
        assert fetched[3][b"INTERNALDATE"] == saved
