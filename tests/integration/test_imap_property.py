"""Two sessions on one folder, random APPEND/STORE/EXPUNGE/UID EXPUNGE/MOVE from either: UIDs, flags and counts
always agree with a simple model, and each session's own picture, kept only from the untagged responses it
was sent (EXISTS, EXPUNGE, FETCH), matches the folder after a NOOP; no message is \\Recent in both."""

from __future__ import annotations

import re
import secrets

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from tests.daemon import Daemon
from tests.imapwire import Wire, code, untagged
from tests.integration.test_imap import plain

FLAGS = ["\\Seen", "\\Flagged", "\\Deleted", "$Work"]
_FETCH = re.compile(rb"\* (\d+) FETCH \((.*)\)\r\n$", re.S)


pytestmark = pytest.mark.daemon(services=("smtp", "imap"))


class Picture:
    """What one session knows, only from what the server told it."""

    def __init__(self, wire: Wire, folder: str) -> None:
        self.wire = wire
        self.uids: list[int | None] = []  # by sequence number; None: announced by EXISTS, UID not yet seen
        self.flags: dict[int, set[str]] = {}
        self.recent: set[int] = set()  # UIDs this session was shown as \Recent
        self.learn(wire.ok(f"SELECT {folder}"))

    def learn(self, lines: list[bytes]) -> None:
        for line in lines:
            words = line.split(b" ")
            if words[0] != b"*" or not words[1].isdigit():
                continue
            number = int(words[1])
            if words[2].startswith(b"EXISTS"):
                assert number >= len(self.uids), f"EXISTS {number} shrank from {len(self.uids)}"
                self.uids.extend([None] * (number - len(self.uids)))
            elif words[2].startswith(b"EXPUNGE"):
                uid = self.uids.pop(number - 1)
                self.flags.pop(uid or -1, None)
            elif words[2] == b"FETCH":
                self._fetched(number, line)

    def _fetched(self, number: int, line: bytes) -> None:
        match = _FETCH.match(line)
        assert match is not None, line
        items = match.group(2)
        uid = re.search(rb"UID (\d+)", items)
        if uid is not None:
            known = self.uids[number - 1]
            assert known in (None, int(uid.group(1))), f"seq {number} was UID {known}, now {uid.group(1)!r}"
            self.uids[number - 1] = int(uid.group(1))
        flags = re.search(rb"FLAGS \(([^)]*)\)", items)
        target = self.uids[number - 1]
        if flags is not None and target is not None:
            self.flags[target] = set(flags.group(1).decode().split())
            if "\\Recent" in self.flags[target]:
                self.flags[target].remove("\\Recent")
                self.recent.add(target)

    def run(self, command: str | bytes) -> list[bytes]:
        lines = self.wire.command(command)
        self.learn(lines)
        return lines


class TwoSessions(RuleBasedStateMachine):
    server: Daemon

    @initialize()
    def open(self) -> None:
        self.folder = f"M{secrets.token_hex(4)}"
        self.other = f"{self.folder}-moved"
        self.model: dict[int, set[str]] = {}  # UID -> flags
        self.moved = 0
        self.sessions: list[Picture] = []
        setup = Wire(self.server)
        setup.ok(f"CREATE {self.folder}")
        setup.ok(f"CREATE {self.other}")
        setup.close()
        self.sessions = [Picture(Wire(self.server), self.folder) for _ in range(2)]

    def teardown(self) -> None:
        for session in self.sessions:
            session.wire.close()

    def uid_of(self, index: int) -> int | None:
        uids = sorted(self.model)
        return uids[index % len(uids)] if uids else None

    @rule(who=st.integers(0, 1), flags=st.sets(st.sampled_from(FLAGS)))
    def append(self, who: int, flags: set[str]) -> None:
        session = self.sessions[who]
        message = plain(f"m{secrets.token_hex(3)}")
        lines = session.run(
            b"APPEND %s (%s) {%d+}\r\n%s" % (self.folder.encode(), " ".join(flags).encode(), len(message), message)
        )
        uid = int(code(lines[-1]).split()[2])
        assert all(uid > known for known in self.model), "UIDs must only go up"
        self.model[uid] = set(flags)

    @rule(
        who=st.integers(0, 1),
        index=st.integers(0, 50),
        mode=st.sampled_from(["+", "-", ""]),
        flags=st.sets(st.sampled_from(FLAGS)),
        silent=st.booleans(),
    )
    def store(self, who: int, index: int, mode: str, flags: set[str], silent: bool) -> None:
        uid = self.uid_of(index)
        if uid is None:
            return
        suffix = ".SILENT" if silent else ""
        self.sessions[who].run(f"UID STORE {uid} {mode}FLAGS{suffix} ({' '.join(flags)})")
        current = self.model[uid]
        self.model[uid] = current | flags if mode == "+" else current - flags if mode == "-" else set(flags)

    @rule(who=st.integers(0, 1))
    def expunge(self, who: int) -> None:
        self.sessions[who].run("EXPUNGE")
        self.model = {uid: flags for uid, flags in self.model.items() if "\\Deleted" not in flags}

    @rule(who=st.integers(0, 1), index=st.integers(0, 50))
    def uid_expunge(self, who: int, index: int) -> None:
        uid = self.uid_of(index)
        if uid is None:
            return
        self.sessions[who].run(f"UID EXPUNGE {uid}")
        if "\\Deleted" in self.model[uid]:
            del self.model[uid]

    @rule(who=st.integers(0, 1), index=st.integers(0, 50))
    def move(self, who: int, index: int) -> None:
        uid = self.uid_of(index)
        if uid is None:
            return
        self.sessions[who].run(f"UID MOVE {uid} {self.other}")
        del self.model[uid]
        self.moved += 1

    @invariant()
    def both_sessions_agree_with_the_model(self) -> None:
        if not self.sessions:
            return
        for session in self.sessions:
            session.run("NOOP")
            assert len(session.uids) == len(self.model), (session.uids, self.model)
            lines = session.run("FETCH 1:* (UID FLAGS)")
            assert session.uids == sorted(self.model)
            assert session.flags == self.model
            assert len(untagged(lines, b"FETCH")) == len(self.model)
        assert not self.sessions[0].recent & self.sessions[1].recent, "\\Recent in one session only (RFC 3501 2.3.2)"
        status = self.sessions[0].wire.ok(f"STATUS {self.other} (MESSAGES)")[0]
        assert b"MESSAGES %d" % self.moved in status


def test_two_sessions_keep_uids_flags_and_counts_consistent(server: Daemon) -> None:
    TwoSessions.server = server
    run_state_machine_as_test(
        TwoSessions,
        settings=settings(
            max_examples=25, stateful_step_count=12, deadline=None, suppress_health_check=list(HealthCheck)
        ),
    )
