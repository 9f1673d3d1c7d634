"""Address lists as written in header fields (RFC 5322 3.4, 4.4): groups, comments, quoted names, routes and
damaged forms, and arbitrary input that must parse without raising."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smb_suite.mail.addresslist import Group, Mailbox, mailboxes, parse, searchable


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # RFC 5322 A.1.2: a group with members, an empty group, quoted display names
        (
            "A Group:Ed Jones <c@a.test>,joe@where.test,John <jdoe@one.test>;",
            [
                Group(
                    "A Group",
                    (
                        Mailbox("Ed Jones", None, "c", "a.test"),
                        Mailbox(None, None, "joe", "where.test"),
                        Mailbox("John", None, "jdoe", "one.test"),
                    ),
                )
            ],
        ),
        ("Undisclosed recipients:;", [Group("Undisclosed recipients", ())]),
        (
            '"Joe Q. Public" <john.q.public@example.com>',
            [Mailbox("Joe Q. Public", None, "john.q.public", "example.com")],
        ),
        # RFC 5322 A.5: comments are not part of the address; a phrase keeps its words
        (
            "Pete(A nice \\) chap) <pete(his account)@silly.test(his host)>",
            [Mailbox("Pete", None, "pete", "silly.test")],
        ),
        ("<user-from (comment)@ (comment) domain.org>", [Mailbox(None, None, "user-from", "domain.org")]),
        ("John (the man) Doe <john@example.org>", [Mailbox("John Doe", None, "john", "example.org")]),
        ("reply@example.org (Reply Person)", [Mailbox("Reply Person", None, "reply", "example.org")]),
        # RFC 5322 4.4 obs-route
        ("<@a.test,@b.test:user@c.test>", [Mailbox(None, "@a.test,@b.test", "user", "c.test")]),
        # encoded words are kept as written (ENVELOPE sends them so)
        ("=?utf-8?q?J=C3=B6rg?= <j@x.de>", [Mailbox("=?utf-8?q?J=C3=B6rg?=", None, "j", "x.de")]),
        (
            "nohost, <>, Only Name",
            [Mailbox(None, None, "nohost", ""), Mailbox(None, None, "", ""), Mailbox("Only Name", None, "", "")],
        ),
        ("a@b.test, , c@d.test", [Mailbox(None, None, "a", "b.test"), Mailbox(None, None, "c", "d.test")]),
        ("", []),
    ],
)
def test_address_lists_parse_as_rfc_5322_reads_them(value: str, expected: list[object]) -> None:
    assert parse(value) == expected


def test_searchable_form_drops_comments_so_a_plain_address_matches() -> None:
    entries = parse("team: <user-from (comment)@ (comment) domain.org>, Ann <ann@x.test>;")
    assert searchable(entries) == "user-from@domain.org, Ann <ann@x.test>"
    assert [m.addr_spec for m in mailboxes(entries)] == ["user-from@domain.org", "ann@x.test"]


@given(st.text(alphabet=st.sampled_from(list('ab <>@,;:."()[]\\\t\r\n=?é')), max_size=200))
def test_any_field_value_parses_without_raising(value: str) -> None:
    for mailbox in mailboxes(parse(value)):
        assert isinstance(mailbox.local, str)
        assert isinstance(mailbox.domain, str)
