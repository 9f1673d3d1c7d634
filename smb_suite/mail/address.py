"""Mail addresses and domain names as we accept them for hosted mailboxes (RFC 5321 4.1.2, RFC 1035 2.3.1).

Deliberately stricter than RFC 5322: quoted local parts, source routes, '%' and '!' relay tricks and IP
literals are never a hosted address, which closes the classic open-relay holes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from smb_suite.errors import InvalidInput
from smb_suite.names import check_safe, normalize_domain

__all__ = ["Address", "normalize_domain", "parse_address", "parse_stored_address"]

_ATEXT = r"[A-Za-z0-9!#$&'*+/=?^_`{|}~-]"
_LOCAL_PART = re.compile(rf"{_ATEXT}+(?:\.{_ATEXT}+)*")
# A local part we store (a mailbox, an alias, a forward or catch-all target): atext without '/' (RFC 5322 3.2.3
# allows it, but a name that looks like a path has no business in a directory), dot-atom form (no empty or '..'
# segment), at most 64 octets (RFC 5321 4.5.3.1.1).
_STORED_ATEXT = r"[A-Za-z0-9!#$&'*+=?^_`{|}~-]"
_STORED_LOCAL_PART = re.compile(rf"{_STORED_ATEXT}+(?:\.{_STORED_ATEXT}+)*")
MAX_LOCAL_PART = 64
MAX_ADDRESS = 254  # RFC 5321 4.5.3.1.3: a path of 256 octets including the angle brackets


@dataclass(frozen=True, slots=True)
class Address:
    local_part: str
    domain: str

    def __str__(self) -> str:
        return f"{self.local_part}@{self.domain}"


def parse_address(text: str, fold_case: bool = True) -> Address:
    """Parse 'local@domain' (angle brackets allowed); raise InvalidInput for anything else.

    Hosted local parts are matched without case; `fold_case=False` keeps a remote local part as written, since
    only its own domain may interpret it (RFC 5321 2.4).
    """
    candidate = text.strip()
    if candidate.startswith("<") and candidate.endswith(">"):
        candidate = candidate[1:-1]
    local_part, at, domain = candidate.rpartition("@")
    if not at or not local_part or len(local_part) > 64:
        raise InvalidInput(f"not a valid mail address: {text!r}")
    if not _LOCAL_PART.fullmatch(local_part) or "%" in local_part or "@" in local_part:
        raise InvalidInput(f"not a valid mail address: {text!r}")
    try:
        return Address(local_part.lower() if fold_case else local_part, normalize_domain(domain))
    except InvalidInput as exc:
        raise InvalidInput(f"not a valid mail address: {text!r} ({exc})") from exc


def parse_stored_address(text: str) -> Address:
    """The one check of an address before it is stored (mailbox, alias, forward target, catch-all, sign-up ...).

    Stricter than parse_address: no '/', '\\', NUL or control characters, no empty or '..' segment in the local
    part, local part at most 64 characters, address at most 254. Raises InvalidInput saying what is wrong.
    """

    def refuse(reason: str) -> InvalidInput:
        return InvalidInput(f"not a valid mail address: {text!r} ({reason})")

    candidate = text.strip(" \t")
    if len(candidate) > MAX_ADDRESS:
        raise InvalidInput(f"not a valid mail address (longer than {MAX_ADDRESS} characters)")
    check_safe(candidate, "mail address")
    local_part, at, _ = candidate.removeprefix("<").removesuffix(">").rpartition("@")
    if not at or not local_part:
        raise refuse("it looks like name@example.com")
    if len(local_part) > MAX_LOCAL_PART:
        raise refuse(f"the part before '@' is longer than {MAX_LOCAL_PART} characters")
    if not _STORED_LOCAL_PART.fullmatch(local_part):
        if ".." in local_part or local_part.startswith(".") or local_part.endswith("."):
            raise refuse("the part before '@' has an empty or '..' segment")
        raise refuse("the part before '@' has letters, digits, '.' and ! # $ & ' * + = ? ^ _ ` { | } ~ - only")
    return parse_address(candidate)
