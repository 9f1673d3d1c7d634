"""SORT and THREAD (RFC 5256), with ESORT's RETURN options (RFC 5267) and DISPLAYFROM/DISPLAYTO (RFC 5957).

Both run the search of selected.py, then order what it found, all in one worker thread. The keys come from
the ENVELOPE the index keeps for every message (mail/summary.py), fetched in one query for the messages found:
no message file is opened, except the header of a message the index has no summary for, and for
THREAD=REFERENCES the References field, read once per message and kept in the folder's header cache. Base
subjects and the threading algorithms are pure functions in mail/ (subject.py, threads.py).
"""

from __future__ import annotations

import email.utils
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from twisted.mail.imap4 import IllegalClientResponse

from smb_suite.imap import esearch
from smb_suite.imap.arguments import arg_astring, arg_search
from smb_suite.imap.replies import run
from smb_suite.imap.search import Candidate
from smb_suite.imap.selected import SearchJob, SelectedServer, search_job
from smb_suite.mail import mime, threads
from smb_suite.mail.mime import Value
from smb_suite.mail.subject import base_subject, sort_key
from smb_suite.mail.summary import decode, decode_header

SortKey = bytes | float | int
THREADING = {b"ORDEREDSUBJECT": threads.ordered_subject, b"REFERENCES": threads.references}
CAPABILITIES = (b"SORT", b"SORT=DISPLAY", b"ESORT", *(b"THREAD=" + name for name in THREADING))
_DATE, _SUBJECT, _FROM, _TO, _CC, _IN_REPLY_TO, _MESSAGE_ID = 0, 1, 2, 5, 6, 8, 9  # RFC 3501 7.4.2 ENVELOPE


@dataclass(frozen=True, slots=True)
class Envelope:
    """A found message and its ENVELOPE fields, as SORT and THREAD read them."""

    message: Candidate
    fields: Sequence[Value]

    def text(self, index: int) -> str:
        value = self.fields[index] if index < len(self.fields) else None
        return decode_header(value) if isinstance(value, str) else ""

    def sent(self) -> float:
        """RFC 5256 2.2: the Date field with its zone, or the internal date when there is none that parses."""
        parsed = email.utils.parsedate_tz(self.text(_DATE))
        if parsed is None:
            return float(self.message.internaldate)
        try:
            return float(email.utils.mktime_tz(parsed))
        except (OverflowError, ValueError):
            return float(self.message.internaldate)

    def first_address(self, index: int) -> tuple[str, str, str]:
        """(display name, mailbox, host) of the first address of a field; group markers have no host (RFC 3501
        7.4.2) and are skipped."""
        addresses = self.fields[index] if index < len(self.fields) else None
        for address in addresses if isinstance(addresses, list) else []:
            if isinstance(address, list) and len(address) == 4 and address[3] is not None:
                name, _, mailbox, host = address
                return decode_header(name) if isinstance(name, str) else "", str(mailbox or ""), str(host)
        return "", "", ""

    def mailbox(self, index: int) -> bytes:
        """RFC 5256 3: the addr-mailbox of the first address."""
        return sort_key(self.first_address(index)[1])

    def display(self, index: int) -> bytes:
        """RFC 5957 3: the display name of the first address, or else its addr-spec."""
        name, mailbox, host = self.first_address(index)
        return sort_key(name or (f"{mailbox}@{host}" if mailbox else ""))


KEYS: dict[str, Callable[[Envelope], SortKey]] = {  # RFC 5256 3, RFC 5957 3
    "ARRIVAL": lambda e: e.message.internaldate,
    "CC": lambda e: e.mailbox(_CC),
    "DATE": Envelope.sent,
    "FROM": lambda e: e.mailbox(_FROM),
    "SIZE": lambda e: e.message.size,
    "SUBJECT": lambda e: sort_key(base_subject(e.text(_SUBJECT)).text),
    "TO": lambda e: e.mailbox(_TO),
    "DISPLAYFROM": lambda e: e.display(_FROM),
    "DISPLAYTO": lambda e: e.display(_TO),
}
Criteria = tuple[tuple[str, bool], ...]  # (key, reversed), most significant first


