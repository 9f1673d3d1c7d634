"""The mini CRM: the business's shared "Contacts" address book (CardDAV, dav/contacts.py) seen as contacts with a
status, tags, an owner and the date of the last mail exchanged with them; search, edit, merge, import, export.

Who: the users of the business (owner and users) and whoever manages it (its partner, the operator), as for the
business's pages; everyone else is refused, and a business without the "collaboration" module has no contacts
(NotFound). A contact's id is its card's name in the address book: another business's ids are simply not there.
Blocking (Radicale's files and lock): call these in a thread, never on the event loop and never on the store
writer (an import must not hold up deliveries).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from vobject.base import Component

from smb_suite.dav import cards, outlook
from smb_suite.dav.cards import Contact
from smb_suite.dav.contacts import AddressBook, StoredCard
from smb_suite.directory.model import Principal, Role, Tenant
from smb_suite.errors import InvalidInput, NotFound
from smb_suite.ops.tiers import COLLABORATION, has_module
from smb_suite.services import Services

VCARD = "vcard"
CSV = "csv"
FORMATS = {
    VCARD + "3": ("text/vcard; charset=utf-8", "vcf"),
    VCARD + "4": ("text/vcard; charset=utf-8", "vcf"),
    CSV: ("text/csv", "csv"),
    CSV + "-windows-1252": ("text/csv; charset=windows-1252", "csv"),
}


NO_NAME = "Give a name, a company or an e-mail address."
NOT_A_MEMBER = "The contact's owner must be a user of the business."
MERGE_TWO = "Choose at least two contacts to merge."
EMPTY_FILE = "The file holds no contact."
MESSAGES = (NO_NAME, NOT_A_MEMBER, MERGE_TWO, EMPTY_FILE)  # shown as they are: the pages translate them


@dataclass(frozen=True, slots=True)
class ContactRow:
    id: str
    contact: Contact
    last_contact: int | None  # epoch seconds of the last mail exchanged with one of its addresses


@dataclass(frozen=True, slots=True)
class Book:
    tenant: Tenant
    rows: list[ContactRow]
    tags: list[str]  # every tag used in the book, for the filter
    members: list[str]  # the business's users: who may follow a contact


def business(services: Services, actor: Principal, name: str) -> Tenant:
    """The business whose contacts the actor may use: its own users', or one it manages; NotFound without the
    collaboration module."""
    tenant = services.tenants.find(name)
    if tenant is None or actor.role is not Role.USER or actor.tenant_id != tenant.id:
        tenant = services.tenants.get(actor, name)  # refuses anyone who does not manage it
    if not has_module(services, tenant.id, COLLABORATION):
        raise NotFound("this business has no contacts (collaboration module)")
    return tenant


def _members(services: Services, tenant_id: int) -> list[str]:
    return sorted(str(user.address).lower() for user in services.directory.members(tenant_id))


def address_book(services: Services, tenant_id: int) -> AddressBook:
    """The business's "Contacts" through the storage that serves CardDAV (made on first use)."""
    _, storage = services.dav.calendars(tenant_id)
    storage.ensure_business()
    return AddressBook(storage, tenant_id, lambda: services.dav.usage(tenant_id).free)


def _rows(services: Services, tenant_id: int, stored: Iterable[StoredCard]) -> list[ContactRow]:
    contacts = [(card.href, card.contact) for card in stored]
    dates = services.correspondents.last_contacts(tenant_id, (e for _, c in contacts for e in c.emails))
    rows = [
        ContactRow(href, contact, max((dates[e.lower()] for e in contact.emails if e.lower() in dates), default=None))
        for href, contact in contacts
    ]
    return sorted(rows, key=lambda row: (row.contact.name.casefold(), row.id))


def _matches(contact: Contact, search: str, status: str, tag: str) -> bool:
    if status and contact.status.value != status:
        return False
    if tag and tag.casefold() not in {t.casefold() for t in contact.tags}:
        return False
    words = search.casefold().split()
    haystack = " ".join((contact.name, contact.company, *contact.emails)).casefold()
    return all(word in haystack for word in words)


def contact_book(
    services: Services, actor: Principal, name: str, search: str = "", status: str = "", tag: str = ""
) -> Book:
    """The contacts matching a search (name, company, e-mail) and the status and tag filters."""
    tenant = business(services, actor, name)
    stored = address_book(services, tenant.id).cards()
    everything = _rows(services, tenant.id, stored)
    tags = sorted({t for row in everything for t in row.contact.tags}, key=str.casefold)
    rows = [row for row in everything if _matches(row.contact, search, status, tag)]
    return Book(tenant, rows, tags, _members(services, tenant.id))


def get_contact(services: Services, actor: Principal, name: str, contact_id: str) -> ContactRow:
    tenant = business(services, actor, name)
    return _rows(services, tenant.id, [address_book(services, tenant.id).card(contact_id)])[0]


def own_business(services: Services, actor: Principal) -> str:
    """The name of the actor's own business, when it has contacts (the menu's entry leads there)."""
    if actor.tenant_id is None or not has_module(services, actor.tenant_id, COLLABORATION):
        raise NotFound("your business has no contacts (collaboration module)")
    return services.tenants.names([actor.tenant_id])[actor.tenant_id]


