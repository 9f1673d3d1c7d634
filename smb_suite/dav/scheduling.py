"""Calendar items outside a DAV request: read and change one event by UID in a business's Radicale storage
(for invitations and the replies to them), under Radicale's own storage lock, so a change made here and a PUT
from a phone never interleave (the lock is a file lock: other threads and worker processes wait too).

A calendar is named by a `CalendarRef`: the principal it belongs to (`u<user id>` for a user's own, `t<tenant
id>` for the business's) and the collection's name in it ("calendar", "team", or the name a client chose).
Both are checked to be such names; the storage root is the business's, so a reference can never reach another
business's files. Writes charge the quota like a PUT (QuotaStorage), and a write that does not fit raises
QuotaExceeded with nothing changed.

Blocking (files, fsync): call from a thread, never from the event loop.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from smb_suite.dav.layout import tenant_principal, user_principal
from smb_suite.dav.store import DavStore
from smb_suite.errors import InvalidInput, NotFound

if TYPE_CHECKING:  # Radicale only in processes that serve or show DAV data (as dav/store.py)
    from smb_suite.dav.calendars import QuotaStorage

_PRINCIPAL = re.compile(r"[ut][1-9][0-9]{0,17}")
_COLLECTION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,127}")
MAX_RRULE_OCCURRENCES = 10_000  # Radicale's max_vevent_rrule_occurrence as configured (its default): what a PUT accepts


@dataclass(frozen=True, slots=True)
class CalendarRef:
    """One calendar collection of a business: `CalendarRef("t3", "team")`, `CalendarRef("u12", "calendar")`."""

    principal: str
    collection: str

    def __post_init__(self) -> None:
        if not _PRINCIPAL.fullmatch(self.principal) or not _COLLECTION.fullmatch(self.collection):
            raise InvalidInput(f"not a calendar: {self.principal}/{self.collection}")

    @classmethod
    def personal(cls, user_id: int) -> CalendarRef:
        return cls(user_principal(user_id), "calendar")

    @classmethod
    def team(cls, tenant_id: int) -> CalendarRef:
        return cls(tenant_principal(tenant_id), "team")

    @property
    def path(self) -> str:
        return f"/{self.principal}/{self.collection}/"


Change = Callable[[str], str | None]


class Events:
    """Events of each business's calendars, in the Radicale storage its DAV requests use (dav/store.py)."""

    def __init__(self, store: DavStore) -> None:
        self._store = store

    def _storage(self, tenant_id: int) -> QuotaStorage:
        return self._store.calendars(tenant_id)[1]

    @staticmethod
    def _collection(storage: QuotaStorage, ref: CalendarRef) -> Any:
        found = next(iter(storage.discover(ref.path)), None)
        if getattr(found, "tag", "") != "VCALENDAR":  # an item has no tag; a collection's says what it holds
            raise NotFound(f"no calendar {ref.path}")
        return found

    @staticmethod
    def _item(collection: Any, uid: str) -> Any:
        for item in collection.get_all():
            if item.uid == uid:
                return item
        return None

    def read(self, tenant_id: int, ref: CalendarRef, uid: str) -> str:
        """The calendar object (iCalendar text) holding event `uid`; NotFound when there is none."""
        storage = self._storage(tenant_id)
        with storage.acquire_lock("r"):
            item = self._item(self._collection(storage, ref), uid)
            if item is None:
                raise NotFound(f"no event {uid!r} in {ref.path}")
            return str(item.serialize())

    def change(self, tenant_id: int, ref: CalendarRef, uid: str, change: Change) -> bool:
        """Read event `uid`, store what `change` makes of it (None: leave it), all under the write lock, so no
        other writer's change is lost in between. True when something was stored."""
        storage = self._storage(tenant_id)
        with storage.acquire_lock("w"):
            collection = self._collection(storage, ref)
            item = self._item(collection, uid)
            if item is None:
                raise NotFound(f"no event {uid!r} in {ref.path}")
            text = change(str(item.serialize()))
            if text is None:
                return False
            from smb_suite.dav.calendar_items import checked_item, upload  # Radicale: see TYPE_CHECKING above

            upload(collection, item.href, checked_item(ref.path, text))
            return True

    def calendars_of(self, tenant_id: int, principal: str) -> Iterator[CalendarRef]:
        """The calendars (VCALENDAR collections) of one principal of the business."""
        storage = self._storage(tenant_id)
        with storage.acquire_lock("r"):
            found = list(storage.discover(f"/{principal}/", depth="1"))
        for collection in found:
            if getattr(collection, "tag", "") == "VCALENDAR":
                name = collection.path.rstrip("/").rpartition("/")[2]
                if _COLLECTION.fullmatch(name):
                    yield CalendarRef(principal, name)

    def holding(self, tenant_id: int, principals: tuple[str, ...], uid: str) -> list[CalendarRef]:
        """The calendars of these principals that hold event `uid`; for a business that has no calendar folder
        (never used DAV, or has no collaboration module) none, without making its Radicale storage or folder."""
        found: list[CalendarRef] = []
        if not self._store.layout.calendars(tenant_id).is_dir():
            return found
        storage = self._storage(tenant_id)
        for principal in principals:
            for ref in self.calendars_of(tenant_id, principal):
                with storage.acquire_lock("r"):
                    if self._item(self._collection(storage, ref), uid) is not None:
                        found.append(ref)
        return found
