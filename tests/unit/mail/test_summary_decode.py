"""summary.decode reads back the IMAP wire form summary.encode writes (SORT and THREAD read stored ENVELOPEs)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smb_suite.mail import mime
from smb_suite.mail.summary import decode, encode

values = st.recursive(
    st.none() | st.integers(0, 2**32) | st.text(),
    lambda inner: st.lists(inner, max_size=4),
    max_leaves=12,
)


@given(values)
def test_decode_inverts_encode(value: mime.Value) -> None:
    assert decode(encode(value)) == value


def test_decode_reads_an_envelope_with_quoted_strings_literals_and_nil() -> None:
    """RFC 3501 7.4.2 ENVELOPE form, with `)(` between addresses as RFC 3501 9 writes it."""
    wire = b'("Mon, 7 Feb 1994" {5}\r\nGr\xc3\xbc\xc3 (("A \\"B\\"" NIL "a" "x.test")(NIL NIL "b" "x.test")) NIL NIL)'
    date, subject, sender, reply_to, to = decode(wire)  # type: ignore[misc]
    assert (date, reply_to, to) == ("Mon, 7 Feb 1994", None, None)
    assert subject == b"Gr\xc3\xbc\xc3".decode("utf-8", "surrogateescape")
    assert sender == [['A "B"', None, "a", "x.test"], [None, None, "b", "x.test"]]


@pytest.mark.parametrize("wire", [b"(", b")", b'"open', b"{9}\r\nab", b"NIL NIL", b"NILS", b""])
def test_decode_refuses_what_is_not_one_value(wire: bytes) -> None:
    with pytest.raises(ValueError):
        decode(wire)
