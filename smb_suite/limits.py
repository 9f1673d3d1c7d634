"""Limits every public listener has: connection caps per client address and in total, a bounded TLS
handshake on implicit-TLS ports, a memory budget for work in progress, and freed memory given back.

    ConnectionLimits(total, per_ip)     counts live connections; acquire(address) -> Slot, or None over a cap
    gate(factory, limits, refusal, ...) an asyncio protocol factory for loop.create_server: reads the PROXY
                                        header of a balancer's connection (`[listen] proxy_protocol_from`),
                                        counts each TCP connection under its real client (before any TLS),
                                        refuses it over a cap with `refusal`, does the TLS handshake within a
                                        deadline on implicit-TLS ports, then hands the connection to
                                        `factory(slot)`; that protocol calls slot.release() from its
                                        connection_lost
    MemoryBudget(capacity)              bytes of work in progress at once; reserve(size, wait) waits its turn
    Deadline(loop, expired)             a connection's timeout moved per request without a timer per request
    return_freed_memory()               glibc: large blocks come from mmap and go back to the OS when freed

SMTP (asyncio), HTTP (uvicorn protocols on asyncio) and IMAP (twisted, counting with ConnectionLimits
itself) share these. A client "address" is its IPv4 address, or its IPv6 /64: one subscriber's prefix.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import ctypes
import ctypes.util
import ipaddress
import logging
import ssl
from asyncio import sslproto
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, Protocol, cast

from smb_suite import log, proxyproto
from smb_suite.errors import InvalidProxyHeader

logger = logging.getLogger("smb_suite.limits")
LISTEN_BACKLOG = 512  # connections the kernel queues per listener before a worker accepts them
REFUSAL_LINGER = 5.0  # seconds a refused plain connection may take to read the refusal and hang up
MAX_REFUSING = 64  # refused TLS connections handshaking at once just to read their refusal; more are closed


def client_key(address: str) -> str:
    """What one client is counted as: an IPv4 address (IPv4-mapped IPv6 too), or an IPv6 address's /64."""
    try:
        parsed = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network((parsed, 64), strict=False))
    return str(parsed)


class Slot:
    """One counted connection; release() is idempotent."""

    __slots__ = ("_limits", "key")

    def __init__(self, limits: ConnectionLimits, key: str) -> None:
        self._limits: ConnectionLimits | None = limits
        self.key = key

    def release(self) -> None:
        limits, self._limits = self._limits, None
        if limits is not None:
            limits._release(self.key)


class SessionWatch(Protocol):
    """Told of each connection counted, released or refused (the session metrics, metrics.py)."""

    def opened(self) -> None: ...
    def closed(self) -> None: ...
    def refused(self) -> None: ...


class ConnectionLimits:
    """Live connections of one listener, per client and in total."""

    def __init__(self, total: int, per_ip: int, watch: SessionWatch | None = None) -> None:
        self.total = total
        self.per_ip = per_ip
        self.active = 0
        self._by_client: collections.Counter[str] = collections.Counter()
        self._watch = watch

    def acquire(self, address: str) -> Slot | None:
        """A slot for a new connection from this address, or None when it would exceed a cap."""
        key = client_key(address)
        if self.active >= self.total or self._by_client[key] >= self.per_ip:
            if self._watch is not None:
                self._watch.refused()
            return None
        self.active += 1
        self._by_client[key] += 1
        if self._watch is not None:
            self._watch.opened()
        return Slot(self, key)

    def count(self, address: str) -> int:
        return self._by_client.get(client_key(address), 0)

    def _release(self, key: str) -> None:
        if self._watch is not None:
            self._watch.closed()
        self.active -= 1
        self._by_client[key] -= 1
        if self._by_client[key] <= 0:
            del self._by_client[key]


def stream(transport: asyncio.BaseTransport) -> asyncio.Transport:
    """A stream connection's transport as a full Transport. uvloop's transports implement the interface but do
    not subclass asyncio's classes, so an isinstance check would wrongly fail on them."""
    return cast(asyncio.Transport, transport)


def peer_address(transport: asyncio.BaseTransport) -> str:
    peer = transport.get_extra_info("peername")
    return str(peer[0]) if isinstance(peer, tuple) and peer else ""


