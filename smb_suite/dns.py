"""The one DNS resolver: dnspython's async resolver, configured once (services.open_services) and passed down.

Nothing else reads /etc/resolv.conf: with `[dns] nameservers` set, only those servers are asked (tests point
this at a twisted.names server on loopback); with it empty, the system configuration is read here, on first use.
An empty answer or NXDOMAIN is an empty list; a timeout or a failing server raises DnsFailure.
`cached()` gives a resolver that keeps answers for their TTL (empty answers and NXDOMAIN for the SOA's negative
TTL, RFC 2308): the SPF, DKIM and DMARC checks of inbound mail ask the same few names for every message of a
sender. Lookups that must see a record as soon as it is published (domain verification) use the uncached one.
Implements the `smb_suite.mail.lookup.DnsLookup` protocol that the pure mail/ modules use.
"""

from __future__ import annotations

from collections.abc import Sequence

import dns.asyncresolver
import dns.exception
import dns.nameserver
import dns.resolver
import dns.reversename

from smb_suite.errors import DnsFailure

CACHE_ENTRIES = 4096  # answers a cached resolver keeps (least recently used go first)


class Resolver:
    def __init__(self, nameservers: Sequence[tuple[str, int]] = (), timeout: float = 5.0, cache: int = 0) -> None:
        self._nameservers = tuple(nameservers)
        self._timeout = timeout
        self._cache = cache
        self._resolver: dns.asyncresolver.Resolver | None = None

    def cached(self, entries: int = CACHE_ENTRIES) -> Resolver:
        """A resolver asking the same servers that keeps up to `entries` answers for their TTL."""
        return Resolver(self._nameservers, self._timeout, entries)

    def _get(self) -> dns.asyncresolver.Resolver:
        if self._resolver is None:
            if self._nameservers:
                resolver = dns.asyncresolver.Resolver(configure=False)
                resolver.nameservers = [
                    dns.nameserver.Do53Nameserver(address, port) for address, port in self._nameservers
                ]
            else:
                try:
                    resolver = dns.asyncresolver.Resolver()
                except dns.resolver.NoResolverConfiguration as exc:
                    raise DnsFailure("no DNS resolver is configured on this system") from exc
            resolver.lifetime = self._timeout
            resolver.timeout = self._timeout
            if self._cache:
                resolver.cache = dns.resolver.LRUCache(self._cache)
            self._resolver = resolver
        return self._resolver

    async def _query(self, name: str, rdtype: str) -> list[object]:
        try:
            answer = await self._get().resolve(name, rdtype, search=False)
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            return []
        except (dns.exception.Timeout, dns.resolver.NoNameservers) as exc:
            raise DnsFailure(f"DNS lookup of {name} {rdtype} failed: {exc}") from exc
        except dns.exception.DNSException as exc:
            raise DnsFailure(f"DNS lookup of {name} {rdtype} failed: {exc}") from exc
        return list(answer)

    async def txt(self, name: str) -> list[bytes]:
        """Each TXT record of `name`, its character-strings joined (RFC 7208 3.3, RFC 6376 3.6.2.2)."""
        return [b"".join(record.strings) for record in await self._query(name, "TXT")]  # type: ignore[attr-defined]

    async def addresses(self, name: str, rdtype: str = "A") -> list[str]:
        """The A (or AAAA) addresses of `name` as text."""
        return [record.address for record in await self._query(name, rdtype)]  # type: ignore[attr-defined]

    async def mx(self, name: str) -> list[tuple[int, str]]:
        """(preference, exchange) pairs of `name`, exchange without the trailing dot."""
        return [
            (record.preference, record.exchange.to_text(omit_final_dot=True))  # type: ignore[attr-defined]
            for record in await self._query(name, "MX")
        ]

    async def texts(self, name: str, rdtype: str) -> list[str]:
        """Every record of `name` and `rdtype` as zone-file text (TXT: its character-strings joined)."""
        records = await self._query(name, rdtype)
        if rdtype == "TXT":
            return [b"".join(record.strings).decode("utf-8", "replace") for record in records]  # type: ignore[attr-defined]
        return [record.to_text() for record in records]  # type: ignore[attr-defined]

    async def ptr(self, address: str) -> list[str]:
        """Names the reverse zone gives for an IP address."""
        name = dns.reversename.from_address(address).to_text()
        return [
            record.target.to_text(omit_final_dot=True)  # type: ignore[attr-defined]
            for record in await self._query(name, "PTR")
        ]
