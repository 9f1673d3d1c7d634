"""The business's "Contacts" address book as the admin pages see it: the very Radicale storage object that serves
CardDAV (dav/store.py `calendars`), under Radicale's lock, so every change the pages make is charged to the
quota, gets a new ETag and shows in the next sync-collection REPORT (RFC 6578) of a phone, and the other way
round. Blocking (files, locks): called through the storage runner's threads, never on the event loop.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import vobject
from radicale import item as radicale_item
from vobject.base import Component

from smb_suite.dav.calendars import QuotaStorage, item_name_ok
from smb_suite.dav.cards import Contact, contact_of_text
from smb_suite.dav.layout import tenant_principal
from smb_suite.errors import NotFound, QuotaExceeded

COLLECTION = "contacts"  # the business's address book (calendars.BUSINESS)


# Item names as clients make them (a UID and .vcf); anything else in a URL is simply not found.
@dataclass(frozen=True, slots=True)
class StoredCard:
    href: str  # the item's name in the collection: the contact's id in the admin pages
    etag: str
    text: str  # as stored (Radicale's item cache gives it without parsing)

    @property
    def contact(self) -> Contact:
        return contact_of_text(self.text)

    def card(self) -> Component:
        """A fresh parse of the stored card, to change and write back."""
        return vobject.readOne(self.text)


class AddressBook:
    """One business's "Contacts"; every call takes Radicale's lock like a DAV request does."""

    def __init__(self, storage: QuotaStorage, tenant_id: int, room: Callable[[], int]) -> None:
        self._storage = storage
        self._path = f"/{tenant_principal(tenant_id)}/{COLLECTION}/"
        self._room = room  # the bytes the business may still write

    def _collection(self) -> Any:
        collection = next(iter(self._storage.discover(self._path)), None)
        if collection is None:
            raise NotFound("the address book does not exist")
        return collection

    def cards(self) -> list[StoredCard]:
        with self._storage.acquire_lock("r"):
            collection = self._collection()
            return [StoredCard(item.href, item.etag, item.serialize()) for item in collection.get_all()]

    def card(self, href: str) -> StoredCard:
        if not item_name_ok(href):
            raise NotFound("no such contact")
        with self._storage.acquire_lock("r"):
            collection = self._collection()
            item = dict(collection.get_multi([href])).get(href)
        if item is None:
            raise NotFound("no such contact")
        return StoredCard(item.href, item.etag, item.serialize())

    def write(self, cards: Sequence[tuple[str, Component]], delete: Iterable[str] = ()) -> None:
        """Store the cards (href, card) and delete the hrefs `delete`, all under one lock. Over quota nothing is
        stored (QuotaExceeded): the free space is checked for the whole set first, and the cards already written
        are taken back if a concurrent write took the room meanwhile."""
        texts = [(href, card.serialize()) for href, card in cards]
        growth = sum(len(text.encode()) for _, text in texts)
        if growth > self._room():
            raise QuotaExceeded("the business's storage is full: these contacts do not fit")
        with self._storage.acquire_lock("w"):
            collection = self._collection()
            existing = {href for href, item in collection.get_multi([href for href, _ in texts]) if item is not None}
            written: list[str] = []
            try:
                for href, text in texts:
                    item = radicale_item.Item(collection_path=collection.path, text=text)
                    item.prepare()
                    collection.upload(href, item)
                    written.append(href)
            except ValueError as error:
                for href in written:
                    if href not in existing:
                        collection.delete(href)
                if isinstance(error.__cause__, QuotaExceeded):
                    raise error.__cause__ from None
                raise
            for href in delete:
                if item_name_ok(href) and dict(collection.get_multi([href])).get(href) is not None:
                    collection.delete(href)