class _Gate(asyncio.Protocol):
    """Holds a fresh connection until it is counted (and its TLS handshake is done), then hands it over.

    Everything is set up in the callbacks themselves, never in a task started from connection_made: uvloop
    starts reading as soon as connection_made returns (a pause_reading made there is undone), so a balancer's
    PROXY header is parsed from data_received and the TLS layer is in place before the ClientHello can come."""

    def __init__(self, owner: _GateFactory) -> None:
        self._owner = owner
        self._transport: asyncio.Transport | None = None
        self._early: list[bytes] = []  # data that arrived between the handshake and the hand-over
        self._linger: asyncio.TimerHandle | None = None
        self._check_first_bytes = False
        self._header: bytearray | None = None  # a balancer's PROXY header, while it arrives
        self._header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        transport = stream(transport)
        self._transport = transport
        address = peer_address(transport)
        if self._owner.proxy.trusts(address):  # a balancer: its PROXY header first
            self._header = bytearray()
            self._header_timer = asyncio.get_running_loop().call_later(
                self._owner.proxy.timeout, self._no_header, "no complete PROXY header in time"
            )
        else:
            self._admit(transport, address, self._owner.proxy.enabled)

    def _unwrap(self, data: bytes) -> None:
        """The real client from the balancer's PROXY header; what follows it is the client's first bytes."""
        assert self._header is not None and self._transport is not None
        self._header += data
        try:
            header = proxyproto.parse(bytes(self._header))
        except InvalidProxyHeader as error:
            self._no_header(str(error))
            return
        if header is None:
            return
        rest = bytes(self._header[header.length :])
        self._header = None
        if self._header_timer is not None:
            self._header_timer.cancel()
        transport = self._transport
        if header.source is not None:
            transport = proxyproto.PeerTransport(transport, header.source)
            self._transport = transport
        if rest:
            self._early.append(rest)
        self._admit(transport, peer_address(transport), check_first_bytes=False)

    def _no_header(self, reason: str) -> None:
        """A balancer's connection without a valid PROXY header is closed."""
        if self._header is None or self._transport is None:
            return
        self._header = None
        balancer = peer_address(self._transport)
        log.event(logger, "proxy.refused", service=self._owner.name, client=balancer, reason=reason)
        self._transport.abort()

    def _admit(self, transport: asyncio.Transport, address: str, check_first_bytes: bool) -> None:
        """Count the connection under its client's address, then TLS (if implicit) and the hand-over."""
        owner = self._owner
        self._check_first_bytes = check_first_bytes and owner.tls is None  # TLS refuses a header by itself
        slot = owner.limits.acquire(address)
        if slot is None:
            log.event(logger, "connection.refused", service=owner.name, client=address, reason="too_many")
            if owner.tls is None:
                self._refuse(transport)
            elif owner.refusing < MAX_REFUSING:
                owner.refusing += 1
                asyncio.get_running_loop().create_task(self._refuse_over_tls(self._start_tls(transport)))
            else:
                transport.abort()
            return
        if owner.tls is None:
            self._hand_over(transport, slot)
        else:
            asyncio.get_running_loop().create_task(self._handshake(self._start_tls(transport), slot))

    def data_received(self, data: bytes) -> None:
        if self._header is not None:
            self._unwrap(data)
        elif self._linger is None:
            self._early.append(data)
        # a refused client's data is read and dropped (unread data would turn our close into a reset)

    def eof_received(self) -> bool | None:
        if self._header is not None:
            self._no_header("connection closed before its PROXY header ended")
        elif self._linger is not None and self._transport is not None:
            self._transport.close()
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        if self._linger is not None:
            self._linger.cancel()
        if self._header_timer is not None:
            self._header_timer.cancel()

    def _start_tls(self, transport: asyncio.Transport) -> _Handshake:
        """Put the TLS layer under this protocol now, as loop.start_tls does but without waiting a loop turn
        (see the class docstring); bytes already received (after a PROXY header) go to it first."""
        owner = self._owner
        assert owner.tls is not None
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        layer = sslproto.SSLProtocol(
            loop,
            self,
            owner.tls,
            done,
            server_side=True,
            call_connection_made=False,
            ssl_handshake_timeout=owner.handshake_timeout,  # type: ignore[arg-type]  # typeshed: int; any number works
        )
        transport.set_protocol(layer)
        layer.connection_made(transport)
        early, self._early = b"".join(self._early), []
        while early:
            room = layer.get_buffer(len(early))
            size = min(len(room), len(early))
            room[:size] = early[:size]
            layer.buffer_updated(size)
            early = early[size:]
        return _Handshake(transport, layer, done)

    async def _secure(self, handshake: _Handshake) -> asyncio.Transport | None:
        try:
            await handshake.done
        except (OSError, ssl.SSLError, TimeoutError, ConnectionError, RuntimeError) as error:
            log.event(
                logger,
                "tls.handshake_failed",
                service=self._owner.name,
                client=peer_address(handshake.transport),
                reason=error.__class__.__name__,
            )
            handshake.transport.abort()
            return None
        return handshake.layer._app_transport  # what loop.start_tls returns

    async def _handshake(self, handshake: _Handshake, slot: Slot) -> None:
        try:
            secure = await self._secure(handshake)
        except BaseException:  # cancelled at shutdown
            slot.release()
            handshake.transport.abort()
            raise
        if secure is None:
            slot.release()
            return
        self._hand_over(secure, slot)

    async def _refuse_over_tls(self, handshake: _Handshake) -> None:
        try:
            secure = await self._secure(handshake)
            if secure is not None:
                secure.write(self._owner.refusal)
                secure.close()
        finally:
            self._owner.refusing -= 1

    def _refuse(self, transport: asyncio.Transport) -> None:
        transport.write(self._owner.refusal)
        if transport.can_write_eof():
            transport.write_eof()
            self._linger = asyncio.get_running_loop().call_later(REFUSAL_LINGER, transport.abort)
        else:
            transport.close()

    def _hand_over(self, transport: asyncio.Transport, slot: Slot) -> None:
        try:
            protocol = self._owner.factory(slot)
        except Exception:
            slot.release()
            transport.abort()
            raise
        receiver: asyncio.BaseProtocol = protocol
        if self._check_first_bytes and isinstance(protocol, asyncio.Protocol):
            receiver = _NoProxyHeader(protocol, transport, self._owner.name)
        transport.set_protocol(receiver)
        protocol.connection_made(transport)
        early, self._early = self._early, []
        if early and isinstance(receiver, asyncio.Protocol):
            receiver.data_received(b"".join(early))


