"""Where remote mail goes, asked of a real DNS server on loopback (dnspython answers from a fixed zone)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar, cast

import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.rrset
import pytest

from smb_suite.config import OutboundConfig
from smb_suite.errors import TemporaryFailure, Undeliverable
from smb_suite.queue.routes import DnsPythonResolver, Hop, Router, Security

T = TypeVar("T")
ZONE: dict[tuple[str, str], list[str]] = {
    ("mx.test.", "MX"): ["20 backup.mx.test.", "10 primary.mx.test."],
    ("primary.mx.test.", "A"): ["127.0.0.2"],
    ("backup.mx.test.", "A"): ["127.0.0.3"],
    ("backup.mx.test.", "AAAA"): ["::1"],
    ("nullmx.test.", "MX"): ["0 ."],
    ("plain.test.", "A"): ["127.0.0.4"],
    ("nothing.test.", "TXT"): ['"exists but has no address"'],
    ("lame.test.", "MX"): ["10 gone.lame.test."],
    ("gone.lame.test.", "SERVFAIL"): [],
}


class FakeDns(asyncio.DatagramProtocol):
    """Answers from ZONE; names it does not know are NXDOMAIN, a SERVFAIL entry fails the name."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        query = dns.message.from_wire(data)
        question = query.question[0]
        name, rdtype = question.name.to_text(), dns.rdatatype.to_text(question.rdtype)
        response = dns.message.make_response(query)
        known = {owner for owner, _ in ZONE}
        if (name, "SERVFAIL") in ZONE:
            response.set_rcode(dns.rcode.SERVFAIL)
        elif name not in known:
            response.set_rcode(dns.rcode.NXDOMAIN)
        elif (name, rdtype) in ZONE:
            response.answer.append(dns.rrset.from_text_list(name, 60, "IN", rdtype, ZONE[(name, rdtype)]))
        self.transport.sendto(response.to_wire(), addr)


def with_dns(test: Callable[[Router], Awaitable[T]], config: OutboundConfig | None = None) -> T:
    async def run() -> T:
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(FakeDns, local_addr=("127.0.0.1", 0))
        port = transport.get_extra_info("sockname")[1]
        try:
            resolver = DnsPythonResolver(["127.0.0.1"], port=port, timeout=2.0)
            return await test(Router(config or OutboundConfig(), resolver))
        finally:
            transport.close()

    return asyncio.run(run())


def test_mx_hosts_are_tried_in_preference_order_with_every_address() -> None:
    hops = with_dns(lambda router: router.hops("mx.test"))
    assert [(h.host, h.port, h.name) for h in hops] == [
        ("127.0.0.2", 25, "primary.mx.test"),
        ("::1", 25, "backup.mx.test"),
        ("127.0.0.3", 25, "backup.mx.test"),
    ]


def test_a_domain_without_mx_is_its_own_mail_host() -> None:
    hops = with_dns(lambda router: router.hops("plain.test"))
    assert [(h.host, h.name) for h in hops] == [("127.0.0.4", "plain.test")]


@pytest.mark.parametrize(
    ("domain", "status"),
    [("nullmx.test", "5.1.10"), ("missing.test", "5.1.2"), ("nothing.test", "5.1.2")],
)
def test_undeliverable_domains_fail_permanently(domain: str, status: str) -> None:
    with pytest.raises(Undeliverable) as failure:
        with_dns(lambda router: router.hops(domain))
    assert failure.value.status == status


def test_an_mx_host_that_does_not_resolve_is_a_temporary_failure() -> None:
    with pytest.raises(TemporaryFailure):
        with_dns(lambda router: router.hops("lame.test"))


def test_static_routes_come_before_the_smarthost_and_the_smarthost_before_mx() -> None:
    config = OutboundConfig(
        smarthost="relay.example:587",
        smarthost_username="me",
        smarthost_password="secret",
        routes={"partner.test": "127.0.0.1:2526"},
    )
    assert with_dns(lambda router: router.hops("partner.test"), config) == [Hop("127.0.0.1", 2526, "127.0.0.1:2526")]
    [hop] = with_dns(lambda router: router.hops("mx.test"), config)
    assert (hop.host, hop.port, hop.security, hop.username) == ("relay.example", 587, Security.STARTTLS, "me")
