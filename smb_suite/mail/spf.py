"""SPF: may this IP address send mail for this domain? (RFC 7208), over any `DnsLookup`.

Written here rather than taken from pyspf: pyspf (last release 2020) resolves through a module-global function
and dnspython's deprecated `query`, so its DNS cannot be handed in; the alternatives on PyPI check records but do
not evaluate them. This is `check_host()` (RFC 7208 4) with its processing limits (4.6.4), the mechanisms of
section 5, the redirect modifier (6.1) and macros (7). The explanation (exp=) is parsed but never fetched: we
only report results, we do not build rejection texts from the sender's DNS.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from enum import StrEnum
from urllib.parse import quote

from smb_suite.errors import DnsFailure, InvalidInput
from smb_suite.mail.lookup import DnsLookup

MAX_DNS_MECHANISMS = 10  # RFC 7208 4.6.4
MAX_VOID_LOOKUPS = 2
MAX_NAMES = 10  # MX or PTR names looked at per mechanism


class Result(StrEnum):
    NONE = "none"
    NEUTRAL = "neutral"
    PASS = "pass"
    FAIL = "fail"
    SOFTFAIL = "softfail"
    TEMPERROR = "temperror"
    PERMERROR = "permerror"


QUALIFIERS = {"+": Result.PASS, "-": Result.FAIL, "~": Result.SOFTFAIL, "?": Result.NEUTRAL}


@dataclass(frozen=True, slots=True)
class Outcome:
    result: Result
    domain: str  # the domain whose policy was checked (MAIL FROM domain, or the HELO name for a null sender)
    identity: str  # "mailfrom" or "helo" (RFC 7208 2.3, 2.4)
    sender: str  # the address checked: the reverse path, or postmaster@HELO
    reason: str = ""


class _Stop(Exception):
    """Ends evaluation with a temperror or permerror."""

    def __init__(self, result: Result, reason: str) -> None:
        super().__init__(reason)
        self.result = result
        self.reason = reason


@dataclass
class _Check:
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address
    sender: str
    helo: str
    lookup: DnsLookup
    dns_mechanisms: int = 0
    void_lookups: int = 0
    seen: set[str] = field(default_factory=set)

    # -- DNS with the limits of RFC 7208 4.6.4 ----------------------------------------------------------------

    def count_mechanism(self) -> None:
        self.dns_mechanisms += 1
        if self.dns_mechanisms > MAX_DNS_MECHANISMS:
            raise _Stop(Result.PERMERROR, "more than 10 DNS-querying terms")

    def void(self, answer: list[str]) -> list[str]:
        if not answer:
            self.void_lookups += 1
            if self.void_lookups > MAX_VOID_LOOKUPS:
                raise _Stop(Result.PERMERROR, "more than 2 void lookups")
        return answer

    async def addresses(self, name: str, count_void: bool = True) -> list[str]:
        rdtype = "A" if self.ip.version == 4 else "AAAA"
        try:
            answer = await self.lookup.addresses(name, rdtype)
        except DnsFailure as exc:
            raise _Stop(Result.TEMPERROR, str(exc)) from exc
        return self.void(answer) if count_void else answer

    async def txt(self, name: str) -> list[bytes]:
        try:
            return await self.lookup.txt(name)
        except DnsFailure as exc:
            raise _Stop(Result.TEMPERROR, str(exc)) from exc

    # -- check_host (RFC 7208 4) -------------------------------------------------------------------------------

    async def check_host(self, domain: str) -> Result:
        if not valid_domain(domain):
            return Result.NONE  # RFC 7208 4.3
        records = [record for record in await self.txt(domain) if _is_spf(record)]
        if not records:
            return Result.NONE
        if len(records) > 1:
            raise _Stop(Result.PERMERROR, f"{domain} publishes more than one SPF record")
        try:
            text = records[0].decode("ascii")
        except UnicodeDecodeError as exc:
            raise _Stop(Result.PERMERROR, "SPF record is not ASCII") from exc
        terms, redirect = parse(text)
        for qualifier, name, argument in terms:
            if await self.matches(name, argument, domain):
                return QUALIFIERS[qualifier]
        if redirect is not None:  # RFC 7208 6.1
            self.count_mechanism()
            target = self.expand(redirect, domain)
            result = await self.check_host(target)
            if result is Result.NONE:
                raise _Stop(Result.PERMERROR, f"redirect to {target}, which has no SPF record")
            return result
        return Result.NEUTRAL

    async def matches(self, name: str, argument: str, domain: str) -> bool:
        if name == "all":
            return True
        if name in ("ip4", "ip6"):
            network = _network(name, argument)
            return self.ip.version == network.version and self.ip in network
        self.count_mechanism()
        if name == "include":
            return await self.include(self.expand(argument, domain))
        if name == "exists":
            target = self.expand(argument, domain)
            try:
                return bool(self.void(await self.lookup.addresses(target, "A")))  # always A (RFC 7208 5.7)
            except DnsFailure as exc:
                raise _Stop(Result.TEMPERROR, str(exc)) from exc
        target_spec, cidr4, cidr6 = _split_cidr(argument)
        target = self.expand(target_spec, domain) if target_spec else domain
        if name == "a":
            return self.in_any(await self.addresses(target), cidr4, cidr6)
        if name == "mx":
            return await self.mx(target, cidr4, cidr6)
        if name == "ptr":
            return await self.ptr(target)
        raise _Stop(Result.PERMERROR, f"unknown mechanism {name}")

    async def include(self, target: str) -> bool:
        """RFC 7208 5.2: pass matches; fail, softfail and neutral do not; errors and none propagate."""
        if target in self.seen:
            raise _Stop(Result.PERMERROR, f"include loop at {target}")
        self.seen.add(target)
        result = await self.check_host(target)
        self.seen.discard(target)
        if result is Result.NONE:
            raise _Stop(Result.PERMERROR, f"include of {target}, which has no SPF record")
        return result is Result.PASS

    async def mx(self, target: str, cidr4: int, cidr6: int) -> bool:
        try:
            exchanges = self.void([name for _, name in await self.lookup.mx(target)])
        except DnsFailure as exc:
            raise _Stop(Result.TEMPERROR, str(exc)) from exc
        if len(exchanges) > MAX_NAMES:
            raise _Stop(Result.PERMERROR, f"{target} has more than 10 MX records")
        for exchange in exchanges:
            if self.in_any(await self.addresses(exchange, count_void=False), cidr4, cidr6):
                return True
        return False

    async def ptr(self, target: str) -> bool:
        """RFC 7208 5.5 (discouraged, still evaluated): a validated reverse name in `target`."""
        try:
            names = (await self.lookup.ptr(str(self.ip)))[:MAX_NAMES]
        except DnsFailure:
            return False  # RFC 7208 5.5: a failed PTR lookup is no match
        for name in names:
            lowered = name.rstrip(".").lower()
            if lowered != target and not lowered.endswith("." + target):
                continue
            try:
                if str(self.ip) in await self.lookup.addresses(lowered, "A" if self.ip.version == 4 else "AAAA"):
                    return True
            except DnsFailure:
                continue
        return False

    def in_any(self, addresses: list[str], cidr4: int, cidr6: int) -> bool:
        prefix = cidr4 if self.ip.version == 4 else cidr6
        for address in addresses:
            try:
                network = ipaddress.ip_network(f"{address}/{prefix}", strict=False)
            except ValueError:
                continue
            if network.version == self.ip.version and self.ip in network:
                return True
        return False

    # -- macros (RFC 7208 7) ----------------------------------------------------------------------------------

    def expand(self, spec: str, domain: str) -> str:
        local, _, sender_domain = self.sender.rpartition("@")
        ip_text = str(self.ip) if self.ip.version == 4 else ".".join(self.ip.exploded.replace(":", ""))
        letters = {
            "s": self.sender,
            "l": local or "postmaster",
            "o": sender_domain,
            "d": domain,
            "i": ip_text,
            "p": "unknown",  # RFC 7208 7.3: allowed when the validated name is not looked up
            "v": "in-addr" if self.ip.version == 4 else "ip6",
            "h": self.helo,
        }

        def one(match: re.Match[str]) -> str:
            token = match.group(0)
            if token == "%%":
                return "%"
            if token == "%_":
                return " "
            if token == "%-":
                return "%20"
            letter, digits, reverse, delimiters = match.group(1), match.group(2), match.group(3), match.group(4)
            value = letters.get(letter.lower())
            if value is None:
                raise _Stop(Result.PERMERROR, f"unknown macro letter {letter}")
            parts = re.split("[" + re.escape(delimiters or ".") + "]", value)
            if reverse:
                parts.reverse()
            if digits:
                if int(digits) == 0:
                    raise _Stop(Result.PERMERROR, "macro keeps zero parts")
                parts = parts[-int(digits) :]
            text = ".".join(parts)
            return quote(text, safe="") if letter.isupper() else text

        if re.search(r"%(?![%_-]|\{[a-zA-Z]\d*r?[.\-+,/_=]*\})", spec):
            raise _Stop(Result.PERMERROR, f"bad macro in {spec!r}")
        expanded = _MACRO.sub(one, spec).rstrip(".").lower()
        while len(expanded) > 253 and "." in expanded:  # RFC 7208 7.3: drop labels on the left
            expanded = expanded.split(".", 1)[1]
        return expanded


_MACRO = re.compile(r"%%|%_|%-|%\{([a-zA-Z])(\d*)(r?)([.\-+,/_=]*)\}")
_MODIFIER = re.compile(r"([A-Za-z][A-Za-z0-9_.-]*)=(.*)")
_MECHANISM = re.compile(r"([+\-~?]?)([A-Za-z][A-Za-z0-9_.-]*)(.*)")
_LABEL = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?")
MECHANISMS = {"all", "include", "a", "mx", "ptr", "ip4", "ip6", "exists"}


def _is_spf(record: bytes) -> bool:
    """RFC 7208 4.5: exactly 'v=spf1', then a space or the end."""
    return record.lower() == b"v=spf1" or record.lower().startswith(b"v=spf1 ")


def valid_domain(domain: str) -> bool:
    """A multi-label name of valid labels, at most 253 octets (RFC 7208 4.3)."""
    labels = domain.rstrip(".").split(".")
    return len(domain) <= 253 and len(labels) > 1 and all(_LABEL.fullmatch(label) for label in labels)


def parse(record: str) -> tuple[list[tuple[str, str, str]], str | None]:
    """Terms of an SPF record (RFC 7208 4.6.1): (qualifier, mechanism, argument) and the redirect target.

    Raises _Stop(permerror) for anything RFC 7208 calls a syntax error.
    """
    terms: list[tuple[str, str, str]] = []
    modifiers: dict[str, str] = {}
    for term in record.split(" ")[1:]:
        if not term:
            continue
        modifier = _MODIFIER.fullmatch(term)
        if modifier is not None and modifier.group(1).lower() not in MECHANISMS:
            name = modifier.group(1).lower()
            if name in modifiers and name in ("redirect", "exp"):
                raise _Stop(Result.PERMERROR, f"{name}= appears twice")
            modifiers[name] = modifier.group(2)
            continue
        mechanism = _MECHANISM.fullmatch(term)
        if mechanism is None or mechanism.group(2).lower() not in MECHANISMS:
            raise _Stop(Result.PERMERROR, f"unknown term {term!r}")
        qualifier, name, rest = mechanism.group(1) or "+", mechanism.group(2).lower(), mechanism.group(3)
        terms.append((qualifier, name, _argument(name, rest)))
    redirect = modifiers.get("redirect")
    if redirect == "" or modifiers.get("exp") == "":
        raise _Stop(Result.PERMERROR, "empty modifier")
    if any(name == "all" for _, name, _ in terms):
        redirect = None  # RFC 7208 6.1: ignored when 'all' is present
    return terms, redirect


def _argument(name: str, rest: str) -> str:
    if name == "all":
        if rest:
            raise _Stop(Result.PERMERROR, "'all' takes no argument")
        return ""
    if name in ("include", "exists", "ip4", "ip6"):
        if not rest.startswith(":") or len(rest) < 2:
            raise _Stop(Result.PERMERROR, f"'{name}' needs ':' and an argument")
        argument = rest[1:]
        if name in ("ip4", "ip6"):
            _network(name, argument)
        return argument
    if rest and rest[0] not in ":/":
        raise _Stop(Result.PERMERROR, f"bad argument for '{name}'")
    if name == "ptr" and "/" in rest:
        raise _Stop(Result.PERMERROR, "'ptr' takes no CIDR length")
    argument = rest[1:] if rest.startswith(":") else rest
    if rest.startswith(":") and not _split_cidr(argument)[0]:
        raise _Stop(Result.PERMERROR, f"empty domain in '{name}'")
    _split_cidr(argument)
    return argument


def _split_cidr(argument: str) -> tuple[str, int, int]:
    """'example.com/24//64' -> ('example.com', 24, 64) (RFC 7208 5.6 dual-cidr-length)."""
    match = re.fullmatch(r"(.*?)(?:/(\d{1,2}))?(?://(\d{1,3}))?", argument)
    assert match is not None
    spec, cidr4, cidr6 = match.group(1), int(match.group(2) or 32), int(match.group(3) or 128)
    if cidr4 > 32 or cidr6 > 128 or "/" in spec:
        raise _Stop(Result.PERMERROR, f"bad CIDR length in {argument!r}")
    return spec, cidr4, cidr6


def _network(name: str, argument: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    try:
        network = ipaddress.ip_network(argument, strict=False)
    except ValueError as exc:
        raise _Stop(Result.PERMERROR, f"bad network {argument!r}") from exc
    if network.version != (4 if name == "ip4" else 6):
        raise _Stop(Result.PERMERROR, f"{argument!r} is not an IPv{name[-1]} network")
    return network


def expand(spec: str, *, sender: str, client_ip: str, domain: str, helo: str = "") -> str:
    """Macro expansion (RFC 7208 7) exactly as check_host does it; raises InvalidInput for a bad macro."""
    checker = _Check(ipaddress.ip_address(client_ip), sender, helo, _NoLookup())
    try:
        return checker.expand(spec, domain)
    except _Stop as stop:
        raise InvalidInput(stop.reason) from stop


class _NoLookup:
    async def txt(self, name: str) -> list[bytes]:
        return []

    async def addresses(self, name: str, rdtype: str = "A") -> list[str]:
        return []

    async def mx(self, name: str) -> list[tuple[int, str]]:
        return []

    async def ptr(self, address: str) -> list[str]:
        return []


def record_problem(record: str) -> str | None:
    """Why an SPF record does not parse, or None (for tests and for checking what we tell owners to publish)."""
    try:
        parse(record)
    except _Stop as stop:
        return stop.reason
    return None


async def check(client_ip: str, mail_from: str, helo: str, lookup: DnsLookup) -> Outcome:
    """The SPF result for the MAIL FROM identity, or for postmaster@HELO when the reverse path is null
    (RFC 7208 2.4)."""
    helo = helo.strip().rstrip(".").lower()
    sender = mail_from.strip().strip("<>")
    identity = "mailfrom"
    if not sender or "@" not in sender:
        sender, identity = f"postmaster@{helo}", "helo"
    domain = sender.rpartition("@")[2].rstrip(".").lower()
    try:
        address = ipaddress.ip_address(client_ip)
    except ValueError:
        return Outcome(Result.PERMERROR, domain, identity, sender, "client address is not an IP address")
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    checker = _Check(address, sender, helo, lookup)
    try:
        result = await checker.check_host(domain)
    except _Stop as stop:
        return Outcome(stop.result, domain, identity, sender, stop.reason)
    return Outcome(result, domain, identity, sender)