@dataclass(frozen=True, slots=True)
class _Handshake:
    transport: asyncio.Transport  # the TCP connection
    layer: sslproto.SSLProtocol
    done: asyncio.Future[None]


class _NoProxyHeader(asyncio.Protocol):
    """In front of the protocol of a connection from a peer not in `proxy_protocol_from` until its first bytes
    show that they are no PROXY header (a client forging its address is closed); then out of the way."""

    def __init__(self, inner: asyncio.Protocol, transport: asyncio.Transport, service: str) -> None:
        self._inner = inner
        self._transport = transport
        self._service = service
        self._seen = b""

    def data_received(self, data: bytes) -> None:
        self._seen += data
        verdict = proxyproto.looks_like_header(self._seen)
        if verdict is None:
            return
        if verdict:
            log.event(
                logger,
                "proxy.refused",
                service=self._service,
                client=peer_address(self._transport),
                reason="PROXY header from a peer not in proxy_protocol_from",
            )
            self._transport.abort()
            return
        self._transport.set_protocol(self._inner)
        self._inner.data_received(self._seen)

    def eof_received(self) -> bool | None:
        return self._inner.eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        self._inner.connection_lost(exc)

    def pause_writing(self) -> None:
        self._inner.pause_writing()

    def resume_writing(self) -> None:
        self._inner.resume_writing()


class _GateFactory:
    def __init__(
        self,
        name: str,
        factory: Callable[[Slot], asyncio.BaseProtocol],
        limits: ConnectionLimits,
        refusal: bytes,
        tls: ssl.SSLContext | None,
        handshake_timeout: float,
        proxy: proxyproto.ProxyPolicy,
    ) -> None:
        self.name = name
        self.proxy = proxy
        self.factory = factory
        self.limits = limits
        self.refusal = refusal
        self.tls = tls
        self.handshake_timeout = handshake_timeout
        self.refusing = 0

    def __call__(self) -> _Gate:
        return _Gate(self)


def gate(
    name: str,
    factory: Callable[[Slot], asyncio.BaseProtocol],
    limits: ConnectionLimits,
    refusal: bytes,
    tls: ssl.SSLContext | None = None,
    handshake_timeout: float = 30.0,
    proxy: proxyproto.ProxyPolicy | None = None,
) -> Callable[[], asyncio.Protocol]:
    """A protocol factory for `loop.create_server` (without ssl=: the gate does TLS itself, after counting)."""
    return _GateFactory(name, factory, limits, refusal, tls, handshake_timeout, proxy or proxyproto.ProxyPolicy())


