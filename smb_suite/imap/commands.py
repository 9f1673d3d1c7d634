"""Folder commands and the commands that open and close a folder (RFC 3501 6.3, 6.4.1-2; RFC 3691 UNSELECT).

twisted looks commands up as `<state>_<NAME>` tuples of (handler, argument parsers...), so each override
rebinds the tuple. Why each one is replaced:
- CREATE, DELETE, RENAME, (UN)SUBSCRIBE call the account synchronously and take a Deferred for success.
- SELECT, STATUS, APPEND, COPY answer a failed lookup with BAD "Server error" (and some build the NO text
  from str + bytes, which raises); SELECT also omits PERMANENTFLAGS, UIDNEXT, UNSEEN and HIGHESTMODSEQ.
- LIST and LSUB: see listing.py.
- APPEND would spool any literal size to a temporary file before anyone checks it (trap 11 in the package
  docstring), and has no APPENDUID (RFC 4315).
All of them answer through `_run`, which maps core errors in one place (errors.py).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from twisted.internet.defer import Deferred, succeed
from twisted.mail.imap4 import IllegalClientResponse
from twisted.python.failure import Failure

from smb_suite.imap import syntax, wire
from smb_suite.imap.arguments import Arguments
from smb_suite.imap.bridge import as_deferred
from smb_suite.imap.errors import reply_error
from smb_suite.storage.store import Mailbox

Ok = bytes | Callable[[Any], bytes] | None


class MailboxCommands(Arguments):
    """Mixed into the server class; relies on IMAP4Server's state and send methods."""

    account: Any
    mbox: Any
    state: str
    append_limit: int

    def _run(self, tag: bytes, work: Callable[[], Any], ok: Ok, trycreate: bool = False) -> None:
        """Run a command's work (a value, Deferred or coroutine); answer OK with `ok` (text, or a function of
        the result), or NO/BAD from the error. `ok` None: the work answers by itself."""
        server: Any = self
        try:
            result = work()
        except Exception as exc:  # noqa: BLE001 - every failure becomes a tagged reply
            reply_error(server, tag, Failure(exc), trycreate)
            return
        if inspect.iscoroutine(result):
            deferred: Deferred[Any] = as_deferred(result)
        elif isinstance(result, Deferred):
            deferred = result
        else:
            deferred = succeed(result)
        if ok is not None:
            deferred.addCallback(lambda value: server.sendPositiveResponse(tag, ok(value) if callable(ok) else ok))
        deferred.addErrback(lambda failure: reply_error(server, tag, failure, trycreate))

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

    def do_STATUS(self, tag: bytes, mailbox: bytes, rest: bytes) -> None:
        """STATUS (RFC 3501 6.3.10) from the index, with HIGHESTMODSEQ (RFC 7162) and APPENDLIMIT (RFC 7889)."""

        def work() -> Any:
            items = syntax.tokens(rest)
            if len(items) != 1:
                raise IllegalClientResponse("STATUS needs a parenthesised list of items")
            return self.send_status(wire.decode_mailbox(mailbox), syntax.status_items(items[0]))

        self._run(tag, work, b"STATUS completed")

    async def send_status(self, name: str, wanted: tuple[str, ...]) -> None:
        """One untagged STATUS response (STATUS, and LIST-STATUS for each folder listed)."""
        server: Any = self
        if "HIGHESTMODSEQ" in wanted:
            server.enable_condstore()
        status = await self.account.status(name)
        values = {
            "MESSAGES": status.messages,
            "RECENT": 0,
            "UIDNEXT": status.mailbox.uidnext,
            "UIDVALIDITY": status.mailbox.uidvalidity,
            "UNSEEN": status.unseen,
            "HIGHESTMODSEQ": status.mailbox.highestmodseq,
            "APPENDLIMIT": self.append_limit,
        }
        text = " ".join(f"{item} {values[item]}" for item in wanted).encode("ascii")
        server.sendUntaggedResponse(b"STATUS %b (%b)" % (wire.encode_mailbox(status.mailbox.name), text))

    # -- opening and closing a folder (RFC 3501 6.3.1-2, 6.4.2; RFC 3691; RFC 7162 3.1.8) -------------------

    def _select(self, tag: bytes, name: bytes, rest: bytes, writeable: int, command: bytes) -> None:
        """SELECT/EXAMINE: a failed SELECT leaves no folder selected."""
        server: Any = self
        server._deselect()

        async def work() -> bytes | None:
            params = syntax.select_params(rest)
            view = await self.account.select(wire.decode_mailbox(name), server, bool(writeable))
            if not server.connected:  # the client left meanwhile
                view.close()
                return None
            if b"CONDSTORE" in params:
                server.enable_condstore()
            flags = " ".join((*syntax.SYSTEM_FLAGS, *view.keywords())).encode("ascii", "replace")
            server.sendUntaggedResponse(b"FLAGS (%b)" % flags)
            permanent = flags + b" \\*" if writeable else b""
            server.sendUntaggedResponse(b"OK [PERMANENTFLAGS (%b)] flags that persist" % permanent)
            server.sendUntaggedResponse(b"%d EXISTS" % view.count())
            server.sendUntaggedResponse(b"0 RECENT")
            unseen = view.first_unseen()
            if unseen is not None:
                server.sendUntaggedResponse(b"OK [UNSEEN %d] first unseen message" % unseen)
            mailbox: Mailbox = view.mailbox
            server.sendUntaggedResponse(b"OK [UIDVALIDITY %d] UIDs valid" % mailbox.uidvalidity)
            server.sendUntaggedResponse(b"OK [UIDNEXT %d] predicted next UID" % mailbox.uidnext)
            server.sendUntaggedResponse(b"OK [HIGHESTMODSEQ %d] highest mod-sequence" % mailbox.highestmodseq)
            server.mbox, server.state = view, "select"
            return b"[READ-WRITE] %b completed" % command if writeable else b"[READ-ONLY] %b completed" % command

        self._run(tag, work, lambda text: text)

    def do_UNSELECT(self, tag: bytes) -> None:
        """RFC 3691: leave the folder without expunging."""
        server: Any = self
        self._run(tag, server._deselect, b"UNSELECT completed")

    def do_CLOSE(self, tag: bytes) -> None:
        """Expunge silently when writeable, then deselect (RFC 3501 6.4.2)."""
        server: Any = self
        view = self.mbox

        async def work() -> None:
            if view.writeable:
                await view.expunge()
            server._deselect()

        self._run(tag, work, b"CLOSE completed")

    def do_CHECK(self, tag: bytes) -> None:
        """CHECK (RFC 3501 6.4.1): nothing to flush (writes are durable), but a chance to report changes."""
        self._run(tag, lambda: self.mbox.state.refresh(), b"CHECK completed")

    def do_NOOP(self, tag: bytes) -> None:
        """NOOP polls for changes (RFC 3501 6.1.2); pending expunges go out before the OK."""
        view = self.mbox
        self._run(tag, lambda: None if view is None else view.state.refresh(), b"NOOP completed")

    # -- APPEND (RFC 3501 6.3.11, RFC 4315 APPENDUID) -------------------------------------------------------

    def do_APPEND(self, tag: bytes, mailbox: bytes, flags: list[str], date: bytes | None, message: Any) -> None:
        async def work() -> bytes:
            when = None if date is None else wire.parse_date_time(date)
            appended, uid = await self.account.append(wire.decode_mailbox(mailbox), message, flags, when)
            if self.mbox is not None and self.mbox.mailbox.id == appended.id:
                await self.mbox.state.refresh()  # EXISTS before the tagged OK
            return b"[APPENDUID %d %d] APPEND completed" % (appended.uidvalidity, uid)

        self._run(tag, work, lambda text: text, trycreate=True)

    a = Arguments
    unauth_NOOP = auth_NOOP = select_NOOP = logout_NOOP = (do_NOOP,)
    auth_CREATE = select_CREATE = (do_CREATE, a.arg_finalastring)
    auth_DELETE = select_DELETE = (do_DELETE, a.arg_finalastring)
    auth_RENAME = select_RENAME = (do_RENAME, a.arg_astring, a.arg_finalastring)
    auth_SUBSCRIBE = select_SUBSCRIBE = (do_SUBSCRIBE, a.arg_finalastring)
    auth_UNSUBSCRIBE = select_UNSUBSCRIBE = (do_UNSUBSCRIBE, a.arg_finalastring)
    auth_STATUS = select_STATUS = (do_STATUS, a.arg_astring, a.arg_line)
    auth_SELECT = select_SELECT = (_select, a.arg_astring, a.arg_line, 1, b"SELECT")
    auth_EXAMINE = select_EXAMINE = (_select, a.arg_astring, a.arg_line, 0, b"EXAMINE")
    auth_APPEND = select_APPEND = (do_APPEND, a.arg_astring, a.opt_flags, a.opt_date_time, a.arg_message)
    select_UNSELECT = (do_UNSELECT,)
    select_CLOSE = (do_CLOSE,)
    select_CHECK = (do_CHECK,)
    del a
