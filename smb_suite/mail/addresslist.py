"""Address lists as written in header fields (RFC 5322 3.4): groups, comments, quoted strings, source routes
(obs-route, RFC 5322 4.4) and the damaged forms real mail carries, for IMAP ENVELOPE (RFC 3501 7.4.2), SEARCH
FROM/TO/CC/BCC and SORT (RFC 5256 addr-mailbox, RFC 5957 display name).

Not email.headerregistry: it decodes RFC 2047 encoded words (ENVELOPE sends names as written), drops source
routes, and costs about 0.5 ms per field; this is one linear scan. Pure: str in (8-bit octets as surrogates),
values out. A part that is missing stays empty ("" local part or domain); callers decide how to show it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

MAX_LENGTH = 64 * 1024  # a longer field is parsed up to here (bounded work on hostile headers)
_SPECIALS = "<>@,;:."
_SIMPLE = re.compile(
    r'[ \t\r\n]+|"((?:[^"\\]|\\.)*)"?|\[(?:[^\[\]\\]|\\.)*\]?|[<>@,;:.]|[^ \t\r\n"()\[\]<>@,;:.\\]+|\\.?|.', re.S
)
_ESCAPE = re.compile(r"\\(.)", re.S)


@dataclass(frozen=True, slots=True)
class Mailbox:
    name: str | None  # the display name as written (encoded words kept), quotes and comments removed
    route: str | None  # obs-route "@a,@b" (RFC 5322 4.4), else None
    local: str  # "" when missing
    domain: str  # "" when missing

    @property
    def addr_spec(self) -> str:
        return f"{self.local}@{self.domain}" if self.domain else self.local


@dataclass(frozen=True, slots=True)
class Group:
    name: str
    members: tuple[Mailbox, ...]


Entry = Mailbox | Group


class _Token(NamedTuple):
    kind: str  # "word" (atom or quoted string), "literal" ([domain]), "special", "comment"
    text: str  # unquoted and unescaped for words and comments
    spaced: bool  # whitespace or a comment came before it


def _tokens(value: str) -> list[_Token]:
    tokens: list[_Token] = []
    at, spaced, end = 0, False, min(len(value), MAX_LENGTH)
    while at < end:
        char = value[at]
        if char == "(":  # comments nest (RFC 5322 3.2.2)
            depth, start = 0, at
            while at < end:
                char = value[at]
                at += 2 if char == "\\" else 1
                depth += 1 if char == "(" else -1 if char == ")" else 0
                if depth == 0:
                    break
            inner = value[start + 1 : at - 1 if value[at - 1 : at] == ")" else at]
            tokens.append(_Token("comment", _ESCAPE.sub(r"\1", inner).strip(), spaced))
            spaced = True
            continue
        match = _SIMPLE.match(value, at)
        assert match is not None  # the last alternative takes any character (a stray ']' or ')')
        text, at = match.group(), match.end()
        if text[0] in " \t\r\n":
            spaced = True
            continue
        if text[0] == '"':
            body = match.group(1)
            if "\\" in body or "\n" in body:
                body = _ESCAPE.sub(r"\1", re.sub(r"\r?\n(?=[ \t])", "", body))
            tokens.append(_Token("word", body, spaced))
        elif text[0] == "[":
            tokens.append(_Token("literal", text, spaced))
        elif text in _SPECIALS:
            tokens.append(_Token("special", text, spaced))
        else:
            tokens.append(_Token("word", text, spaced))
        spaced = False
    return tokens


def parse(value: str) -> list[Entry]:
    """The mailboxes and groups of an address list, in order; empty entries (", ,") are skipped."""
    entries: list[Entry] = []
    group: tuple[str, list[Mailbox]] | None = None
    current: list[_Token] = []
    angle = 0

    def flush() -> None:
        mailbox = _mailbox(current)
        current.clear()
        if mailbox is not None:
            (group[1] if group is not None else entries).append(mailbox)

    for token in _tokens(value):
        special = token.text if token.kind == "special" else ""
        if special == "<":
            angle += 1
        elif special == ">":
            angle = max(0, angle - 1)
        if angle or special not in (",", ";", ":"):
            current.append(token)
        elif special == ":" and group is None:  # group start (RFC 5322 3.4): the phrase before it names it
            group = (_phrase(current) or "", [])
            current.clear()
        elif special == ":":
            current.append(token)
        else:
            flush()
            if special == ";" and group is not None:
                entries.append(Group(group[0], tuple(group[1])))
                group = None
    flush()
    if group is not None:  # an unterminated group ends with the field
        entries.append(Group(group[0], tuple(group[1])))
    return entries


def mailboxes(entries: list[Entry]) -> list[Mailbox]:
    """Every mailbox, those of groups included, in order."""
    found: list[Mailbox] = []
    for entry in entries:
        found.extend(entry.members if isinstance(entry, Group) else (entry,))
    return found


def searchable(entries: list[Entry]) -> str:
    """The list as 'name <local@domain>' items, comments and routes left out: what SEARCH FROM/TO matches besides
    the field as written (RFC 3501 6.4.4), so that 'user@domain.org' finds '<user (c)@ (c) domain.org>'."""
    items = []
    for mailbox in mailboxes(entries):
        items.append(f"{mailbox.name} <{mailbox.addr_spec}>" if mailbox.name else mailbox.addr_spec)
    return ", ".join(items)


def _phrase(tokens: list[_Token]) -> str | None:
    """Words (and obs-phrase dots) joined by one space where the field had space or a comment."""
    text = ""
    for token in tokens:
        if token.kind == "comment":
            continue
        text += (" " if token.spaced and text else "") + token.text
    return text.strip() or None


def _compact(tokens: list[_Token]) -> str:
    """A local part, domain or route: its words and specials without spaces or comments."""
    return "".join(token.text for token in tokens if token.kind != "comment")


def _mailbox(tokens: list[_Token]) -> Mailbox | None:
    if not any(token.kind != "comment" for token in tokens):
        return None
    opening = next((n for n, t in enumerate(tokens) if t.kind == "special" and t.text == "<"), None)
    if opening is not None:  # [phrase] "<" [route ":"] addr-spec ">"
        closing = next(
            (n for n in range(len(tokens) - 1, opening, -1) if tokens[n].kind == "special" and tokens[n].text == ">"),
            len(tokens),
        )
        inside = tokens[opening + 1 : closing]
        route = None
        colon = next((n for n, t in enumerate(inside) if t.kind == "special" and t.text == ":"), None)
        if colon is not None and _compact(inside[:1]).startswith("@"):
            route, inside = _compact(inside[:colon]) or None, inside[colon + 1 :]
        local, domain = _addr_spec(inside)
        return Mailbox(_phrase(tokens[:opening]), route, local, domain)
    words = [token for token in tokens if token.kind != "comment"]
    if any(t.kind == "special" and t.text == "@" for t in words) or _is_local_part(words):
        local, domain = _addr_spec(tokens)
        trailing = tokens[-1].text if tokens[-1].kind == "comment" else None  # "addr (Name)": the comment names it
        return Mailbox(trailing or None, None, local, domain)
    return Mailbox(_phrase(tokens), None, "", "")  # a phrase with no address


def _is_local_part(words: list[_Token]) -> bool:
    """word *("." word): one address without '@' ('nohost'), not a display name alone ('Only Name')."""
    return all(
        (token.kind == "word") == (n % 2 == 0) and (token.kind == "word" or token.text == ".")
        for n, token in enumerate(words)
    ) and not any(token.spaced for token in words[1:])


def _addr_spec(tokens: list[_Token]) -> tuple[str, str]:
    at = max((n for n, t in enumerate(tokens) if t.kind == "special" and t.text == "@"), default=None)
    if at is None:
        return _compact(tokens), ""
    return _compact(tokens[:at]), _compact(tokens[at + 1 :])
