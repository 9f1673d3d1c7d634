"""Several worker processes on one machine (`[server] workers`): one supervisor binds the listeners, every
worker serves every protocol, and what one worker changes the others' clients see at once.

Which worker serves a connection is the kernel's choice: a test that needs a connection on a given worker
stops the other workers (SIGSTOP) while it connects and reads the greeting, so the only worker that can accept
it is the one wanted, then lets them run again (SIGCONT). The supervisor logs each worker's pid
(`worker.started slot=N pid=P`).
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import smtplib
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.daemon import OWNER, USER, USER_PASSWORD, Daemon, make_daemon
from tests.dnsserver import DnsServer
from tests.imapwire import Wire, untagged
from tests.integration.test_imap import plain
from tests.mailtest import free_port, maildir, message, submit
from tests.polling import wait_for

pytestmark = pytest.mark.daemon(services=("smtp", "submission", "imap"), workers=2)

STARTED = re.compile(r"worker\.started slot=(\d+) pid=(\d+)")
PARTNER = "partner.test"
BOB = f"bob@{PARTNER}"
DEADLINE = 60.0


def workers(daemon: Daemon) -> dict[int, int]:
    """The pid of each slot's current worker, from the supervisor's log."""
    return {int(slot): int(pid) for slot, pid in STARTED.findall(daemon.log_text())}


@contextlib.contextmanager
def only(daemon: Daemon, slot: int) -> Iterator[int]:
    """While inside, only `slot`'s worker runs (the others are stopped): connections made now are its."""
    others = [pid for other, pid in workers(daemon).items() if other != slot]
    for pid in others:
        os.kill(pid, signal.SIGSTOP)
    try:
        yield workers(daemon)[slot]
    finally:
        for pid in others:
            os.kill(pid, signal.SIGCONT)


def idle_inbox(daemon: Daemon, slot: int) -> Wire:
    with only(daemon, slot):
        wire = Wire(daemon)
    wire.ok("SELECT INBOX")
    wire.send(b"i1 IDLE\r\n")
    assert wire.response().startswith(b"+"), "IDLE continuation"
    return wire


def inbound_on(daemon: Daemon, slot: int) -> smtplib.SMTP:
    with only(daemon, slot):
        client = smtplib.SMTP("127.0.0.1", daemon.ports["smtp"], timeout=30)  # the greeting is read here
    client.ehlo("client.remote.example")
    return client


def test_a_client_idling_on_one_worker_sees_mail_delivered_through_another(server: Daemon) -> None:
    wire = idle_inbox(server, 0)
    try:
        with inbound_on(server, 1) as client:
            assert client.sendmail("someone@remote.example", [OWNER], plain("across workers")) == {}
        assert wire.wait_for(b"EXISTS", DEADLINE)
        wire.send(b"DONE\r\n")
        wire.until(b"i1")
    finally:
        wire.close()


def test_an_expunge_on_one_worker_reaches_a_client_idling_on_another(server: Daemon) -> None:
    with only(server, 1):
        writer = Wire(server)
    try:
        writer.ok("CREATE Shared")
        writer.append("Shared", plain("doomed"))
        writer.append("Shared", plain("kept"))
        with only(server, 0):
            watcher = Wire(server)
        try:
            watcher.ok("SELECT Shared")
            watcher.send(b"i1 IDLE\r\n")
            assert watcher.response().startswith(b"+")
            writer.ok("SELECT Shared")
            writer.ok("STORE 1 +FLAGS (\\Deleted)")
            writer.ok("EXPUNGE")
            seen = watcher.wait_for(b"EXPUNGE", DEADLINE)
            assert b"* 1 EXPUNGE" in b"".join(seen)
            watcher.send(b"DONE\r\n")
            watcher.until(b"i1")
            assert untagged(watcher.ok("UID FETCH 1:* FLAGS"), b"FETCH")[0].startswith(b"* 1 FETCH")
        finally:
            watcher.close()
    finally:
        writer.close()


_MODSEQ = re.compile(rb"^\* (\d+) FETCH \(.*MODSEQ \((\d+)\)", re.M)


