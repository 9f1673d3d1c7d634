"""Mail addresses and domain names as we accept them for hosted mailboxes (RFC 5321 4.1.2, RFC 1035 2.3.1).

Deliberately stricter than RFC 5322: quoted local parts, source routes, '%' and '!' relay tricks and IP
literals are never a hosted address, which closes the classic open-relay holes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from smb_suite.errors import InvalidInput

_ATEXT = r"[A-Za-z0-9!#$&'*+/=?^_`{|}~-]"
_LOCAL_PART = re.compile(rf"{_ATEXT}+(?:\.{_ATEXT}+)*")
_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")


@dataclass(frozen=True, slots=True)
class Address:
    local_part: str
    domain: str

    def __str__(self) -> str:
        return f"{self.local_part}@{self.domain}"


def normalize_domain(text: str) -> str:
    """Lower-case, IDNA-encode and validate a domain name; raise InvalidInput if it is not one."""
    name = text.strip().rstrip(".").lower()
    try:
        name = name.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise InvalidInput(f"not a valid domain name: {text!r}") from exc
    labels = name.split(".")
    if len(name) > 253 or len(labels) < 2 or not all(_LABEL.fullmatch(label) for label in labels):
        raise InvalidInput(f"not a valid domain name: {text!r}")
    if labels[-1].isdigit():
        raise InvalidInput(f"not a valid domain name: {text!r}")
    return name


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
        raise InvalidInput(f"not a valid mail address: {text!r}") from exc
