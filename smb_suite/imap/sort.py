"""SORT and THREAD (RFC 5256), with ESORT's RETURN options (RFC 5267) and DISPLAYFROM/DISPLAYTO (RFC 5957).

Both run the search of selected.py, then order what it found, all in one worker thread. The keys come from
the ENVELOPE the index keeps for every message (mail/summary.py), fetched in one query for the messages not yet
seen and kept per message with the folder's state (mail/sortfields.py): no message file is opened, except the
header of a message the index has no summary for (and for THREAD=REFERENCES, the References of a message stored
before the index kept them, read once and kept in the folder's header cache). Base subjects and the threading
algorithms are pure functions in mail/ (subject.py, threads.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twisted.mail.imap4 import IllegalClientResponse

from smb_suite.imap import esearch
from smb_suite.imap.arguments import arg_astring, arg_search
from smb_suite.imap.replies import run
from smb_suite.imap.search import Candidate
from smb_suite.imap.selected import SearchJob, SelectedServer, answer_found, forget_saved, search_job
from smb_suite.mail import mime, threads
from smb_suite.mail.sortfields import SortFields, sort_fields
from smb_suite.mail.summary import decode

SortKey = bytes | float | int
THREADING = {b"ORDEREDSUBJECT": threads.ordered_subject, b"REFERENCES": threads.references}
CAPABILITIES = (b"SORT", b"SORT=DISPLAY", b"ESORT", *(b"THREAD=" + name for name in THREADING))
Found = tuple[Candidate, SortFields]
KEYS: dict[str, Callable[[Found], SortKey]] = {  # RFC 5256 3, RFC 5957 3
    "ARRIVAL": lambda found: found[0].internaldate,
    "CC": lambda found: found[1].cc,
    "DATE": lambda found: found[1].sent,
    "FROM": lambda found: found[1].sender,
    "SIZE": lambda found: found[0].size,
    "SUBJECT": lambda found: found[1].base_subject,
    "TO": lambda found: found[1].to,
    "DISPLAYFROM": lambda found: found[1].display_from,
    "DISPLAYTO": lambda found: found[1].display_to,
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


def search_fields(job: SearchJob) -> list[Found]:
    """In a worker thread: the messages the search finds, with their sort fields, kept in the folder's state
    (computed from the ENVELOPE in the index, or for a message stored without one, from its header)."""
    found = job.run()
    known = job.state.sort_fields
    missing = [message for message in found if message.uid not in known]
    if missing:
        stored = job.store.envelopes(job.state.mailbox, [message.uid for message in missing])
        for message in missing:
            envelope, references = stored.get(message.uid, (None, None))
            values = decode(envelope) if envelope is not None else mime.envelope(mime.parse(message.header()))
            fields = sort_fields(values if isinstance(values, list) else [], message.internaldate, references)
            known[message.uid] = fields
    return [(message, known[message.uid]) for message in found]


def sort(job: SearchJob, criteria: Criteria) -> list[Candidate]:
    """RFC 5256 3: by each key in turn; messages equal on every key stay in mailbox order."""
    found = search_fields(job)
    for key, reverse in reversed(criteria):  # a stable sort per key, least significant first
        found.sort(key=KEYS[key], reverse=reverse)
    return [message for message, _ in found]


def thread(job: SearchJob, algorithm: bytes, uid: bool) -> bytes:
    with_references = algorithm == b"REFERENCES"
    messages = [
        threads.Threadable(
            message.uid if uid else message.seq,
            fields.sent,
            fields.subject,
            fields.message_id,
            _references(message, fields) if with_references else None,
            fields.in_reply_to,
        )
        for message, fields in search_fields(job)
    ]
    return threads.wire(THREADING[algorithm](messages))


def _references(message: Candidate, fields: SortFields) -> str:
    """From the index; for a message stored before it kept them, from the header (cached with the folder)."""
    if fields.references is not None:
        return fields.references
    return " ".join(message.header_values("references"))


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
        forget_saved(self, returns)

        async def work() -> None:
            job = search_job(self, charset, query)
            ordered = await self.services.runner.read(sort, job, criteria)
            # RFC 5267 3: ESORT answers in ESEARCH form, MIN/MAX the first/last in sort order, ALL in sort order
            answer_found(self, tag, b"SORT", bool(uid), returns, ordered, job.with_modseq)

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
