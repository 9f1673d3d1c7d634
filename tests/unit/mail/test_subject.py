"""Base subject extraction (RFC 5256 2.1): a corpus from the ABNF of subj-leader, subj-refwd, subj-blob,
subj-trailer and subj-fwd-hdr/trl, plus a property test that it never fails and is idempotent."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smb_suite.mail.subject import base_subject, sort_key

CORPUS = [
    # (subject, base subject, reply or forward marker removed)
    ("test", "test", False),
    ("Re: test", "test", True),  # subj-refwd = "re" ... ":"
    ("RE:test", "test", True),  # case-insensitive, no space needed
    ("Re: Re: re: test", "test", True),  # (5) repeated
    ("Fw: test", "test", True),  # "fw"
    ("FWD : test", "test", True),  # *WSP before ":"
    ("Re[2]: test", "test", True),  # [subj-blob] inside subj-refwd
    ("Re [2] : test", "test", True),
    ("[list] Re: test", "test", True),  # *subj-blob before subj-refwd
    ("Re: [list] test", "test", True),  # (4) a leading blob goes when a base remains
    ("[a][b] test", "test", False),
    ("[list]", "[list]", False),  # (4) but not when it would leave nothing
    ("Re: [list]", "[list]", True),
    ("test (fwd)", "test", True),  # (2) subj-trailer
    ("test (FWD) (fwd)  ", "test", True),
    ("  test  ", "test", False),  # WSP leaders and trailers
    ("a\r\n\tfolded   subject", "a folded subject", False),  # (1) continuations and runs of spaces
    ("[fwd: test]", "test", True),  # (6) subj-fwd-hdr ... subj-fwd-trl
    ("[Fwd: Re: test (fwd)]", "test", True),  # (6) then again from (2)
    ("Re: [fwd: [list] Re: test]", "test", True),
    ("[fwd: test", "[fwd: test", False),  # no subj-fwd-trl: nothing removed
    ("Reply: test", "Reply: test", False),  # not "re" *WSP ":"
    ("Re test", "Re test", False),
    ("Fwd:", "", True),
    ("", "", False),
    ("Grüße: Re: Köln", "Grüße: Re: Köln", False),  # 8-bit text is compared as UTF-8
]


@pytest.mark.parametrize(("subject", "base", "reply"), CORPUS)
def test_base_subject_follows_rfc_5256_section_2_1(subject: str, base: str, reply: bool) -> None:
    found = base_subject(subject)
    assert (found.text, found.reply) == (base, reply)


def test_sort_key_folds_ascii_letters_only() -> None:
    """i;ascii-casemap (RFC 5256 2.1 via RFC 4790 9.2): a-z equal A-Z; other octets compare as they are."""
    assert sort_key("Hello") == sort_key("hELLO")
    assert sort_key("é") != sort_key("É")
    assert sort_key("a") < sort_key("b") < sort_key("é")


@given(st.text())
def test_base_subject_is_a_fixed_point(subject: str) -> None:
    once = base_subject(subject).text
    assert base_subject(once).text == once
