"""The daemon's life cycle: durable acknowledgements, clean stops, systemd readiness."""

from __future__ import annotations

import imaplib
import smtplib
import socket
from collections.abc import Callable
from pathlib import Path

from tests.daemon import USER, USER_PASSWORD, Daemon

MESSAGE = b"From: a@remote.example\r\nSubject: durable\r\n\r\nMust survive kill -9.\r\n"


def inbox_bodies(daemon: Daemon) -> list[bytes]:
    with imaplib.IMAP4("127.0.0.1", daemon.ports["imap"]) as client:
        client.login(USER, USER_PASSWORD)
        client.select("INBOX", readonly=True)
        _, data = client.fetch("1:*", "(BODY.PEEK[])")
    return [item[1] for item in data if isinstance(item, tuple)]


def test_message_acknowledged_with_250_survives_kill_9(fresh_daemon: Callable[..., Daemon]) -> None:
    daemon = fresh_daemon()
    with smtplib.SMTP("127.0.0.1", daemon.ports["smtp"], timeout=30) as client:
        client.ehlo("remote.example")
        client.mail("a@remote.example")
        client.rcpt(USER)
        code, _ = client.data(MESSAGE)
        assert code == 250
        daemon.kill()
    daemon.start()
    bodies = inbox_bodies(daemon)
    assert len(bodies) == 1 and bodies[0].endswith(MESSAGE)


def test_sigterm_finishes_the_transaction_in_flight_then_exits_0(fresh_daemon: Callable[..., Daemon]) -> None:
    daemon = fresh_daemon()
    client = smtplib.SMTP("127.0.0.1", daemon.ports["smtp"], timeout=30)
    client.ehlo("remote.example")
    client.mail("a@remote.example")
    client.rcpt(USER)
    assert daemon.process is not None
    daemon.process.terminate()
    code, _ = client.data(MESSAGE)
    client.close()
    assert code == 250
    assert daemon.process.wait(timeout=30) == 0
    daemon.process = None
    assert "daemon.stopped" in daemon.log_text()
    daemon.start()
    assert len(inbox_bodies(daemon)) == 1


def test_daemon_tells_systemd_it_is_ready(fresh_daemon: Callable[..., Daemon], tmp_path: Path) -> None:
    daemon = fresh_daemon()
    daemon.stop()
    address = str(tmp_path / "notify.sock")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as notify:
        notify.bind(address)
        notify.settimeout(60)
        daemon.start(env={"NOTIFY_SOCKET": address})
        assert notify.recv(100) == b"READY=1"
        daemon.stop()
        assert notify.recv(100) == b"STOPPING=1"


def test_every_service_logs_one_listening_line(daemon: Daemon) -> None:
    assert set(daemon.ports) == {"smtp", "submission", "submissions", "imap", "imaps", "http", "https"}
