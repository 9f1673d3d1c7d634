"""ESEARCH (RFC 4731): the RETURN options of SEARCH and the `* ESEARCH` response that answers them.

Pure and shared: SEARCH answers with it when the client asked for RETURN options, SORT when it asked for
ESORT's (RFC 5267), and IMAP4rev2 (RFC 9051 7.3.4) for every SEARCH. Numbers are given in result order
(ascending for SEARCH, the sort order for SORT): MIN is the first, MAX the last, ALL keeps that order.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from twisted.mail.imap4 import IllegalClientResponse

from smb_suite.imap import syntax
from smb_suite.mail.summary import string

OPTIONS = ("MIN", "MAX", "ALL", "COUNT", "SAVE")  # RFC 4731 3.1 (the response's order), RFC 5182 2.1
_RETURN = re.compile(rb"RETURN \(([^()]*)\)(?: |$)", re.I)


def opt_return(server: object, line: bytes | None) -> tuple[frozenset[str] | None, bytes | None]:
    """Argument parser: `RETURN (options)` before the search criteria (RFC 4731 4); None when absent.
    `RETURN ()` means ALL (RFC 4731 3.1); an option we do not know is BAD."""
    match = None if line is None else _RETURN.match(line)
    if match is None:
        return None, line
    assert line is not None
    options = frozenset(match.group(1).decode("ascii", "replace").upper().split()) or frozenset({"ALL"})
    unknown = options.difference(OPTIONS)
    if unknown:
        raise IllegalClientResponse(f"unknown RETURN option {sorted(unknown)[0]}")
    return options, line[match.end() :]


def response(
    tag: bytes, uid: bool, options: frozenset[str], numbers: Sequence[int], modseqs: Sequence[int] | None = None
) -> bytes:
    """The `ESEARCH` response (after "* "), RFC 4731 3.1 and 4: MIN, MAX and ALL are left out when nothing
    matched, COUNT is then 0. `modseqs` (one per number) when the search used MODSEQ: RFC 4731 3.2 adds the
    mod-sequence of the one message MIN or MAX returned, else the highest of those returned."""
    parts = [b"ESEARCH (TAG %b)" % string(tag)]
    if uid:
        parts.append(b"UID")
    if numbers:
        if "MIN" in options:
            parts.append(b"MIN %d" % numbers[0])
        if "MAX" in options:
            parts.append(b"MAX %d" % numbers[-1])
        if "ALL" in options:
            parts.append(b"ALL " + syntax.compact(numbers))
    if "COUNT" in options:
        parts.append(b"COUNT %d" % len(numbers))
    if modseqs and numbers:
        parts.append(b"MODSEQ %d" % _modseq(options, modseqs))
    return b" ".join(parts)


def saved(options: frozenset[str], uids: Sequence[int]) -> list[int]:
    """The UIDs RETURN (SAVE ...) keeps for "$", ascending (RFC 5182 2.1): with MIN and/or MAX but neither ALL
    nor COUNT, only the messages they name; else every message found."""
    if options.isdisjoint({"ALL", "COUNT"}) and not options.isdisjoint({"MIN", "MAX"}) and uids:
        return sorted({*([uids[0]] if "MIN" in options else []), *([uids[-1]] if "MAX" in options else [])})
    return sorted(uids)


def _modseq(options: frozenset[str], modseqs: Sequence[int]) -> int:
    if options.isdisjoint({"ALL", "COUNT"}):  # only MIN and/or MAX: the messages they name
        returned = ([modseqs[0]] if "MIN" in options else []) + ([modseqs[-1]] if "MAX" in options else [])
        return max(returned)
    return max(modseqs)