def arg_criteria(server: object, line: bytes | None) -> tuple[Criteria, bytes]:
    """`(REVERSE DATE SUBJECT)`: sort keys, each optionally preceded by REVERSE (RFC 5256 4)."""
    text = line or b""
    end = text.find(b")")
    if not text.startswith(b"(") or end < 0:
        raise IllegalClientResponse("SORT needs a parenthesised list of sort criteria")
    words = text[1:end].decode("ascii", "replace").upper().split()
    criteria: list[tuple[str, bool]] = []
    reverse = False
    for word in words:
        if word == "REVERSE" and not reverse:
            reverse = True
        elif word in KEYS:
            criteria.append((word, reverse))
            reverse = False
        else:
            raise IllegalClientResponse(f"unknown sort criterion {word}")
    if reverse or not criteria:
        raise IllegalClientResponse("a sort criterion is missing")
    return tuple(criteria), text[end + 1 :].lstrip(b" ")


def arg_algorithm(server: object, line: bytes | None) -> tuple[bytes, bytes]:
    algorithm, _, rest = (line or b"").partition(b" ")
    if algorithm.upper() not in THREADING:
        raise IllegalClientResponse(f"unknown threading algorithm {algorithm.decode('ascii', 'replace')[:40]}")
    return algorithm.upper(), rest


def envelopes(job: SearchJob) -> list[Envelope]:
    """In a worker thread: the messages the search finds, with their ENVELOPE from the index (or, for a message
    stored without a summary, from its header)."""
    found = job.run()
    stored = job.store.summaries(job.state.mailbox, [message.uid for message in found])
    result = []
    for message in found:
        summary = stored.get(message.uid)
        fields = decode(summary.envelope) if summary is not None else mime.envelope(mime.parse(message.header()))
        result.append(Envelope(message, fields if isinstance(fields, list) else []))
    return result


def sort(job: SearchJob, criteria: Criteria) -> list[Candidate]:
    """RFC 5256 3: by each key in turn; messages equal on every key stay in mailbox order."""
    found = envelopes(job)
    for key, reverse in reversed(criteria):  # a stable sort per key, least significant first
        keys = {id(envelope): KEYS[key](envelope) for envelope in found}
        found.sort(key=lambda envelope: keys[id(envelope)], reverse=reverse)
    return [envelope.message for envelope in found]


def thread(job: SearchJob, algorithm: bytes, uid: bool) -> bytes:
    found = envelopes(job)
    with_references = algorithm == b"REFERENCES"
    messages = [
        threads.Threadable(
            e.message.uid if uid else e.message.seq,
            e.sent(),
            e.text(_SUBJECT),
            e.text(_MESSAGE_ID),
            " ".join(e.message.header_values("references")) if with_references else None,
            e.text(_IN_REPLY_TO),
        )
        for e in found
    ]
    return threads.wire(THREADING[algorithm](messages))


class SortCommands:
    """The command table entries of SORT and THREAD, inherited by the server class."""

    def do_SORT(
        self: SelectedServer,
        tag: bytes,
        returns: frozenset[str] | None,
        criteria: Criteria,
        charset: bytes,
        query: list[Any],
        uid: int = 0,
    ) -> None:
        async def work() -> None:
            job = search_job(self, charset, query)
            ordered = await self.services.runner.read(sort, job, criteria)
            numbers = [message.uid if uid else message.seq for message in ordered]
            if returns is not None:  # RFC 5267 3: ESORT answers in ESEARCH form, ALL in sort order
                self.sendUntaggedResponse(esearch.response(tag, bool(uid), returns, numbers))
                return
            self.sendUntaggedResponse(b"SORT" + b"".join(b" %d" % number for number in numbers))

        run(self, tag, work, b"SORT completed")

    def do_THREAD(
        self: SelectedServer, tag: bytes, algorithm: bytes, charset: bytes, query: list[Any], uid: int = 0
    ) -> None:
        async def work() -> None:
            job = search_job(self, charset, query)
            found = await self.services.runner.read(thread, job, algorithm, bool(uid))
            self.sendUntaggedResponse(b"THREAD " + found if found else b"THREAD")

        run(self, tag, work, b"THREAD completed")

    select_SORT = (do_SORT, esearch.opt_return, arg_criteria, arg_astring, arg_search)
    select_THREAD = (do_THREAD, arg_algorithm, arg_astring, arg_search)
