"""FETCH (RFC 3501 6.4.5, 7.4.2): twisted's FETCH loop, with our message preparation and section writers.

Replaced from twisted, and why:
- BODY[...] without PEEK, RFC822 and RFC822.TEXT did not set \\Seen; now they do, and FLAGS is sent along.
- Header sections were rebuilt from parsed headers (not the stored octets; non-ASCII raised), ENVELOPE and
  BODYSTRUCTURE crashed or lower-cased parameters, partial fetches answered `<start.length>` and ignored
  the range for BODY[]. mime.py and wire.py produce these from the stored octets instead.
- Each message is opened (and parsed only when a requested item needs it) in a worker thread right before
  it is written; BODY[] and RFC822 stream that open file. A message expunged meanwhile is left out
  (RFC 2180 4.1.3) instead of dropping the connection.
"""

from __future__ import annotations

import re
from typing import Any

from twisted.internet.defer import Deferred
from twisted.mail.imap4 import FileProducer, IMAP4Server, MessageSet, _FetchParser

from smb_suite.imap import mime, wire
from smb_suite.imap.bridge import as_deferred
from smb_suite.imap.errors import reply_error
from smb_suite.imap.message import Message


def _sets_seen(item: Any) -> bool:
    return (item.type == "body" and not item.peek) or item.type in ("rfc822", "rfc822text")


def _streams(item: Any) -> bool:
    """Whole message, no range: sent straight from the file."""
    whole_body = item.type == "body" and item.empty and not item.part and item.partialBegin is None
    return item.type == "rfc822" or whole_body


def _needs_parse(item: Any) -> bool:
    if item.type == "body":
        return not _streams(item)
    return item.type in ("envelope", "bodystructure", "rfc822header", "rfc822text")


def _spec(item: Any) -> str:
    if item.header:
        return "HEADER.FIELDS" if item.header.fields else "HEADER"
    return "TEXT" if item.text else "MIME" if item.mime else ""


def _release(result: object, message: Message) -> object:
    message.release()
    return result


class FetchCommands:
    """Mixed into the server class ahead of IMAP4Server."""

    services: Any
    mbox: Any
    transport: Any

    def do_FETCH(self, tag: bytes, messages: MessageSet, query: list[Any], uid: int = 0) -> None:
        server: Any = self
        if not (self.mbox.isWriteable() and any(_sets_seen(item) for item in query)):
            IMAP4Server.do_FETCH(server, tag, messages, query, uid)
            return
        if not any(item.type == "flags" for item in query):  # RFC 3501 6.4.5: report the \Seen change
            query = [*query, _FetchParser.Flags()]
        marked = self.mbox.mark_seen(messages, bool(uid))
        marked.addCallback(lambda _: IMAP4Server.do_FETCH(server, tag, messages, query, uid))
        marked.addErrback(lambda failure: reply_error(server, tag, failure))

    select_FETCH = (do_FETCH, IMAP4Server.arg_seqset, IMAP4Server.arg_fetchatt)

    def spewMessage(self, id: int, msg: Message, query: list[Any], uid: int) -> Deferred[Any]:
        parse = any(_needs_parse(item) for item in query)
        base: Any = super()
        if not parse and not any(_streams(item) for item in query):
            return base.spewMessage(id, msg, query, uid)

        def spew(present: bool) -> Any:
            if not present:
                return None
            return base.spewMessage(id, msg, query, uid)

        prepared = as_deferred(self.services.runner.read(msg.prepare, parse))
        return prepared.addCallback(spew).addBoth(_release, msg)

    def spew_envelope(self, id: int, msg: Message, _w: Any, _f: Any) -> None:
        _w(b"ENVELOPE " + wire.encode(mime.envelope(msg.parsed())))

    def spew_bodystructure(self, id: int, msg: Message, _w: Any, _f: Any) -> None:
        _w(b"BODYSTRUCTURE " + wire.encode(mime.bodystructure(msg.parsed(), True)))

    def spew_rfc822header(self, id: int, msg: Message, _w: Any, _f: Any) -> None:
        _w(b"RFC822.HEADER " + wire.literal(msg.parsed().header))

    def spew_body(self, part: Any, id: int, msg: Message, _w: Any, _f: Any) -> Any:
        if not (part.header or part.text or part.mime or part.empty):
            _w(b"BODY " + wire.encode(mime.bodystructure(msg.parsed(), False)))
            return None
        label = re.sub(rb"<[\d.]+>$", b"", part.getBytes())  # twisted writes <start.length>: not RFC 3501
        if _streams(part):
            _w(label + b" ")
            _f()
            return FileProducer(msg.open()).beginProducing(self.transport)
        fields = list(part.header.fields or ()) if part.header else []
        negate = bool(part.header and part.header.negate)
        data = mime.section(msg.parsed(), list(part.part), _spec(part), fields, negate)
        if part.partialBegin is not None:  # RFC 3501 7.4.2: BODY[...]<origin>
            data = data[part.partialBegin : part.partialBegin + part.partialLength]
            label += b"<%d>" % part.partialBegin
        _w(label + b" " + wire.literal(data))
        return None
