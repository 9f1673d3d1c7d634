"""Behind a load balancer: HAProxy (Debian's, TCP mode, PROXY protocol v2, health checks on /healthz) on
127.0.0.1 in front of a daemon that takes PROXY headers from 127.0.0.1 only (`[listen] proxy_protocol_from`).

Clients bind to other loopback addresses (127.0.0.5, 127.0.0.6: loopback is all of 127/8), so the daemon sees
the balancer's address on every connection and the client's only through the PROXY header. SPF and the Received
header at the MX, login throttling and logs, the admin UI's audit log: all name the client, never the balancer.
"""

from __future__ import annotations

import asyncio
import contextlib
import imaplib
import ipaddress
import smtplib
import socket
import subprocess
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest
import uvloop

from smb_suite import limits, proxyproto
from tests import haproxy
from tests.adminweb import csrf_token, sign_in
from tests.daemon import OWNER, OWNER_PASSWORD, USER, USER_PASSWORD, Daemon, Daemons
from tests.dnsserver import DnsServer
from tests.mailtest import insecure_context
from tests.polling import wait_for

CLIENT = "127.0.0.5"
GUESSER, NEIGHBOUR, TLS_CLIENT = (
    "127.0.0.6",
    "127.0.0.7",
    "127.0.0.8",
)  # a password guesser, and another client behind the same balancer
BALANCER = "127.0.0.1"
# sender.test lets only the real client send its mail, and asks receivers to reject whatever fails
INTERNET = f"""sender.test.\t3600\tIN\tTXT\t"v=spf1 ip4:{CLIENT} -all"
_dmarc.sender.test.\t3600\tIN\tTXT\t"v=DMARC1; p=reject"
"""
CONFIG = (
    '[login]\nip_lock_after = 3\nlock_after = 100\n[inbound]\ndmarc_reject = "reject"\n'
    "[smtp]\nmax_sessions_per_ip = 3\n[imap]\nmax_connections_per_ip = 3\n"
)
CROWD, BYSTANDER = "127.0.0.20", "127.0.0.21"  # a client over its connection cap, and one next to it
LISTEN = f'proxy_protocol_from = ["{BALANCER}/32"]\nproxy_protocol_timeout = "3s"\n'


@pytest.fixture(scope="module")
def dns(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DnsServer]:
    zone = tmp_path_factory.mktemp("internet") / "internet.zone"
    zone.write_text(INTERNET)
    server = DnsServer(zone).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def node(start_daemon: Daemons, dns: DnsServer) -> Daemon:
    return start_daemon(CONFIG, nameservers=(dns.address,), listen_extra=LISTEN, name="node")


@pytest.fixture(scope="module")
def balancer(tmp_path_factory: pytest.TempPathFactory, node: Daemon) -> Iterator[haproxy.Balancer]:
    with haproxy.running(tmp_path_factory.mktemp("haproxy"), [haproxy.Node("node1", "127.0.0.1", node.ports)]) as lb:
        yield lb


def connect_from(source: str, port: int, host: str = "127.0.0.1") -> socket.socket:
    return socket.create_connection((host, port), timeout=30, source_address=(source, 0))


def answer_until_closed(sock: socket.socket, send: bytes) -> bytes:
    """What the server says after `send`, until it closes the connection (or resets it)."""
    received = b""
    with sock:
        try:
            sock.sendall(send)
            while chunk := sock.recv(4096):
                received += chunk
        except ConnectionResetError:
            pass
    return received


def greeting_at_most(answer: bytes) -> bool:
    """Nothing, or only the greeting a server says before the client's first bytes (or a TLS alert)."""
    return answer in (b"", b"220 mail.example.test smb-suite\r\n") or answer.startswith((b"* OK", b"\x15"))


def test_the_balancer_sees_every_node_healthy_through_the_proxy_protocol(balancer: haproxy.Balancer) -> None:
    assert set(balancer.servers().values()) == {("UP", "L7OK")}


def test_mail_through_the_balancer_names_the_real_client_in_received_and_passes_its_spf(
    balancer: haproxy.Balancer, node: Daemon
) -> None:
    message = EmailMessage()
    message["From"] = "news@sender.test"
    message["To"] = USER
    message["Subject"] = "through the balancer"
    message.set_content("hello\n")
    with smtplib.SMTP("127.0.0.1", balancer.ports["smtp"], timeout=30, source_address=(CLIENT, 0)) as client:
        client.send_message(message, "news@sender.test", [USER])
    (delivered,) = wait_for("the message in alice's inbox", lambda: node.messages(USER), 30)
    header = delivered.split(b"\r\n\r\n" if b"\r\n\r\n" in delivered else b"\n\n", 1)[0].decode()
    assert f"([{CLIENT}])" in header and f"([{BALANCER}])" not in header
    assert "spf=pass smtp.mailfrom=news@sender.test" in header  # sender.test allows 127.0.0.5 only


