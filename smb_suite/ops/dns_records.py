"""The DNS records a domain's owner publishes, as data (for the admin page, the zone file and `smb-suite dns`),
and the live check that asks the configured resolvers which of them are present, missing or wrong.

Records: the website's A/AAAA (and www.) from this server's public addresses, MX and SPF (RFC 7208) so mail
reaches us, DKIM keys (RFC 6376, RFC 8463), DMARC (RFC 7489),
autoconfig/autodiscover names for mail clients, SRV records for IMAP and submission (RFC 6186, RFC 8314 5.1),
MTA-STS (RFC 8461 3.1), and with the collaboration module SRV and TXT records for CalDAV and CardDAV (RFC 6764).
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from smb_suite.config import Config, parse_listen_address
from smb_suite.directory.model import Domain
from smb_suite.errors import DnsFailure
from smb_suite.mail import dkim
from smb_suite.ops import signing
from smb_suite.ops.tiers import COLLABORATION, has_module
from smb_suite.services import Services

TTL = 3600
DAV_CONTEXT = "/dav/"  # where web/dav.py serves CalDAV and CardDAV
DMARC_SUGGESTION = "v=DMARC1; p=quarantine; adkim=r; aspf=r; pct=100"
MTA_STS_MAX_AGE = 86400
# (SRV service, listener, standard port) in RFC 8314 5.1 order: implicit TLS first.
SRV_SERVICES = (
    ("_imaps._tcp", "imaps", 993),
    ("_submissions._tcp", "submissions", 465),
    ("_imap._tcp", "imap", 143),
    ("_submission._tcp", "submission", 587),
)


@dataclass(frozen=True, slots=True)
class Record:
    name: str  # fully qualified, without the final dot
    type: str
    value: str  # as in a zone file; TXT values unquoted here
    purpose: str  # a short key the pages translate: mx, spf, dkim, dmarc, autoconfig, srv, mta-sts

    @property
    def rdata(self) -> str:
        if self.type != "TXT":
            return self.value
        return " ".join(f'"{part}"' for part in dkim.txt_strings(self.value))

    def zone_line(self) -> str:
        return f"{self.name}.\t{TTL}\tIN\t{self.type}\t{self.rdata}"


def mta_sts_policy(config: Config) -> str:
    """The policy served at https://mta-sts.<domain>/.well-known/mta-sts.txt (RFC 8461 3.2)."""
    lines = ["version: STSv1", f"mode: {config.tls.mta_sts_mode}", f"mx: {config.server.hostname}"]
    return "\n".join([*lines, f"max_age: {MTA_STS_MAX_AGE}"]) + "\n"


def mta_sts_id(config: Config) -> str:
    """Changes whenever the policy does, so senders fetch it again (RFC 8461 3.1: 1-32 alphanumerics)."""
    return hashlib.sha256(mta_sts_policy(config).encode()).hexdigest()[:20]


def public_ports(config: Config, listening: Mapping[str, int]) -> dict[str, int]:
    """The port of each mail client service we offer: the configured one (or, in tests, the bound one)."""
    ports = {}
    for _, name, standard in SRV_SERVICES:
        address = parse_listen_address(getattr(config.listen, name))
        if address is not None:  # port 0 (any free one) outside the daemon: name the standard port
            ports[name] = listening.get(name) or address[1] or standard
    return ports


async def website_addresses(services: Services) -> tuple[str, ...]:
    """Where hosted websites answer: `[server] public_addresses`, else the A and AAAA of the server hostname."""
    configured = services.config.server.public_addresses
    if configured:
        return configured
    found: list[str] = []
    for rdtype in ("A", "AAAA"):
        try:
            found += await services.resolver.addresses(services.config.server.hostname.rstrip("."), rdtype)
        except DnsFailure:  # "could not tell" ends up as the missing-address warning
            continue
    return tuple(found)


@dataclass(frozen=True, slots=True)
class Warning:
    """What makes the records useless on the internet: an English text with {fields} (the pages translate it)."""

    text: str
    fields: Mapping[str, str]

    def __str__(self) -> str:
        return self.text.format(**self.fields)


LOCAL_HOSTNAME = (
    "the server hostname is {host}: set [server] hostname to this server's public name (MX and SRV records point at it)"
)
NO_ADDRESS = (
    "no address was found for {host}: set [server] public_addresses, or publish its A/AAAA records, "
    "to get the website's records"
)
NOT_PUBLIC = "{addresses}: not public internet addresses, visitors cannot reach the website there"
WARNING_TEXTS = (LOCAL_HOSTNAME, NO_ADDRESS, NOT_PUBLIC)


def warnings(config: Config, addresses: Sequence[str]) -> list[Warning]:
    host = config.server.hostname.rstrip(".").lower()
    found = []
    if host == "localhost" or host.endswith(".localhost") or "." not in host:
        found.append(Warning(LOCAL_HOSTNAME, {"host": host}))
    if not addresses:
        found.append(Warning(NO_ADDRESS, {"host": host}))
    elif not any(ipaddress.ip_address(address).is_global for address in addresses):
        found.append(Warning(NOT_PUBLIC, {"addresses": ", ".join(addresses)}))
    return found


