"""LIST patterns (RFC 3501 6.3.8) match like the obvious definition, in linear time, whatever the pattern."""

from __future__ import annotations

import functools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smb_suite.imap import wildcard


def reference_match(pattern: str, name: str, delimiter: str = "/") -> bool:
    """The definition, by memoised recursion over (pattern position, name position): only for small inputs."""

    @functools.cache
    def match(p: int, n: int) -> bool:
        if p == len(pattern):
            return n == len(name)
        token = pattern[p]
        if token == "*":
            return match(p + 1, n) or (n < len(name) and match(p, n + 1))
        if token == "%":
            return match(p + 1, n) or (n < len(name) and name[n] != delimiter and match(p, n + 1))
        return n < len(name) and name[n] == token and match(p + 1, n + 1)

    return match(0, 0)


ALPHABET = "ab/*%"


@given(st.text(alphabet=ALPHABET, max_size=12), st.text(alphabet="ab/", max_size=12))
def test_matches_like_the_definition(pattern: str, name: str) -> None:
    assert wildcard.compile_pattern(pattern).matches(name) == reference_match(pattern, name)


@pytest.mark.parametrize(
    ("pattern", "name", "expected"),
    [  # RFC 3501 6.3.8: "foo*" matches foo, foobar and foo/bar; "foo%" matches foo and foobar, not foo/bar
        ("foo*", "foo", True),
        ("foo*", "foobar", True),
        ("foo*", "foo/bar", True),
        ("foo%", "foo", True),
        ("foo%", "foobar", True),
        ("foo%", "foo/bar", False),
        ("%", "INBOX", True),
        ("%", "a/b", False),
        ("*", "", True),
        ("", "", True),
        ("", "a", False),
        ("a%/%b", "ax/yb", True),
        ("a%/%b", "a/x/b", False),
    ],
)
def test_rfc_examples(pattern: str, name: str, expected: bool) -> None:
    assert wildcard.compile_pattern(pattern).matches(name) is expected


def test_inbox_is_case_insensitive_in_the_pattern_only() -> None:
    assert wildcard.list_matcher("", "inbox").matches("INBOX")
    assert wildcard.list_matcher("InBoX/", "%").matches("INBOX/sub")
    assert not wildcard.list_matcher("", "archive").matches("Archive")


def test_the_reported_backtracking_pattern_is_answered_at_once() -> None:
    """Issue 11: a backtracking regex took 33 s on this; the automaton takes microseconds per name."""
    matcher = wildcard.list_matcher("", "*%*%*%*%*%Z")
    for _ in range(100):
        assert not matcher.matches("a" * 200)
    worst = wildcard.compile_pattern("*%" * 500 + "Z")
    assert not worst.matches("a/" * 100)


def test_patterns_are_bounded() -> None:
    with pytest.raises(wildcard.PatternTooLong):
        wildcard.compile_pattern("a" * (wildcard.MAX_PATTERN + 1))
