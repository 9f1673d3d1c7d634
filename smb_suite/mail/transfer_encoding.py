"""Undoing a Content-Transfer-Encoding (RFC 2045 6), for IMAP BINARY (RFC 3516): the octets a part stands for.

base64 ignores characters outside its alphabet (RFC 2045 6.8); quoted-printable drops soft line breaks and
decodes =XX (RFC 2045 6.7), leaving malformed escapes as they are; 7bit, 8bit and binary are identities. Any
other encoding is refused: the server cannot know what the part's octets are (RFC 3516 4.3, [UNKNOWN-CTE]).
"""

from __future__ import annotations

import binascii
import re

from smb_suite.errors import SmbSuiteError

_IDENTITY = frozenset({"", "7bit", "8bit", "binary"})
_NOT_BASE64 = re.compile(rb"[^A-Za-z0-9+/]")


class UnknownTransferEncoding(SmbSuiteError):
    """A part's Content-Transfer-Encoding is not one of RFC 2045's."""


def decode(encoding: str | None, body: bytes) -> bytes:
    """The decoded octets of a part whose Content-Transfer-Encoding field says `encoding` (None: absent)."""
    name = (encoding or "").strip().strip('"').lower()
    if name in _IDENTITY:
        return body
    if name == "base64":
        data = _NOT_BASE64.sub(b"", body)  # padding too: it is put back where the data ends
        if len(data) % 4 == 1:
            data = data[:-1]  # a lone last character holds no whole octet
        return binascii.a2b_base64(data + b"=" * (-len(data) % 4))
    if name == "quoted-printable":
        return binascii.a2b_qp(body.replace(b"\r\n", b"\n")).replace(b"\n", b"\r\n")
    raise UnknownTransferEncoding(f"unknown Content-Transfer-Encoding {name[:40]!r}")
