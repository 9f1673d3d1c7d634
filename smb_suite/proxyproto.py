"""The PROXY protocol (HAProxy's proxy-protocol.txt, versions 1 and 2): the real client of a connection that a
load balancer forwards, for every listener (SMTP, IMAP, HTTP) and before any TLS.

    parse(data) -> ProxyHeader | None   the header at the start of `data`, None while `data` is still only the
                                        beginning of one; raises InvalidProxyHeader when it cannot be one
    looks_like_header(data)             True/False once `data` shows whether it starts with a PROXY header
    ProxyPolicy(networks, timeout)      `[listen] proxy_protocol_from`: the peers that must send a header
    PeerTransport(transport, address)   the connection as the protocols behind see it: the real client as
                                        "peername"

Only listed peers (the balancers) may send a header, and they must: a listed peer whose connection does not start
with a valid header within the timeout is closed. Anyone else's connection that starts with a header is closed
too (a client forging its address). Nobody else's bytes are inspected when the list is empty.

No library is used: `proxy-protocol` on PyPI has had no release since 2024 and brings its own server; aiosmtpd's
parser reads from a stream reader without a bound on the v1 line, and only SMTP could use it.
"""

from __future__ import annotations

import asyncio
import ipaddress
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from smb_suite.config import ListenConfig
from smb_suite.errors import InvalidProxyHeader

V1_PREFIX = b"PROXY "
V2_SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"  # section 2.2
V1_MAX = 107  # section 2.1: the longest line, CRLF included
V2_FIXED = 16  # signature, version and command, family and protocol, length
V2_MAX = 1024  # our bound on a v2 header: addresses (at most 216 bytes) and the TLVs a balancer adds
_V2_ADDRESSES = {0x11: ("!4s4sHH", 12), 0x21: ("!16s16sHH", 36)}  # TCP over IPv4, TCP over IPv6
_V2_KNOWN = {0x00, 0x11, 0x12, 0x21, 0x22, 0x31, 0x32}  # section 2.2: the combinations a sender may emit
_V2_LOCAL, _V2_PROXY = 0x20, 0x21

Address = tuple[str, int]
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True)
class ProxyHeader:
    """A parsed header. `source` is None when the connection's own endpoints stand (v2 LOCAL: the balancer's
    health check; v1 UNKNOWN; a v2 family we do not use)."""

    version: int
    length: int
    source: Address | None = None
    destination: Address | None = None


def looks_like_header(data: bytes) -> bool | None:
    """Whether `data` starts like a PROXY header of either version; None while it is too short to tell."""
    for prefix in (V1_PREFIX, V2_SIGNATURE):
        common = min(len(data), len(prefix))
        if data[:common] == prefix[:common]:
            if common == len(prefix):
                return True
            return None if common == len(data) else False
    return False


def parse(data: bytes) -> ProxyHeader | None:
    """The PROXY header at the start of `data` (version 1 or 2), or None while `data` may still become one."""
    starts = looks_like_header(data)
    if starts is None:
        return None
    if not starts:
        raise InvalidProxyHeader("no PROXY protocol signature")
    if data.startswith(V1_PREFIX):
        return _parse_v1(data)
    return _parse_v2(data)


def _parse_v1(data: bytes) -> ProxyHeader | None:
    """Section 2.1: one line of at most 107 characters, ended by CRLF (a lone CR or LF is no end)."""
    end = data.find(b"\r\n", 0, V1_MAX)
    if end < 0:
        if len(data) >= V1_MAX or b"\n" in data or b"\r" in data[:-1]:
            raise InvalidProxyHeader("PROXY v1 line without CRLF in its first 107 characters")
        return None
    fields = data[len(V1_PREFIX) : end].split(b" ")
    if fields[0] == b"UNKNOWN":  # the rest of the line is to be ignored; the connection's endpoints stand
        return ProxyHeader(1, end + 2)
    if len(fields) != 5 or fields[0] not in (b"TCP4", b"TCP6"):
        raise InvalidProxyHeader("PROXY v1 needs TCP4 or TCP6, two addresses and two ports")
    version = 4 if fields[0] == b"TCP4" else 6
    source, destination = (_v1_address(text, version) for text in fields[1:3])
    source_port, destination_port = (_v1_port(text) for text in fields[3:5])
    return ProxyHeader(1, end + 2, (source, source_port), (destination, destination_port))


def _v1_address(text: bytes, version: int) -> str:
    try:
        address = ipaddress.ip_address(text.decode("ascii"))
    except (UnicodeDecodeError, ValueError):  # Python refuses leading zeros in IPv4 (no octal confusion)
        raise InvalidProxyHeader("PROXY v1 address is not an IP address") from None
    if address.version != version or "%" in str(address):
        raise InvalidProxyHeader("PROXY v1 address does not match its family")
    return str(address)


