"""HAProxy (Debian's) as the balancer in front of one or more daemons, for tests: TCP mode on every service,
the PROXY protocol v2 to the nodes, health checks on each node's /healthz (conf/haproxy.cfg is the production
version of this configuration). Started in a temporary folder on 127.0.0.1, stopped by its pid. Clients behind it
bind to other loopback addresses (BoundIMAP, BoundIMAP4SSL): a connection from 127.0.0.1 is the balancer's."""

from __future__ import annotations

import contextlib
import csv
import imaplib
import io
import shutil
import socket
import ssl
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tests.polling import wait_for

SERVICES = ("smtp", "submission", "submissions", "imap", "imaps", "http", "https")
START_DEADLINE = 30.0


@dataclass(frozen=True)
class Node:
    """One daemon as the balancer reaches it: its address and the port of each service."""

    name: str
    host: str
    ports: dict[str, int]


@dataclass
class Balancer:
    folder: Path
    ports: dict[str, int] = field(default_factory=dict)  # the balancer's port for each service
    process: subprocess.Popen[bytes] | None = None

    @property
    def stats_socket(self) -> Path:
        return self.folder / "stats.sock"

    def servers(self) -> dict[tuple[str, str], tuple[str, str]]:
        """(backend, node) -> (status, last check) from HAProxy's own statistics, e.g. ("UP", "L7OK")."""
        with socket.socket(socket.AF_UNIX) as stats:
            stats.settimeout(10)
            stats.connect(str(self.stats_socket))
            stats.sendall(b"show stat\n")
            text = b"".join(iter(lambda: stats.recv(65536), b"")).decode()
        rows = csv.DictReader(io.StringIO(text.lstrip("# ")))
        return {
            (row["pxname"], row["svname"]): (row["status"], row["check_status"])
            for row in rows
            if row["svname"] not in ("FRONTEND", "BACKEND")
        }

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)
            self.process = None

    def log_text(self) -> str:
        path = self.folder / "haproxy.log"
        return path.read_text(errors="replace") if path.exists() else ""


class BoundIMAP(imaplib.IMAP4):
    """imaplib's client from a chosen local address."""

    def __init__(self, host: str, port: int, source: str) -> None:
        self.source = source
        super().__init__(host, port, timeout=30)

    def _create_socket(self, timeout: float | None) -> socket.socket:
        return socket.create_connection((self.host, self.port), timeout, source_address=(self.source, 0))


class BoundIMAP4SSL(imaplib.IMAP4_SSL):
    """imaplib's implicit-TLS client from a chosen local address."""

    def __init__(self, host: str, port: int, source: str, context: ssl.SSLContext) -> None:
        self.source = source
        super().__init__(host, port, ssl_context=context, timeout=30)

    def _create_socket(self, timeout: float | None) -> socket.socket:
        sock = socket.create_connection((self.host, self.port), timeout, source_address=(self.source, 0))
        return self.ssl_context.wrap_socket(sock, server_hostname=self.host)


def binary() -> str:
    return shutil.which("haproxy") or "/usr/sbin/haproxy"  # root's PATH has /usr/sbin; others' may not


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def configuration(balancer: Balancer, nodes: list[Node], check_interval: str = "1s") -> str:
    """The HAProxy configuration: one frontend and one backend per service, every node in each backend."""
    lines = [
        "global",
        f"    stats socket {balancer.stats_socket} mode 600 level admin",
        "    maxconn 2000",
        "defaults",
        "    mode tcp",
        "    timeout connect 5s",
        "    timeout client 30m",
        "    timeout server 30m",
        "    timeout check 5s",
        "    retries 3",
        "    option redispatch",  # a connection refused by a node that just died goes to another
        "    option httpchk",
        "    http-check send meth GET uri /healthz",
        "    http-check expect status 200",
    ]
    for service in SERVICES:
        lines += [
            f"frontend {service}",
            f"    bind 127.0.0.1:{balancer.ports[service]}",
            f"    default_backend {service}_nodes",
            f"backend {service}_nodes",
            "    balance leastconn",
        ]
        lines += [
            f"    server {node.name} {node.host}:{node.ports[service]} send-proxy-v2 check check-send-proxy"
            f" port {node.ports['http']} inter {check_interval} fall 1 rise 1 on-marked-down shutdown-sessions"
            for node in nodes
        ]
    return "\n".join(lines) + "\n"


def start(folder: Path, nodes: list[Node]) -> Balancer:
    """HAProxy in front of `nodes`, once every node is UP in every backend (its /healthz answered 200)."""
    folder.mkdir(parents=True, exist_ok=True)
    balancer = Balancer(folder, {service: free_port() for service in SERVICES})
    config = folder / "haproxy.cfg"
    config.write_text(configuration(balancer, nodes))
    with open(folder / "haproxy.log", "wb") as log:
        balancer.process = subprocess.Popen([binary(), "-db", "-f", str(config)], stdout=log, stderr=subprocess.STDOUT)
    process = balancer.process

    def all_up() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"haproxy exited with {process.returncode}:\n{balancer.log_text()}")
        if not balancer.stats_socket.exists():
            return False
        states = balancer.servers()
        return len(states) == len(SERVICES) * len(nodes) and all(
            status == "UP" and check == "L7OK" for status, check in states.values()
        )

    try:
        wait_for("haproxy to find every node UP", all_up, START_DEADLINE, detail=balancer.log_text)
    except BaseException:
        balancer.stop()
        raise
    return balancer


@contextlib.contextmanager
def running(folder: Path, nodes: list[Node]) -> Iterator[Balancer]:
    balancer = start(folder, nodes)
    try:
        yield balancer
    finally:
        balancer.stop()
