"""The resolver's answer cache: inbound mail checks (SPF, DKIM, DMARC) keep a sender's records for their TTL,
while lookups that must see a record as soon as it is published (domain verification) ask every time."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from smb_suite.config import parse_nameserver
from smb_suite.dns import Resolver
from tests.dnsserver import DnsServer, publish


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[DnsServer, Path]]:
    zone = tmp_path / "internet.zone"
    zone.write_text('sender.test.\t300\tIN\tTXT\t"v=spf1 ip4:192.0.2.1 -all"\n')
    dns = DnsServer(zone).start()
    try:
        yield dns, zone
    finally:
        dns.stop()


def test_a_cached_resolver_keeps_answers_for_their_ttl_and_the_plain_one_sees_changes(
    server: tuple[DnsServer, Path],
) -> None:
    dns, zone = server
    plain = Resolver([parse_nameserver(dns.address)], timeout=10)
    cached = plain.cached()

    async def lookups() -> list[list[bytes]]:
        before = [await cached.txt("sender.test"), await cached.txt("_dmarc.sender.test")]
        publish(zone, 'sender.test.\t300\tIN\tTXT\t"v=spf1 -all"')
        publish(zone, '_dmarc.sender.test.\t300\tIN\tTXT\t"v=DMARC1; p=reject"')
        after = [await cached.txt("sender.test"), await cached.txt("_dmarc.sender.test")]
        return [*before, *after, await plain.txt("sender.test"), await plain.txt("_dmarc.sender.test")]

    spf, dmarc, spf_again, dmarc_again, spf_now, dmarc_now = asyncio.run(lookups())
    assert spf == spf_again == [b"v=spf1 ip4:192.0.2.1 -all"]
    assert dmarc == dmarc_again == []  # NXDOMAIN kept for the SOA's negative TTL (RFC 2308)
    assert sorted(spf_now) == [b"v=spf1 -all", b"v=spf1 ip4:192.0.2.1 -all"]
    assert dmarc_now == [b"v=DMARC1; p=reject"]