def test_failed_imap_logins_lock_the_real_client_not_the_balancer(balancer: haproxy.Balancer, node: Daemon) -> None:
    port = balancer.ports["imap"]
    for attempt in range(3):
        with haproxy.BoundIMAP("127.0.0.1", port, GUESSER) as client, pytest.raises(imaplib.IMAP4.error):
            client.login(f"nobody{attempt}@example.test", "wrong password")
    with (
        haproxy.BoundIMAP("127.0.0.1", port, GUESSER) as client,
        pytest.raises(imaplib.IMAP4.error, match="UNAVAILABLE"),
    ):
        client.login(USER, USER_PASSWORD)  # the right password, from a locked address
    with haproxy.BoundIMAP("127.0.0.1", port, NEIGHBOUR) as client:
        assert client.login(USER, USER_PASSWORD)[0] == "OK"
    log = node.log_text()
    assert f"client={GUESSER}" in log
    assert not any("imap.auth_failed" in line and f"client={BALANCER}" in line for line in log.splitlines())


def test_an_admin_login_through_the_balancer_is_audited_under_the_real_client(
    balancer: haproxy.Balancer, node: Daemon
) -> None:
    transport = httpx.HTTPTransport(local_address=CLIENT, verify=False)
    base = f"https://127.0.0.1:{balancer.ports['https']}"
    with httpx.Client(base_url=base, transport=transport, verify=False, timeout=30) as web:
        assert sign_in(web, OWNER, OWNER_PASSWORD).status_code == 303
        token = csrf_token(web.get("/admin/account"))
        assert web.post("/admin/account/app-passwords", data={"csrf": token, "label": "phone"}).status_code == 200
    audit = node.cli("audit").stdout.splitlines()
    (sign_in_entry,) = [line for line in audit if f"\t{OWNER}\t" in line and "\tlogin\tadmin UI" in line]
    (change,) = [line for line in audit if "app_password.add" in line]
    assert f"\t{CLIENT}\t" in sign_in_entry and f"\t{CLIENT}\t" in change
    assert f"web.login user={OWNER} ip={CLIENT}" in node.log_text()


def test_implicit_tls_services_through_the_balancer_see_the_real_client(
    balancer: haproxy.Balancer, node: Daemon
) -> None:
    context = insecure_context()
    with smtplib.SMTP_SSL(
        "127.0.0.1", balancer.ports["submissions"], timeout=30, source_address=(TLS_CLIENT, 0), context=context
    ) as client:
        client.login(USER, USER_PASSWORD)
    with haproxy.BoundIMAP4SSL("127.0.0.1", balancer.ports["imaps"], TLS_CLIENT, context) as client:
        assert client.login(USER, USER_PASSWORD)[0] == "OK"
    log = node.log_text()
    assert f"smtp.auth_ok client={TLS_CLIENT} user={USER}" in log
    assert "imap.auth_ok" in log and any(
        "imap.auth_ok" in line and f"client={TLS_CLIENT}" in line for line in log.splitlines()
    )


def test_connection_caps_count_each_real_client_not_the_balancer(balancer: haproxy.Balancer) -> None:
    with contextlib.ExitStack() as held:
        for _ in range(3):
            held.enter_context(smtplib.SMTP(BALANCER, balancer.ports["smtp"], timeout=30, source_address=(CROWD, 0)))
            held.enter_context(connect_from(CROWD, balancer.ports["imap"])).recv(4096)
        with pytest.raises(smtplib.SMTPConnectError, match="Too many connections"):
            smtplib.SMTP(BALANCER, balancer.ports["smtp"], timeout=30, source_address=(CROWD, 0)).close()
        assert answer_until_closed(connect_from(CROWD, balancer.ports["imap"]), b"").startswith(b"* BYE [UNAVAILABLE]")
        with smtplib.SMTP(BALANCER, balancer.ports["smtp"], timeout=30, source_address=(BYSTANDER, 0)) as other:
            assert other.noop()[0] == 250
        with haproxy.BoundIMAP(BALANCER, balancer.ports["imap"], BYSTANDER) as other:
            assert other.noop()[0] == "OK"


