"""Limits every public server has: connection caps per client address and in total on every listener,
timeouts for silent, slow and half-open clients, and memory that stays bounded under large messages.

Client addresses: every 127.x.y.z is loopback on Linux, so a socket bound to 127.0.0.2 is another client.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import random
import select
import smtplib
import socket
import ssl
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
import uvloop

from smb_suite import limits
from smb_suite.limits import BudgetExhausted, ConnectionLimits, MemoryBudget
from tests.daemon import DOMAIN, Daemon, Daemons, make_daemon
from tests.dnsserver import DnsServer
from tests.pebble import make_tls_files
from tests.polling import wait_for

DEADLINE = 30.0
CAPS = """
[smtp]
max_sessions = 3
max_sessions_per_ip = 2
[imap]
max_connections = 3
max_connections_per_ip = 2
[http]
max_connections = 3
max_connections_per_ip = 2
"""
TIMEOUTS = """
[tls]
handshake_timeout = "1s"
[smtp]
command_timeout = "1s"
data_timeout = "1s"
[imap]
login_timeout = "3s"
idle_timeout = "2s"
[http]
header_timeout = "2s"
body_timeout = "1s"
send_timeout = "1s"
keepalive_timeout = "1s"
"""


@pytest.fixture(scope="module")
def capped(start_daemon: Daemons, quiet_dns: DnsServer) -> Daemon:
    return start_daemon(CAPS, nameservers=(quiet_dns.address,), name="caps")


@pytest.fixture(scope="module")
def impatient(start_daemon: Daemons, quiet_dns: DnsServer) -> Daemon:
    return start_daemon(TIMEOUTS, nameservers=(quiet_dns.address,), name="timeouts")


def insecure() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def connect(port: int, client: str = "127.0.0.1", tls: bool = False) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=DEADLINE, source_address=(client, 0))
    return insecure().wrap_socket(sock) if tls else sock


def read_until_closed(sock: socket.socket) -> bytes:
    """Everything the server says until it closes the connection (fails after DEADLINE)."""
    received = b""
    sock.settimeout(DEADLINE)
    with contextlib.suppress(ConnectionResetError):
        while chunk := sock.recv(65536):
            received += chunk
    return received


def read_until(sock: socket.socket, marker: bytes) -> bytes:
    """What the server says up to and including `marker` (fails if it closes before)."""
    received = b""
    while marker not in received:
        chunk = sock.recv(4096)
        assert chunk, received
        received += chunk
    return received


def read_until_length(sock: socket.socket, size: int) -> bytes:
    received = b""
    while len(received) < size:
        chunk = sock.recv(size - len(received))
        assert chunk, received
        received += chunk
    return received


def first_line(sock: socket.socket) -> bytes:
    return read_until(sock, b"\n").split(b"\n", 1)[0]


def start_data(sock: socket.socket) -> None:
    """Greeting, EHLO, MAIL, RCPT and DATA up to the 354 that invites the message."""
    assert first_line(sock).startswith(b"220 ")
    sock.sendall(b"EHLO client.example\r\nMAIL FROM:<a@remote.example>\r\nRCPT TO:<alice@example.test>\r\nDATA\r\n")
    read_until(sock, b"354 ")


def wait_for_log(daemon: Daemon, text: str) -> None:
    """The daemon logs why it dropped a connection, possibly just after the client saw it go."""
    wait_for(f"the log to say {text}", lambda: text in daemon.log_text(), DEADLINE)


# -- connection caps ----------------------------------------------------------------------------------------

Greeting = Callable[[socket.socket], bytes]


def smtp_greeting(sock: socket.socket) -> bytes:
    return first_line(sock)


def imap_greeting(sock: socket.socket) -> bytes:
    return first_line(sock)


def http_greeting(sock: socket.socket) -> bytes:
    sock.sendall(b"GET / HTTP/1.1\r\nHost: mail.example.test\r\n\r\n")
    return first_line(sock)


SERVICES = {
    # service: (how the client starts, what an accepted client hears, what a refused client hears)
    "smtp": (smtp_greeting, b"220 ", b"421 4.7.0 "),
    "submissions": (smtp_greeting, b"220 ", b"421 4.7.0 "),
    "imap": (imap_greeting, b"* OK", b"* BYE [UNAVAILABLE]"),
    "imaps": (imap_greeting, b"* OK", b"* BYE [UNAVAILABLE]"),
    "http": (http_greeting, b"HTTP/1.1 ", b"HTTP/1.1 503 "),
    "https": (http_greeting, b"HTTP/1.1 ", b"HTTP/1.1 503 "),
}


def accepted(line: bytes, ok: bytes, refused: bytes) -> bool:
    return line.startswith(ok) and not line.startswith(refused)


@pytest.mark.parametrize("service", list(SERVICES))
def test_each_listener_caps_connections_per_client_and_in_total_and_reuses_freed_slots(
    capped: Daemon, service: str
) -> None:
    greet, ok, refused = SERVICES[service]
    port = capped.ports[service]
    tls = service in ("submissions", "imaps", "https")
    held: list[socket.socket] = []
    try:
        for _ in range(2):  # the per-client cap is 2
            held.append(connect(port, "127.0.0.1", tls))
            line = greet(held[-1])
            assert accepted(line, ok, refused), line
        with connect(port, "127.0.0.1", tls) as third:
            assert greet(third).startswith(refused)
            read_until_closed(third)
        held.append(connect(port, "127.0.0.2", tls))  # another client still gets in: 3 in total
        line = greet(held[-1])
        assert accepted(line, ok, refused), line
        with connect(port, "127.0.0.3", tls) as fourth:  # the total cap is 3
            assert greet(fourth).startswith(refused)
        held.pop(0).close()  # a slot of 127.0.0.1 is freed: once the server has noticed, it is usable again

        def reused() -> socket.socket | None:
            sock = connect(port, "127.0.0.1", tls)
            if accepted(greet(sock), ok, refused):
                return sock
            sock.close()
            return None

        held.append(wait_for("the freed slot to be reused", reused, DEADLINE, interval=0))
    finally:
        for sock in held:
            sock.close()


# -- timeouts -----------------------------------------------------------------------------------------------


def test_smtp_drops_a_silent_client_with_421_4_4_2(impatient: Daemon) -> None:
    with connect(impatient.ports["smtp"]) as sock:
        said = read_until_closed(sock)
    assert said.startswith(b"220 ")
    assert b"\r\n421 4.4.2 " in said


def test_smtp_drops_a_client_that_stops_sending_message_data_with_421_4_4_2(impatient: Daemon) -> None:
    with connect(impatient.ports["smtp"]) as sock:
        start_data(sock)
        sock.sendall(b"Subject: half a message\r\n\r\nand then nothing")
        said = read_until_closed(sock)
    assert said.startswith(b"421 4.4.2 "), said
    assert impatient.messages("alice@example.test") == []


@pytest.mark.parametrize("service", ["imap", "imaps"])
def test_imap_logs_out_a_client_that_does_not_log_in(impatient: Daemon, service: str) -> None:
    with connect(impatient.ports[service], tls=service == "imaps") as sock:
        said = read_until_closed(sock)
    assert said.startswith(b"* OK")
    assert b"\r\n* BYE " in said


def test_imap_logs_out_a_logged_in_client_that_stays_silent(impatient: Daemon) -> None:
    with connect(impatient.ports["imap"]) as sock:
        assert first_line(sock).startswith(b"* OK")
        sock.sendall(b'a LOGIN alice@example.test "alice-secret-1"\r\n')
        read_until(sock, b"a OK")
        said = read_until_closed(sock)
    assert b"* BYE " in said


@pytest.mark.parametrize("service", ["submissions", "imaps", "https"])
def test_a_client_that_never_sends_its_tls_client_hello_is_dropped(impatient: Daemon, service: str) -> None:
    with connect(impatient.ports[service]) as sock:
        assert read_until_closed(sock) == b""
    wait_for_log(impatient, f"tls.handshake_failed service={service} client=127.0.0.1")


def test_http_drops_a_client_that_sends_its_header_a_byte_at_a_time(impatient: Daemon) -> None:
    """A slowloris keeps sending, but the header deadline counts from the start of the request."""
    header = b"GET / HTTP/1.1\r\nHost: mail.example.test\r\n" + b"X-Padding: " + b"a" * 10_000
    deadline = time.monotonic() + DEADLINE
    with connect(impatient.ports["http"]) as sock:
        for byte in header:
            assert time.monotonic() < deadline, "the server never gave up on the slow header"
            try:
                sock.sendall(bytes([byte]))
            except (BrokenPipeError, ConnectionResetError):
                break
            readable, _, _ = select.select([sock], [], [], 0.1)  # the pace of the slow client
            if readable:
                assert read_until_closed(sock) == b""
                break
        else:
            pytest.fail("the whole slow header was accepted")
    wait_for_log(impatient, "http.header_timeout client=127.0.0.1")


def test_http_drops_a_client_whose_request_body_stops_arriving(impatient: Daemon) -> None:
    with connect(impatient.ports["http"]) as sock:
        sock.sendall(
            b"POST /admin/login HTTP/1.1\r\nHost: mail.example.test\r\nContent-Type: application/x-www-form-urlencoded"
            b"\r\nContent-Length: 1000\r\n\r\nusername=alice"
        )
        read_until_closed(sock)
    wait_for_log(impatient, "http.body_timeout client=127.0.0.1")


def test_http_drops_a_client_that_stops_reading_a_large_response(impatient: Daemon, tmp_path: Path) -> None:
    archive = tmp_path / "site.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as site:
        site.writestr("index.html", b"<h1>big</h1>")
        site.writestr("big.bin", random.Random(5).randbytes(20 * MIB))
    impatient.cli("site", "upload", DOMAIN, str(archive))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a reader that takes almost nothing
    with sock:
        sock.connect(("127.0.0.1", impatient.ports["http"]))
        sock.sendall(f"GET /big.bin HTTP/1.1\r\nHost: {DOMAIN}\r\n\r\n".encode())
        wait_for_log(impatient, "http.send_timeout client=127.0.0.1")
        received = len(read_until_closed(sock))
    assert received < 20 * MIB


def test_http_closes_a_client_that_connects_and_says_nothing(impatient: Daemon) -> None:
    with connect(impatient.ports["http"]) as sock:
        assert read_until_closed(sock) == b""


@pytest.mark.parametrize("host", ["mail.example.test", "example.test"])
def test_http_closes_an_idle_keep_alive_connection(impatient: Daemon, host: str) -> None:
    """The admin host (uvicorn's keep-alive timer) and a hosted site's page, whose second request is answered
    from the file cache on the connection (web/protocol.py's own keep-alive deadline)."""
    request = f"GET / HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
    with connect(impatient.ports["http"]) as sock:
        sock.sendall(request)
        first = read_until(sock, b"\r\n\r\n")
        length = int(first.lower().partition(b"content-length: ")[2].partition(b"\r\n")[0])
        first += read_until_length(sock, length - len(first.partition(b"\r\n\r\n")[2]))
        sock.sendall(request)
        said = read_until_closed(sock)
    assert first.startswith(b"HTTP/1.1 ") and said.startswith(first.partition(b"\r\n")[0])
    assert b"connection: close" not in said.lower()


# -- DATA spooled to disk: what is stored is exactly what was sent ------------------------------------------


def smtp_session(daemon: Daemon, commands: bytes) -> bytes:
    """Send EHLO/MAIL/RCPT/DATA, then `commands` (message data and what follows) in one piece; all replies."""
    with connect(daemon.ports["smtp"]) as sock:
        start_data(sock)
        sock.sendall(commands)
        return read_until_closed(sock)


def test_dot_stuffed_lines_lose_one_dot_and_pipelined_commands_after_the_dot_are_answered(capped: Daemon) -> None:
    """RFC 5321 4.5.2 transparency and RFC 2920 3.1 pipelining after the end of data, across block ends."""
    body = b"".join(b"..line %d starts with a dot\r\nplain %d\r\n" % (i, i) for i in range(20_000))
    message = b"Subject: dots\r\n\r\n" + body + b"...\r\n..\r\nlast\r\n"
    said = smtp_session(capped, message + b".\r\nNOOP\r\nQUIT\r\n")
    assert said.startswith(b"250 2.0.0 Ok: delivered"), said
    assert said.endswith(b"250 2.0.0 OK\r\n221 2.0.0 Bye\r\n") or b"221 " in said.splitlines()[-1], said
    stored = [m for m in capped.messages("alice@example.test") if b"Subject: dots" in m]
    assert len(stored) == 1
    expected = message.replace(b"\r\n..", b"\r\n.")
    assert stored[0].endswith(expected[expected.index(b"\r\n\r\n") :])


def test_a_message_of_one_line_and_an_overlong_line_and_too_much_data_are_answered_after_the_dot(
    capped: Daemon,
) -> None:
    assert smtp_session(capped, b"Subject: one line\r\n.\r\nQUIT\r\n").startswith(b"250 ")
    said = smtp_session(capped, b"Subject: long\r\n\r\n" + b"x" * 5000 + b"\r\n.\r\nQUIT\r\n")
    assert said.startswith(b"500 5.5.2 Line too long"), said
    line = b"y" * 998 + b"\r\n"
    said = smtp_session(capped, line * (26 * 1024 * 1024 // len(line)) + b".\r\nQUIT\r\n")
    assert said.startswith(b"552 5.3.4 "), said


# -- memory: many large messages at once ---------------------------------------------------------------------

BUDGET_MB = 150
MEMORY = f"""
[tiers.big]
storage_mb = 100000
[quota]
default_tier = "big"
[smtp]
processing_memory_mb = {BUDGET_MB}
"""
MIB = 1024 * 1024


def memory_mb(pid: int, key: str) -> int:
    """VmRSS (resident now) or VmHWM (peak resident) of a process, MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) // 1024
    raise AssertionError(f"no {key} for {pid}")


def test_twelve_concurrent_24_mb_messages_keep_the_daemon_memory_bounded_and_it_shrinks_afterwards(
    tmp_path: Path, quiet_dns: DnsServer
) -> None:
    """The MX once grew from 218 MB to 938 MB RSS under twelve 24 MB messages and never shrank. Now DATA is
    spooled to disk, processing shares a memory budget, and freed message copies go back to the OS."""
    daemon = make_daemon(tmp_path / "memory", MEMORY, nameservers=(quiet_dns.address,)).start()
    try:
        assert daemon.process is not None
        pid = daemon.process.pid
        line = b"A" * 76 + b"\r\n"
        message = b"From: x@remote.example\r\nSubject: big\r\n\r\n" + line * (24 * MIB // len(line))
        with smtplib.SMTP("127.0.0.1", daemon.ports["smtp"], timeout=DEADLINE) as client:  # warm up
            client.sendmail("x@remote.example", ["alice@example.test"], b"Subject: small\r\n\r\nhi\r\n")
        before = memory_mb(pid, "VmRSS")
        Path(f"/proc/{pid}/clear_refs").write_text("5")  # VmHWM := VmRSS: the peak from now on

        def send() -> dict[str, tuple[int, bytes]]:
            with smtplib.SMTP("127.0.0.1", daemon.ports["smtp"], timeout=600) as client:
                return client.sendmail("x@remote.example", ["alice@example.test"], message)

        with concurrent.futures.ThreadPoolExecutor(12) as pool:
            refused = list(pool.map(lambda _: send(), range(12)))
        assert refused == [{}] * 12
        peak = memory_mb(pid, "VmHWM")
        # the budget, plus what twelve sessions hold while data arrives (spool buffer, read blocks), plus slack
        bound = BUDGET_MB + 12 * 2 + 64
        numbers = f"RSS before {before} MiB, peak {peak} MiB (growth bound {bound} MiB)"
        assert peak - before <= bound, numbers

        def settled() -> int | None:
            now = memory_mb(pid, "VmRSS")
            return now if now <= before + 32 else None

        after = wait_for(f"the RSS to come back within 32 MiB of {before} MiB ({numbers})", settled, 60, interval=0.5)
        print(f"{numbers}, after {after} MiB")
        assert len(daemon.messages("alice@example.test")) == 13
    finally:
        daemon.stop()


# -- the counting and the budget themselves ------------------------------------------------------------------


def test_a_client_is_its_ipv4_address_or_its_ipv6_slash_64() -> None:
    connections = ConnectionLimits(total=10, per_ip=2)
    first = connections.acquire("2001:db8:1:2::1")
    assert first is not None and connections.acquire("2001:db8:1:2:ffff::9") is not None
    assert connections.acquire("2001:db8:1:2::3") is None  # same /64
    assert connections.acquire("2001:db8:1:3::1") is not None  # another /64
    assert connections.acquire("::ffff:192.0.2.1") is not None and connections.acquire("192.0.2.1") is not None
    assert connections.acquire("192.0.2.1") is None  # IPv4-mapped IPv6 is the same client
    first.release()
    first.release()  # idempotent
    assert connections.count("2001:db8:1:2::77") == 1 and connections.active == 4


def test_the_memory_budget_serves_in_turn_lets_an_oversized_item_run_alone_and_refuses_after_the_wait() -> None:
    async def scenario() -> list[str]:
        budget = MemoryBudget(100)
        events: list[str] = []
        release_big = asyncio.Event()

        async def hold(name: str, size: int, until: asyncio.Event, wait: float = 30.0) -> None:
            try:
                async with budget.reserve(size, wait):
                    events.append(f"{name} in")
                    await until.wait()
                events.append(f"{name} out")
            except BudgetExhausted:
                events.append(f"{name} refused")

        done = asyncio.Event()
        done.set()
        big = asyncio.create_task(hold("big", 500, release_big))  # larger than the budget: alone
        await asyncio.sleep(0)
        assert budget.used == 100
        small = asyncio.create_task(hold("small", 10, done))
        late = asyncio.create_task(hold("late", 10, done, wait=0.01))
        await late  # the budget stayed full for longer than it would wait
        release_big.set()
        await asyncio.gather(big, small)
        assert budget.used == 0
        return events

    assert asyncio.run(scenario()) == ["big in", "late refused", "big out", "small in", "small out"]


def test_imap_drops_a_client_that_stops_reading_a_large_fetch(impatient: Daemon) -> None:
    line = b"B" * 76 + b"\r\n"
    big = b"From: x@remote.example\r\nSubject: large\r\n\r\n" + line * (12 * MIB // len(line))
    with smtplib.SMTP("127.0.0.1", impatient.ports["smtp"], timeout=DEADLINE) as client:
        client.sendmail("x@remote.example", ["alice@example.test"], big)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a reader that takes almost nothing
    with sock:
        sock.connect(("127.0.0.1", impatient.ports["imap"]))
        sock.sendall(b'a LOGIN alice@example.test "alice-secret-1"\r\nb SELECT INBOX\r\nc FETCH 1:* BODY.PEEK[]\r\n')
        wait_for_log(impatient, "imap.send_timeout")
        received = len(read_until_closed(sock))
    assert received < 12 * MIB


def test_smtp_cuts_off_a_client_that_pipelines_commands_but_never_reads_the_replies(impatient: Daemon) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    with sock:
        sock.connect(("127.0.0.1", impatient.ports["smtp"]))
        sock.setblocking(False)
        flood = memoryview(b"EHLO flood.example\r\n" + b"NOOP\r\n" * 2_000_000)
        with contextlib.suppress(BlockingIOError, ConnectionError):
            while flood:  # until the server stops reading (its replies are not read either)
                flood = flood[sock.send(flood) :]
        wait_for_log(impatient, "smtp.aborted client=127.0.0.1")


class Answer(asyncio.Protocol):
    """What the gate hands an implicit-TLS connection to: one short answer to the first bytes."""

    def __init__(self, slot: limits.Slot) -> None:
        self.slot = slot
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = limits.stream(transport)

    def data_received(self, data: bytes) -> None:
        assert self.transport is not None
        self.transport.write(b"hello " + data)
        self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.slot.release()


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
def test_every_client_of_an_implicit_tls_port_completes_its_handshake_under_either_loop(
    loop: str, tmp_path: Path
) -> None:
    """uvloop reads as soon as a connection is made: a ClientHello arriving before the gate's TLS layer was
    lost, and about half of these handshakes timed out."""
    ca, certificate, key = make_tls_files(tmp_path)
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(certificate, key)
    client_context = ssl.create_default_context(cafile=str(ca))

    def client(port: int) -> bytes:
        raw = socket.create_connection(("127.0.0.1", port), timeout=DEADLINE)
        with raw, client_context.wrap_socket(raw, server_hostname="localhost") as secure:
            secure.sendall(b"there")
            return secure.recv(100)

    async def scenario() -> list[bytes]:
        gate = limits.gate("test", Answer, ConnectionLimits(100, 100), b"no\r\n", server_context, DEADLINE)
        server = await asyncio.get_running_loop().create_server(gate, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            answers = await asyncio.gather(*(asyncio.wrap_future(pool.submit(client, port)) for _ in range(40)))
        server.close()
        await server.wait_closed()
        return answers

    with asyncio.Runner(loop_factory=uvloop.new_event_loop if loop == "uvloop" else None) as runner:
        assert runner.run(scenario()) == [b"hello there"] * 40