def shown(wire: Wire, heard: list[bytes]) -> dict[bytes, tuple[bytes, bytes]]:
    """UID -> (flags but \\Recent, which is each session's own, RFC 3501 2.3.2; MODSEQ) as the session shows it
    now: the last FETCH of each message (changes heard first, then UID FETCH's own answer). Adds to `heard`."""
    lines = wire.ok("UID FETCH 1:* (FLAGS MODSEQ)")
    heard += lines
    found = {}
    for line in untagged(lines, b"FETCH"):
        uid, flags, modseq = (re.search(p, line) for p in (rb"UID (\d+)", rb"FLAGS \(([^)]*)\)", rb"MODSEQ \((\d+)\)"))
        assert uid and flags and modseq, line
        found[uid[1]] = (b" ".join(f for f in flags[1].split() if f != b"\\Recent"), modseq[1])
    return found


def test_flags_modseqs_and_uids_stay_exact_when_two_workers_change_one_folder_at_once(server: Daemon) -> None:
    """Folder state across processes: a session on each worker pipelines STOREs and APPENDs into one folder. No
    session ever hears a message's MODSEQ go down (RFC 7162 3.2), no UID is given twice, and afterwards both
    workers show the same flags, mod-sequences and HIGHESTMODSEQ."""
    sessions = []
    for slot in (0, 1):
        with only(server, slot):
            sessions.append(Wire(server))
    try:
        sessions[0].ok("CREATE Both")
        for number in range(3):
            sessions[0].append("Both", plain(f"both {number}"))
        for wire in sessions:
            wire.ok("ENABLE CONDSTORE")
            wire.ok("SELECT Both")
        sent = []
        for number, wire in enumerate(sessions):  # all sent first: the two workers run them interleaved
            tags, commands = [], []
            for step in range(20):
                tags.append(wire.tag())
                if step % 5 == 4:
                    data = plain(f"appended {number} {step}")
                    commands.append(b"%b APPEND Both {%d+}\r\n%b\r\n" % (tags[-1], len(data), data))
                else:
                    commands.append(
                        b"%b STORE 1:3 %bFLAGS (k%d)\r\n" % (tags[-1], b"+-"[step % 2 : step % 2 + 1], number)
                    )
            wire.send(b"".join(commands))
            sent.append(tags)
        uids: list[bytes] = []
        heard: list[list[bytes]] = [[], []]
        for wire, tags, lines in zip(sessions, sent, heard, strict=True):
            for tag in tags:
                lines += wire.until(tag)
                uids += re.findall(rb"\[APPENDUID \d+ (\d+)\]", lines[-1])
        assert len(uids) == 8 and len(set(uids)) == 8, uids

        def alike() -> bool:  # both done: each worker comes to show every change (the other's over the bus)
            first, second = (shown(wire, lines) for wire, lines in zip(sessions, heard, strict=True))
            return len(first) == 11 and first == second

        wait_for("both workers to show the same folder", alike, DEADLINE)
        for lines in heard:
            last: dict[int, int] = {}
            for seq, value in _MODSEQ.findall(b"".join(lines)):
                assert int(value) >= last.get(int(seq), 0), f"MODSEQ of {seq} dropped {last[int(seq)]} -> {value}"
                last[int(seq)] = int(value)
        statuses = [untagged(wire.ok("STATUS Both (HIGHESTMODSEQ MESSAGES)"), b"STATUS") for wire in sessions]
        assert statuses[0] == statuses[1]
    finally:
        for wire in sessions:
            wire.close()


