"""The Authentication-Results header field (RFC 8601): writing ours, removing forged ones.

We add exactly one field per message, naming ourselves (the server hostname) as authserv-id. A field that
already claims our authserv-id cannot be ours (we add ours after this point), so it is removed (RFC 8601 5).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from smb_suite.mail import dmarc, message, spf
from smb_suite.mail.dkim import Verdict

NAME = "Authentication-Results"
_TOKEN = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`{|}~@-]+")  # RFC 2045 token (plus '@' of addresses, RFC 8601 2.2)


def _value(text: str) -> str:
    """A pvalue as a token when it is one, else a quoted-string (RFC 8601 2.2)."""
    if text and _TOKEN.fullmatch(text):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _comment(text: str) -> str:
    return "(" + re.sub(r"[()\\\r\n]", " ", text) + ")"


def field_value(
    authserv_id: str, spf_outcome: spf.Outcome, dkim_verdicts: Sequence[Verdict], dmarc_outcome: dmarc.Outcome
) -> str:
    """The value of our one Authentication-Results field, folded one result per line."""
    results: list[str] = []
    if not dkim_verdicts:
        results.append("dkim=none")
    for verdict in dkim_verdicts:
        item = f"dkim={verdict.result}"
        if verdict.reason:
            item += " " + _comment(verdict.reason)
        item += f" header.d={_value(verdict.domain)} header.s={_value(verdict.selector)}"
        item += f" header.a={_value(verdict.algorithm)}"
        results.append(item)
    property_name = "smtp.mailfrom" if spf_outcome.identity == "mailfrom" else "smtp.helo"
    checked = spf_outcome.sender if spf_outcome.identity == "mailfrom" else spf_outcome.domain
    results.append(f"spf={spf_outcome.result} {property_name}={_value(checked)}")
    item = f"dmarc={dmarc_outcome.result}"
    if dmarc_outcome.result is not dmarc.Result.NONE or dmarc_outcome.header_from:
        item += " " + _comment(f"p={dmarc_outcome.policy} dis={dmarc_outcome.disposition}")
    if dmarc_outcome.header_from:
        item += f" header.from={_value(dmarc_outcome.header_from)}"
    results.append(item)
    return ";\r\n\t".join([_value(authserv_id), *results])


def authserv_id(value: str) -> str:
    """The authserv-id an Authentication-Results value starts with, lower case ('' if there is none).

    Comments are CFWS and skipped (RFC 8601 2.2); a quoted-string is unquoted.
    """
    text = _strip_comments(value).strip()
    if text.startswith('"'):
        match = re.match(r'"((?:[^"\\]|\\.)*)"', text)
        return re.sub(r"\\(.)", r"\1", match.group(1)).lower() if match else ""
    match = re.match(r"[^\s;]+", text)
    return match.group(0).lower() if match else ""


def _strip_comments(text: str) -> str:
    out: list[str] = []
    depth = 0
    escaped = False
    quoted = False
    for char in text:
        if escaped:
            escaped = False
            if depth == 0:
                out.append(char)
            continue
        if char == "\\":
            escaped = True
            if depth == 0:
                out.append(char)
            continue
        if depth == 0 and char == '"':
            quoted = not quoted
        if not quoted and char == "(":
            depth += 1
            out.append(" ")
            continue
        if not quoted and char == ")" and depth:
            depth -= 1
            continue
        if depth == 0:
            out.append(char)
    return "".join(out)


def remove_ours(data: bytes, our_id: str) -> bytes:
    """The message without Authentication-Results fields that claim our authserv-id (RFC 8601 5)."""
    ours = our_id.lower()
    return message.remove(
        data, lambda field: field.name == "authentication-results" and authserv_id(field.value) == ours
    )


def dmarc_failed(data: bytes, our_id: str) -> bool:
    """True when our own Authentication-Results field (the one naming `our_id`; forged ones were removed before
    ours was added) says dmarc=fail: the From of a message that reached an INBOX under a p=none policy."""
    for value in message.values(data, NAME):
        if authserv_id(value) == our_id.lower():
            return re.search(r"(?:^|[\s;])dmarc\s*=\s*fail\b", _strip_comments(value), re.IGNORECASE) is not None
    return False
