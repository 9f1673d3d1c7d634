"""Where remote mail goes: a static route, the smarthost, or the domain's MX hosts (RFC 5321 5.1, RFC 7505).

DNS is behind the small `MxResolver` protocol: the daemon plugs in its one resolver (smb_suite.dns.Resolver,
configured by [dns]) through `SharedResolver`; `DnsPythonResolver` talks to given nameservers directly and
tells NXDOMAIN apart.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

import dns.asyncresolver
import dns.exception
import dns.resolver

from smb_suite.config import OutboundConfig, parse_listen_address
from smb_suite.errors import TemporaryFailure, Undeliverable

SMTP_PORT = 25
MAX_ADDRESSES = 10  # addresses tried per delivery attempt, over all MX hosts


class NoSuchDomain(Exception):
    """The resolver's answer: the name does not exist (NXDOMAIN)."""


class MxResolver(Protocol):
    """DNS as the queue needs it. Raise NoSuchDomain for NXDOMAIN and TemporaryFailure when DNS fails."""

    async def mx(self, domain: str) -> list[tuple[int, str]]:
        """The MX records (preference, exchange without trailing dot; "" for the root); [] when none."""
        ...

    async def addresses(self, host: str) -> list[str]:
        """IPv6 and IPv4 addresses of a host; [] when it has none."""
        ...


class DnsPythonResolver:
    """MxResolver over dnspython's asyncio resolver (never blocks the loop)."""

    def __init__(self, nameservers: Sequence[str] = (), port: int = 53, timeout: float = 10.0) -> None:
        self._resolver = dns.asyncresolver.Resolver(configure=not nameservers)
        if nameservers:
            self._resolver.nameservers = list(nameservers)
            self._resolver.port = port
        self._resolver.lifetime = timeout

    async def _query(self, name: str, rdtype: str) -> list[str]:
        try:
            answer = await self._resolver.resolve(name, rdtype, search=False)
        except dns.resolver.NXDOMAIN as exc:
            raise NoSuchDomain(name) from exc
        except dns.resolver.NoAnswer:
            return []
        except (dns.resolver.NoNameservers, dns.exception.Timeout, dns.resolver.LifetimeTimeout) as exc:
            raise TemporaryFailure(f"DNS lookup of {name} {rdtype} failed: {exc.__class__.__name__}") from exc
        return [record.to_text() for record in answer]

    async def mx(self, domain: str) -> list[tuple[int, str]]:
        records = []
        for text in await self._query(domain, "MX"):
            preference, _, exchange = text.partition(" ")
            records.append((int(preference), exchange.rstrip(".").lower()))
        return records

    async def addresses(self, host: str) -> list[str]:
        found: list[str] = []
        for rdtype in ("AAAA", "A"):
            try:
                found += await self._query(host, rdtype)
            except NoSuchDomain:
                return []
        return found


class AddressLookup(Protocol):
    """The shape of smb_suite.dns.Resolver (the daemon's one resolver, with [dns] nameservers and timeout)."""

    async def mx(self, name: str) -> list[tuple[int, str]]: ...

    async def addresses(self, name: str, rdtype: str = "A") -> list[str]: ...


class SharedResolver:
    """MxResolver over the daemon's shared resolver. It answers NXDOMAIN with an empty list, so an unknown
    domain is found out as "no MX and no address" (also permanent) rather than as NoSuchDomain."""

    def __init__(self, resolver: AddressLookup) -> None:
        self._resolver = resolver

    async def mx(self, domain: str) -> list[tuple[int, str]]:
        return [(preference, exchange.rstrip(".").lower()) for preference, exchange in await self._resolver.mx(domain)]

    async def addresses(self, host: str) -> list[str]:
        return await self._resolver.addresses(host, "AAAA") + await self._resolver.addresses(host, "A")


class Security(StrEnum):
    OPPORTUNISTIC = "opportunistic"  # STARTTLS when offered (RFC 3207), any certificate unless verification is on
    STARTTLS = "starttls"  # STARTTLS required
    IMPLICIT = "implicit"  # TLS from the first byte (RFC 8314)
    NONE = "none"


@dataclass(frozen=True, slots=True)
class Hop:
    """One server to try: a host name or address and port, with how to secure and authenticate."""

    host: str
    port: int
    name: str  # for logs and the DSN's Remote-MTA
    security: Security = Security.OPPORTUNISTIC
    username: str = ""
    password: str = ""


class Router:
    def __init__(self, config: OutboundConfig, resolver: MxResolver) -> None:
        self._config = config
        self._resolver = resolver

    def destination(self, domain: str) -> str:
        """The key that concurrency limits and connection reuse group by."""
        if domain in self._config.routes:
            return f"route:{self._config.routes[domain]}"
        if self._config.smarthost:
            return "smarthost"
        return domain

    async def hops(self, domain: str) -> list[Hop]:
        """Servers to try in order; raises Undeliverable (never deliverable) or TemporaryFailure."""
        if domain in self._config.routes:
            return [_static(self._config.routes[domain])]
        if self._config.smarthost:
            hop = _static(self._config.smarthost)
            return [
                Hop(
                    hop.host,
                    hop.port,
                    hop.name,
                    Security(self._config.smarthost_tls),
                    self._config.smarthost_username,
                    self._config.smarthost_password,
                )
            ]
        return await self._mx_hops(domain)

    async def _mx_hops(self, domain: str) -> list[Hop]:
        try:
            records = await self._resolver.mx(domain)
        except NoSuchDomain as exc:
            raise Undeliverable("5.1.2", f"domain {domain} does not exist") from exc
        if any(exchange in ("", ".") for _, exchange in records):
            # RFC 7505 3: a null MX (0 ".") says the domain accepts no mail.
            raise Undeliverable("5.1.10", f"domain {domain} accepts no mail (null MX, RFC 7505)")
        if not records:
            hosts = [domain]  # RFC 5321 5.1: no MX -> the domain itself is the implicit MX
        else:
            shuffled = random.sample(records, len(records))  # equal preferences share the load (RFC 5321 5.1)
            hosts = [exchange for _, exchange in sorted(shuffled, key=lambda record: record[0])]
        hops: list[Hop] = []
        for host in hosts:
            try:
                addresses = await self._resolver.addresses(host)
            except (NoSuchDomain, TemporaryFailure):
                continue
            hops += [Hop(address, SMTP_PORT, host) for address in addresses]
            if len(hops) >= MAX_ADDRESSES:
                break
        if not hops:
            if not records:
                raise Undeliverable("5.1.2", f"domain {domain} has no MX and no address")
            raise TemporaryFailure(f"no address found for the MX hosts of {domain}")
        return hops[:MAX_ADDRESSES]


def _static(value: str) -> Hop:
    address = parse_listen_address(value)
    assert address is not None  # validated by config.load
    return Hop(address[0], address[1], f"{address[0]}:{address[1]}")
