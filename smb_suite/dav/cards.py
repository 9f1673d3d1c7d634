"""A contact of the mini CRM and its vCard (RFC 2426 vCard 3.0, RFC 6350 vCard 4.0), through vobject.

The card in the business's "Contacts" address book is the one record: the admin pages read and write the same
vCard a phone syncs over CardDAV. The CRM's own fields travel as extension properties (RFC 6350 6.10):
X-SMB-STATUS (lead, customer, supplier, other) and X-SMB-OWNER (the mail address of the user who follows the
contact). Editing a card replaces only the properties the CRM shows; a photo, a birthday or anything else a
phone put there stays.
"""

from __future__ import annotations

import dataclasses
import functools
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import vobject
from vobject.base import Component, ParseError, VObjectError

from smb_suite.errors import InvalidInput

STATUS_PROPERTY = "x-smb-status"
OWNER_PROPERTY = "x-smb-owner"
MAX_FILE_BYTES = 4 * 1024 * 1024  # an imported file: a few thousand contacts
MAX_CARDS = 5000


class Status(StrEnum):
    LEAD = "lead"
    CUSTOMER = "customer"
    SUPPLIER = "supplier"
    OTHER = "other"


STATUSES = frozenset(status.value for status in Status)


class PhoneKind(StrEnum):
    WORK = "work"
    CELL = "cell"
    HOME = "home"


@dataclass(frozen=True, slots=True)
class PostalAddress:
    """A work address (ADR, RFC 6350 6.3.1)."""

    street: str = ""
    city: str = ""
    region: str = ""
    code: str = ""
    country: str = ""

    def __bool__(self) -> bool:
        return any((self.street, self.city, self.region, self.code, self.country))

    def lines(self) -> str:
        town = " ".join(part for part in (self.code, self.city) if part)
        return ", ".join(part for part in (self.street, town, self.region, self.country) if part)


@dataclass(frozen=True, slots=True)
class Contact:
    """What the CRM shows of a card. `uid` is the card's UID (RFC 6350 6.7.6)."""

    uid: str = ""
    first_name: str = ""
    last_name: str = ""
    display_name: str = ""  # FN; made from the names or the company when empty
    company: str = ""
    role: str = ""
    emails: tuple[str, ...] = ()
    phones: tuple[tuple[PhoneKind, str], ...] = ()
    address: PostalAddress = field(default_factory=PostalAddress)
    notes: str = ""
    tags: tuple[str, ...] = ()
    status: Status = Status.OTHER
    owner: str = ""

    @property
    def name(self) -> str:
        """FN (mandatory in a vCard): as given, else the names, else the company, else the first e-mail."""
        full = " ".join(part for part in (self.first_name, self.last_name) if part)
        return self.display_name or full or self.company or (self.emails[0] if self.emails else "")

    def phone(self, kind: PhoneKind) -> str:
        return next((number for found, number in self.phones if found is kind), "")


def clean_list(values: Iterable[str]) -> tuple[str, ...]:
    """Stripped, without empties or repeats (case-insensitive), in order."""
    seen: set[str] = set()
    kept: list[str] = []
    for value in values:
        value = value.strip()
        if value and value.lower() not in seen:
            seen.add(value.lower())
            kept.append(value)
    return tuple(kept)


def new_uid() -> str:
    return str(uuid.uuid4())


# -- reading -----------------------------------------------------------------------------------------------


def _values(card: Component, name: str) -> list[Any]:
    return [line.value for line in card.contents.get(name, [])]


def _first(card: Component, name: str) -> Any:
    values = _values(card, name)
    return values[0] if values else None


def _text(value: Any) -> str:
    if isinstance(value, list):
        return ";".join(str(part) for part in value if part)
    return str(value).strip() if value is not None else ""


def _types(line: Any) -> set[str]:
    """TYPE parameters, lower-cased; vCard 4.0 allows TYPE="work,voice" as one value (RFC 6350 5.6)."""
    return {kind.strip().lower() for value in line.params.get("TYPE", []) for kind in value.split(",")}


def _phone_kind(line: Any) -> PhoneKind:
    kinds = _types(line)
    if "cell" in kinds:
        return PhoneKind.CELL
    if "home" in kinds:
        return PhoneKind.HOME
    return PhoneKind.WORK


def _phone_number(value: Any) -> str:
    return _text(value).removeprefix("tel:")  # RFC 6350 6.4.1: a tel URI in vCard 4.0


def _address(card: Component) -> PostalAddress:
    lines = card.contents.get("adr", [])
    if not lines:
        return PostalAddress()
    chosen = next((line for line in lines if "work" in _types(line)), lines[0])
    value = chosen.value
    if not isinstance(value, vobject.vcard.Address):
        return PostalAddress(street=_text(value))
    return PostalAddress(
        _text(value.street), _text(value.city), _text(value.region), _text(value.code), _text(value.country)
    )


def _categories(card: Component) -> list[str]:
    tags: list[str] = []
    for value in _values(card, "categories"):
        tags += value if isinstance(value, list) else str(value).split(",")
    return tags


