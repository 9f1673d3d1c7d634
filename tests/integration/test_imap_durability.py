"""What an IMAP OK reports is on disk before the OK leaves (docs/ARCHITECTURE.md, the durability contract), seen
with strace. The store writer commits writes in batches and fsyncs the index log once per batch (group commit):
alone, a session's OK comes after an fsync of everything written to the log before it; with sessions writing
at once, each command's OK after a log fsync begun once the command arrived, and, for APPEND, after its message
file was fsynced, renamed into new/ and new/ fsynced."""

from __future__ import annotations

import re
from pathlib import Path
from threading import Thread

import pytest

from tests.daemon import OWNER, USER, USER_PASSWORD, Daemon
from tests.imapwire import Wire
from tests.tracing import SENDS, Call, calls, log_calls, on_port, traced

pytestmark = pytest.mark.daemon(services=("imap",))
CALLS = "pwrite64,fsync,fdatasync,sendto,sendmsg,write,writev,recvfrom,rename"
TRACE = ("-tt", "-T", "-yy", "-s", "4000", "-e", f"trace={CALLS}")


def message(number: int) -> bytes:
    return f"From: a@remote.example\r\nSubject: durable {number}\r\n\r\nbody {number}\r\n".encode()


def session_writes(wire: Wire, rounds: int) -> None:
    """APPEND, STORE, EXPUNGE in turn: each OK must come after its own fsyncs."""
    wire.ok("SELECT INBOX")
    for number in range(rounds):
        data = message(number)
        wire.ok(b"APPEND INBOX {%d+}\r\n%b" % (len(data), data))
        wire.ok("STORE 1 +FLAGS (\\Flagged)")
        wire.ok("STORE 1 +FLAGS (\\Deleted)")
        wire.ok("EXPUNGE")


def on_connection(trace: list[Call], wire: Wire, names: tuple[str, ...]) -> list[Call]:
    """The server's calls `names` on this client's connection."""
    return on_port(trace, wire.sock.getsockname()[1], names)


def oks(trace: list[Call], wire: Wire) -> list[Call]:
    return [c for c in on_connection(trace, wire, SENDS) if re.search(r"w\d+ OK", c.text)]


def test_alone_an_ok_leaves_after_everything_written_before_it_is_fsynced(server: Daemon, tmp_path: Path) -> None:
    assert server.process is not None
    with Wire(server) as owner:
        with traced(server.process.pid, tmp_path / "strace.log", *TRACE) as log:
            session_writes(owner, 3)
        trace = calls(log.read_text())
        answered = oks(trace, owner)
    log_writes, log_syncs = log_calls(trace)
    assert len(answered) == 13 and log_writes and log_syncs  # the control: strace saw the commands and commits
    for ok in answered:
        written = [w.end for w in log_writes if w.start < ok.start]
        assert not written or any(s.start >= max(written) and s.end <= ok.start for s in log_syncs), ok.text


def test_sessions_writing_at_once_get_each_ok_after_its_fsyncs(server: Daemon, tmp_path: Path) -> None:
    assert server.process is not None
    with Wire(server) as owner, Wire(server, user=USER, password=USER_PASSWORD) as user:
        with traced(server.process.pid, tmp_path / "strace.log", *TRACE) as log:
            other = Thread(target=session_writes, args=(user, 5))
            other.start()
            session_writes(owner, 5)
            other.join()
        trace = calls(log.read_text())
        sessions = [(owner, server.maildir(OWNER)), (user, server.maildir(USER))]
        answers = [(oks(trace, wire), on_connection(trace, wire, ("recvfrom",)), maildir) for wire, maildir in sessions]
    _, log_syncs = log_calls(trace)
    for answered, received, maildir in answers:
        assert len(answered) == 21
        for ok in answered[1:]:  # after SELECT, each command writes: a log fsync begun after it arrived
            arrived = max(r.end for r in received if r.end <= ok.start)
            assert any(arrived <= s.start and s.end <= ok.start for s in log_syncs), ok.text
        renames = [c for c in trace if c.name == "rename" and f', "{maildir}/new/' in c.text]
        appended = [ok for ok in answered if "APPENDUID" in ok.text]
        assert len(appended) == 5 and len(renames) == 5
        for ok, moved in zip(appended, renames, strict=True):
            assert moved.end <= ok.start, ok.text
            temporary = re.search(r'rename\("([^"]+)"', moved.text)
            assert temporary is not None
            file_syncs = [c for c in trace if c.name == "fsync" and f"<{temporary.group(1)}>" in c.text]
            folder_syncs = [c for c in trace if c.name == "fsync" and f"<{maildir}/new>" in c.text]
            assert any(s.end <= moved.start for s in file_syncs), moved.text
            assert any(moved.end <= s.start and s.end <= ok.start for s in folder_syncs), ok.text
