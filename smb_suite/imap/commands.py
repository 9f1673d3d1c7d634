"""Folder and message commands that replace twisted's versions (RFC 3501 6.3, 6.4).

twisted looks commands up as `<state>_<NAME>` tuples of (handler, argument parsers...), so each override
rebinds the tuple. Why each one is replaced:
- CREATE, DELETE, RENAME, (UN)SUBSCRIBE call the account synchronously and take a Deferred for success.
- SELECT, STATUS, APPEND, COPY answer a failed lookup with BAD "Server error" (and some build the NO text
  from str + bytes, which raises); SELECT also omits PERMANENTFLAGS, UIDNEXT and UNSEEN.
- LIST sends message flags as folder attributes; SEARCH's literals and header keys do not work on Python 3.
- APPEND would spool any literal size to a temporary file before anyone checks it (PARTS.md).
- STORE, EXPUNGE and CLOSE answer storage errors with BAD instead of the mapped NO.
All of them answer through `_run`, which maps core errors in one place (errors.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from twisted.internet.defer import maybeDeferred, succeed
from twisted.mail.imap4 import IllegalClientResponse, IMAP4Server

from smb_suite.imap import search, wire
from smb_suite.imap.errors import MessageTooBig, UnsupportedCharset, reply_error
from smb_suite.imap.mailbox import DELIMITER
from smb_suite.storage.store import Mailbox

STATUS_ITEMS = ("MESSAGES", "RECENT", "UIDNEXT", "UIDVALIDITY", "UNSEEN")  # RFC 3501 6.3.10
STORE_MODES = {b"FLAGS": 0, b"+FLAGS": 1, b"-FLAGS": -1}  # RFC 3501 6.4.6
CHARSETS = (b"US-ASCII", b"UTF-8")
_LITERAL = re.compile(rb"\{(\d+)\}")


def _flags(raw: Sequence[bytes | None] | None) -> list[str]:
    """Flags from the wire; \\Recent is the server's to set (RFC 3501 2.3.2)."""
    return [flag.decode("ascii") for flag in raw or () if flag is not None and flag.upper() != b"\\RECENT"]


