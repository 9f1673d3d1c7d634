"""The base subject of a message (RFC 5256 2.1): its Subject without reply and forward markers, by which SORT
orders and THREAD groups messages. Pure: the caller has decoded RFC 2047 encoded words (step 1's first half).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_WHITESPACE = re.compile(r"[ \t\r\n]+")
_TRAILER = re.compile(r"(?:\(fwd\)| )$", re.I)  # subj-trailer = "(fwd)" / WSP
_BLOB = r"\[[^\[\]]*\] *"  # subj-blob = "[" *BLOBCHAR "]" *WSP
_REFWD = r"(?:re|fwd?) *(?:" + _BLOB + r")?:"  # subj-refwd = ("re" / ("fw" ["d"])) *WSP [subj-blob] ":"
_LEADER = re.compile(r"(?:(?:" + _BLOB + r")*" + _REFWD + r"| )", re.I)  # subj-leader = (*subj-blob subj-refwd) / WSP
_LEADING_BLOB = re.compile(_BLOB)
_FWD_HEADER, _FWD_TRAILER = "[fwd:", "]"  # subj-fwd-hdr, subj-fwd-trl


@dataclass(frozen=True, slots=True)
class BaseSubject:
    text: str
    reply: bool  # a reply or forward marker was removed (RFC 5256 3, REFERENCES step 6)


def base_subject(subject: str) -> BaseSubject:
    """RFC 5256 2.1, steps 1 to 7, on an already decoded Subject."""
    text = _WHITESPACE.sub(" ", subject)  # (1) tabs and continuations to one space
    reply = False
    while True:
        while (trailer := _TRAILER.search(text)) is not None:  # (2)
            reply = reply or trailer.group() != " "
            text = text[: trailer.start()]
        while True:  # (5) repeat (3) and (4)
            leader = _LEADER.match(text)  # (3)
            if leader is not None and leader.end():
                reply = reply or leader.group() != " "
                text = text[leader.end() :]
                continue
            blob = _LEADING_BLOB.match(text)  # (4) only if a non-empty base remains
            if blob is not None and text[blob.end() :]:
                text = text[blob.end() :]
                continue
            break
        if text[:5].lower() == _FWD_HEADER and text.endswith(_FWD_TRAILER):  # (6)
            text = text[5:-1]
            reply = True
            continue
        return BaseSubject(text, reply)  # (7)


def sort_key(text: str) -> bytes:
    """The i;ascii-casemap comparator RFC 5256 sorts with: UTF-8 octets, ASCII letters in one case."""
    return text.encode("utf-8", "surrogateescape").upper()
