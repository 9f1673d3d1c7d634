"""Folder commands and the commands that open and close a folder (RFC 3501 6.3, 6.4.1-2; RFC 3691 UNSELECT).

twisted looks commands up as `<state>_<NAME>` tuples of (handler, argument parsers...), so each override
rebinds the tuple. Why each one is replaced:
- CREATE, DELETE, RENAME, (UN)SUBSCRIBE call the account synchronously and take a Deferred for success.
- SELECT, STATUS, APPEND, COPY answer a failed lookup with BAD "Server error" (and some build the NO text
  from str + bytes, which raises); SELECT also omits PERMANENTFLAGS, UIDNEXT, UNSEEN and HIGHESTMODSEQ.
- LIST and LSUB: see listing.py.
- APPEND would spool any literal size to a temporary file before anyone checks it (trap 11 in the package
  docstring), and has no APPENDUID (RFC 4315) nor MULTIAPPEND (RFC 3502).
All of them answer through replies.run, which maps core errors in one place (errors.py).
"""

from __future__ import annotations

from typing import Any, Protocol

from twisted.mail.imap4 import IllegalClientResponse

from smb_suite.imap import qresync, syntax, wire
from smb_suite.imap.account import Account
from smb_suite.imap.arguments import AppendMessage, arg_astring, arg_finalastring, arg_line, arg_messages
from smb_suite.imap.mailbox import DELIMITER, MailboxView, Session
from smb_suite.imap.replies import Responder, run
from smb_suite.services import Services
from smb_suite.storage.store import Mailbox


class FolderServer(Responder, Session, Protocol):
    """What the folder commands need from the server (session.IMAPSession)."""

    @property
    def account(self) -> Account: ...
    @property
    def view(self) -> MailboxView: ...  # the selected folder's view, in the select state
    @property
    def append_limit(self) -> int: ...
    @property
    def connected(self) -> int: ...
    @property
    def mbox(self) -> MailboxView | None: ...  # the selected folder's view, if any
    @property
    def rev2(self) -> bool: ...  # IMAP4rev2 enabled (RFC 9051)
    @property
    def names(self) -> wire.MailboxNames: ...  # how folder names travel (UTF-8 under IMAP4rev2)
    def selected(self, view: MailboxView) -> None: ...  # the session now shows this folder (select state)
    def deselect(self) -> None: ...
    def enable_condstore(self) -> None: ...
    @property
    def qresync(self) -> bool: ...  # ENABLE QRESYNC was given (RFC 7162 3.2.3)
    def send_untagged_many(self, messages: list[bytes], is_async: bool = False) -> None: ...
    @property
    def services(self) -> Services: ...


def flag_responses(view: MailboxView) -> list[bytes]:
    """FLAGS and PERMANENTFLAGS (RFC 3501 7.2.6, 7.1): at SELECT, and again when a keyword is new to the
    folder. Any keyword may be created in a read-write folder (\\*); a read-only one keeps none."""
    flags = " ".join((*syntax.SYSTEM_FLAGS, *view.keywords())).encode("ascii", "replace")
    permanent = flags + b" \\*" if view.writeable else b""
    return [b"FLAGS (%b)" % flags, b"OK [PERMANENTFLAGS (%b)] flags that persist" % permanent]


async def send_status(server: FolderServer, name: str, wanted: tuple[str, ...]) -> None:
    """One untagged STATUS response (STATUS, and LIST-STATUS for each folder listed)."""
    if "HIGHESTMODSEQ" in wanted:
        server.enable_condstore()
    status = await server.account.status(name)
    values = {
        "MESSAGES": status.messages,
        "RECENT": status.recent,
        "UIDNEXT": status.mailbox.uidnext,
        "UIDVALIDITY": status.mailbox.uidvalidity,
        "UNSEEN": status.unseen,
        "HIGHESTMODSEQ": status.mailbox.highestmodseq,
        "APPENDLIMIT": server.append_limit,
        "SIZE": status.size,  # RFC 8438
        "DELETED": status.deleted,  # RFC 9051 6.3.11
        "MAILBOXID": f"({status.mailbox.object_id})",  # RFC 8474 4
    }
    text = " ".join(f"{item} {values[item]}" for item in wanted).encode("ascii")
    server.sendUntaggedResponse(b"STATUS %b (%b)" % (server.names.encode(status.mailbox.name), text))


