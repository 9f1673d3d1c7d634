"""The calendar pages' way into a business's calendars (scheduling.py reads and changes single events by UID
for the invitations): the very Radicale storage CalDAV requests use (dav/store.py `calendars`), under its locks, so an
event written from a page is an item like any other: its ETag, the collection's sync token and CTag change, the
quota is charged (calendars.QuotaCollection), and a CalDAV client's REPORT sees it; and the pages read what
clients stored.

Every text is checked by Radicale itself (vobject parsing, `check_and_sanitize_items`) before it is written, as
a CalDAV PUT would be. Runs in a thread (the storage runner), never on the event loop: Radicale blocks on files.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import radicale.item as radicale_item
from radicale import pathutils

from smb_suite.dav.access import DavUser
from smb_suite.dav.calendars import QuotaStorage, item_name_ok
from smb_suite.dav.scheduling import MAX_RRULE_OCCURRENCES, CalendarRef
from smb_suite.errors import InvalidInput, NotFound, QuotaExceeded

TEAM = "team"
PERSONAL = "personal"
CALENDARS = (TEAM, PERSONAL)


@dataclass(frozen=True, slots=True)
class StoredEvent:
    href: str
    etag: str
    text: str


def calendar_ref(user: DavUser, calendar: str) -> CalendarRef:
    """ "Team" (the business's) or the user's personal calendar (dav/calendars.py); nothing else."""
    if calendar == TEAM:
        return CalendarRef.team(user.tenant_id)
    if calendar == PERSONAL:
        return CalendarRef.personal(user.user_id)
    raise NotFound("No such calendar.")


def new_href() -> str:
    return f"{uuid.uuid4()}.ics"


def checked_href(href: str) -> str:
    """An item name as a page may give it back (a file name inside the collection, nothing else)."""
    if not item_name_ok(href):  # any name a CalDAV client chose, not only ours (uuid.ics)
        raise NotFound("No such event.")
    return href


def checked_item(path: str, text: str) -> radicale_item.Item:
    """Radicale's item for `text`, checked as a CalDAV PUT of one event is (InvalidInput when refused)."""
    try:
        components = radicale_item.read_components(text)
        radicale_item.check_and_sanitize_items(
            components, is_collection=False, tag="VCALENDAR", max_vevent_rrule_occurrence=MAX_RRULE_OCCURRENCES
        )
        if len(components) != 1:
            raise ValueError("one calendar object per item")
        item = radicale_item.Item(collection_path=pathutils.strip_path(path), vobject_item=components[0])
        item.prepare()
    except (ValueError, RuntimeError, AttributeError, IndexError) as error:
        raise InvalidInput(f"this event cannot be stored: {error}") from error
    return item


class CalendarEvents:
    """One calendar of one business, through its Radicale storage."""

    def __init__(self, storage: QuotaStorage, user: DavUser, calendar: str) -> None:
        self._storage = storage
        self._user = user
        self._path = calendar_ref(user, calendar).path
        storage.ensure_collections(user)

    @contextmanager
    def _collection(self, mode: str) -> Iterator[Any]:
        with self._storage.acquire_lock(mode, self._user.principal):
            found = next(iter(self._storage.discover(self._path)), None)
            if found is None:
                raise NotFound("No such calendar.")
            yield found

    def all(self) -> list[StoredEvent]:
        with self._collection("r") as collection:
            return [StoredEvent(item.href, item.etag, item.serialize()) for item in collection.get_all()]

    def serialize(self) -> str:
        """The whole calendar as one iCalendar text, as Radicale answers a GET of the collection."""
        with self._collection("r") as collection:
            return str(collection.serialize())

    def get(self, href: str) -> StoredEvent:
        with self._collection("r") as collection:
            for _, item in collection.get_multi([checked_href(href)]):
                if item is not None:
                    return StoredEvent(item.href, item.etag, item.serialize())
        raise NotFound("No such event.")

    def put(self, href: str, text: str) -> str:
        """Create or replace one event; its new ETag. QuotaExceeded when it does not fit (nothing written)."""
        item = checked_item(self._path, text)
        with self._collection("w") as collection:
            existing = {stored.uid: stored.href for stored in collection.get_all()}
            if existing.get(item.uid, href) != href:
                raise InvalidInput("another event of this calendar has the same UID")  # RFC 4791 5.3.2.1
            return str(upload(collection, checked_href(href), item).etag)

    def delete(self, href: str) -> None:
        with self._collection("w") as collection:
            if not any(item is not None for _, item in collection.get_multi([checked_href(href)])):
                raise NotFound("No such event.")
            collection.delete(href)

    def put_all(self, texts: list[tuple[str, str]]) -> int:
        """Import (UID, text) pairs: an event with a UID already here replaces it, the others are added. All
        are checked before anything is written; on any failure (quota) what was written is undone."""
        items = [(uid, checked_item(self._path, text)) for uid, text in texts]
        with self._collection("w") as collection:
            existing = {stored.uid: stored for stored in collection.get_all()}  # Radicale's items
            done: list[tuple[str, Any]] = []
            try:
                for uid, item in items:
                    old = existing.get(uid)
                    href = old.href if old is not None else new_href()
                    upload(collection, href, item)
                    done.append((href, old))
            except BaseException:
                for href, old in reversed(done):
                    if old is None:
                        collection.delete(href)
                    else:
                        collection.upload(href, old)
                raise
        return len(items)


def upload(collection: Any, href: str, item: radicale_item.Item) -> Any:
    """QuotaCollection.upload, its ENOSPC (reported so for Radicale's sake) turned back into our QuotaExceeded."""
    try:
        uploaded, _ = collection.upload(href, item)
    except ValueError as error:
        if isinstance(error.__cause__, QuotaExceeded):
            raise error.__cause__ from None
        raise
    return uploaded