def contact_of(card: Component) -> Contact:
    """The CRM's view of a parsed vCard (3.0 or 4.0)."""
    name = _first(card, "n")
    first = last = ""
    if isinstance(name, vobject.vcard.Name):
        first, last = _text(name.given), _text(name.family)
    org = _first(card, "org")
    status = _text(_first(card, STATUS_PROPERTY)).lower()
    contact = Contact(
        uid=_text(_first(card, "uid")),
        first_name=first,
        last_name=last,
        company=(_text(org[0]) if isinstance(org, list) and org else _text(org)),
        role=_text(_first(card, "title")),
        emails=clean_list(_text(value) for value in _values(card, "email")),
        phones=tuple(
            (_phone_kind(line), _phone_number(line.value))
            for line in card.contents.get("tel", [])
            if _phone_number(line.value)
        ),
        address=_address(card),
        notes="\n".join(_text(value) for value in _values(card, "note") if _text(value)),
        tags=clean_list(_categories(card)),
        status=Status(status) if status in STATUSES else Status.OTHER,
        owner=_text(_first(card, OWNER_PROPERTY)).lower(),
    )
    shown = _text(_first(card, "fn"))
    return contact if shown == contact.name else dataclasses.replace(contact, display_name=shown)


@functools.lru_cache(maxsize=10_000)
def contact_of_text(text: str) -> Contact:
    """`contact_of` a stored card's text, remembered: a list page parses each card once per process, not once per
    view (a Contact is immutable; the same text is the same contact in any business)."""
    return contact_of(vobject.readOne(text))


def parse_cards(text: str) -> list[Component]:
    """Every VCARD of a .vcf file (one or many, 3.0 or 4.0); InvalidInput for anything else, naming the line."""
    if len(text) > MAX_FILE_BYTES:
        raise InvalidInput("the file is too large (at most 4 MB)")
    try:
        cards = list(vobject.readComponents(text, validate=False))
    except (ParseError, VObjectError, ValueError, KeyError, IndexError, AttributeError) as error:
        raise InvalidInput(f"this is not a vCard file: {error}") from error
    if not cards or any(card.name != "VCARD" for card in cards):
        raise InvalidInput("this is not a vCard file: no BEGIN:VCARD ... END:VCARD")
    if len(cards) > MAX_CARDS:
        raise InvalidInput(f"too many contacts in one file (at most {MAX_CARDS})")
    for card in cards:
        try:
            contact_of(card)
        except (VObjectError, ValueError, AttributeError, TypeError) as error:
            raise InvalidInput(f"a card could not be read: {error}") from error
    return cards


# -- writing -----------------------------------------------------------------------------------------------

# The properties the CRM owns on a card: replaced as a whole when a contact is saved.
MANAGED = ("fn", "n", "org", "title", "email", "tel", "adr", "note", "categories", STATUS_PROPERTY, OWNER_PROPERTY)


def _add(card: Component, name: str, value: Any, kinds: Iterable[str] = ()) -> None:
    line = card.add(name)
    line.value = value
    kinds = list(kinds)
    if kinds:
        line.type_paramlist = kinds


def write_card(contact: Contact, base: Component | None = None, version: str = "3.0") -> Component:
    """The vCard of `contact`: `base` (the stored card) with the CRM's properties replaced, or a new card."""
    card = base if base is not None else vobject.vCard()
    for name in (*MANAGED, "version", "uid"):
        card.contents.pop(name, None)
    _add(card, "version", version)
    _add(card, "uid", contact.uid or new_uid())
    _add(card, "fn", contact.name)
    _add(card, "n", vobject.vcard.Name(family=contact.last_name, given=contact.first_name))
    if contact.company:
        _add(card, "org", [contact.company])
    if contact.role:
        _add(card, "title", contact.role)
    for position, email in enumerate(contact.emails):
        _add(card, "email", email, ["work", "pref"] if version == "3.0" and position == 0 else ["work"])
    for kind, number in contact.phones:
        _add(card, "tel", number, [kind.value, "voice"] if kind is not PhoneKind.CELL else ["cell"])
    if contact.address:
        a = contact.address
        value = vobject.vcard.Address(street=a.street, city=a.city, region=a.region, code=a.code, country=a.country)
        _add(card, "adr", value, ["work"])
    if contact.notes:
        _add(card, "note", contact.notes)
    if contact.tags:
        _add(card, "categories", list(contact.tags))
    _add(card, STATUS_PROPERTY, contact.status.value)
    if contact.owner:
        _add(card, OWNER_PROPERTY, contact.owner)
    return card


def serialize(cards: Iterable[Component], version: str = "3.0") -> str:
    """One .vcf file of the cards, each written as vCard `version` (3.0 or 4.0)."""
    if version not in ("3.0", "4.0"):
        raise InvalidInput("vCard version 3.0 or 4.0")
    out: list[str] = []
    for card in cards:
        copy = write_card(contact_of(card), vobject.readOne(card.serialize()), version)
        out.append(copy.serialize())
    return "".join(out)


def merged(kept: Contact, others: Iterable[Contact]) -> Contact:
    """Duplicates merged into `kept`: its fields where it has them, the union of e-mails, phones and tags, the
    notes one after the other."""
    result = kept
    for other in others:
        result = Contact(
            uid=result.uid,
            first_name=result.first_name or other.first_name,
            last_name=result.last_name or other.last_name,
            display_name=result.display_name or other.display_name,
            company=result.company or other.company,
            role=result.role or other.role,
            emails=clean_list((*result.emails, *other.emails)),
            phones=tuple(dict.fromkeys((*result.phones, *other.phones))),
            address=result.address or other.address,
            notes="\n\n".join(note for note in (result.notes, other.notes) if note),
            tags=clean_list((*result.tags, *other.tags)),
            status=result.status,
            owner=result.owner or other.owner,
        )
    return result
