"""What a 250 after DATA reports is on disk before it leaves (docs/ARCHITECTURE.md, the durability contract),
seen with strace. Deliveries arriving at once are stored by one batch of the store writer (group commit): each
250 must still come after its file was fsynced, renamed into new/ and new/ fsynced, and after an fsync of the
index log begun once the message had arrived."""

from __future__ import annotations

import re
import smtplib
from pathlib import Path
from threading import Thread

import pytest

from tests.daemon import OWNER, USER, Daemon
from tests.tracing import SENDS, SYNCS, calls, log_calls, on_port, traced

pytestmark = pytest.mark.daemon(services=("smtp",))
TRACE = (
    "-tt",
    "-T",
    "-yy",
    "-s",
    "200",
    "-e",
    "trace=pwrite64,fsync,fdatasync,sendto,sendmsg,write,writev,recvfrom,read,rename",
)
MESSAGES = 5


def deliver(server: Daemon, recipient: str, ports: dict[str, int]) -> None:
    """MESSAGES messages to `recipient` over one session, one after another."""
    with smtplib.SMTP("127.0.0.1", server.ports["smtp"], timeout=60) as client:
        ports[recipient] = client.sock.getsockname()[1]
        client.ehlo("client.remote.example")
        for number in range(MESSAGES):
            data = f"From: a@remote.example\r\nSubject: durable {number}\r\n\r\nbody {number}\r\n".encode()
            assert client.sendmail("a@remote.example", [recipient], data) == {}


def test_sessions_delivering_at_once_get_each_250_after_its_fsyncs(server: Daemon, tmp_path: Path) -> None:
    assert server.process is not None
    ports: dict[str, int] = {}
    with traced(server.process.pid, tmp_path / "strace.log", *TRACE) as log:
        sessions = [Thread(target=deliver, args=(server, address, ports)) for address in (OWNER, USER)]
        for session in sessions:
            session.start()
        for session in sessions:
            session.join()
    trace = calls(log.read_text())
    _, log_syncs = log_calls(trace)
    for address in (OWNER, USER):
        new = server.maildir(address) / "new"
        delivered = [c for c in on_port(trace, ports[address], SENDS) if "250 2.0.0 Ok: delivered" in c.text]
        received = on_port(trace, ports[address], ("recvfrom", "read"))  # read: uvloop
        renames = [c for c in trace if c.name == "rename" and f', "{new}/' in c.text]
        assert len(delivered) == MESSAGES and len(renames) == MESSAGES  # the control: strace saw every message
        for ok, moved in zip(delivered, renames, strict=True):
            arrived = max(r.end for r in received if r.end <= ok.start)
            temporary = re.search(r'rename\("([^"]+)"', moved.text)
            assert temporary is not None
            file_syncs = [c for c in trace if c.name in SYNCS and f"<{temporary.group(1)}>" in c.text]
            folder_syncs = [c for c in trace if c.name in SYNCS and f"<{new}>" in c.text]
            assert arrived <= moved.start and moved.end <= ok.start, ok.text
            assert any(s.end <= moved.start for s in file_syncs), moved.text
            assert any(moved.end <= s.start and s.end <= ok.start for s in folder_syncs), ok.text
            assert any(arrived <= s.start and s.end <= ok.start for s in log_syncs), ok.text
