"""Outlook's CSV contact format: the columns of Outlook for Windows' "Export to a file > Comma Separated Values",
read and written with those exact names.

Reading: UTF-8 with or without a byte order mark, else Windows-1252 (what Outlook writes on a western Windows);
a comma or, as Outlook writes where the list separator is one (French Windows), a semicolon. A file without any
known column, or rows Python's csv module cannot read, is refused as a whole (InvalidInput) before anything is
stored. Writing: every column Outlook exports, all quoted, CRLF, UTF-8 with a byte order mark (Outlook 2016 and
later, Outlook.com) or Windows-1252 (older Outlook).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from smb_suite.dav.cards import Contact, PhoneKind, PostalAddress, clean_list
from smb_suite.errors import InvalidInput

# Outlook for Windows' export, in its order.
COLUMNS = (
    "Title", "First Name", "Middle Name", "Last Name", "Suffix", "Company", "Department", "Job Title",
    "Business Street", "Business Street 2", "Business Street 3", "Business City", "Business State",
    "Business Postal Code", "Business Country/Region", "Home Street", "Home Street 2", "Home Street 3", "Home City",
    "Home State", "Home Postal Code", "Home Country/Region", "Other Street", "Other Street 2", "Other Street 3",
    "Other City", "Other State", "Other Postal Code", "Other Country/Region", "Assistant's Phone", "Business Fax",
    "Business Phone", "Business Phone 2", "Callback", "Car Phone", "Company Main Phone", "Home Fax", "Home Phone",
    "Home Phone 2", "ISDN", "Mobile Phone", "Other Fax", "Other Phone", "Pager", "Primary Phone", "Radio Phone",
    "TTY/TDD Phone", "Telex", "Account", "Anniversary", "Assistant's Name", "Billing Information", "Birthday",
    "Business Address PO Box", "Categories", "Children", "Directory Server", "E-mail Address", "E-mail Type",
    "E-mail Display Name", "E-mail 2 Address", "E-mail 2 Type", "E-mail 2 Display Name", "E-mail 3 Address",
    "E-mail 3 Type", "E-mail 3 Display Name", "Gender", "Government ID Number", "Hobby", "Home Address PO Box",
    "Initials", "Internet Free Busy", "Keywords", "Language", "Location", "Manager's Name", "Mileage", "Notes",
    "Office Location", "Organizational ID Number", "Other Address PO Box", "Priority", "Private", "Profession",
    "Referred By", "Sensitivity", "Spouse", "User 1", "User 2", "User 3", "User 4", "Web Page",
)  # fmt: skip
EMAILS = ("E-mail Address", "E-mail 2 Address", "E-mail 3 Address")
PHONES = (
    ("Business Phone", PhoneKind.WORK),
    ("Business Phone 2", PhoneKind.WORK),
    ("Mobile Phone", PhoneKind.CELL),
    ("Home Phone", PhoneKind.HOME),
    ("Home Phone 2", PhoneKind.HOME),
)
ENCODINGS = {"utf-8": "utf-8-sig", "windows-1252": "cp1252"}  # choice -> Python codec (utf-8-sig writes a BOM)
CATEGORY_SEPARATOR = ";"  # Outlook joins a contact's categories with ";"
MAX_FILE_BYTES = 4 * 1024 * 1024
MAX_ROWS = 5000
KNOWN = frozenset({"First Name", "Last Name", "Company", "E-mail Address"})  # at least one must be there


def decode(data: bytes) -> str:
    """UTF-8 (a BOM is dropped), else Windows-1252; InvalidInput when it is neither."""
    if len(data) > MAX_FILE_BYTES:
        raise InvalidInput("the file is too large (at most 4 MB)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError as error:
        raise InvalidInput("the file is neither UTF-8 nor Windows-1252 text") from error


def _delimiter(text: str) -> str:
    header = text.split("\n", 1)[0]
    return ";" if header.count(";") > header.count(",") else ","


def read_contacts(data: bytes) -> list[Contact]:
    """The contacts of an Outlook CSV file; InvalidInput (nothing read) for a file that is not one."""
    text = decode(data)
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=_delimiter(text), strict=True)
    try:
        rows = list(reader)
    except csv.Error as error:
        raise InvalidInput(f"this is not a CSV file: {error}") from error
    if not KNOWN & {name.strip() for name in reader.fieldnames or []}:
        raise InvalidInput("this is not an Outlook contacts file: no First Name, Last Name, Company or E-mail column")
    if len(rows) > MAX_ROWS:
        raise InvalidInput(f"too many contacts in one file (at most {MAX_ROWS})")
    contacts = [_contact(row) for row in rows]
    return [contact for contact in contacts if contact.name]


def _contact(row: dict[str | None, str | list[str] | None]) -> Contact:
    def get(column: str) -> str:
        value = row.get(column)
        return value.strip() if isinstance(value, str) else ""

    street = "\n".join(part for part in (get("Business Street"), get("Business Street 2")) if part)
    return Contact(
        first_name=get("First Name"),
        last_name=get("Last Name"),
        company=get("Company"),
        role=get("Job Title"),
        emails=clean_list(get(column) for column in EMAILS),
        phones=tuple((kind, get(column)) for column, kind in PHONES if get(column)),
        address=PostalAddress(
            street,
            get("Business City"),
            get("Business State"),
            get("Business Postal Code"),
            get("Business Country/Region"),
        ),
        notes=get("Notes").replace("\r\n", "\n"),
        tags=clean_list(get("Categories").split(CATEGORY_SEPARATOR)),
    )


def _row(contact: Contact) -> list[str]:
    values = dict.fromkeys(COLUMNS, "")
    address = contact.address
    values.update(
        {
            "First Name": contact.first_name or ("" if contact.last_name else contact.name),
            "Last Name": contact.last_name,
            "Company": contact.company,
            "Job Title": contact.role,
            "Business Street": address.street,
            "Business City": address.city,
            "Business State": address.region,
            "Business Postal Code": address.code,
            "Business Country/Region": address.country,
            "Notes": contact.notes,
            "Categories": CATEGORY_SEPARATOR.join(contact.tags),
        }
    )
    for column, email in zip(EMAILS, contact.emails, strict=False):
        values[column] = email
        values[column.replace("Address", "Type")] = "SMTP"
        values[column.replace("Address", "Display Name")] = f"{contact.name} ({email})"
    used: set[str] = set()
    for kind, number in contact.phones:
        column = next((c for c, k in PHONES if k is kind and c not in used), "Other Phone")
        if column not in used:
            used.add(column)
            values[column] = number
    return [values[column] for column in COLUMNS]


def write_contacts(contacts: Iterable[Contact], encoding: str = "utf-8") -> bytes:
    """An Outlook CSV file of the contacts in `encoding` (utf-8 or windows-1252; what it cannot hold is "?")."""
    codec = ENCODINGS.get(encoding)
    if codec is None:
        raise InvalidInput("the encoding is utf-8 or windows-1252")
    out = io.StringIO(newline="")
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for contact in contacts:
        writer.writerow(_row(contact))
    return out.getvalue().encode(codec, errors="replace")
