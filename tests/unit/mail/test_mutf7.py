"""Modified UTF-7 names from other servers (RFC 3501 5.1.3 examples) decode to text; broken ones stay readable."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smb_suite.mail import mutf7


@pytest.mark.parametrize(
    ("wire", "text"),
    [
        ("~peter/mail/&U,BTFw-/&ZeVnLIqe-", "~peter/mail/台北/日本語"),  # RFC 3501 5.1.3
        ("Envoy&AOk-s", "Envoyés"),
        ("Tom &- Jerry", "Tom & Jerry"),
        ("INBOX", "INBOX"),
        ("&Jjo-!", "☺!"),
        ("half&", "half&"),
        ("bad&***-", "bad&***-"),
    ],
)
def test_names_decode_as_the_rfc_says(wire: str, text: str) -> None:
    assert mutf7.decode(wire) == text


@given(st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E)))
def test_any_ascii_name_decodes_without_error(name: str) -> None:
    assert isinstance(mutf7.decode(name), str)
