"""FETCH keeps the header sections it sent per folder state: served again from memory, never a body or a
partial, bounded, and forgotten with the message."""

from __future__ import annotations

from smb_suite.imap.content import FileRange, HeaderSections, cacheable
from smb_suite.imap.syntax import fetch_args

LABEL = b"BODY[HEADER.FIELDS (FROM SUBJECT)]"


def _items(text: bytes) -> list[bool]:
    return [cacheable(item) for item in fetch_args(text).items]


def test_only_whole_header_sections_are_kept() -> None:
    assert _items(b"(BODY.PEEK[HEADER.FIELDS (From Subject)] RFC822.HEADER BODY[HEADER] BODY[1.HEADER])") == [
        True,
        True,
        True,
        True,
    ]
    assert _items(b"(BODY[] BODY[TEXT] BODY.PEEK[HEADER]<0.10> BINARY[1] RFC822 UID)") == [False] * 6


def test_kept_sections_come_back_for_every_message_or_not_at_all() -> None:
    kept = HeaderSections()
    kept.put(1, [LABEL], [b"From: a\r\n\r\n"])
    kept.put(2, [LABEL], [b"From: b\r\n\r\n"])
    assert kept.get([1, 2], [LABEL]) == [[b"From: a\r\n\r\n"], [b"From: b\r\n\r\n"]]
    assert kept.get([1, 3], [LABEL]) is None  # one not kept: all are read
    assert kept.get([1], [LABEL, b"RFC822.HEADER"]) is None
    kept.forget(1)  # expunged
    assert kept.get([1], [LABEL]) is None


def test_large_or_streamed_sections_are_not_kept_and_the_oldest_message_leaves_first() -> None:
    kept = HeaderSections()
    kept.put(1, [LABEL], [b"x" * (HeaderSections.LARGEST + 1)])
    assert kept.get([1], [LABEL]) is None
    with open(__file__, "rb") as file:
        kept.put(2, [LABEL], [FileRange(file, 0, 10)])
    assert kept.get([2], [LABEL]) is None
    for uid in range(10, 10 + HeaderSections.KEEP + 1):
        kept.put(uid, [LABEL], [b"h"])
    assert kept.get([11, 10 + HeaderSections.KEEP], [LABEL]) is not None
    assert kept.get([1], [LABEL]) is None and kept.get([10], [LABEL]) is None


def test_sections_under_labels_a_client_makes_up_stay_within_the_octet_budget() -> None:
    kept = HeaderSections()
    section = b"x" * HeaderSections.LARGEST
    for n in range(2 * HeaderSections.BUDGET // len(section)):
        kept.put(1 + n % 3, [b"BODY[HEADER.FIELDS (X-%d)]" % n], [section])
    held = [kept.get([uid], [b"BODY[HEADER.FIELDS (X-%d)]" % n]) for n in range(200) for uid in (1, 2, 3)]
    assert sum(found is not None for found in held) * len(section) <= HeaderSections.BUDGET
    kept.put(9, [LABEL], [b"From: a\r\n\r\n"])
    assert kept.get([9], [LABEL]) == [[b"From: a\r\n\r\n"]]  # the newest message is kept
