"""DMARC (RFC 7489): does the From: domain's owner vouch for this message through an aligned SPF or DKIM pass?

Pure: the caller hands in a `DnsLookup`, the organizational-domain function (public suffix list) and the
sample value for pct= sampling.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum

from smb_suite.errors import DnsFailure, InvalidInput
from smb_suite.mail.lookup import DnsLookup

POLICIES = ("none", "quarantine", "reject")


class Result(StrEnum):
    NONE = "none"
    PASS = "pass"
    FAIL = "fail"
    TEMPERROR = "temperror"
    PERMERROR = "permerror"


@dataclass(frozen=True, slots=True)
class Record:
    """A DMARC policy record (RFC 7489 6.3); only the tags that decide what happens to a message."""

    policy: str
    subdomain_policy: str | None = None
    adkim: str = "r"
    aspf: str = "r"
    pct: int = 100


@dataclass(frozen=True, slots=True)
class Outcome:
    result: Result
    header_from: str  # the RFC5322.From domain evaluated ('' when there was none to evaluate)
    policy: str = "none"  # the policy that applies to this message (p= or sp=), "none" without a record
    disposition: str = "none"  # what to do: none, quarantine or reject (after pct= sampling)
    reason: str = ""


def parse_record(text: str) -> Record | None:
    """A DMARC record, or None when `text` is not one (no 'v=DMARC1' first). Raises InvalidInput when it is one
    but broken: p= missing or invalid, a bad value for sp=, adkim=, aspf= or pct= (RFC 7489 6.3, 6.4)."""
    first, *rest = text.split(";")
    if not re.fullmatch(r"\s*v\s*=\s*DMARC1\s*", first):
        return None
    tags: dict[str, str] = {}
    for part in rest:
        item = part.strip()
        if not item:
            continue
        name, equals, value = item.partition("=")
        if not equals:
            raise InvalidInput(f"DMARC tag without '=': {item!r}")
        tags.setdefault(name.strip().lower(), value.strip())
    policy = tags.get("p", "").lower()
    if policy not in POLICIES:
        raise InvalidInput("DMARC record has no valid p= tag")
    subdomain = tags.get("sp")
    if subdomain is not None and subdomain.lower() not in POLICIES:
        raise InvalidInput(f"DMARC sp={subdomain!r} is not none, quarantine or reject")
    alignment = {key: tags.get(key, "r").lower() for key in ("adkim", "aspf")}
    if any(mode not in ("r", "s") for mode in alignment.values()):
        raise InvalidInput("DMARC adkim= and aspf= must be r or s")
    pct_text = tags.get("pct", "100")
    if not pct_text.isdigit() or int(pct_text) > 100:
        raise InvalidInput(f"DMARC pct={pct_text!r} is not 0-100")
    return Record(
        policy, None if subdomain is None else subdomain.lower(), alignment["adkim"], alignment["aspf"], int(pct_text)
    )


def aligned(identifier: str, header_from: str, mode: str, organizational: Callable[[str], str]) -> bool:
    """RFC 7489 3.1: strict means the same domain, relaxed the same organizational domain."""
    identifier, header_from = identifier.lower().rstrip("."), header_from.lower().rstrip(".")
    if mode == "s":
        return identifier == header_from
    return organizational(identifier) == organizational(header_from)


async def _records(name: str, lookup: DnsLookup) -> list[bytes]:
    return [record for record in await lookup.txt(name) if record.lower().startswith(b"v=dmarc1")]


async def discover(
    header_from: str, lookup: DnsLookup, organizational: Callable[[str], str]
) -> tuple[Record | None, bool]:
    """The policy record for a From domain and whether it came from the organizational domain (RFC 7489 6.6.3).

    Several records, or a broken one, mean no policy applies. Raises DnsFailure.
    """
    found = await _records(f"_dmarc.{header_from}", lookup)
    inherited = False
    if not found:
        org = organizational(header_from)
        if org != header_from:
            found = await _records(f"_dmarc.{org}", lookup)
            inherited = True
    if len(found) != 1:
        return None, inherited
    try:
        return parse_record(found[0].decode("utf-8", "replace")), inherited
    except InvalidInput:
        return None, inherited


async def evaluate(
    header_from: str,
    spf_pass_domain: str | None,
    dkim_pass_domains: Iterable[str],
    lookup: DnsLookup,
    organizational: Callable[[str], str],
    sample: float,
) -> Outcome:
    """DMARC for one message (RFC 7489 6.6).

    `spf_pass_domain`: the MAIL FROM domain when SPF passed, else None; `dkim_pass_domains`: the d= of every
    signature that verified; `sample` in [0, 1): compared with pct= (6.6.4) to pick messages the policy applies
    to; the others get the next milder policy.
    """
    header_from = header_from.lower().rstrip(".")
    if not header_from:
        return Outcome(Result.NONE, "", reason="no single From: domain")
    try:
        record, inherited = await discover(header_from, lookup, organizational)
    except DnsFailure as exc:
        return Outcome(Result.TEMPERROR, header_from, reason=str(exc))
    if record is None:
        return Outcome(Result.NONE, header_from)
    policy = record.subdomain_policy if inherited and record.subdomain_policy else record.policy
    dkim_ok = any(aligned(domain, header_from, record.adkim, organizational) for domain in dkim_pass_domains)
    spf_ok = spf_pass_domain is not None and aligned(spf_pass_domain, header_from, record.aspf, organizational)
    if dkim_ok or spf_ok:
        return Outcome(Result.PASS, header_from, policy)
    disposition = policy
    if sample * 100 >= record.pct:  # not sampled: the next milder policy (RFC 7489 6.6.4)
        disposition = {"reject": "quarantine", "quarantine": "none"}.get(policy, "none")
    return Outcome(Result.FAIL, header_from, policy, disposition, "no aligned SPF or DKIM pass")
