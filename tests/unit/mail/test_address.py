"""Address and domain parsing (RFC 5321 4.1.2): a corpus of valid and invalid inputs, and a fuzz test."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smb_suite.errors import InvalidInput
from smb_suite.mail.address import Address, normalize_domain, parse_address


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("user@example.com", Address("user", "example.com")),
        ("<First.Last@Example.COM>", Address("first.last", "example.com")),
        ("o'brien+tag@sub.example.org", Address("o'brien+tag", "sub.example.org")),
        ("x@xn--bcher-kva.example", Address("x", "xn--bcher-kva.example")),
        ("x@bücher.example", Address("x", "xn--bcher-kva.example")),
    ],
)
def test_valid_addresses_parse(text: str, expected: Address) -> None:
    assert parse_address(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "no-at-sign",
        "@example.com",
        "user@",
        "a..b@example.com",
        ".a@example.com",
        '"quoted"@example.com',
        "victim%elsewhere.example@example.com",
        "a@b@example.com",
        "user@[192.0.2.1]",
        "user@localhost",
        "user@-bad.example",
        "user@example.123",
        "x" * 65 + "@example.com",
        "user name@example.com",
    ],
)
def test_invalid_addresses_are_refused(text: str) -> None:
    with pytest.raises(InvalidInput):
        parse_address(text)


@given(st.text())
def test_address_parser_raises_only_our_error(text: str) -> None:
    with contextlib.suppress(InvalidInput):
        parse_address(text)


@given(st.text())
def test_domain_parser_raises_only_our_error(text: str) -> None:
    with contextlib.suppress(InvalidInput):
        assert normalize_domain(text) == normalize_domain(normalize_domain(text))


def test_a_remote_local_part_keeps_its_case() -> None:
    assert str(parse_address("<John.Doe@Example.ORG>", fold_case=False)) == "John.Doe@example.org"
    assert str(parse_address("<John.Doe@Example.ORG>")) == "john.doe@example.org"
