"""A folder as one session sees it: its own sequence numbers over the shared FolderState (RFC 3501 2.3.1.2).

Sequence number n is the n-th UID of `uids()`: the state's UIDs plus those expunged elsewhere that this
session has not been told about yet. They stay (and can still be fetched from their last known row) until
the session reaches a point where RFC 3501 7.4.1 allows an EXPUNGE response (`take_expunged`). A view in
step with the state has no array of its own. Writes go to the store on the writer thread; the session's own
changes reach the other sessions at once through the state.

A view also knows which messages are \\Recent for its session (RFC 3501 2.3.2): those it claimed in the index
(storage claim_recent) at SELECT or when the state told it of new mail, so each message is recent in one
read-write session only, whichever process runs it; a read-only view shows those no one has claimed, claiming
nothing. A session that does not report \\Recent (IMAP4rev2) claims nothing either (`reports_recent`).
"""

from __future__ import annotations

import bisect
import dataclasses
import heapq
from array import array
from typing import Any, Protocol

from twisted.mail.imap4 import ReadOnlyMailbox

from smb_suite.imap import syntax
from smb_suite.imap.folder import FolderState
from smb_suite.storage.store import FlagUpdate, Mailbox, StoredMessage, Transfer

DELIMITER = "/"
RECENT = frozenset({"\\Recent"})


class Session(Protocol):
    """What a view tells its session (session.IMAPSession), which decides when and how to say it."""

    @property
    def reports_recent(self) -> bool: ...  # False under IMAP4rev2 (RFC 9051 has no \Recent)
    def exists_changed(self, count: int) -> None: ...
    def flags_changed(self, changes: list[tuple[int, StoredMessage]]) -> None: ...
    def keywords_changed(self, keywords: list[str]) -> None: ...
    def expunges_pending(self) -> None: ...


