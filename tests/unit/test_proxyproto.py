"""The PROXY protocol parser (HAProxy's proxy-protocol.txt): a corpus of valid and invalid headers of both
versions, and a hypothesis test that it raises nothing but InvalidProxyHeader, whatever the bytes."""

from __future__ import annotations

import contextlib
import ipaddress
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smb_suite import proxyproto
from smb_suite.config import ListenConfig
from smb_suite.errors import InvalidProxyHeader
from smb_suite.proxyproto import ProxyHeader, ProxyPolicy, looks_like_header, parse

SIG = proxyproto.V2_SIGNATURE


def v2(command: int, family: int, body: bytes, length: int | None = None) -> bytes:
    return SIG + struct.pack("!BBH", 0x20 | command, family, len(body) if length is None else length) + body


def tcp4(source: str, destination: str, source_port: int, destination_port: int) -> bytes:
    return (
        ipaddress.IPv4Address(source).packed
        + ipaddress.IPv4Address(destination).packed
        + struct.pack("!HH", source_port, destination_port)
    )


def tcp6(source: str, destination: str, source_port: int, destination_port: int) -> bytes:
    return (
        ipaddress.IPv6Address(source).packed
        + ipaddress.IPv6Address(destination).packed
        + struct.pack("!HH", source_port, destination_port)
    )


VALID = [
    # section 2.1's example, with the request that follows it left for the protocol
    (
        b"PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\nGET / HTTP/1.1\r\n",
        ProxyHeader(1, 47, ("192.168.0.1", 56324), ("192.168.0.11", 443)),
    ),
    (
        b"PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n",
        ProxyHeader(1, 56, ("255.255.255.255", 65535), ("255.255.255.255", 65535)),
    ),
    (b"PROXY TCP4 10.0.0.1 10.0.0.2 0 25\r\n", ProxyHeader(1, 35, ("10.0.0.1", 0), ("10.0.0.2", 25))),
    (
        b"PROXY TCP6 2001:db8::1 2001:db8::2 40000 993\r\n",
        ProxyHeader(1, 46, ("2001:db8::1", 40000), ("2001:db8::2", 993)),
    ),
    (b"PROXY UNKNOWN\r\n", ProxyHeader(1, 15)),
    (
        b"PROXY UNKNOWN " + b"ffff:" * 7 + b"ffff " + b"ffff:" * 7 + b"ffff 65535 65535\r\n",  # the longest
        ProxyHeader(1, 107),
    ),
    (
        v2(1, 0x11, tcp4("203.0.113.7", "10.0.0.2", 51000, 25)),
        ProxyHeader(2, 28, ("203.0.113.7", 51000), ("10.0.0.2", 25)),
    ),
    (
        v2(1, 0x21, tcp6("2001:db8::7", "2001:db8::2", 51000, 143)) + b"a1 CAPABILITY\r\n",
        ProxyHeader(2, 52, ("2001:db8::7", 51000), ("2001:db8::2", 143)),
    ),
    # TLVs (here PP2_TYPE_UNIQUE_ID and a NOOP) are skipped, as section 2.2 allows
    (
        v2(1, 0x11, tcp4("198.51.100.1", "10.0.0.2", 1, 2) + b"\x05\x00\x03abc\x04\x00\x00"),
        ProxyHeader(2, 37, ("198.51.100.1", 1), ("10.0.0.2", 2)),
    ),
    # LOCAL (a balancer's health check): the connection's own endpoints stand, addresses or not
    (v2(0, 0x00, b""), ProxyHeader(2, 16)),
    (v2(0, 0x11, tcp4("127.0.0.1", "127.0.0.1", 1, 2)), ProxyHeader(2, 28)),
    # families we do not use fall back to the connection's endpoints (section 2.2: UNSPEC mode)
    (v2(1, 0x00, b""), ProxyHeader(2, 16)),
    (v2(1, 0x12, tcp4("192.0.2.1", "192.0.2.2", 53, 53)), ProxyHeader(2, 28)),
    (v2(1, 0x31, bytes(216)), ProxyHeader(2, 232)),
]


@pytest.mark.parametrize(("data", "header"), VALID)
def test_a_valid_header_names_the_real_client_and_its_length(data: bytes, header: ProxyHeader) -> None:
    assert parse(data) == header


@pytest.mark.parametrize(("data", "_"), VALID)
def test_every_beginning_of_a_valid_header_waits_for_more(data: bytes, _: ProxyHeader) -> None:
    header = parse(data)
    assert header is not None
    for end in range(header.length):
        assert parse(data[:end]) is None, data[:end]


