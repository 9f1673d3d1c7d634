"""Commands on the selected folder's messages: STORE, COPY, MOVE, EXPUNGE, SEARCH and the UID forms.

- STORE (RFC 3501 6.4.6) with UNCHANGEDSINCE and MODSEQ (RFC 7162 3.1.3); unknown system flags are BAD.
- COPY (RFC 3501 6.4.7) and MOVE (RFC 6851) answer COPYUID (RFC 4315 3); MOVE reports the EXPUNGEs.
- EXPUNGE, and UID EXPUNGE (RFC 4315 2.1) for only the named messages.
- SEARCH over the index and the stored summaries, with MODSEQ (RFC 7162 3.1.5), CHARSET UTF-8/US-ASCII and
  RETURN options (ESEARCH, RFC 4731).
- UID: twisted's do_UID accepts only COPY, FETCH, STORE and SEARCH.
Sequence numbers are resolved against the session's view before anything else happens, so EXPUNGEs of other
sessions reported at the end of a command never shift what the command meant (RFC 3501 7.4.1).
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from twisted.mail.imap4 import IllegalClientResponse, IMAP4Server

from smb_suite.imap import esearch, search, syntax, wire
from smb_suite.imap.arguments import arg_finalastring, arg_line, arg_search, arg_sequence
from smb_suite.imap.errors import UnsupportedCharset
from smb_suite.imap.folder import FolderState
from smb_suite.imap.mailbox import MailboxView
from smb_suite.imap.replies import Responder, run
from smb_suite.services import Services
from smb_suite.storage.paths import checked_name
from smb_suite.storage.store import Identity, MailStore, StoredMessage

CHARSETS = (b"US-ASCII", b"UTF-8")
RESPONSE_BATCH = 2000  # untagged responses per write
UID_COMMANDS = (b"COPY", b"MOVE", b"FETCH", b"STORE", b"SEARCH", b"EXPUNGE", b"SORT", b"THREAD")


class SelectedServer(Responder, Protocol):
    """What the commands on the selected folder need from the server (session.IMAPSession)."""

    @property
    def view(self) -> MailboxView: ...  # the selected folder's view (these commands run in the select state)
    @property
    def services(self) -> Services: ...
    @property
    def condstore(self) -> bool: ...
    @property
    def rev2(self) -> bool: ...  # IMAP4rev2 enabled (RFC 9051): SEARCH answers ESEARCH
    @property
    def names(self) -> wire.MailboxNames: ...  # how folder names travel (UTF-8 under IMAP4rev2)
    def enable_condstore(self) -> None: ...
    def send_untagged_many(self, messages: list[bytes], is_async: bool = False) -> None: ...
    def flush_updates(self) -> None: ...
    def send_expunged(self, gone: list[tuple[int, int]]) -> None: ...
    def dispatchCommand(self, tag: bytes, cmd: bytes, rest: bytes | None, uid: int | None = None) -> None: ...


def _transfer(
    server: SelectedServer, tag: bytes, ranges: syntax.SequenceSet, mailbox: bytes, move: bool, uid: int
) -> None:
    view = server.view
    name = b"MOVE" if move else b"COPY"

    async def work() -> bytes:
        uids = [u for _, u in view.select(ranges, bool(uid))]
        result = await view.transfer(uids, server.names.decode(mailbox), move)
        if not result.pairs:
            return name + b" completed"
        sources, targets = zip(*result.pairs, strict=True)
        code = b"[COPYUID %d %b %b]" % (result.target.uidvalidity, syntax.compact(sources), syntax.compact(targets))
        if not move:
            return code + b" COPY completed"
        server.sendUntaggedResponse(b"OK " + code + b" moved")  # RFC 6851 4.3
        server.send_expunged(view.take_expunged())
        return b"MOVE completed"

    run(server, tag, work, lambda text: text, trycreate=True)


class SelectedCommands:
    """The command table entries of these commands, inherited by the server class."""

    def do_STORE(self: SelectedServer, tag: bytes, ranges: syntax.SequenceSet, rest: bytes, uid: int = 0) -> None:
        view = self.view

        async def work() -> bytes:
            args = syntax.store_args(rest)
            if args.unchanged_since is not None:
                self.enable_condstore()
            chosen = view.select(ranges, bool(uid))
            update = await view.store([u for _, u in chosen], args)
            self.flush_updates()  # a new keyword's FLAGS first (RFC 3501 7.2.6); our FETCHes are then the newest
            condstore = self.condstore
            lines = []
            for seq, message_uid in chosen:
                message = update.messages.get(message_uid)
                if message is None or (args.silent and not condstore):
                    continue
                items = [] if args.silent else [b"FLAGS " + wire.flag_list(view.shown_flags(message))]
                if uid:
                    items.append(b"UID %d" % message_uid)
                if condstore:
                    items.append(b"MODSEQ (%d)" % message.modseq)
                lines.append(b"%d FETCH (%b)" % (seq, b" ".join(items)))
                if len(lines) >= RESPONSE_BATCH:  # one write per batch, and a turn for the others
                    self.send_untagged_many(lines)
                    lines = []
                    await asyncio.sleep(0)
            self.send_untagged_many(lines)
            if update.modified:  # RFC 7162 3.1.3: the ones changed since UNCHANGEDSINCE were left alone
                failed = update.modified if uid else [s for u in update.modified if (s := view.seq_of(u)) is not None]
                return b"[MODIFIED %b] conditional STORE failed for some" % syntax.compact(sorted(failed))
            return b"STORE completed"

        run(self, tag, work, lambda text: text)

    def do_COPY(self: SelectedServer, tag: bytes, ranges: syntax.SequenceSet, mailbox: bytes, uid: int = 0) -> None:
        _transfer(self, tag, ranges, mailbox, False, uid)

    def do_MOVE(self: SelectedServer, tag: bytes, ranges: syntax.SequenceSet, mailbox: bytes, uid: int = 0) -> None:
        _transfer(self, tag, ranges, mailbox, True, uid)

    def do_EXPUNGE(self: SelectedServer, tag: bytes, ranges: syntax.SequenceSet | None = None, uid: int = 0) -> None:
        view = self.view

        async def work() -> None:
            chosen = None if ranges is None else [u for _, u in view.select(ranges, True)]
            self.send_expunged(await view.expunge(chosen))

        run(self, tag, work, b"EXPUNGE completed")

    def do_UID(self: SelectedServer, tag: bytes, command: bytes, line: bytes) -> None:
        command = command.upper()
        if command not in UID_COMMANDS:
            raise IllegalClientResponse(f"UID {command.decode('ascii', 'replace')} is not a command")
        if command == b"EXPUNGE":  # RFC 4315 2.1: a sequence set is required
            ranges, rest = arg_sequence(self, line)
            if rest:
                raise IllegalClientResponse("UID EXPUNGE takes one sequence set")
            SelectedCommands.do_EXPUNGE(self, tag, ranges, uid=1)
            return
        self.dispatchCommand(tag, command, line, uid=1)

    def do_SEARCH(
        self: SelectedServer,
        tag: bytes,
        returns: frozenset[str] | None,
        charset: bytes | None,
        query: list[Any],
        uid: int = 0,
    ) -> None:
        """SEARCH, answered with `* ESEARCH` when the client gave RETURN options (RFC 4731), and always under
        IMAP4rev2, where no RETURN means RETURN (ALL) (RFC 9051 6.4.4)."""
        if returns is None and self.rev2:
            returns = frozenset({"ALL"})
        forget_saved(self, returns)

        async def work() -> None:
            job = search_job(self, charset, query)
            found = await self.services.runner.read(job.run)
            answer_found(self, tag, b"SEARCH", bool(uid), returns, found, job.with_modseq)

        run(self, tag, work, b"SEARCH completed")

    select_STORE = (do_STORE, arg_sequence, arg_line)
    select_COPY = (do_COPY, arg_sequence, arg_finalastring)
    select_MOVE = (do_MOVE, arg_sequence, arg_finalastring)
    select_EXPUNGE = (do_EXPUNGE,)
    select_UID = (do_UID, IMAP4Server.arg_atom, arg_line)
    select_SEARCH = (do_SEARCH, esearch.opt_return, IMAP4Server.opt_charset, arg_search)


def answer_found(
    server: SelectedServer,
    tag: bytes,
    name: bytes,
    uid: bool,
    returns: frozenset[str] | None,
    found: list[search.Candidate],
    with_modseq: bool,
) -> None:
    """The untagged answer of SEARCH or SORT: `* ESEARCH` when there are RETURN options (RFC 4731, RFC 5267),
    else `* SEARCH` or `* SORT` with the numbers in order; after a MODSEQ key, the highest mod-sequence of the
    messages found (RFC 7162 3.1.5 and its sort-data syntax in 7)."""
    numbers = [c.uid if uid else c.seq for c in found]
    modseqs = [c.modseq for c in found] if with_modseq else None
    if returns is not None:
        send_esearch(server, tag, uid, returns, [c.uid for c in found], numbers, modseqs)
        return
    listed = b"".join(b" %d" % number for number in numbers)
    if modseqs:
        listed += b" (MODSEQ %d)" % max(modseqs)
    server.sendUntaggedResponse(name + listed)


@dataclass(frozen=True, slots=True)
class SearchJob:
    """One search of the selected folder (SEARCH, SORT, THREAD), ready to run in a worker thread."""

    store: MailStore
    state: FolderState
    folder: Path
    messages: list[tuple[int, StoredMessage]]  # (sequence number, message), in mailbox order
    predicate: search.Predicate
    with_texts: bool  # a key needs the stored header fields
    with_modseq: bool  # a MODSEQ key (RFC 7162 3.1.5)
    with_identities: bool  # an EMAILID (RFC 8474 6) or SAVED* key (RFC 8514 4)

    def run(self) -> list[search.Candidate]:
        """In a worker thread: the searchable header fields when a key needs them (kept in the folder's state
        once read: they never change), EMAILIDs and save dates when a key needs them, then the predicate over
        every message."""
        texts, headers = self.state.search_texts, self.state.header_cache
        if self.with_texts:
            missing = [m.uid for _, m in self.messages if m.uid not in texts]
            if missing:
                texts.update(self.store.search_texts(self.state.mailbox, missing))
        uids = [m.uid for _, m in self.messages]
        identities = self.store.identities(self.state.mailbox, uids) if self.with_identities else {}
        unknown = Identity("", None)
        base = f"{self.folder}{os.sep}"
        candidates = (
            search.Candidate(
                seq,
                m.uid,
                m.flags,
                m.size,
                m.internaldate,
                base + checked_name(m.filename),
                m.modseq,
                texts.get(m.uid),
                headers,
                *identities.get(m.uid, unknown),
            )
            for seq, m in self.messages
        )
        return search.run(self.predicate, candidates)


def forget_saved(server: SelectedServer, returns: frozenset[str] | None) -> None:
    """RFC 5182 2.1: a SEARCH (or SORT) that asks to SAVE empties "$" first, so a failed one leaves it empty."""
    if returns is not None and "SAVE" in returns:
        server.view.saved = []


def send_esearch(
    server: SelectedServer,
    tag: bytes,
    uid: bool,
    returns: frozenset[str],
    uids: list[int],
    numbers: list[int],
    modseqs: list[int] | None = None,
) -> None:
    """The answer to RETURN options (RFC 4731, RFC 5267 ESORT): SAVE keeps the messages found as "$", and alone
    it answers nothing (RFC 5182 2.1)."""
    if "SAVE" in returns:
        server.view.saved = esearch.saved(returns, uids)
    if returns != {"SAVE"}:
        server.sendUntaggedResponse(esearch.response(tag, uid, returns, numbers, modseqs))


def search_job(server: SelectedServer, charset: bytes | None, query: list[Any]) -> SearchJob:
    """The search `query` names in the selected folder; an unknown charset is NO [BADCHARSET] (RFC 3501 6.4.4)."""
    if charset is not None and charset.upper() not in CHARSETS:
        raise UnsupportedCharset(f"charset {charset.decode('ascii', 'replace')} is not supported")
    view = server.view
    uids = view.uids()
    predicate = search.compile_keys(query, len(uids), uids[-1] if uids else 0, frozenset(view.saved))
    with_modseq = search.mentions(query, ["MODSEQ"])
    if with_modseq:
        server.enable_condstore()
    messages = [(seq, m) for seq, u in enumerate(uids, 1) if (m := view.shown(u)) is not None]
    store = server.services.store
    folder = store.folder(view.state.user, view.mailbox)
    texts, identities = search.mentions(query, search.TEXT_KEYS), search.mentions(query, search.IDENTITY_KEYS)
    return SearchJob(store, view.state, folder, messages, predicate, texts, with_modseq, identities)
