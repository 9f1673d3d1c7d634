"""FETCH (RFC 3501 6.4.5, 7.4.2; RFC 7162 3.1.4 CHANGEDSINCE and MODSEQ): our own loop, not twisted's.

twisted's FETCH takes one reactor turn per message item (callLater(0)), parses headers for every ENVELOPE,
sends one write per message, never sets \\Seen, answers partials with `<start.length>` and re-serialises
header sections. Here:
- the messages are taken in batches: their ENVELOPE/BODYSTRUCTURE come from the index (computed at delivery,
  mail/summary.py) in one query per batch, and a batch's response lines go out in one write;
- content (BODY[...], RFC822...) is prepared in a worker thread (content.py); large bodies are streamed in
  chunks read in a thread, and the loop waits whenever the socket's buffer is full (a push producer
  registered with the transport), so memory stays bounded however big the folder;
- BODY[...] without PEEK, RFC822 and RFC822.TEXT set \\Seen first and add FLAGS to the response;
- BINARY[...] (RFC 3516) goes out as a literal8, BINARY.SIZE as a number (content.py decodes both);
- UID FETCH ... (CHANGEDSINCE n VANISHED) first says what vanished (RFC 7162 3.2.6, qresync.py);
- a message whose file vanished (expunged by another session meanwhile) is left out and the command ends
  with NO [EXPUNGEISSUED] (RFC 2180 4.1.3, RFC 5530).
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import IO, Protocol

from twisted.internet.interfaces import IPushProducer
from twisted.mail.imap4 import IllegalClientResponse
from zope.interface import implementer

from smb_suite import log
from smb_suite.imap import content, qresync, syntax, wire
from smb_suite.imap.arguments import arg_line, arg_sequence
from smb_suite.imap.errors import ExpungeIssued
from smb_suite.imap.mailbox import MailboxView
from smb_suite.imap.replies import Responder, run
from smb_suite.imap.syntax import FetchItem
from smb_suite.imap.transport import Transport
from smb_suite.mail.summary import Summary, summarize
from smb_suite.services import Services
from smb_suite.storage.paths import checked_name, message_file
from smb_suite.storage.store import Identity, Mailbox, MailStore, StoredMessage

logger = logging.getLogger("smb_suite.imap")
BATCH = 500  # messages per index query
CONTENT_BUDGET = 4 * 1024 * 1024  # octets of small messages read per worker call
WRITE_BUFFER = 256 * 1024  # flush the batch's lines when they reach this
STREAM_CHUNK = 256 * 1024
_STRUCTURE = ("ENVELOPE", "BODYSTRUCTURE")
_IDENTITY = ("EMAILID", "SAVEDATE")  # from the index per batch (RFC 8474 5.1, RFC 8514 3)


class ConnectionGone(Exception):
    """The client left during a FETCH: stop quietly."""


@implementer(IPushProducer)
class _Gate:
    """Registered with the transport during a FETCH: it tells us when its buffer is full and drained.

    A client that reads nothing for `[imap] idle_timeout` while its buffer is full is dropped: a stalled
    download must not hold the connection (and the response in memory) for ever."""

    def __init__(self, stall_timeout: float, on_stall: Callable[[], None]) -> None:
        self.ready = asyncio.Event()
        self.ready.set()
        self.stopped = False
        self._stall_timeout = stall_timeout
        self._on_stall = on_stall
        self._stall: asyncio.TimerHandle | None = None

    def pauseProducing(self) -> None:
        self.ready.clear()
        if self._stall is None:
            self._stall = asyncio.get_running_loop().call_later(self._stall_timeout, self._stalled)

    def resumeProducing(self) -> None:
        self._cancel_stall()
        self.ready.set()

    def stopProducing(self) -> None:
        self._cancel_stall()
        self.stopped = True
        self.ready.set()

    def _cancel_stall(self) -> None:
        if self._stall is not None:
            self._stall.cancel()
            self._stall = None

    def _stalled(self) -> None:
        self._stall = None
        self._on_stall()


def _needs_summary(item: FetchItem) -> bool:
    return item.name in _STRUCTURE or (item.name == "BODY" and item.section is None)


class FetchServer(Responder, Protocol):
    """What FETCH needs from the server (session.IMAPSession)."""

    @property
    def view(self) -> MailboxView: ...  # the selected folder's view (FETCH runs in the select state)
    @property
    def services(self) -> Services: ...
    @property
    def channel(self) -> Transport: ...
    @property
    def connection(self) -> int: ...  # the connection id in log lines
    @property
    def connected(self) -> int: ...
    @property
    def condstore(self) -> bool: ...
    @property
    def qresync(self) -> bool: ...
    def enable_condstore(self) -> None: ...
    def send_untagged_many(self, messages: list[bytes], is_async: bool = False) -> None: ...
    def setTimeout(self, period: float | None) -> float | None: ...


async def fetch(server: FetchServer, ranges: syntax.SequenceSet, rest: bytes, uid: bool) -> bytes:
    """FETCH's work: \\Seen set first where asked, then every response written; the tagged OK's text."""
    view = server.view
    args = syntax.fetch_args(rest)
    items = list(args.items)
    names = {item.name for item in items}
    if uid and "UID" not in names:  # RFC 3501 6.4.8: UID FETCH always reports the UID
        items.insert(0, FetchItem("UID"))
    if args.changed_since is not None or "MODSEQ" in names:
        server.enable_condstore()
        if "MODSEQ" not in names:
            items.append(FetchItem("MODSEQ"))
    chosen = view.select(ranges, uid)
    if args.changed_since is not None:
        since = args.changed_since
        chosen = [(s, u) for s, u in chosen if (m := view.message(u)) is not None and m.modseq > since]
    if view.writeable and any(item.sets_seen for item in items):
        unseen = [u for _, u in chosen if (m := view.message(u)) is not None and "\\Seen" not in m.flags]
        if unseen:
            await view.store(unseen, syntax.StoreArgs(1, True, ["\\Seen"], None))
        if "FLAGS" not in names:  # RFC 3501 6.4.5: the \Seen change is reported
            items.append(FetchItem("FLAGS"))
        if server.condstore and all(item.name != "MODSEQ" for item in items):  # RFC 7162 3.2: with its new mod-sequence
            items.append(FetchItem("MODSEQ"))
    if args.vanished:  # RFC 7162 3.2.6: what vanished from the set since CHANGEDSINCE, before the FETCHes
        if not uid or not server.qresync:
            raise IllegalClientResponse("VANISHED needs UID FETCH and ENABLE QRESYNC")
        assert args.changed_since is not None  # syntax.fetch_args: VANISHED comes with CHANGEDSINCE
        await qresync.send_vanished_earlier(server, view, qresync.uid_ranges(ranges, view), args.changed_since)
    writer = _Writer(server, items)
    try:
        missing = await writer.run(chosen)
    except ConnectionGone:
        return b"FETCH abandoned"
    if missing:
        raise ExpungeIssued("some messages were expunged meanwhile")
    return b"FETCH completed"


class FetchCommands:
    """The command table entry of FETCH, inherited by the server class."""

    def do_FETCH(self: FetchServer, tag: bytes, ranges: syntax.SequenceSet, rest: bytes, uid: int = 0) -> None:
        run(self, tag, lambda: fetch(self, ranges, rest, bool(uid)), lambda text: text)

    select_FETCH = (do_FETCH, arg_sequence, arg_line)


class _Writer:
    """One FETCH's output: batches of messages, flow-controlled."""

    def __init__(self, server: FetchServer, items: list[FetchItem]) -> None:
        self.server = server
        self.view = server.view
        self.transport = server.channel
        self.items = items
        self.with_summary = any(_needs_summary(item) for item in items)
        self.with_identity = any(item.name in _IDENTITY for item in items)
        self.identities: dict[int, Identity] = {}
        self.content_items = [item for item in items if content.needs_content(item)]
        # per item, computed once: its response label and whether it comes from the message file
        self.labels = [_label(item) for item in items]
        self.from_file = [content.needs_content(item) for item in items]
        self.heads = [_head(item) for item in items]
        # the labels of the content items when all are header sections, which the folder state keeps
        cached = all(content.cacheable(item) for item in self.content_items)
        self.section_labels = [_label(item) for item in self.content_items] if cached else None
        services = server.services
        self.store, self.runner = services.store, services.runner
        self.folder = self.store.folder(self.view.state.user, self.view.mailbox)
        self.gate = _Gate(float(services.config.imap.idle_timeout), self._stalled)
        self.out: list[bytes] = []
        self.buffered = 0

    def _stalled(self) -> None:
        log.event(logger, "imap.send_timeout", conn=self.server.connection)
        self.transport.abortConnection()

    async def run(self, chosen: list[tuple[int, int]]) -> int:
        """Write every message's response; return how many were left out because they vanished."""
        missing = 0
        self.transport.registerProducer(self.gate, True)
        timeout = self.server.setTimeout(None)  # a slow download is not an idle client
        try:
            for start in range(0, len(chosen), BATCH):
                batch = [(seq, m) for seq, u in chosen[start : start + BATCH] if (m := self.view.shown(u))]
                summaries: dict[int, Summary] = {}
                if self.with_summary:
                    summaries, computed = await self.runner.read(
                        _summaries, self.store, self.view.mailbox, self.folder, batch
                    )
                    if computed:
                        await self.runner.write(self.store.keep_summaries, self.view.mailbox, computed)
                if self.with_identity:
                    uids = [m.uid for _, m in batch]
                    self.identities = await self.runner.read(self.store.identities, self.view.mailbox, uids)
                if self.content_items:
                    missing += await self._with_content(batch, summaries)
                else:
                    for seq, message in batch:
                        if self._vanished(message.uid, summaries):
                            missing += 1
                            continue
                        self._line(seq, message, summaries.get(message.uid), [])
                    await self._flush()
            await self._flush()
        finally:
            self.transport.unregisterProducer()
            self.server.setTimeout(timeout)
        return missing

    async def _with_content(self, batch: list[tuple[int, StoredMessage]], summaries: dict[int, Summary]) -> int:
        """Small messages are read together, up to a budget of octets per group; the next group is read while
        the current one is written (reading and writing overlap)."""
        groups = _groups(batch)
        if not groups:
            return 0
        missing = 0
        pending: asyncio.Future[list[content.Prepared | None]] | None = self._read_group(groups[0])
        try:
            for position, group in enumerate(groups):
                assert pending is not None
                current, pending = pending, None
                prepared = await current
                pending = self._read_group(groups[position + 1]) if position + 1 < len(groups) else None
                try:
                    for (seq, message), ready in zip(group, prepared, strict=True):
                        if ready is None or self._vanished(message.uid, summaries):
                            missing += 1
                            continue
                        await self._message_with_content(seq, message, summaries.get(message.uid), ready.pieces)
                finally:
                    _close_all(prepared)
                await self._flush()
        finally:
            if pending is not None:  # the client left: the read ahead finishes, then its files are closed
                _close_all(await pending)
        return missing

    def _kept_sections(self, group: list[tuple[int, StoredMessage]]) -> list[list[content.Piece]] | None:
        """The group's header sections from the folder state, when all are kept there and every message is
        still in the folder (one expunged elsewhere is read, and left out when its file is gone)."""
        labels, by_uid = self.section_labels, self.view.state.by_uid
        if labels is None or any(m.uid not in by_uid for _, m in group):
            return None
        return self.view.state.sections.get([m.uid for _, m in group], labels)

    def _keep_sections(
        self, group: list[tuple[int, StoredMessage]], done: asyncio.Future[list[content.Prepared | None]]
    ) -> None:
        if self.section_labels is not None and not done.cancelled() and done.exception() is None:
            for (_, message), ready in zip(group, done.result(), strict=True):
                if ready is not None:
                    self.view.state.sections.put(message.uid, self.section_labels, ready.pieces)

    def _vanished(self, uid: int, summaries: dict[int, Summary]) -> bool:
        """The message's row went while the batch was read (expunged elsewhere): it is left out."""
        return (self.with_summary and uid not in summaries) or (self.with_identity and uid not in self.identities)

    def _read_group(self, group: list[tuple[int, StoredMessage]]) -> asyncio.Future[list[content.Prepared | None]]:
        found = self._kept_sections(group)
        if found is not None:
            ready: asyncio.Future[list[content.Prepared | None]] = asyncio.get_running_loop().create_future()
            ready.set_result([content.Prepared(pieces) for pieces in found])
            return ready
        base = f"{self.folder}{os.sep}"
        paths = [base + checked_name(m.filename) for _, m in group]
        reading = asyncio.ensure_future(self.runner.read(_prepare_all, paths, self.content_items))
        if self.section_labels is not None:  # what is read from the files is kept (what came from memory is)
            reading.add_done_callback(lambda done: self._keep_sections(group, done))
        return reading

    def _line(self, seq: int, message: StoredMessage, summary: Summary | None, pieces: list[bytes]) -> None:
        """A whole response when every piece is in memory: index items joined into one write, bodies handed
        over as they are (never copied into the line)."""
        queue = iter(pieces)
        text = [b"* %d FETCH (" % seq]
        for position, item in enumerate(self.items):
            separator = b" " if position else b""
            if self.from_file[position]:
                piece, head = next(queue), self.heads[position]
                if head is None:  # BINARY.SIZE: a number
                    text.append(separator + self.labels[position] + b" " + piece)
                    continue
                text.append(separator + self.labels[position] + head % len(piece))
                self._write(b"".join(text))
                self._write(piece)
                text = []
            else:
                text.append(separator + _item(item, message, summary, self.identities.get(message.uid)))
        text.append(b")\r\n")
        self._write(b"".join(text))

    async def _message_with_content(
        self, seq: int, message: StoredMessage, summary: Summary | None, pieces: list[content.Piece]
    ) -> None:
        if not any(isinstance(piece, content.FileRange) for piece in pieces):
            self._line(seq, message, summary, pieces)  # type: ignore[arg-type]
            if self.buffered >= WRITE_BUFFER:
                await self._flush()
            return
        queue = iter(pieces)  # a large body: write what precedes it, stream it, go on in the items' order
        self._write(b"* %d FETCH (" % seq)
        for position, item in enumerate(self.items):
            if position:
                self._write(b" ")
            if not self.from_file[position]:
                self._write(_item(item, message, summary, self.identities.get(message.uid)))
                continue
            piece, head = next(queue), self.heads[position]
            if isinstance(piece, content.FileRange):
                self._write(self.labels[position] + (head or b"") % piece.length)
                await self._flush()
                await self._stream(piece)
            else:
                self._write(self.labels[position] + (b" " + piece if head is None else head % len(piece) + piece))
        self._write(b")\r\n")

    def _write(self, data: bytes) -> None:
        if data:
            self.out.append(data)
            self.buffered += len(data)

    async def _flush(self) -> None:
        if self.out:
            self.transport.writeSequence(self.out)
            self.out, self.buffered = [], 0
        await self._wait()

    async def _wait(self) -> None:
        if not self.gate.ready.is_set():
            await self.gate.ready.wait()
        if self.gate.stopped or not self.server.connected:
            raise ConnectionGone()

    async def _stream(self, piece: content.FileRange) -> None:
        offset, remaining = piece.offset, piece.length
        while remaining > 0:
            chunk = await self.runner.read(_read_at, piece.file, offset, min(STREAM_CHUNK, remaining))
            if not chunk:  # the file shrank (it never should): keep the literal's promised length
                chunk = b" " * remaining
            self.transport.write(chunk)
            offset += len(chunk)
            remaining -= len(chunk)
            await self._wait()


