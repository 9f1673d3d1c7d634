"""The CRM's files: Outlook CSV (UTF-8 with or without BOM, Windows-1252) and vCard 3.0/4.0, read and written."""

from __future__ import annotations

import contextlib

import pytest
import vobject
from hypothesis import given
from hypothesis import strategies as st

from smb_suite.dav import cards, outlook
from smb_suite.dav.cards import Contact, PhoneKind, PostalAddress, Status
from smb_suite.errors import InvalidInput

ELODIE = Contact(
    first_name="Élodie",
    last_name="Müller",
    company="Café Crème SARL",
    role="Gérante",
    emails=("elodie@cafe-creme.fr", "e.muller@example.com"),
    phones=((PhoneKind.WORK, "+33 1 23 45 67 89"), (PhoneKind.CELL, "+33 6 12 34 56 78")),
    address=PostalAddress("12, rue de l'Église", "Lyon", "", "69002", "France"),
    notes="Met at the fair.\nCall back in June.",
    tags=("fournisseur", "café"),
)
BOB = Contact(first_name="Bob", last_name="Smith", emails=("bob@example.com",), tags=("vip",))
# The first line and a row as Outlook for Windows writes them (all quoted, CRLF), cut to the columns used.
OUTLOOK_FILE = (
    '"First Name","Last Name","Company","Job Title","Business Street","Business City","Business Postal Code",'
    '"Business Country/Region","Business Phone","Mobile Phone","E-mail Address","E-mail 2 Address","Notes",'
    '"Categories"\r\n'
    '"Élodie","Müller","Café Crème SARL","Gérante","12, rue de l\'Église","Lyon","69002","France",'
    '"+33 1 23 45 67 89","+33 6 12 34 56 78","elodie@cafe-creme.fr","e.muller@example.com",'
    '"Met at the fair.\r\nCall back in June.","fournisseur;café"\r\n'
    '"Bob","Smith","","","","","","","","","bob@example.com","","","vip"\r\n'
)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252"])
def test_an_outlook_csv_in_each_encoding_reads_the_same_contacts(encoding: str) -> None:
    found = outlook.read_contacts(OUTLOOK_FILE.encode(encoding))
    assert found == [ELODIE, BOB]


def test_a_semicolon_separated_outlook_file_reads_too() -> None:
    text = '"First Name";"Last Name";"E-mail Address"\r\n"Anne";"Dupont";"anne@example.fr"\r\n'
    assert outlook.read_contacts(text.encode("cp1252"))[0].emails == ("anne@example.fr",)


@pytest.mark.parametrize("encoding", ["utf-8", "windows-1252"])
def test_an_exported_outlook_csv_imports_back_unchanged(encoding: str) -> None:
    written = outlook.write_contacts([ELODIE, BOB], encoding)
    assert written.startswith(b'\xef\xbb\xbf"Title","First Name"') == (encoding == "utf-8")
    assert b'"E-mail Address"' in written and b'"Business Country/Region"' in written and b"\r\n" in written
    assert outlook.read_contacts(written) == [ELODIE, BOB]


@pytest.mark.parametrize(
    "data",
    [b"", b"name,phone\r\nx,1\r\n", b'"First Name"\r\n"unterminated\r\n', b"\x81\x8d\x8f\x90\x9d\xff\xfe"],
    ids=["empty", "not-outlook", "bad-quote", "not-text"],
)
def test_a_file_that_is_not_an_outlook_csv_is_refused(data: bytes) -> None:
    with pytest.raises(InvalidInput):
        outlook.read_contacts(data)


@pytest.mark.parametrize("version", ["3.0", "4.0"])
def test_a_multi_card_vcard_file_round_trips(version: str) -> None:
    status = Contact(**{**_fields(ELODIE), "uid": "u-1", "status": Status.SUPPLIER, "owner": "alice@example.test"})
    text = cards.serialize([cards.write_card(status), cards.write_card(BOB)], version)
    assert text.count("BEGIN:VCARD") == 2 and f"VERSION:{version}" in text
    found = [cards.contact_of(card) for card in cards.parse_cards(text)]
    assert found[0] == status
    assert _fields(found[1]) | {"uid": ""} == _fields(BOB)


def test_a_vcard_4_from_a_phone_reads_its_tel_uris_and_type_lists() -> None:
    text = (
        "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Jean Dupont\r\nN:Dupont;Jean;;;\r\nUID:urn:uuid:1\r\n"
        'TEL;VALUE=uri;TYPE="voice,cell":tel:+33-6-11-22-33-44\r\nEMAIL:jean@example.fr\r\n'
        "CATEGORIES:lead,paris\r\nPHOTO:data:image/png;base64,AAAA\r\nEND:VCARD\r\n"
    )
    card = cards.parse_cards(text)[0]
    contact = cards.contact_of(card)
    assert contact.phones == ((PhoneKind.CELL, "+33-6-11-22-33-44"),) and contact.tags == ("lead", "paris")
    edited = cards.write_card(Contact(**{**_fields(contact), "role": "Buyer"}), card)
    assert "PHOTO" in edited.serialize() and cards.contact_of(edited).role == "Buyer"  # what a phone put stays


@pytest.mark.parametrize("text", ["", "garbage", "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", "BEGIN:VCARD\r\nFN:x\r\n"])
def test_a_file_that_is_not_a_vcard_file_is_refused(text: str) -> None:
    with pytest.raises(InvalidInput):
        cards.parse_cards(text)


def test_merging_keeps_the_first_and_unites_emails_phones_tags_and_notes() -> None:
    other = Contact(first_name="E.", emails=("ELODIE@cafe-creme.fr", "elo@home.fr"), tags=("vip",), notes="Old.")
    result = cards.merged(ELODIE, [other])
    assert result.first_name == "Élodie" and result.emails == (*ELODIE.emails, "elo@home.fr")
    assert result.tags == ("fournisseur", "café", "vip") and result.notes == ELODIE.notes + "\n\nOld."


def _fields(contact: Contact) -> dict[str, object]:
    return {name: getattr(contact, name) for name in Contact.__slots__}


def test_written_cards_are_valid_vcards() -> None:
    vobject.readOne(cards.write_card(ELODIE).serialize()).validate()


CSV_PIECES = [b'"First Name"', b'"E-mail Address"', b",", b";", b'"', b"\r\n", b"\n", b"x", b"\xe9", b"\x81"]
VCARD_PIECES = [
    "BEGIN:VCARD\r\n", "END:VCARD\r\n", "VERSION:4.0\r\n", "FN:x\r\n", "N:a;b\r\n", "TEL;TYPE=cell:1\r\n",
    "ADR:;;a;b\r\n", "EMAIL:e@x.y\r\n", "CATEGORIES:a,b\r\n", "X-SMB-STATUS:lead\r\n", ";", ":", "é",
]  # fmt: skip


@given(st.lists(st.sampled_from(CSV_PIECES), max_size=40).map(b"".join) | st.binary(max_size=300))
def test_reading_any_bytes_as_outlook_csv_raises_nothing_but_invalid_input(data: bytes) -> None:
    with contextlib.suppress(InvalidInput):
        outlook.read_contacts(data)


@given(st.lists(st.sampled_from(VCARD_PIECES), max_size=30).map("".join) | st.text(max_size=200))
def test_reading_any_text_as_vcards_raises_nothing_but_invalid_input(text: str) -> None:
    with contextlib.suppress(InvalidInput):
        for card in cards.parse_cards(text):
            cards.write_card(cards.contact_of(card), card).serialize()