class MailboxView:
    def __init__(self, state: FolderState, session: Session, writeable: bool) -> None:
        self.state = state
        self.session = session
        self.writeable = writeable
        self._gone: dict[int, StoredMessage] = {}  # expunged elsewhere, not yet reported to this session
        self._merged: array[int] | None = None
        self.saved: list[int] = []  # UIDs kept by SEARCH RETURN (SAVE), named "$" (RFC 5182); empty at SELECT
        self.reports_recent = session.reports_recent
        self._recent: list[range] = []  # UIDs \Recent in this session, ascending
        self._keywords = frozenset(state.keywords())  # what the session's FLAGS response listed
        state.follow(self)

    @property
    def mailbox(self) -> Mailbox:
        return self.state.mailbox

    # -- numbering -----------------------------------------------------------------------------------------

    def uids(self) -> array[int]:
        if not self._gone:
            return self.state.uids
        if self._merged is None:
            self._merged = array("I", heapq.merge(self.state.uids, sorted(self._gone)))
        return self._merged

    def count(self) -> int:
        return len(self.uids())

    def message(self, uid: int) -> StoredMessage | None:
        found = self.state.by_uid.get(uid)
        return found if found is not None else self._gone.get(uid)

    def seq_of(self, uid: int) -> int | None:
        uids = self.uids()
        position = bisect.bisect_left(uids, uid)
        return position + 1 if position < len(uids) and uids[position] == uid else None

    def select(self, ranges: syntax.SequenceSet, by_uid: bool) -> list[tuple[int, int]]:
        """(sequence number, UID) of the messages a set names, ascending; '*' is the highest (RFC 3501 6.4.8).

        A UID range names the UIDs that exist within it (RFC 3501 9), so 10:* matches the last message even
        when it is below 10.
        """
        if ranges == syntax.SAVED:  # "$": the same messages with or without UID (RFC 5182 2.1)
            return [(seq, uid) for uid in self.saved if (seq := self.seq_of(uid)) is not None]
        uids = self.uids()
        if not uids:
            return []
        last = uids[-1] if by_uid else len(uids)
        chosen: list[tuple[int, int]] = []
        for low, high in syntax.resolve(ranges, last):  # sorted and disjoint: no position twice
            if by_uid:
                start, end = bisect.bisect_left(uids, low), bisect.bisect_right(uids, high)
            else:
                start, end = low - 1, min(high, len(uids))
            chosen.extend((position + 1, uids[position]) for position in range(max(start, 0), end))
        return chosen

    # -- what SELECT reports -------------------------------------------------------------------------------

    def keywords(self) -> list[str]:
        return sorted(self._keywords)

    # -- \Recent (RFC 3501 2.3.2) -------------------------------------------------------------------------------

    @property
    def claims_recent(self) -> bool:
        """Whether this session takes new messages' \\Recent from everyone else (read-write, RFC 3501)."""
        return self.writeable and self.reports_recent

    async def claim_recent(self) -> None:
        """At SELECT: claim what no read-write session was shown as recent; EXAMINE only looks."""
        state = self.state
        if not self.claims_recent:
            if self.reports_recent:
                self.add_recent(range(state.mailbox.recent_from, state.mailbox.uidnext))
            return
        services = state.services
        async with state.lock:
            top = state.mailbox.uidnext
            if state.mailbox.recent_from < top:
                self.add_recent(await services.runner.write(services.store.claim_recent, state.mailbox, top))
                state.mailbox = dataclasses.replace(state.mailbox, recent_from=max(state.mailbox.recent_from, top))

    def add_recent(self, uids: range) -> None:
        if not uids or not self.reports_recent:
            return
        if self._recent and self._recent[-1].stop >= uids.start:
            last = self._recent.pop()
            uids = range(min(last.start, uids.start), max(last.stop, uids.stop))
        self._recent.append(uids)

    def recent_count(self) -> int:
        uids = self.uids()
        return sum(bisect.bisect_left(uids, r.stop) - bisect.bisect_left(uids, r.start) for r in self._recent)

    def shown_flags(self, message: StoredMessage) -> frozenset[str]:
        """The flags this session sees: the stored ones, with \\Recent when the message is recent here."""
        if self._recent and any(message.uid in r for r in self._recent):
            return message.flags | RECENT
        return message.flags

    def shown(self, uid: int) -> StoredMessage | None:
        """The message as this session sees it (FETCH): \\Recent among its flags when it is recent here."""
        message = self.message(uid)
        if message is None or not self._recent:
            return message
        flags = self.shown_flags(message)
        return message if flags is message.flags else message._replace(flags=flags)

    def first_unseen(self) -> int | None:
        """Sequence number for SELECT's [UNSEEN n] (RFC 3501 6.3.1)."""
        for seq, uid in enumerate(self.uids(), 1):
            message = self.message(uid)
            if message is not None and "\\Seen" not in message.flags:
                return seq
        return None

    # -- what the state tells us ---------------------------------------------------------------------------

    def removed(self, gone: list[StoredMessage]) -> None:
        for message in gone:
            self._gone[message.uid] = message
        self._merged = None
        self.session.expunges_pending()

    def keywords_seen(self, keywords: list[str]) -> None:
        """The folder's messages now carry these keywords: the session lists any new one (RFC 3501 7.2.6)."""
        if not self._keywords.issuperset(keywords):
            self._keywords = self._keywords.union(keywords)
            self.session.keywords_changed(self.keywords())

    def changed(self, messages: list[StoredMessage]) -> None:
        changes = [(seq, m) for m in messages if (seq := self.seq_of(m.uid)) is not None]
        if changes:
            self.session.flags_changed(changes)

    def added(self, recent: range) -> None:
        self._merged = None
        self.add_recent(recent)
        self.session.exists_changed(self.count())

    def has_expunged(self) -> bool:
        """Whether messages expunged elsewhere wait to be reported to this session."""
        return bool(self._gone)

    def below_held_expunges(self) -> int | None:
        """A mod-sequence lower than every expunge still held back from the session (each expunge came after
        its message's last change), or None when none waits."""
        return min(message.modseq for message in self._gone.values()) if self._gone else None

    def take_expunged(self) -> list[tuple[int, int]]:
        """Forget messages expunged elsewhere; their (sequence number, UID), highest first (each number valid
        when read: EXPUNGE responses), or the UIDs for a VANISHED response (RFC 7162 3.2.10)."""
        if not self._gone:
            return []
        uids = self.uids()
        gone = sorted(((bisect.bisect_left(uids, uid) + 1, uid) for uid in self._gone), reverse=True)
        self._gone.clear()
        self._merged = None
        return gone

    # -- changes made by this session ----------------------------------------------------------------------

    def _check_writeable(self) -> None:
        if not self.writeable:
            raise ReadOnlyMailbox()

    async def store(self, uids: list[int], args: syntax.StoreArgs) -> FlagUpdate:
        self._check_writeable()
        services, state = self.state.services, self.state
        async with state.lock:
            update: FlagUpdate = await services.runner.write(
                services.store.store_flags, state.user, self.mailbox, uids, args.flags, args.mode, args.unchanged_since
            )
            state.apply_own(list(update.messages.values()), self, update.modseq)
        return update

    async def expunge(self, uids: list[int] | None = None) -> list[tuple[int, int]]:
        """Remove \\Deleted messages (of `uids` only, for UID EXPUNGE); every (sequence number, UID) to report."""
        self._check_writeable()
        services, state = self.state.services, self.state
        async with state.lock:
            removed = await services.runner.write(services.store.expunge, state.user, self.mailbox, uids)
            state.remove_own(removed.uids, removed.modseq)
        return self.take_expunged()

    async def transfer(self, uids: list[int], target: str, move: bool) -> Transfer:
        """COPY (RFC 3501 6.4.7) or MOVE (RFC 6851) to a folder of the same user."""
        if move:
            self._check_writeable()
        services, state = self.state.services, self.state
        operation: Any = services.store.move if move else services.store.copy
        async with state.lock:
            result: Transfer = await services.runner.write(operation, state.user, self.mailbox, uids, target)
            if move:
                state.remove_own([source for source, _ in result.pairs])
            if result.target.id == self.mailbox.id:
                await state.refresh_locked()
        return result

    def close(self) -> None:
        self.state.unfollow(self)
