"""QRESYNC (RFC 7162 3.2): a client back after a while learns, in its SELECT, what changed and what vanished.

- `select_params` reads SELECT/EXAMINE's parameters: CONDSTORE, and QRESYNC (uidvalidity modseq [known-uids
  [(known-sequence-set known-uid-set)]]).
- `resync` sends, for a matching UIDVALIDITY, a FETCH (UID FLAGS MODSEQ) for every known message changed since
  the client's mod-sequence, then `VANISHED (EARLIER)` for the known UIDs removed since (RFC 7162 3.2.5.1).
- `send_vanished_earlier` does the same for UID FETCH ... (CHANGEDSINCE n VANISHED) (RFC 7162 3.2.6).
The store remembers expunged UIDs with their mod-sequence (storage/index.vanish), a bounded number per folder;
when the client's mod-sequence is older than what it still remembers, every known UID that is not in the folder
counts as vanished (a superset is allowed: RFC 7162 3.2.5.1 lets the server report UIDs the client never had).
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from twisted.mail.imap4 import IllegalClientResponse

from smb_suite.imap import syntax, wire
from smb_suite.imap.mailbox import MailboxView
from smb_suite.services import Services

Ranges = list[tuple[int, int]]  # inclusive, ascending, disjoint


@dataclass(frozen=True, slots=True)
class Resync:
    """SELECT's QRESYNC parameter (RFC 7162 3.2.5). The sequence match data is checked for syntax only: the
    index remembers expunged UIDs, so it is not needed to tell what vanished."""

    uidvalidity: int
    modseq: int
    known: syntax.SequenceSet | None


@dataclass(frozen=True, slots=True)
class SelectParams:
    condstore: bool = False
    qresync: Resync | None = None


def select_params(line: bytes) -> SelectParams:
    """RFC 4466 select-params: (CONDSTORE) (RFC 7162 3.1.8) and (QRESYNC (...)) (RFC 7162 3.2.5)."""
    if not line.strip():
        return SelectParams()
    items = syntax.tokens(line)
    if len(items) != 1 or not isinstance(items[0], list):
        raise IllegalClientResponse("SELECT parameters must be a parenthesised list")
    condstore, resync = False, None
    params = items[0]
    position = 0
    while position < len(params):
        name = params[position]
        word = name.upper() if isinstance(name, bytes) else b""
        if word == b"CONDSTORE":
            condstore = True
        elif word == b"QRESYNC" and position + 1 < len(params) and resync is None:
            position += 1
            resync = _resync(params[position])
        else:
            raise IllegalClientResponse("unknown SELECT parameter")
        position += 1
    return SelectParams(condstore, resync)


def _resync(value: object) -> Resync:
    if not isinstance(value, list) or not 2 <= len(value) <= 4:
        raise IllegalClientResponse("QRESYNC takes (uidvalidity modseq [known-uids [seq-match-data]])")
    uidvalidity = syntax.number(value[0], "UIDVALIDITY")
    modseq = syntax.number(value[1], "mod-sequence")
    if not 0 < uidvalidity <= 0xFFFFFFFF or modseq == 0:
        raise IllegalClientResponse("UIDVALIDITY and mod-sequence are positive numbers")
    known = None
    if len(value) > 2:
        if not isinstance(value[2], bytes):
            raise IllegalClientResponse("known UIDs are a sequence set")
        known = syntax.sequence_set(value[2])
    if len(value) > 3:
        match = value[3]
        if not (isinstance(match, list) and len(match) == 2 and all(isinstance(part, bytes) for part in match)):
            raise IllegalClientResponse("sequence match data is (known-sequence-set known-uid-set)")
        for part in match:
            syntax.sequence_set(part)
    return Resync(uidvalidity, modseq, known)


class ResyncServer(Protocol):
    """What QRESYNC needs from the session (session.IMAPSession)."""

    @property
    def services(self) -> Services: ...
    def send_untagged_many(self, messages: list[bytes], is_async: bool = False) -> None: ...


async def resync(server: ResyncServer, view: MailboxView, resync: Resync) -> None:
    """RFC 7162 3.2.5.1: the changes since the client's mod-sequence, once SELECT's usual responses are out."""
    if resync.uidvalidity != view.mailbox.uidvalidity:
        return  # the client's copy is of another folder: it learns so from UIDVALIDITY and starts over
    uids = view.uids()
    known = _known(resync.known, view)
    lines = []
    for seq, uid in enumerate(uids, 1):
        message = view.message(uid)
        if message is not None and message.modseq > resync.modseq and _within(known, uid):
            flags = wire.flag_list(message.flags)
            lines.append(b"%d FETCH (UID %d FLAGS %b MODSEQ (%d))" % (seq, uid, flags, message.modseq))
    server.send_untagged_many(lines)
    await send_vanished_earlier(server, view, known, resync.modseq)


async def send_vanished_earlier(server: ResyncServer, view: MailboxView, known: Ranges, modseq: int) -> None:
    """`VANISHED (EARLIER)` for the UIDs of `known` removed since `modseq` (RFC 7162 3.2.5.1, 3.2.6)."""
    services = server.services
    remembered = await services.runner.read(services.store.vanished_since, view.mailbox, modseq)
    if remembered is None:
        gone = _absent(known, view.uids())
    else:
        gone = [(uid, uid) for uid in remembered if _within(known, uid)]
    if gone:
        server.send_untagged_many([b"VANISHED (EARLIER) " + _set(gone)])


def uid_ranges(ranges: syntax.SequenceSet, view: MailboxView) -> Ranges:
    """A UID set as ranges, '*' being the highest UID the folder ever handed out."""
    return syntax.resolve(ranges, max(view.mailbox.uidnext - 1, 1))


def _known(ranges: syntax.SequenceSet | None, view: MailboxView) -> Ranges:
    return uid_ranges(ranges if ranges is not None else ((1, syntax.STAR),), view)


def _within(known: Ranges, uid: int) -> bool:
    position = bisect.bisect_right(known, (uid, 0xFFFFFFFF)) - 1
    return position >= 0 and known[position][0] <= uid <= known[position][1]


def _absent(known: Ranges, present: Sequence[int]) -> Ranges:
    """The parts of `known` holding none of the (ascending) UIDs `present`: no loop over absent UIDs."""
    gaps: Ranges = []
    for low, high in known:
        start = low
        position = bisect.bisect_left(present, low)
        while position < len(present) and present[position] <= high:
            if present[position] > start:
                gaps.append((start, present[position] - 1))
            start = present[position] + 1
            position += 1
        if start <= high:
            gaps.append((start, high))
    return gaps


def _set(ranges: Ranges) -> bytes:
    """Ascending ranges as a sequence set, adjacent ones joined: [(1, 1), (2, 4), (7, 7)] -> b"1:4,7"."""
    return syntax.compact([uid for low, high in ranges for uid in range(low, high + 1)])