async def _send_list_of(server: FolderServer, name: str) -> None:
    """The LIST response of one folder, with its attributes (SELECT under IMAP4rev2, RFC 9051 6.3.2)."""
    for folder in await server.account.folders():
        if folder.name == name:
            attributes = " ".join(folder.attributes).encode("ascii")
            separator = wire.string(DELIMITER.encode("ascii"))
            server.sendUntaggedResponse(b"LIST (%b) %b %b" % (attributes, separator, server.names.encode(name)))


def _send_oldname(server: FolderServer, raw: bytes, stored: str) -> None:
    """RFC 9051 6.3.4: a folder stored under another spelling (NFC) than the one sent is announced with a LIST
    response naming the client's spelling as OLDNAME."""
    sent = server.names.spelling_if_normalised(raw)
    if sent is not None:
        separator = wire.string(DELIMITER.encode("ascii"))
        old = server.names.encode(sent)
        server.sendUntaggedResponse(b'LIST () %b %b ("OLDNAME" (%b))' % (separator, server.names.encode(stored), old))


def _created(mailbox: Mailbox) -> bytes:
    """RFC 8474 4: CREATE's OK names the new folder's id."""
    return b"[MAILBOXID (%b)] CREATE completed" % mailbox.object_id.encode("ascii")


class MailboxCommands:
    """The command table entries of these commands, inherited by the server class; each handler takes the
    server (twisted calls it with the server first)."""

    # -- folders (RFC 3501 6.3) -----------------------------------------------------------------------------

    def do_CREATE(self: FolderServer, tag: bytes, name: bytes) -> None:
        async def work() -> Mailbox:
            mailbox = await self.account.create(self.names.decode(name))
            _send_oldname(self, name, mailbox.name)
            return mailbox

        run(self, tag, work, _created)

    def do_DELETE(self: FolderServer, tag: bytes, name: bytes) -> None:
        run(self, tag, lambda: self.account.delete(self.names.decode(name)), b"DELETE completed")

    def do_RENAME(self: FolderServer, tag: bytes, old: bytes, new: bytes) -> None:
        async def work() -> None:
            stored = self.names.decode(new)
            await self.account.rename(self.names.decode(old), stored)
            _send_oldname(self, new, stored)

        run(self, tag, work, b"RENAME completed")

    def do_SUBSCRIBE(self: FolderServer, tag: bytes, name: bytes) -> None:
        run(self, tag, lambda: self.account.subscribe(self.names.decode(name)), b"SUBSCRIBE completed")

    def do_UNSUBSCRIBE(self: FolderServer, tag: bytes, name: bytes) -> None:
        run(self, tag, lambda: self.account.unsubscribe(self.names.decode(name)), b"UNSUBSCRIBE completed")

    def do_STATUS(self: FolderServer, tag: bytes, mailbox: bytes, rest: bytes) -> None:
        """STATUS (RFC 3501 6.3.10) from the index, with HIGHESTMODSEQ (RFC 7162), APPENDLIMIT (RFC 7889), SIZE
        (RFC 8438) and DELETED (RFC 9051)."""

        def work() -> Any:
            items = syntax.tokens(rest)
            if len(items) != 1:
                raise IllegalClientResponse("STATUS needs a parenthesised list of items")
            wanted = syntax.status_items(items[0])
            if self.rev2 and "RECENT" in wanted:
                raise IllegalClientResponse("IMAP4rev2 has no RECENT status item")  # RFC 9051 6.3.11, 9
            return send_status(self, self.names.decode(mailbox), wanted)

        run(self, tag, work, b"STATUS completed")

    # -- opening and closing a folder (RFC 3501 6.3.1-2, 6.4.2; RFC 3691; RFC 7162 3.1.8) -------------------

    def _select(self: FolderServer, tag: bytes, name: bytes, rest: bytes, writeable: int, command: bytes) -> None:
        """SELECT/EXAMINE: a failed SELECT leaves no folder selected; with QRESYNC, the client's copy is brought
        up to date (qresync.py)."""
        if self.mbox is not None and (self.qresync or self.rev2):  # RFC 7162 3.2.11, RFC 9051 7.1
            self.sendUntaggedResponse(b"OK [CLOSED] previous folder closed")
        self.deselect()

        async def work() -> bytes | None:
            params = qresync.select_params(rest)
            if params.qresync is not None and not self.qresync:
                raise IllegalClientResponse("QRESYNC must be enabled first (ENABLE QRESYNC)")  # RFC 7162 3.2.5
            view = await self.account.select(self.names.decode(name), self, bool(writeable))
            if not self.connected:  # the client left meanwhile
                view.close()
                return None
            if params.condstore:
                self.enable_condstore()
            for line in flag_responses(view):
                self.sendUntaggedResponse(line)
            self.sendUntaggedResponse(b"%d EXISTS" % view.count())
            mailbox: Mailbox = view.mailbox
            if self.rev2:  # RFC 9051 6.3.2: a LIST response for the folder; no RECENT, no [UNSEEN n]
                await _send_list_of(self, mailbox.name)
            else:
                self.sendUntaggedResponse(b"%d RECENT" % view.recent_count())  # RFC 3501 7.3.2
                unseen = view.first_unseen()
                if unseen is not None:
                    self.sendUntaggedResponse(b"OK [UNSEEN %d] first unseen message" % unseen)
            self.sendUntaggedResponse(b"OK [UIDVALIDITY %d] UIDs valid" % mailbox.uidvalidity)
            self.sendUntaggedResponse(b"OK [UIDNEXT %d] predicted next UID" % mailbox.uidnext)
            self.sendUntaggedResponse(b"OK [HIGHESTMODSEQ %d] highest mod-sequence" % mailbox.highestmodseq)
            self.sendUntaggedResponse(b"OK [MAILBOXID (%b)] the folder's id" % mailbox.object_id.encode())  # RFC 8474
            self.selected(view)
            if params.qresync is not None:
                await qresync.resync(self, view, params.qresync)
            return b"[READ-WRITE] %b completed" % command if writeable else b"[READ-ONLY] %b completed" % command

        run(self, tag, work, lambda text: text)

    def do_UNSELECT(self: FolderServer, tag: bytes) -> None:
        """RFC 3691: leave the folder without expunging."""
        run(self, tag, self.deselect, b"UNSELECT completed")

    def do_CLOSE(self: FolderServer, tag: bytes) -> None:
        """Expunge silently when writeable, then deselect (RFC 3501 6.4.2)."""
        view = self.view

        async def work() -> None:
            if view.writeable:
                await view.expunge()
            self.deselect()

        run(self, tag, work, b"CLOSE completed")

    def do_CHECK(self: FolderServer, tag: bytes) -> None:
        """CHECK (RFC 3501 6.4.1): nothing to flush (writes are durable), but a chance to report changes."""
        view = self.view
        run(self, tag, lambda: view.state.refresh(), b"CHECK completed")

    def do_NOOP(self: FolderServer, tag: bytes) -> None:
        """NOOP polls for changes (RFC 3501 6.1.2); pending expunges go out before the OK."""
        view = self.mbox
        run(self, tag, lambda: None if view is None else view.state.refresh(), b"NOOP completed")

    # -- APPEND (RFC 3501 6.3.11, RFC 4315 APPENDUID) -------------------------------------------------------

    def do_APPEND(self: FolderServer, tag: bytes, mailbox: bytes, messages: list[AppendMessage]) -> None:
        """APPEND of one message or several (MULTIAPPEND, RFC 3502): all are kept, or none."""

        async def work() -> bytes:
            try:
                new = [(m.message, m.flags, None if m.date is None else wire.parse_date_time(m.date)) for m in messages]
                appended, uids = await self.account.append(self.names.decode(mailbox), new, self.mbox)
            finally:
                for message in messages:
                    message.message.close()
            return b"[APPENDUID %d %b] APPEND completed" % (appended.uidvalidity, syntax.compact(uids))

        run(self, tag, work, lambda text: text, trycreate=True)

    unauth_NOOP = auth_NOOP = select_NOOP = logout_NOOP = (do_NOOP,)
    auth_CREATE = select_CREATE = (do_CREATE, arg_finalastring)
    auth_DELETE = select_DELETE = (do_DELETE, arg_finalastring)
    auth_RENAME = select_RENAME = (do_RENAME, arg_astring, arg_finalastring)
    auth_SUBSCRIBE = select_SUBSCRIBE = (do_SUBSCRIBE, arg_finalastring)
    auth_UNSUBSCRIBE = select_UNSUBSCRIBE = (do_UNSUBSCRIBE, arg_finalastring)
    auth_STATUS = select_STATUS = (do_STATUS, arg_astring, arg_line)
    auth_SELECT = select_SELECT = (_select, arg_astring, arg_line, 1, b"SELECT")
    auth_EXAMINE = select_EXAMINE = (_select, arg_astring, arg_line, 0, b"EXAMINE")
    auth_APPEND = select_APPEND = (do_APPEND, arg_astring, arg_messages)
    select_UNSELECT = (do_UNSELECT,)
    select_CLOSE = (do_CLOSE,)
    select_CHECK = (do_CHECK,)