def _head(item: FetchItem) -> bytes | None:
    """What precedes a content item's octets: a literal, a literal8 for BINARY (its octets may hold NUL, RFC
    3516 4.3), or only a space before BINARY.SIZE's number (None)."""
    if item.name == "BINARY.SIZE":
        return None
    return b" ~{%d}\r\n" if item.name == "BINARY" else b" {%d}\r\n"


def _label(item: FetchItem) -> bytes:
    return item.label() if item.section is not None else item.name.encode()


def _item(item: FetchItem, message: StoredMessage, summary: Summary | None, identity: Identity | None) -> bytes:
    """A data item that comes from the index (RFC 3501 7.4.2); a message without its summary (identity) is
    never asked for ENVELOPE or BODYSTRUCTURE (EMAILID, SAVEDATE): it is left out as expunged."""
    name = item.name
    if name == "FLAGS":
        return b"FLAGS " + wire.flag_list(message.flags)
    if name == "UID":
        return b"UID %d" % message.uid
    if name == "RFC822.SIZE":
        return b"RFC822.SIZE %d" % message.size
    if name == "INTERNALDATE":
        return b"INTERNALDATE " + wire.internal_date(message.internaldate)
    if name == "MODSEQ":
        return b"MODSEQ (%d)" % message.modseq
    if name == "THREADID":  # RFC 8474 5.2: NIL where the server keeps no threads
        return b"THREADID NIL"
    if name == "EMAILID":  # RFC 8474 5.1 (a message without its identity row is left out as expunged)
        assert identity is not None
        return b"EMAILID (%b)" % identity.email_id.encode("ascii")
    if name == "SAVEDATE":  # RFC 8514 3: NIL when the save date is not known
        assert identity is not None
        saved = identity.saved_at
        return b"SAVEDATE " + (b"NIL" if saved is None else wire.internal_date(saved))
    assert summary is not None
    if name == "ENVELOPE":
        return b"ENVELOPE " + summary.envelope
    if name == "BODYSTRUCTURE":
        return b"BODYSTRUCTURE " + summary.bodystructure
    return b"BODY " + summary.body  # BODY without a section: the non-extensible structure