INVALID = [
    b"EHLO client.example\r\n",
    b"GET / HTTP/1.1\r\n",
    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",  # a TLS ClientHello
    b"PROXY  TCP4 1.2.3.4 5.6.7.8 1 2\r\n",  # two spaces
    b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n",  # LF alone
    b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX",  # CR alone
    b"PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n",  # a port missing
    b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n",  # one field too many
    b"PROXY TCP4 01.2.3.4 5.6.7.8 1 2\r\n",  # leading zero (octal confusion)
    b"PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n",
    b"PROXY TCP4 1.2.3.4 5.6.7.8 1 65536\r\n",
    b"PROXY TCP4 1.2.3.4 5.6.7.8 -1 2\r\n",
    b"PROXY TCP4 1.2.3.4 5.6.7.8 +1 2\r\n",
    b"PROXY TCP4 256.2.3.4 5.6.7.8 1 2\r\n",
    b"PROXY TCP4 2001:db8::1 5.6.7.8 1 2\r\n",  # an IPv6 address under TCP4
    b"PROXY TCP6 1.2.3.4 2001:db8::1 1 2\r\n",
    b"PROXY TCP6 fe80::1%eth0 2001:db8::1 1 2\r\n",  # a zone
    b"PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n",
    b"PROXY tcp4 1.2.3.4 5.6.7.8 1 2\r\n",
    b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2 " + b"x" * 100,  # oversize: no CRLF in 107 characters
    b"PROXY UNKNOWN " + b"x" * 93 + b"\r\n",  # 109 characters
    b"PROXY TCP4 \xff.2.3.4 5.6.7.8 1 2\r\n",
    v2(1, 0x11, tcp4("1.2.3.4", "5.6.7.8", 1, 2))[:12] + b"\x11\x11\x00\x0c",  # version 1 in a v2 header
    SIG + b"\x31\x11\x00\x0c",  # version 3
    SIG + b"\x22\x11\x00\x0c",  # command 2
    SIG + b"\x2f\x11\x00\x0c",
    v2(1, 0x41, b""),  # family 4
    v2(1, 0x13, tcp4("1.2.3.4", "5.6.7.8", 1, 2)),  # protocol 3
    v2(1, 0x11, b"\x01\x02\x03\x04"),  # an address block too short for TCP over IPv4
    v2(1, 0x21, tcp4("1.2.3.4", "5.6.7.8", 1, 2)),  # too short for TCP over IPv6
    SIG + b"\x21\x11\xff\xff",  # oversize: 65,535 more bytes announced
    SIG + b"\x21\x11" + struct.pack("!H", proxyproto.V2_MAX - 15),
]


@pytest.mark.parametrize("data", INVALID)
def test_a_malformed_or_oversize_header_is_refused(data: bytes) -> None:
    with pytest.raises(InvalidProxyHeader):
        parse(data)


def test_the_largest_v2_header_we_take_is_read() -> None:
    body = (
        tcp4("192.0.2.9", "10.0.0.2", 1, 2)
        + b"\x04"
        + struct.pack("!H", proxyproto.V2_MAX - 31)
        + bytes(proxyproto.V2_MAX - 31)
    )
    header = parse(v2(1, 0x11, body))
    assert header is not None and header.length == proxyproto.V2_MAX and header.source == ("192.0.2.9", 1)


@pytest.mark.parametrize(
    ("data", "verdict"),
    [
        (b"", None),
        (b"P", None),
        (b"PROXY", None),
        (b"PROXY ", True),
        (b"PROXY TCP4", True),
        (SIG[:5], None),
        (SIG, True),
        (b"POST / HTTP/1.1\r\n", False),
        (b"a1 LOGIN x y\r\n", False),
        (b"\r\n\r\nX", False),
        (b"PROXYX", False),
        (b"\x16\x03\x01", False),
    ],
)
def test_the_first_bytes_tell_a_proxy_header_from_a_protocol(data: bytes, verdict: bool | None) -> None:
    assert looks_like_header(data) is verdict


@given(st.binary(max_size=300))
def test_any_bytes_give_a_header_none_or_invalid_proxy_header(data: bytes) -> None:
    try:
        header = parse(data)
    except InvalidProxyHeader:
        return
    assert header is None or 0 < header.length <= len(data)


@given(st.binary(max_size=120))
def test_any_bytes_after_a_v1_prefix_parse_or_fail_cleanly(tail: bytes) -> None:
    with contextlib.suppress(InvalidProxyHeader):
        parse(b"PROXY " + tail)


@given(st.integers(0, 3), st.integers(0, 255), st.binary(max_size=260))
def test_any_v2_header_parses_or_fails_cleanly(command: int, family: int, body: bytes) -> None:
    try:
        header = parse(v2(command, family, body))
    except InvalidProxyHeader:
        return
    assert header is not None and header.length == 16 + len(body)


def test_only_listed_networks_are_trusted_ipv4_mapped_too() -> None:
    policy = ProxyPolicy.of(ListenConfig(proxy_protocol_from=("10.0.0.0/8", "2001:db8::/32")))
    assert policy.enabled
    assert policy.trusts("10.1.2.3") and policy.trusts("::ffff:10.1.2.3") and policy.trusts("2001:db8::5")
    assert not policy.trusts("11.0.0.1") and not policy.trusts("2001:db9::1") and not policy.trusts("")
    assert not ProxyPolicy.of(ListenConfig()).enabled