def _v1_port(text: bytes) -> int:
    if not text.isdigit() or len(text) > 5 or (text.startswith(b"0") and text != b"0") or int(text) > 65535:
        raise InvalidProxyHeader("PROXY v1 port is not a number from 0 to 65535 without leading zeros")
    return int(text)


def _parse_v2(data: bytes) -> ProxyHeader | None:
    """Section 2.2: the 16-byte header, then `length` bytes of addresses and TLVs (ignored, as 2.2 allows)."""
    if len(data) < V2_FIXED:
        return None
    version_command, family_protocol, length = struct.unpack_from("!BBH", data, len(V2_SIGNATURE))
    if version_command not in (_V2_LOCAL, _V2_PROXY):
        raise InvalidProxyHeader("PROXY v2 with an unknown version or command")
    if family_protocol not in _V2_KNOWN:
        raise InvalidProxyHeader("PROXY v2 with an unknown address family or protocol")
    total = V2_FIXED + length
    if total > V2_MAX:
        raise InvalidProxyHeader(f"PROXY v2 header longer than {V2_MAX} bytes")
    if len(data) < total:
        return None
    layout = _V2_ADDRESSES.get(family_protocol)
    if version_command == _V2_LOCAL or layout is None:  # the connection's own endpoints stand
        return ProxyHeader(2, total)
    shape, size = layout
    if length < size:
        raise InvalidProxyHeader("PROXY v2 address block shorter than its family needs")
    source, destination, source_port, destination_port = struct.unpack_from(shape, data, V2_FIXED)
    return ProxyHeader(
        2,
        total,
        (str(ipaddress.ip_address(source)), source_port),
        (str(ipaddress.ip_address(destination)), destination_port),
    )


@dataclass(frozen=True, slots=True)
class ProxyPolicy:
    """Who must send a PROXY header (the balancers, by network), and how long they have to send it."""

    networks: tuple[Network, ...] = ()
    timeout: float = 10.0

    @classmethod
    def of(cls, listen: ListenConfig) -> ProxyPolicy:
        """`[listen] proxy_protocol_from` and `proxy_protocol_timeout` (validated at load)."""
        networks = tuple(ipaddress.ip_network(network) for network in listen.proxy_protocol_from)
        return cls(networks, float(listen.proxy_protocol_timeout))

    @property
    def enabled(self) -> bool:
        return bool(self.networks)

    def trusts(self, address: str) -> bool:
        """Whether a peer at this address is one of the balancers (IPv4-mapped IPv6 counts as IPv4)."""
        if not self.networks:
            return False
        try:
            parsed = ipaddress.ip_address(address.split("%", 1)[0])
        except ValueError:
            return False
        if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
            parsed = parsed.ipv4_mapped
        return any(parsed in network for network in self.networks)


class PeerTransport(asyncio.Transport):
    """A transport that names the real client as its peer: aiosmtpd's session.peer, uvicorn's scope["client"],
    the connection caps and every log line then see it, also after STARTTLS (the TLS layer asks us)."""

    def __init__(self, transport: asyncio.Transport, peer: Address) -> None:
        super().__init__({"peername": peer})
        self._inner = transport

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        if name == "peername":
            return self._extra["peername"]
        if name == "socket":  # its getpeername() would name the balancer; uvicorn then asks for "peername"
            return default
        return self._inner.get_extra_info(name, default)

    def __getattr__(self, name: str) -> Any:  # private capabilities asyncio checks: _start_tls_compatible ...
        return getattr(self._inner, name)

    def is_closing(self) -> bool:
        return self._inner.is_closing()

    def close(self) -> None:
        self._inner.close()

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self._inner.set_protocol(protocol)

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self._inner.get_protocol()

    def is_reading(self) -> bool:
        return self._inner.is_reading()

    def pause_reading(self) -> None:
        self._inner.pause_reading()

    def resume_reading(self) -> None:
        self._inner.resume_reading()

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        self._inner.set_write_buffer_limits(high, low)

    def get_write_buffer_size(self) -> int:
        return self._inner.get_write_buffer_size()

    def get_write_buffer_limits(self) -> tuple[int, int]:
        return self._inner.get_write_buffer_limits()

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self._inner.write(data)

    def writelines(self, list_of_data: Iterable[bytes | bytearray | memoryview]) -> None:
        self._inner.writelines(list_of_data)

    def write_eof(self) -> None:
        self._inner.write_eof()

    def can_write_eof(self) -> bool:
        return self._inner.can_write_eof()

    def abort(self) -> None:
        self._inner.abort()
