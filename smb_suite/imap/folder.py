"""One folder's index as all the sessions showing it share it (a `FolderState` per selected folder).

A state holds every message's index row (UID, flags, size, dates, mod-sequence; never the body) and an
ascending array of UIDs. It follows the store: on a change notification it asks the index only for what
changed since its mod-sequence (RFC 7162), and tells each session's view which messages are new, changed
or gone. A thousand sessions idling on one INBOX share one state, and a session that is in step shares its
UID array too, so an idle session costs almost nothing; the first SELECT of a folder reads the index only.

States are keyed by (user id, mailbox id, UIDVALIDITY), ids the database never hands out twice, and a folder
deleted or renamed is dropped from the registry at once (ChangeHub.drop): a kept state can never stand for
another folder, or for another user's (issue 11).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import weakref
from array import array
from collections import Counter, OrderedDict
from typing import Any, Protocol

from smb_suite import errors
from smb_suite.directory.model import User
from smb_suite.imap.content import HeaderSections
from smb_suite.imap.search import HeaderCache
from smb_suite.mail.sortfields import SortFields
from smb_suite.mail.summary import SearchText
from smb_suite.services import Services
from smb_suite.storage.store import Mailbox, MailStore, StoredMessage

logger = logging.getLogger("smb_suite.imap")

StateKey = tuple[int, int, int]  # (user id, mailbox id, UIDVALIDITY)
UNKNOWN = 1 << 63  # a change announced without its mod-sequence (another process's): always read


def state_key(user: User, mailbox: Mailbox) -> StateKey:
    if mailbox.user_id != user.id:  # a caller's bug, never a client's choice: refuse rather than mix accounts
        raise errors.UnsafePath(f"folder {mailbox.id} is not one of user {user.id}'s")
    return (user.id, mailbox.id, mailbox.uidvalidity)


class Follower(Protocol):
    """What a state tells each view (mailbox.MailboxView)."""

    @property
    def claims_recent(self) -> bool: ...  # takes new messages' \Recent from everyone else (RFC 3501 2.3.2)
    def removed(self, gone: list[StoredMessage]) -> None: ...
    def keywords_seen(self, keywords: list[str]) -> None: ...
    def changed(self, messages: list[StoredMessage]) -> None: ...
    def added(self, recent: range) -> None: ...


class FolderState:
    def __init__(self, registry: FolderRegistry, user: User, mailbox: Mailbox, messages: list[StoredMessage]):
        self._registry = registry
        self.services = registry.services
        self.user = user
        self.mailbox = mailbox
        self.key = state_key(user, mailbox)
        self.by_uid = {m.uid: m for m in messages}
        self.uids = array("I", (m.uid for m in messages))
        self._flag_sets = Counter(m.flags for m in messages)  # SELECT's keyword list without a full scan
        self._new_flag_set = False  # a set of flags no message had before: maybe a new keyword
        self.followers: list[Follower] = []
        self.search_texts: dict[int, SearchText] = {}  # filled by the first SEARCH on a header (selected.py)
        self.header_cache = HeaderCache()  # other header fields, once a SEARCH HEADER asked for them
        self.sections = HeaderSections()  # header sections FETCH sent lately (content.py)
        self.sort_fields: dict[int, SortFields] = {}  # filled by SORT and THREAD (sort.py)
        self.lock = asyncio.Lock()  # one refresh or own write at a time: a stale read never wins
        self._dirty = False
        self._wanted = 0  # the highest mod-sequence announced since the last read (UNKNOWN: not said)
        self._refresher: asyncio.Task[None] | None = None
        self.deleted = False

    # -- keeping up with the store -------------------------------------------------------------------------

    async def refresh(self) -> None:
        """Catch up with the index now (after our own writes, at NOOP, before SELECT reuses this state)."""
        async with self.lock:
            await self.refresh_locked()

    async def refresh_locked(self) -> None:
        """Read what changed, then catch up (`_catch_up`)."""
        runner, store = self.services.runner, self.services.store
        self._wanted = 0  # what was announced so far is in what we read now; later news sets it again
        await self._catch_up(*await runner.read(store.changes_since, self.mailbox, len(self.by_uid)))

    async def refresh_named(self, name: str) -> Mailbox:
        """SELECT of a kept state (holding `lock`): the row of the folder now named `name` and what changed in
        this state's folder, in one trip to a reader thread (two before: the row, then the changes). The
        caller uses this state only when that row is its folder's (same key): a name may have been given to
        another folder meanwhile, by another process whose DELETE or RENAME has not reached us yet."""
        runner, store = self.services.runner, self.services.store
        wanted, self._wanted = self._wanted, 0
        named, found = await runner.read(_named_changes, store, self.user, name, self.mailbox, len(self.by_uid))
        if found is None:  # another folder has the name now: nothing of ours was read
            self._wanted = max(self._wanted, wanted)
        else:
            await self._catch_up(*found)
        return named

    async def _catch_up(self, mailbox: Mailbox, changed: list[StoredMessage], uids: list[int] | None) -> None:
        """Apply what was read; new mail is claimed as \\Recent for the first view that claims (RFC 3501
        2.3.2: the first session notified), in the index, so no session of any process shows it recent too."""
        runner, store = self.services.runner, self.services.store
        claimer = next((f for f in self.followers if f.claims_recent), None)
        claimed = range(0)
        if claimer is not None and mailbox.recent_from < mailbox.uidnext:
            claimed = await runner.write(store.claim_recent, mailbox, mailbox.uidnext)
            mailbox = dataclasses.replace(mailbox, recent_from=mailbox.uidnext)
        self._apply(mailbox, changed, uids, claimer, claimed)

    def _apply(
        self,
        mailbox: Mailbox,
        changed: list[StoredMessage],
        uids: list[int] | None,
        claimer: Follower | None = None,
        claimed: range = range(0),
    ) -> None:
        gone: list[StoredMessage] = []
        if uids is not None:
            present = set(uids)
            gone = [m for m in self.by_uid.values() if m.uid not in present]
            for message in gone:
                del self.by_uid[message.uid]
                self._track(message, None)
        flag_changes, new = [], []
        for message in changed:
            old = self.by_uid.get(message.uid)
            if old is None:
                new.append(message)
                self.by_uid[message.uid] = message
                self._track(None, message)
            elif message.modseq > old.modseq:
                self.by_uid[message.uid] = message
                self._track(old, message)
                if (message.flags, message.modseq) != (old.flags, old.modseq):
                    flag_changes.append(message)
        self.mailbox = mailbox
        new.sort(key=lambda m: m.uid)
        recent = None
        if new:  # the claimer's messages, and for the others (EXAMINE) those nobody claimed (RFC 3501 2.3.2)
            unclaimed = range(max(new[0].uid, mailbox.recent_from), mailbox.uidnext)
            recent = {follower: claimed if follower is claimer else unclaimed for follower in self.followers}
        self._publish(gone, flag_changes, new, None, recent)

    def apply_own(self, messages: list[StoredMessage], origin: Follower | None, modseq: int = 0) -> None:
        """Our own session's flag changes (made holding `lock`), which took the folder to mod-sequence
        `modseq`: shown at once to the others, not echoed back to `origin`."""
        changed = []
        for message in messages:
            old = self.by_uid.get(message.uid)
            if old is not None and message.modseq > old.modseq:
                self.by_uid[message.uid] = message
                self._track(old, message)
                changed.append(message)
        self._caught_up(modseq)
        self._publish([], changed, [], origin)

    def remove_own(self, uids: list[int], modseq: int = 0) -> None:
        """Our own session expunged (or moved away) these (holding `lock`), which took the folder to
        mod-sequence `modseq` (0: not known): drop them now, tell every view."""
        gone = [self.by_uid.pop(uid) for uid in uids if uid in self.by_uid]
        for message in gone:
            self._track(message, None)
        self._caught_up(modseq)
        self._publish(gone, [], [], None)

    def _caught_up(self, modseq: int) -> None:
        """Our own write took the folder from the mod-sequence this state shows to the next one: the state
        now shows `modseq` exactly (every write takes one, under the write lock), so the change notification
        of that write needs no read of the index. Otherwise something else changed in between: the next
        refresh reads it."""
        if modseq and modseq == self.mailbox.highestmodseq + 1:
            self.mailbox = dataclasses.replace(self.mailbox, highestmodseq=modseq)

    def _track(self, old: StoredMessage | None, new: StoredMessage | None) -> None:
        if old is not None and new is None:
            self.sections.forget(old.uid)
        if old is not None:
            self._flag_sets[old.flags] -= 1
            if not self._flag_sets[old.flags]:
                del self._flag_sets[old.flags]
        if new is not None:
            self._flag_sets[new.flags] += 1
            if self._flag_sets[new.flags] == 1:
                self._new_flag_set = True

    def keywords(self) -> list[str]:
        """The keywords some message of the folder has (SELECT's FLAGS response)."""
        return sorted({flag for flags in self._flag_sets for flag in flags if not flag.startswith("\\")})

    def _publish(
        self,
        gone: list[StoredMessage],
        changed: list[StoredMessage],
        new: list[StoredMessage],
        origin: Follower | None,
        recent: dict[Follower, range] | None = None,
    ) -> None:
        """Tell every view; a keyword no message had before comes first (RFC 3501 7.2.6: a client learns of
        it from FLAGS before a FETCH shows it)."""
        keywords = None
        if self._new_flag_set:
            self._new_flag_set = False
            keywords = self.keywords()
        if gone or new:
            kept = self.uids if not gone else array("I", (uid for uid in self.uids if uid in self.by_uid))
            if new and kept and new[0].uid <= kept[-1]:  # not expected (UIDs only grow), but stay sorted
                kept = array("I", sorted({*kept, *(m.uid for m in new)}))
            elif new:
                kept = array("I", kept)
                kept.extend(m.uid for m in new)
            self.uids = kept  # a new array: views still showing the old one keep it (copy on write)
        for follower in list(self.followers):
            if keywords:
                follower.keywords_seen(keywords)
            if gone:
                follower.removed(gone)
            if changed and follower is not origin:
                follower.changed(changed)
            if new:
                follower.added((recent or {}).get(follower, range(0)))

    # -- change notifications ------------------------------------------------------------------------------

    def _changed(self, mailbox_id: int, modseq: int | None) -> None:
        """ChangeHub callback (on the loop): coalesce bursts into one refresh at a time. A change whose
        mod-sequence this process knows (`modseq`) and the state already shows, its own session's write,
        costs no read."""
        self._wanted = max(self._wanted, UNKNOWN if modseq is None else modseq)
        self._dirty = True
        if self._refresher is None or self._refresher.done():
            self._refresher = asyncio.ensure_future(self._refresh_while_dirty())

    async def _refresh_while_dirty(self) -> None:
        while self._dirty and self.followers:
            self._dirty = False
            try:
                async with self.lock:
                    if self._wanted > self.mailbox.highestmodseq:
                        await self.refresh_locked()
            except errors.UnknownMailbox:
                self.deleted = True
                return  # deleted while selected: sessions keep their last view until they leave it
            except Exception:
                logger.exception("imap.refresh_failed mailbox=%s", self.mailbox.id)
                return

    def follow(self, follower: Follower) -> None:
        self.followers.append(follower)

    def unfollow(self, follower: Follower) -> None:
        if follower in self.followers:
            self.followers.remove(follower)
        if not self.followers:
            self._registry.forget(self)

    def close(self) -> None:
        self.services.store.changes.unsubscribe(self.mailbox.id, self._changed)
        if self._refresher is not None:
            self._refresher.cancel()
            self._refresher = None


Changes = tuple[Mailbox, list[StoredMessage], list[int] | None]  # what MailStore.changes_since returns


def _named_changes(
    store: MailStore, user: User, name: str, mailbox: Mailbox, known: int
) -> tuple[Mailbox, Changes | None]:
    """On a reader thread: the folder named `name` and, when it is `mailbox`'s folder, what changed there since
    (UnknownMailbox when no folder has that name)."""
    named = store.mailbox(user, name)
    return named, store.changes_since(mailbox, known) if named.id == mailbox.id else None


class FolderRegistry:
    """The states of the folders some session has selected, by (user, mailbox id, UIDVALIDITY), and of a few
    it had lately: a folder selected again is caught up from the index (what changed since) instead of loaded
    anew. A folder deleted or renamed leaves the registry at once; sessions still showing it keep their state
    until they leave it, and nobody else is handed that state again."""

    KEEP_MESSAGES = 100_000  # messages of states kept after their last session left (~400 bytes each: 40 MB)

    def __init__(self, services: Services) -> None:
        self.services = services
        self._states: dict[StateKey, FolderState] = {}
        self._loading: dict[StateKey, asyncio.Future[FolderState]] = {}
        self._unused: OrderedDict[StateKey, FolderState] = OrderedDict()  # least recently left first
        # the state last loaded for a (user id, folder name): a guess for SELECT, checked against the index
        self._named: weakref.WeakValueDictionary[tuple[int, str], FolderState] = weakref.WeakValueDictionary()
        services.store.changes.on_drop(self._dropped)

    async def open_named(self, user: User, name: str) -> FolderState:
        """The state of the folder named `name` (SELECT, EXAMINE). When a state is kept for that name, the
        folder's row and what changed since are read together (FolderState.refresh_named), and the state is
        used only if the row read is its folder's (user, id and UIDVALIDITY): as `open`, never another's."""
        state = self._named.get((user.id, name))
        if state is None or state.deleted or self._states.get(state.key) is not state:
            return await self.open(user, await self.services.runner.read(self.services.store.mailbox, user, name))
        self._unused.pop(state.key, None)  # not evicted while we read (the caller follows it at once)
        try:
            async with state.lock:
                mailbox = await state.refresh_named(name)
        except BaseException:
            self._keep_if_unused(state)
            raise
        if state_key(user, mailbox) == state.key and self._states.get(state.key) is state and not state.deleted:
            return state
        self._keep_if_unused(state)
        return await self.open(user, mailbox)

    def _keep_if_unused(self, state: FolderState) -> None:
        """A state taken out of the unused list for a SELECT that did not use it goes back (or is closed)."""
        if not state.followers:
            self.forget(state)

    async def open(self, user: User, mailbox: Mailbox) -> FolderState:
        """The folder's state, loaded from the index on first use (one load even when sessions race).

        The caller follows the state right away (no await in between), so it cannot be forgotten meanwhile.
        """
        key = state_key(user, mailbox)
        while True:
            state = self._states.get(key)
            self._unused.pop(key, None)
            if state is not None and state.deleted and not state.followers:
                del self._states[key]
                state.close()
                state = None
            if state is not None and not state.deleted:
                await state.refresh()
                if self._states.get(key) is state:
                    return state
                continue  # its last session left (or the folder was dropped) while we refreshed: load anew
            loading = self._loading.get(key)
            if loading is None:
                return await self._load(user, mailbox)
            await asyncio.shield(loading)

    async def _load(self, user: User, mailbox: Mailbox) -> FolderState:
        future: asyncio.Future[FolderState] = asyncio.get_running_loop().create_future()
        key = state_key(user, mailbox)
        self._loading[key] = future
        try:
            current, messages = await self.services.runner.read(self.services.store.snapshot, mailbox)
            state = FolderState(self, user, current, messages)
            self._states[key] = state
            self._named[(user.id, current.name)] = state
            self.services.store.changes.subscribe(mailbox.id, state._changed)
            future.set_result(state)
            return state
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # marked retrieved: there may be no other waiter
            raise
        finally:
            del self._loading[key]

    def forget(self, state: FolderState) -> None:
        """The last session left: keep the state for a while (it stays subscribed; caught up when used)."""
        if self._states.get(state.key) is not state or state.deleted:
            state.close()
            return
        self._unused[state.key] = state
        kept = sum(len(s.by_uid) for s in self._unused.values())
        while self._unused and kept > self.KEEP_MESSAGES:
            _, oldest = self._unused.popitem(last=False)
            kept -= len(oldest.by_uid)
            del self._states[oldest.key]
            oldest.close()

    def _dropped(self, mailbox_id: int) -> None:
        """ChangeHub.drop (on the loop): the folder was deleted or renamed. Its state leaves the registry now;
        one no session shows is closed, one still shown is closed when its last session leaves (`forget`)."""
        for key in [key for key in self._states if key[1] == mailbox_id]:
            state = self._states.pop(key)
            self._unused.pop(key, None)
            if not state.followers:
                state.close()


_registries: weakref.WeakKeyDictionary[Any, FolderRegistry] = weakref.WeakKeyDictionary()


def registry_for(services: Services) -> FolderRegistry:
    """One registry per store, shared by the imap and imaps listeners."""
    registry = _registries.get(services.store)
    if registry is None:
        registry = _registries[services.store] = FolderRegistry(services)
    return registry
