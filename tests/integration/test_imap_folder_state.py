"""What sessions showing one folder hear about its messages, checked on the wire from the RFC text: \\Recent
(RFC 3501 2.3.2, 6.3.1, 7.3.2), FLAGS when a keyword is new (RFC 3501 7.2.6), mod-sequences that never go
backwards under concurrent STOREs (RFC 7162 3.2), and the order of EXPUNGE and EXISTS after MOVE (RFC 6851 3.3).
"""

from __future__ import annotations

import re
import secrets

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
