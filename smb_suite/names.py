"""Names as we accept them once, at the directory boundary: host and domain names, business (tenant) names.

Every name a user chooses is checked here before it is stored, so that nothing stored can ever be mistaken for
a path, a header or a second line: no '/', '\\', NUL, C0 or C1 control characters, no empty or '..' segments.
Storage paths never come from these names anyway (they come from internal ids); this is the second wall.

Domains are normalised to what DNS and the database compare: IDNA 2008 with UTS #46 mapping (RFC 5891,
https://unicode.org/reports/tr46/) to lower-case A-labels, one trailing dot removed, at most 253 characters
and 63 per label (RFC 1035 2.3.4), letters, digits and inner hyphens only (RFC 1123 2.1).
"""

from __future__ import annotations

import re

import idna

from smb_suite.errors import InvalidInput

MAX_DOMAIN = 253  # RFC 1035 2.3.4 (255 octets on the wire: 253 characters in text form)
MAX_LABEL = 63
MAX_TENANT_NAME = 100
_INPUT_LIMIT = 1024  # longer input is refused before any parsing: nothing valid is this long
_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
_TENANT_FORBIDDEN = "/\\?#%"


def unsafe_character(text: str) -> str | None:
    """A description of the first character no stored name may hold (C0, DEL, C1, '/', '\\'), or None."""
    for ch in text:
        code = ord(ch)
        if code == 0:
            return "a NUL character"
        if code < 0x20 or 0x7F <= code < 0xA0:
            return f"a control character (U+{code:04X})"
        if ch in "/\\":
            return f"the character {ch!r}"
        if code in (0x2028, 0x2029, 0xFEFF) or 0xD800 <= code < 0xE000:
            return f"a line separator or invalid character (U+{code:04X})"
    return None


def check_safe(text: str, what: str) -> None:
    """Raise InvalidInput(`not a valid <what>: ...`) when `text` holds a character no stored name may hold."""
    problem = unsafe_character(text)
    if problem is not None:
        raise InvalidInput(f"not a valid {what}: {text!r} (it contains {problem})")


def normalize_domain(text: str) -> str:
    """The canonical form of a domain name (lower-case A-labels, no trailing dot); InvalidInput if it is not one.

    At least two labels; the last is not all digits (an IP address is not a domain).
    """

    def refuse(reason: str) -> InvalidInput:
        return InvalidInput(f"not a valid domain name: {text!r} ({reason})")

    name = text.strip(" \t")
    if len(name) > _INPUT_LIMIT:
        raise InvalidInput(f"not a valid domain name (longer than {MAX_DOMAIN} characters)")
    check_safe(name, "domain name")
    if name.endswith("."):
        name = name[:-1]
    if not name:
        raise refuse("it is empty")
    if any(not label for label in name.split(".")):
        raise refuse("it has an empty label: '..' or a leading dot")
    if any(len(label) > MAX_LABEL for label in name.split(".")):
        raise refuse(f"a label is longer than {MAX_LABEL} characters")
    if len(name) > MAX_DOMAIN:
        raise refuse(f"longer than {MAX_DOMAIN} characters")
    try:
        name = idna.encode(name, uts46=True, std3_rules=True).decode("ascii")
    except (idna.IDNAError, UnicodeError, ValueError) as exc:
        raise refuse(str(exc) or "not IDNA") from exc
    labels = name.split(".")
    if len(name) > MAX_DOMAIN:
        raise refuse(f"longer than {MAX_DOMAIN} characters")
    if len(labels) < 2:
        raise refuse("it needs at least two labels, like example.com")
    for label in labels:
        if len(label) > MAX_LABEL:
            raise refuse(f"a label is longer than {MAX_LABEL} characters")
        if not _LABEL.fullmatch(label):
            raise refuse("letters, digits and inner hyphens only")
    if labels[-1].isdigit():
        raise refuse("an IP address is not a domain")
    return name


def host_name(text: str) -> str | None:
    """The canonical form of a host name a client sent (TLS SNI, Host), or None when it is not a valid one."""
    try:
        return normalize_domain(text)
    except InvalidInput:
        return None


def check_tenant_name(name: str) -> str:
    """The one check of a business name (CLI, admin UI, sign-up): the name without outer spaces, or InvalidInput.

    1 to MAX_TENANT_NAME characters on one line; no control characters, no / \\ ? # %, not '.' or '..'.
    """
    name = name.strip(" \t")
    if not name or len(name) > MAX_TENANT_NAME:
        raise InvalidInput(f"a business name has 1 to {MAX_TENANT_NAME} characters")
    check_safe(name, "business name")
    if any(ch in _TENANT_FORBIDDEN for ch in name):
        raise InvalidInput(f"a business name must not contain / \\ ? # %: {name!r}")
    if name.strip(".") == "" or ".." in name:
        raise InvalidInput(f"a business name must not contain '..' or be only dots: {name!r}")
    return name