def _read_at(file: IO[bytes], offset: int, size: int) -> bytes:
    return os.pread(file.fileno(), size, offset)


def _groups(batch: list[tuple[int, StoredMessage]]) -> list[list[tuple[int, StoredMessage]]]:
    """Consecutive messages whose sizes add up to at most CONTENT_BUDGET (a larger one alone)."""
    groups: list[list[tuple[int, StoredMessage]]] = []
    budget = 0
    for entry in batch:
        if not groups or budget + entry[1].size > CONTENT_BUDGET:
            groups.append([])
            budget = 0
        groups[-1].append(entry)
        budget += entry[1].size
    return groups


def _close_all(prepared: list[content.Prepared | None]) -> None:
    for ready in prepared:
        if ready is not None:
            ready.close()


def _prepare_all(paths: list[str], items: list[FetchItem]) -> list[content.Prepared | None]:
    prepared: list[content.Prepared | None] = []
    try:
        for path in paths:
            prepared.append(content.prepare(path, items))
    except BaseException:
        _close_all(prepared)
        raise
    return prepared


def _summaries(
    store: MailStore, mailbox: Mailbox, folder: Path, batch: list[tuple[int, StoredMessage]]
) -> tuple[dict[int, Summary], dict[int, Summary]]:
    """The batch's summaries from the index, and those computed now for messages that have none in the index
    (stored before summaries existed, or dropped by a migration that changed their rendering): to be kept."""
    found: dict[int, Summary] = store.summaries(mailbox, [m.uid for _, m in batch])
    computed: dict[int, Summary] = {}
    for _, message in batch:
        if message.uid not in found:
            handle = content.open_message(message_file(folder, message.filename))
            if handle is not None:
                with handle:
                    computed[message.uid] = summarize(handle.read())
    return found | computed, computed