class Deadline:
    """A timeout that a connection sets and clears at every request (header, keep-alive) without a timer each
    time: the loop's timer is armed once and, when it fires before the current deadline, armed again for what
    is left. `expired` runs once the deadline set last has passed with no `clear` since."""

    def __init__(self, loop: asyncio.AbstractEventLoop, expired: Callable[[], None]) -> None:
        self._loop = loop
        self._expired = expired
        self._when: float | None = None
        self._timer: asyncio.TimerHandle | None = None

    def set(self, delay: float) -> None:
        when = self._loop.time() + delay
        self._when = when
        if self._timer is not None and self._timer.when() > when:
            self._timer.cancel()
            self._timer = None
        if self._timer is None:
            self._timer = self._loop.call_at(when, self._fire)

    @property
    def pending(self) -> bool:
        return self._when is not None

    def clear(self) -> None:
        self._when = None  # the armed timer, if any, finds nothing to do

    def cancel(self) -> None:
        self._when = None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _fire(self) -> None:
        self._timer = None
        if self._when is None:
            return
        if self._loop.time() < self._when:
            self._timer = self._loop.call_at(self._when, self._fire)
            return
        self._when = None
        self._expired()


class BudgetExhausted(Exception):
    """The memory budget stayed full for as long as the caller would wait."""


class MemoryBudget:
    """Bytes of work in progress at once (messages being checked and stored). First come, first served; a
    single item larger than the whole budget runs when nothing else does."""

    def __init__(self, capacity: int, on_idle: Callable[[], None] | None = None) -> None:
        self.capacity = capacity
        self.used = 0
        self._waiting: collections.deque[tuple[int, asyncio.Future[None]]] = collections.deque()
        self._on_idle = on_idle

    @contextlib.asynccontextmanager
    async def reserve(self, size: int, wait: float) -> AsyncIterator[None]:
        cost = min(size, self.capacity)
        if self._waiting or self.used + cost > self.capacity:
            turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            entry = (cost, turn)
            self._waiting.append(entry)
            try:
                await asyncio.wait_for(asyncio.shield(turn), wait)
            except TimeoutError:
                if turn.done():  # granted just as the wait ran out: take it
                    pass
                else:
                    self._waiting.remove(entry)
                    self._wake()
                    raise BudgetExhausted from None
            except BaseException:
                if entry in self._waiting:
                    self._waiting.remove(entry)
                elif turn.done():
                    self._release(cost)
                raise
        else:
            self.used += cost
        try:
            yield
        finally:
            self._release(cost)

    def _release(self, cost: int) -> None:
        self.used -= cost
        self._wake()
        if self.used == 0 and not self._waiting and self._on_idle is not None:
            self._on_idle()

    def _wake(self) -> None:
        while self._waiting:
            cost, turn = self._waiting[0]
            if self.used + cost > self.capacity and self.used > 0:
                return
            self._waiting.popleft()
            self.used += cost
            turn.set_result(None)


_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt(3) parameter numbers from glibc's malloc.h
# Above the asyncio transport's read buffer (recv(256 KiB) allocates a bytes object a little larger, then
# shrinks it to what came): at 256 KiB every read of every connection cost mmap + mremap + munmap (and a TLB
# shootdown across the process's threads). The trim threshold keeps that buffer's free space at the top of the
# heap from going back with brk after each read.
_MMAP_THRESHOLD = 512 * 1024
_TRIM_THRESHOLD = 1024 * 1024


def _libc() -> Any:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        libc.mallopt, libc.malloc_trim  # noqa: B018 - glibc only
    except (OSError, AttributeError, TypeError):
        return None
    return libc


_LIBC = _libc()


def return_freed_memory() -> bool:
    """Serve large blocks (message copies) from mmap, so that freeing one gives its pages back to the OS.

    glibc raises its mmap threshold each time such a block is freed (up to 32 MiB on 64-bit), after which
    big messages come from the heap and the heap never shrinks. Setting the threshold fixes it and turns that
    adjustment off. Returns False where glibc is not the allocator."""
    if _LIBC is None:
        return False
    return bool(_LIBC.mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD) and _LIBC.mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD))


def trim_heap() -> None:
    """Give free heap memory back to the OS (malloc_trim(3)); for a thread: it walks the whole heap."""
    if _LIBC is not None:
        _LIBC.malloc_trim(0)