class MailboxCommands:
    """Mixed into the server class; relies on IMAP4Server's state and send methods."""

    account: Any
    mbox: Any
    state: str
    append_limit: int

    def _run(
        self, tag: bytes, work: Callable[[], Any], ok: bytes | None, trycreate: bool = False, exclusive: bool = False
    ) -> None:
        """Run a command's work (maybe a Deferred); answer OK with `ok`, or NO/BAD from the error.

        An `exclusive` command changes the session state, so pipelined commands wait for it (RFC 3501 5.5)
        in twisted's queue of blocked lines, as they do during a FETCH.
        """
        server: Any = self
        if exclusive:
            server.blocked = []
        deferred = maybeDeferred(work)
        if ok is not None:
            deferred.addCallback(lambda _: server.sendPositiveResponse(tag, ok))
        deferred.addErrback(lambda failure: reply_error(server, tag, failure, trycreate))
        if exclusive:
            deferred.addCallback(lambda _: server._unblock())

    # -- folders (RFC 3501 6.3) -----------------------------------------------------------------------------

    def do_CREATE(self, tag: bytes, name: bytes) -> None:
        self._run(tag, lambda: self.account.create(wire.decode_mailbox(name)), b"CREATE completed")

    def do_DELETE(self, tag: bytes, name: bytes) -> None:
        self._run(tag, lambda: self.account.delete(wire.decode_mailbox(name)), b"DELETE completed")

    def do_RENAME(self, tag: bytes, old: bytes, new: bytes) -> None:
        work = lambda: self.account.rename(wire.decode_mailbox(old), wire.decode_mailbox(new))  # noqa: E731
        self._run(tag, work, b"RENAME completed")

    def do_SUBSCRIBE(self, tag: bytes, name: bytes) -> None:
        self._run(tag, lambda: self.account.subscribe(wire.decode_mailbox(name)), b"SUBSCRIBE completed")

    def do_UNSUBSCRIBE(self, tag: bytes, name: bytes) -> None:
        self._run(tag, lambda: self.account.unsubscribe(wire.decode_mailbox(name)), b"UNSUBSCRIBE completed")

    def _list(self, tag: bytes, reference: bytes, pattern: bytes, subscribed_only: bool, command: bytes) -> None:
        server: Any = self

        def send(folders: list[tuple[str, Any]]) -> None:
            for name, info in folders:
                if subscribed_only and not info.subscribed:
                    continue
                attributes = " ".join(info.getFlags()).encode("ascii")
                separator = wire.string(info.getHierarchicalDelimiter().encode("ascii"))
                server.sendUntaggedResponse(
                    b"%b (%b) %b %b" % (command, attributes, separator, wire.encode_mailbox(name))
                )

        def work() -> Any:
            if pattern == b"":  # RFC 3501 6.3.8: only the delimiter and the root
                server.sendUntaggedResponse(command + b" (\\Noselect) " + wire.string(DELIMITER.encode()) + b' ""')
                return None
            return self.account.listMailboxes(wire.decode_mailbox(reference), wire.decode_mailbox(pattern)).addCallback(
                send
            )

        self._run(tag, work, command + b" completed")

    def do_STATUS(self, tag: bytes, mailbox: bytes, names: list[bytes]) -> None:
        server: Any = self

        def work() -> Any:
            wanted = [item.decode("ascii", "replace").upper() for item in names if isinstance(item, bytes)]
            if not wanted or any(item not in STATUS_ITEMS for item in wanted):
                raise IllegalClientResponse(f"STATUS items must be among {' '.join(STATUS_ITEMS)}")
            name = wire.decode_mailbox(mailbox)

            def send(view: Any) -> None:
                values = " ".join(f"{key} {value}" for key, value in view.requestStatus(wanted).items())
                server.sendUntaggedResponse(b"STATUS %b (%b)" % (wire.encode_mailbox(name), values.encode("ascii")))

            return self.account.select(name, False).addCallback(send)

        self._run(tag, work, b"STATUS completed")

    def _select(self, tag: bytes, name: bytes, writeable: int, command: bytes) -> None:
        """SELECT/EXAMINE (RFC 3501 6.3.1-2): a failed SELECT leaves no folder selected."""
        server: Any = self
        server._deselect()

        def selected(view: Any) -> None:
            if not server.connected:  # the client left meanwhile: do not start listening for changes
                return
            flags = " ".join(view.getFlags()).encode("ascii")
            permanent = flags + b" \\*" if writeable else b""
            server.sendUntaggedResponse(b"FLAGS (%b)" % flags)
            server.sendUntaggedResponse(b"OK [PERMANENTFLAGS (%b)] flags that persist" % permanent)
            server.sendUntaggedResponse(b"%d EXISTS" % view.getMessageCount())
            server.sendUntaggedResponse(b"%d RECENT" % view.getRecentCount())
            unseen = view.first_unseen()
            if unseen is not None:
                server.sendUntaggedResponse(b"OK [UNSEEN %d] first unseen message" % unseen)
            server.sendUntaggedResponse(b"OK [UIDVALIDITY %d] UIDs valid" % view.getUIDValidity())
            server.sendUntaggedResponse(b"OK [UIDNEXT %d] predicted next UID" % view.getUIDNext())
            view.addListener(server)
            server.mbox, server.state = view, "select"
            mode = b"READ-WRITE" if writeable else b"READ-ONLY"
            server.sendPositiveResponse(tag, b"[%b] %b completed" % (mode, command))

        work = lambda: self.account.select(wire.decode_mailbox(name), bool(writeable)).addCallback(selected)  # noqa: E731
        self._run(tag, work, None, exclusive=True)

    # -- APPEND (RFC 3501 6.3.11) ---------------------------------------------------------------------------

    def _arg_message(self, line: bytes) -> Any:
        """APPEND's literal; one over APPENDLIMIT is refused before the client sends it (RFC 7889)."""
        match = _LITERAL.fullmatch(line.strip())
        if match is None:
            raise IllegalClientResponse("APPEND needs the message as a literal {size}")
        size = int(match.group(1))
        if size > self.append_limit:
            return (MessageTooBig(f"messages are limited to {self.append_limit} octets"), b"")
        server: Any = self
        return server._fileLiteral(size)

    def do_APPEND(self, tag: bytes, mailbox: bytes, flags: Any, date: bytes | None, message: Any) -> None:
        def work() -> Any:
            if isinstance(message, MessageTooBig):
                raise message
            when = None if date is None else wire.parse_date_time(date)
            appended = self.account.append(wire.decode_mailbox(mailbox), message, _flags(flags), when)
            return appended.addCallback(self._refresh_if_selected)

        self._run(tag, work, b"APPEND completed", trycreate=True)

    def _refresh_if_selected(self, mailbox: Mailbox) -> Any:
        """New mail in the selected folder is announced (EXISTS) before the tagged OK."""
        if self.mbox is not None and self.mbox.mailbox.id == mailbox.id:
            return self.mbox.refresh()
        return None

    # -- selected state (RFC 3501 6.4) ----------------------------------------------------------------------

    def do_CLOSE(self, tag: bytes) -> None:
        """Expunge silently when writeable, then deselect (RFC 3501 6.4.2)."""
        server: Any = self
        view = self.mbox

        def work() -> Any:
            expunged = view.expunge() if view.isWriteable() else succeed(None)
            return expunged.addCallback(lambda _: server._deselect())

        self._run(tag, work, b"CLOSE completed", exclusive=True)

    def do_EXPUNGE(self, tag: bytes) -> None:
        self._run(tag, lambda: self.mbox.expunge().addCallback(self._send_expunged), b"EXPUNGE completed")

    def _send_expunged(self, numbers: list[int]) -> None:
        server: Any = self
        for number in numbers:
            server.sendUntaggedResponse(b"%d EXPUNGE" % number)

    def do_STORE(self, tag: bytes, messages: Any, mode: bytes, flags: list[bytes], uid: int = 0) -> None:
        server: Any = self
        mode = mode.upper()
        silent = mode.endswith(b".SILENT")
        how = STORE_MODES.get(mode.removesuffix(b".SILENT"))

        def send(changed: dict[int, list[str]]) -> None:
            for number, current in sorted(changed.items()):
                if not silent:  # UID STORE always names the UID (RFC 3501 6.4.8)
                    extra = b" UID %d" % self.mbox.getUID(number) if uid else b""
                    server.sendUntaggedResponse(
                        b"%d FETCH (FLAGS (%b)%b)" % (number, " ".join(current).encode("ascii"), extra)
                    )

        def work() -> Any:
            if how is None:
                raise IllegalClientResponse("STORE takes FLAGS, +FLAGS or -FLAGS")
            return self.mbox.store(messages, _flags(flags), how, bool(uid)).addCallback(send)

        self._run(tag, work, b"STORE completed")

    def do_COPY(self, tag: bytes, messages: Any, mailbox: bytes, uid: int = 0) -> None:
        work = lambda: self.mbox.copy(messages, bool(uid), wire.decode_mailbox(mailbox))  # noqa: E731
        self._run(tag, work, b"COPY completed", trycreate=True)

    def _arg_search(self, line: bytes, pieces: tuple[bytes, ...] = ()) -> Any:
        """Search keys; a literal {n} ends a line and its octets arrive on their own (RFC 3501 4.3)."""
        match = re.search(rb"\{(\d+)\}$", line)
        if match is None:
            try:
                return (search.tokenize([*pieces, line]), b"")
            except search.SearchSyntaxError as exc:
                raise IllegalClientResponse(str(exc)) from exc
        server: Any = self
        head = line[: match.start()]
        literal = server._stringLiteral(int(match.group(1)))
        return literal.addCallback(lambda got: self._arg_search(got[1], (*pieces, head, search.Literal(got[0]))))

    def do_SEARCH(self, tag: bytes, charset: bytes | None, query: list[Any], uid: int = 0) -> None:
        server: Any = self

        def send(numbers: list[int]) -> None:
            server.sendUntaggedResponse(b"SEARCH" + b"".join(b" %d" % n for n in numbers))

        def work() -> Any:
            if charset is not None and charset.upper() not in CHARSETS:
                raise UnsupportedCharset(f"charset {charset.decode('ascii', 'replace')} is not supported")
            return self.mbox.search(query, bool(uid)).addCallback(send)

        self._run(tag, work, b"SEARCH completed")

    def do_NOOP(self, tag: bytes) -> None:
        """NOOP polls for changes (RFC 3501 6.1.2): refresh the view, report expunges, then OK."""
        server: Any = self
        if self.mbox is None:
            server.sendPositiveResponse(tag, b"NOOP completed")
            return
        self._run(
            tag, lambda: self.mbox.refresh().addCallback(lambda _: server._send_pending_expunges()), b"NOOP completed"
        )

    a = IMAP4Server
    unauth_NOOP = auth_NOOP = select_NOOP = logout_NOOP = (do_NOOP,)
    auth_CREATE = select_CREATE = (do_CREATE, a.arg_finalastring)
    auth_DELETE = select_DELETE = (do_DELETE, a.arg_finalastring)
    auth_RENAME = select_RENAME = (do_RENAME, a.arg_astring, a.arg_finalastring)
    auth_SUBSCRIBE = select_SUBSCRIBE = (do_SUBSCRIBE, a.arg_finalastring)
    auth_UNSUBSCRIBE = select_UNSUBSCRIBE = (do_UNSUBSCRIBE, a.arg_finalastring)
    auth_LIST = select_LIST = (_list, a.arg_astring, a.arg_astring, False, b"LIST")
    auth_LSUB = select_LSUB = (_list, a.arg_astring, a.arg_astring, True, b"LSUB")
    auth_STATUS = select_STATUS = (do_STATUS, a.arg_astring, a.arg_plist)
    auth_SELECT = select_SELECT = (_select, a.arg_astring, 1, b"SELECT")
    auth_EXAMINE = select_EXAMINE = (_select, a.arg_astring, 0, b"EXAMINE")
    auth_APPEND = select_APPEND = (do_APPEND, a.arg_astring, a.opt_plist, a.opt_datetime, _arg_message)
    select_CLOSE = (do_CLOSE,)
    select_EXPUNGE = (do_EXPUNGE,)
    select_STORE = (do_STORE, a.arg_seqset, a.arg_atom, a.arg_flaglist)
    select_COPY = (do_COPY, a.arg_seqset, a.arg_finalastring)
    select_SEARCH = (do_SEARCH, a.opt_charset, _arg_search)
    del a