def records(services: Services, domain: Domain, addresses: Sequence[str] = ()) -> list[Record]:
    """Every record to publish; `addresses` (from `website_addresses`) give the website's A/AAAA."""
    config = services.config
    host = config.server.hostname.rstrip(".")
    name = domain.name
    result = [
        *(
            Record(owner, "AAAA" if ":" in address else "A", address, "web")
            for owner in (name, f"www.{name}")
            for address in addresses
        ),
        Record(name, "MX", f"10 {host}.", "mx"),
        Record(name, "TXT", "v=spf1 mx -all", "spf"),
        *(
            Record(f"{key.selector}._domainkey.{name}", "TXT", key.public_record(), "dkim")
            for key in services.dkim.published(name, signing.grace_seconds(services))
        ),
        Record(f"_dmarc.{name}", "TXT", DMARC_SUGGESTION, "dmarc"),
        Record(f"autoconfig.{name}", "CNAME", f"{host}.", "autoconfig"),
        Record(f"autodiscover.{name}", "CNAME", f"{host}.", "autoconfig"),
    ]
    ports = public_ports(config, services.listening)
    for service, listener, _standard in SRV_SERVICES:
        port = ports.get(listener)
        # RFC 6186 3.4 / RFC 2782: target "." says the service is not offered.
        value = f"0 1 {port} {host}." if port else "0 0 0 ."
        result.append(Record(f"{service}.{name}", "SRV", value, "srv"))
    if has_module(services, domain.tenant_id, COLLABORATION):
        result.extend(dav_records(config, services.listening, name, host))
    result.append(Record(f"_mta-sts.{name}", "TXT", f"v=STSv1; id={mta_sts_id(config)}", "mta-sts"))
    result.append(Record(f"mta-sts.{name}", "CNAME", f"{host}.", "mta-sts"))
    return result


def dav_records(config: Config, listening: Mapping[str, int], name: str, host: str) -> list[Record]:
    """RFC 6764 3 and 4: CalDAV and CardDAV over TLS on our HTTPS port with their context path; the plain-HTTP
    services are published as not offered (target ".", RFC 2782)."""
    address = parse_listen_address(config.listen.https)
    port = listening.get("https") or (address[1] if address else 0) or 443
    result = []
    for service in ("caldav", "carddav"):
        result.append(Record(f"_{service}s._tcp.{name}", "SRV", f"0 1 {port} {host}.", "dav"))
        result.append(Record(f"_{service}s._tcp.{name}", "TXT", f"path={DAV_CONTEXT}", "dav"))
        result.append(Record(f"_{service}._tcp.{name}", "SRV", "0 0 0 .", "dav"))
    return result


def zone_file(zone_records: Sequence[Record], domain: Domain) -> str:
    lines = [r.zone_line() for r in zone_records]
    lines.insert(0, f"; DNS records for {domain.name}, to add to its zone")
    return "\n".join(lines) + "\n"


# -- the live check -------------------------------------------------------------------------------------------


class Status(StrEnum):
    PRESENT = "present"
    MISSING = "missing"
    WRONG = "wrong"
    UNKNOWN = "unknown"  # the lookup itself failed (timeout): say so rather than guess


@dataclass(frozen=True, slots=True)
class Check:
    record: Record
    status: Status
    found: tuple[str, ...]


Lookup = Callable[[str, str], Awaitable[list[str]]]  # (name, type) -> answers as text; raises on failure


def _normal(record_type: str, text: str) -> str:
    text = " ".join(text.split()).lower()
    if record_type in ("MX", "CNAME", "SRV"):
        return text.rstrip(".")
    return text


def judge(record: Record, answers: list[str]) -> Status:
    """Present when an answer equals the record; wrong when an answer of the same kind differs."""
    expected = _normal(record.type, record.value)
    normal = [_normal(record.type, answer) for answer in answers]
    if expected in normal:
        return Status.PRESENT
    if record.type == "TXT":
        tag = expected.split(";")[0].split(" ")[0]  # v=spf1, v=dmarc1, v=stsv1, v=dkim1
        same_kind = [answer for answer in normal if answer.startswith(tag)]
        return Status.WRONG if same_kind else Status.MISSING
    return Status.WRONG if normal else Status.MISSING


def lookup_for(services: Services) -> Lookup:
    """Answers from the one configured Resolver ([dns] nameservers; empty: the system's), as zone-file text."""
    return services.resolver.texts


async def check(records_to_check: list[Record], lookup: Lookup) -> list[Check]:
    results = []
    for record in records_to_check:
        try:
            answers = await lookup(record.name, record.type)
        except DnsFailure:  # a timeout or a failing server: "could not check", not "missing"
            results.append(Check(record, Status.UNKNOWN, ()))
            continue
        results.append(Check(record, judge(record, answers), tuple(answers)))
    return results
