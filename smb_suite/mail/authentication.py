"""Inbound authentication at the MX: SPF, DKIM and DMARC into one Authentication-Results field, and what
DMARC says to do with the message.

DNS goes through the one injected Resolver on the event loop; dkimpy's verification (CPU) runs in a thread
over the key records looked up beforehand, so it never touches the network itself.
"""

from __future__ import annotations

import asyncio
import functools
import random
from dataclasses import dataclass
from enum import StrEnum

from publicsuffixlist import PublicSuffixList

from smb_suite.errors import DnsFailure
from smb_suite.mail import authresults, dkim, dmarc, message, spf
from smb_suite.mail.lookup import DnsLookup

MAX_SIGNATURES = 8  # signatures checked per message; more are reported as not checked (bounded work)


class Action(StrEnum):
    DELIVER = "deliver"
    JUNK = "junk"
    REJECT = "reject"


@dataclass(frozen=True, slots=True)
class Verdict:
    field: bytes  # the Authentication-Results field, CRLF-terminated
    action: Action
    spf: spf.Outcome
    dkim: list[dkim.Verdict]
    dmarc: dmarc.Outcome


@functools.cache
def _public_suffixes() -> PublicSuffixList:
    return PublicSuffixList()  # the list bundled with the package; loaded once, on first use


def organizational_domain(domain: str) -> str:
    """RFC 7489 3.2: the registrable domain by the public suffix list (the domain itself if it is a suffix)."""
    name = domain.lower().rstrip(".")
    return _public_suffixes().privatesuffix(name) or name


async def _key_records(references: list[dkim.SignatureRef], lookup: DnsLookup) -> dict[str, bytes | None]:
    """TXT records of each signature's key name; a failed lookup is left out (that signature: temperror)."""
    names = sorted({reference.key_name.lower() for reference in references if reference.domain})

    async def one(name: str) -> tuple[str, bytes | None] | None:
        try:
            records = await lookup.txt(name)
        except DnsFailure:
            return None
        return name, (records[0] if records else None)

    found = await asyncio.gather(*(one(name) for name in names))
    return dict(item for item in found if item is not None)


def _verify_all(
    data: bytes, references: list[dkim.SignatureRef], records: dict[str, bytes | None]
) -> list[dkim.Verdict]:
    parsed = dkim.parse(data) if references else None  # once for all signatures
    return [dkim.verify(data, reference, records, parsed) for reference in references]


def _header_facts(data: bytes) -> tuple[list[dkim.SignatureRef], list[str]]:
    """The signatures to check and the From addresses (header parsing: in a thread, like all CPU work)."""
    return dkim.signatures(data)[:MAX_SIGNATURES], message.from_addresses(data)


async def authenticate(
    data: bytes,
    client_ip: str,
    helo: str,
    mail_from: str,
    lookup: DnsLookup,
    authserv_id: str,
    dmarc_reject: str,
    sample: float | None = None,
) -> Verdict:
    """Check one inbound message. `dmarc_reject` ("reject" or "quarantine") is what a DMARC failure under
    p=reject leads to; p=quarantine failures go to Junk."""
    spf_task = asyncio.create_task(spf.check(client_ip, mail_from, helo, lookup))
    references, from_addresses = await asyncio.to_thread(_header_facts, data)
    records = await _key_records(references, lookup)
    dkim_verdicts = await asyncio.to_thread(_verify_all, data, references, records) if references else []
    spf_outcome = await spf_task
    from_domains = {message.domain_of(address) for address in from_addresses}
    header_from = from_domains.pop() if len(from_domains) == 1 else ""
    dmarc_outcome = await dmarc.evaluate(
        header_from,
        spf_outcome.domain if spf_outcome.result is spf.Result.PASS else None,  # HELO for a null sender (7489 4.1)
        [verdict.domain for verdict in dkim_verdicts if verdict.result == "pass"],
        lookup,
        organizational_domain,
        random.random() if sample is None else sample,
    )
    action = Action.DELIVER
    if dmarc_outcome.disposition == "reject":
        action = Action.REJECT if dmarc_reject == "reject" else Action.JUNK
    elif dmarc_outcome.disposition == "quarantine":
        action = Action.JUNK
    value = authresults.field_value(authserv_id, spf_outcome, dkim_verdicts, dmarc_outcome)
    field = f"{authresults.NAME}: {value}\r\n".encode()
    return Verdict(field, action, spf_outcome, dkim_verdicts, dmarc_outcome)