def test_the_quota_stays_exact_under_concurrent_appends_on_every_worker(server: Daemon) -> None:
    server.cli("user", "quota", USER, "1")  # 1 MiB for alice's mailbox
    body = plain("filler").replace(b"\r\n\r\n", b"\r\n\r\n" + b"x" * 60_000 + b"\r\n", 1)
    sessions = []
    for slot in (0, 1, 0, 1):
        with only(server, slot):
            sessions.append(Wire(server, user=USER, password=USER_PASSWORD))
    stored: list[int] = []

    def fill(wire: Wire) -> None:
        while True:
            lines = wire.command(f"APPEND INBOX {{{len(body)}+}}\r\n".encode() + body)
            if b" OK " not in lines[-1]:
                assert b"[OVERQUOTA]" in lines[-1], lines[-1]
                return
            stored.append(len(body))

    threads = [threading.Thread(target=fill, args=(wire,)) for wire in sessions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(DEADLINE)
    for wire in sessions:
        wire.close()
    engine = sa.create_engine(f"sqlite:///{server.folder / 'data' / 'smb-suite.db'}")
    try:
        with engine.connect() as conn:
            used, limit = conn.execute(
                sa.text("SELECT usage_bytes, quota_bytes FROM users WHERE local_part = :name"), {"name": "alice"}
            ).one()
    finally:
        engine.dispose()
    assert limit - len(body) < used <= limit  # full: not one more would fit, none went over
    assert sum(stored) <= used
    assert "usage matches the disk" in server.cli("quota", "check").stdout


def test_a_killed_worker_is_restarted_and_service_goes_on(fresh_daemon: Callable[..., Daemon]) -> None:
    daemon = fresh_daemon(services=("smtp", "imap"), workers=2)
    victim = workers(daemon)[0]
    os.kill(victim, signal.SIGKILL)
    wait_for("the supervisor to restart slot 0", lambda: workers(daemon)[0] != victim, DEADLINE)
    assert re.search(rf"worker\.died slot=0 pid={victim} status=-9", daemon.log_text())
    ready = f"worker.ready slot=0 pid={workers(daemon)[0]}"
    wait_for("the new worker to serve", lambda: ready in daemon.log_text(), DEADLINE)
    with only(daemon, 0), Wire(daemon) as wire:  # served by the new worker
        assert b"OK" in wire.greeting
        wire.ok("SELECT INBOX")
    with inbound_on(daemon, 0) as client:
        assert client.sendmail("someone@remote.example", [OWNER], plain("after restart")) == {}


def test_systemd_hears_one_ready_and_sigterm_stops_every_worker_and_exits_0(
    tmp_path: Path, quiet_dns: DnsServer
) -> None:
    daemon = make_daemon(tmp_path / "d", services=("smtp", "imap"), nameservers=(quiet_dns.address,), workers=2)
    address = str(tmp_path / "notify.sock")
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as notify:
            notify.bind(address)
            notify.settimeout(DEADLINE)
            daemon.start(env={"NOTIFY_SOCKET": address})
            assert notify.recv(100) == b"READY=1"
            log = daemon.log_text()
            assert all(-1 < log.find(f"worker.ready slot={slot} ") < log.index("supervisor.ready") for slot in (0, 1))
            pids = list(workers(daemon).values())
            assert len(pids) == 2
            assert daemon.stop() == 0
            assert notify.recv(100) == b"STOPPING=1"
            notify.setblocking(False)
            with pytest.raises(BlockingIOError):  # nothing from the workers: systemd sees one service
                notify.recv(100)
    finally:
        if daemon.process is not None:
            daemon.kill()
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


@pytest.fixture
def sink(tmp_path: Path, quiet_dns: DnsServer) -> Iterator[Daemon]:
    """B: a single-process daemon for partner.test on a fixed port, made but not started."""
    port = free_port()
    b = make_daemon(tmp_path / "b", services=("smtp",), ports={"smtp": port}, nameservers=(quiet_dns.address,))
    b.ports["smtp"] = port
    b.cli("domain", "add", PARTNER)
    b.cli("user", "add", BOB, "--password-stdin", stdin="bob-password-1\n")
    yield b
    if b.process is not None:
        b.kill()


@pytest.mark.timeout(300)  # two daemons start in the test (setup + call took 97 s alone, > 120 s at load 20)
def test_two_workers_send_each_queued_message_exactly_once(fresh_daemon: Callable[..., Daemon], sink: Daemon) -> None:
    route = '[outbound]\nsmarthost = "127.0.0.1:9"\nretry_schedule = ["1s"]\nscan_interval = "1s"\n'
    route += f'[outbound.routes]\n"{PARTNER}" = "127.0.0.1:{sink.ports["smtp"]}"\n'
    a = fresh_daemon(route, services=("submission",), workers=2)
    count = 30
    for n in range(count):  # B is down: every message waits, and both workers' scans find them all due
        submit(a, [BOB], message(f"once {n}", BOB))
    sink.start()
    wait_for(f"{count} messages at the sink", lambda: len(maildir(sink, BOB)) >= count, DEADLINE)
    wait_for("the queue to empty", lambda: "0 message(s) in the queue" in a.cli("queue", "list").stdout, DEADLINE)
    subjects = sorted(re.search(rb"Subject: (once \d+)", m)[1] for m in maildir(sink, BOB))  # type: ignore[index]
    assert subjects == sorted(f"once {n}".encode() for n in range(count))