def members(services: Services, actor: Principal, name: str) -> list[str]:
    return _members(services, business(services, actor, name).id)


def _checked(contact: Contact, members: Sequence[str]) -> Contact:
    if not contact.name:
        raise InvalidInput(NO_NAME)
    for email in contact.emails:
        local, at, domain = email.partition("@")
        if not at or not local or "." not in domain or any(c.isspace() for c in email):
            raise InvalidInput(f"{email!r} is not an e-mail address.")
    owner = contact.owner.strip().lower()
    if owner and owner not in members:
        raise InvalidInput(NOT_A_MEMBER)
    return dataclasses.replace(contact, owner=owner)


def save_contact(services: Services, actor: Principal, name: str, contact_id: str | None, contact: Contact) -> str:
    """Create (contact_id None) or change a contact; the answer is its id. A change keeps what a phone put on the
    card beyond the CRM's fields (a photo, a birthday)."""
    tenant = business(services, actor, name)
    contact = _checked(contact, _members(services, tenant.id))
    book = address_book(services, tenant.id)
    if contact_id is None:
        contact = dataclasses.replace(contact, uid=cards.new_uid())
        contact_id = contact.uid + ".vcf"
        base = None
    else:
        stored = book.card(contact_id)
        base = stored.card()
        contact = dataclasses.replace(contact, uid=stored.contact.uid or cards.new_uid())
    book.write([(contact_id, cards.write_card(contact, base))])
    return contact_id


def delete_contacts(services: Services, actor: Principal, name: str, contact_ids: Sequence[str]) -> int:
    tenant = business(services, actor, name)
    book = address_book(services, tenant.id)
    for contact_id in contact_ids:
        book.card(contact_id)  # NotFound for an id that is not there
    book.write([], delete=contact_ids)
    services.audit.record(actor, "contacts.delete", f"{len(contact_ids)} contact(s)", tenant.id)
    return len(contact_ids)


def merge_contacts(services: Services, actor: Principal, name: str, keep: str, others: Sequence[str]) -> str:
    """Merge duplicates into `keep`: union of e-mails, phones and tags, notes one after the other; the others
    are deleted. The kept card is written and the others removed under one lock of the address book."""
    tenant = business(services, actor, name)
    others = [other for other in dict.fromkeys(others) if other != keep]
    if not others:
        raise InvalidInput(MERGE_TWO)
    book = address_book(services, tenant.id)
    kept = book.card(keep)
    merged = cards.merged(kept.contact, [book.card(other).contact for other in others])
    book.write([(keep, cards.write_card(merged, kept.card()))], delete=others)
    services.audit.record(actor, "contacts.merge", f"{len(others) + 1} into {merged.name}", tenant.id)
    return keep


def import_contacts(services: Services, actor: Principal, name: str, filename: str, data: bytes) -> int:
    """Add the contacts of an Outlook CSV or a vCard (3.0 or 4.0) file. A file that cannot be read, or that
    does not fit in the business's storage, changes nothing."""
    tenant = business(services, actor, name)
    bases: list[Component] = []
    if filename.lower().endswith(".csv") or not data.lstrip(b"\xef\xbb\xbf \r\n\t").upper().startswith(b"BEGIN:"):
        found = [_checked(contact, ()) for contact in outlook.read_contacts(data)]
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise InvalidInput("a vCard file is UTF-8 text") from error
        bases = cards.parse_cards(text)  # kept as they are beyond the CRM's fields, stored as vCard 3.0
        found = [cards.contact_of(card) for card in bases]
    if not found:
        raise InvalidInput(EMPTY_FILE)
    book = address_book(services, tenant.id)
    taken = {stored.contact.uid for stored in book.cards()}
    named: list[tuple[str, Component]] = []
    for position, contact in enumerate(found):
        if not contact.uid or contact.uid in taken:
            contact = dataclasses.replace(contact, uid=cards.new_uid())
        taken.add(contact.uid)
        base = bases[position] if bases else None
        named.append((cards.new_uid() + ".vcf", cards.write_card(contact, base)))
    book.write(named)
    services.audit.record(actor, "contacts.import", f"{len(named)} contact(s) from {filename[:100]}", tenant.id)
    return len(named)


def export_contacts(services: Services, actor: Principal, name: str, kind: str) -> tuple[bytes, str, str]:
    """The whole address book as a file: (content, media type, file name)."""
    if kind not in FORMATS:
        raise InvalidInput("Choose vCard 3.0, vCard 4.0 or Outlook CSV.")
    tenant = business(services, actor, name)
    stored = address_book(services, tenant.id).cards()
    media_type, extension = FORMATS[kind]
    if kind.startswith(VCARD):
        content = cards.serialize((card.card() for card in stored), "4.0" if kind.endswith("4") else "3.0").encode()
    else:
        contacts = [row.contact for row in _rows(services, tenant.id, stored)]
        content = outlook.write_contacts(contacts, "windows-1252" if kind.endswith("1252") else "utf-8")
    return content, media_type, f"contacts-{tenant.name}.{extension}"