def test_a_client_forging_a_proxy_header_is_refused_on_every_service(node: Daemon) -> None:
    forged = b"PROXY TCP4 192.0.2.66 127.0.0.1 4000 25\r\n"
    for service in ("smtp", "submission", "imap", "http", "submissions", "imaps", "https"):  # TLS: no ClientHello
        answer = answer_until_closed(connect_from(CLIENT, node.ports[service]), forged + b"QUIT\r\n")
        assert greeting_at_most(answer), (service, answer)
    wait_for("the refusals logged", lambda: node.log_text().count("proxy.refused") >= 4, 10)
    assert "192.0.2.66" not in node.log_text()


def test_the_balancer_is_closed_when_it_sends_no_proxy_header(node: Daemon) -> None:
    for service in ("smtp", "imap", "http"):
        request = b"QUIT\r\n" if service != "http" else b"GET / HTTP/1.0\r\n\r\n"
        assert answer_until_closed(connect_from(BALANCER, node.ports[service]), request) == b"", service
    assert "proxy.refused service=smtp client=127.0.0.1" in node.log_text()


def test_a_balancer_that_says_nothing_is_closed_after_the_header_timeout(node: Daemon) -> None:
    with connect_from(BALANCER, node.ports["submission"]) as sock:
        sock.settimeout(30)
        assert sock.recv(100) == b""  # no greeting before the header, then the close after 3 s
    wait_for("the timeout logged", lambda: "no complete PROXY header in time" in node.log_text(), 10)


def test_clients_not_behind_the_balancer_are_served_as_before(node: Daemon) -> None:
    with smtplib.SMTP("127.0.0.1", node.ports["smtp"], timeout=30, source_address=(CLIENT, 0)) as client:
        assert client.ehlo()[0] == 250
    with haproxy.BoundIMAP("127.0.0.1", node.ports["imap"], NEIGHBOUR) as client:
        assert client.login(USER, USER_PASSWORD)[0] == "OK"
    with httpx.Client(transport=httpx.HTTPTransport(local_address=CLIENT), timeout=30) as web:
        assert web.get(f"http://127.0.0.1:{node.ports['http']}/healthz").status_code == 200


def test_the_sample_haproxy_configuration_is_valid() -> None:
    sample = Path(__file__).resolve().parents[2] / "conf" / "haproxy.cfg"
    checked = subprocess.run(
        [haproxy.binary(), "-c", "-f", str(sample)], capture_output=True, text=True, timeout=60, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


class Recorder(asyncio.Protocol):
    """The protocol the gate hands a connection to: what it was told of its peer and what it read."""

    def __init__(self, slot: limits.Slot, expected: int, complete: asyncio.Event) -> None:
        self.slot = slot
        self.peer: object = None
        self.received = b""
        self.expected = expected
        self.complete = complete

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.peer = transport.get_extra_info("peername")

    def data_received(self, data: bytes) -> None:
        self.received += data
        if len(self.received) >= self.expected:
            self.complete.set()

    def connection_lost(self, exc: Exception | None) -> None:
        self.slot.release()


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
@pytest.mark.parametrize("pieces", [1, 3, 40])
def test_only_the_header_is_taken_from_a_balancers_connection_even_when_it_arrives_in_pieces(
    pieces: int, loop: str
) -> None:
    header = b"PROXY TCP6 2001:db8::5 2001:db8::1 40000 443\r\n"
    after = b"GET / HTTP/1.1\r\nHost: the client's first bytes\r\n\r\n"
    made: list[Recorder] = []

    async def scenario() -> None:
        complete = asyncio.Event()

        def protocol(slot: limits.Slot) -> Recorder:
            made.append(Recorder(slot, len(after), complete))
            return made[-1]

        policy = proxyproto.ProxyPolicy((ipaddress.ip_network("127.0.0.1/32"),), 10)
        gate = limits.gate("test", protocol, limits.ConnectionLimits(10, 10), b"no\r\n", proxy=policy)
        server = await asyncio.get_running_loop().create_server(gate, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        size = -(-len(header) // pieces)
        for start in range(0, len(header), size):
            writer.write(header[start : start + size])
            await writer.drain()
            await asyncio.sleep(0)  # let the gate see this piece alone
        writer.write(after)
        await complete.wait()
        writer.close()
        await writer.wait_closed()
        server.close()
        await server.wait_closed()

    with asyncio.Runner(loop_factory=uvloop.new_event_loop if loop == "uvloop" else None) as runner:
        runner.run(asyncio.wait_for(scenario(), 20))
    assert made[0].peer == ("2001:db8::5", 40000) and made[0].received == after
