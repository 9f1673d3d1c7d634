"""The many-client mixed load of bench/imap.py: what mail apps do, from several processes at once.

Each client process owns one account (so its EXPUNGE and APPEND never meet another's) and loops over LOGIN,
LIST, STATUS, SELECT, FETCH of headers and of bodies, STORE, EXPUNGE, APPEND and LOGOUT; without the
LOGIN/LOGOUT part it logs in once and loops over the rest on one connection. Every cycle expunges the oldest
message and appends it again, so the folder keeps its size and the client knows what it holds (its model:
the same messages, rotated). Every answer is checked against the model (tagged OK, LIST count, STATUS and
EXISTS counts, RFC822.SIZE of each header FETCHed, octets of each body) before a number counts: a server that
answers wrongly stops the run with the reason.

Clients are plain blocking sockets, one process each, so the load generator costs less CPU than the servers
it drives (the run prints both).
"""

from __future__ import annotations

import multiprocessing
import os
import re
import resource
import socket
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FOLDERS = ("INBOX", "Sent", "Drafts", "Trash", "Junk", "Archive")  # what ours creates for a new user
SENT = 20  # messages in Sent, the folder STATUS asks about
HEADERS = 20  # newest messages whose headers each cycle FETCHes
HEADERS_ITEMS = b"(UID FLAGS RFC822.SIZE BODY.PEEK[HEADER.FIELDS (From To Cc Subject Date Message-ID)])"
_LITERAL = re.compile(rb"\{(\d+)\}\r\n$")
_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")
_MESSAGES = re.compile(rb"MESSAGES (\d+)")

# inherited by the forked clients: the messages every load account's INBOX starts with, and the barrier where
# they wait until every one is connected (and logged in, without logins) before the clock starts
_inbox: list[bytes] = []
_ready: Any = None


@dataclass(frozen=True)
class Account:
    user: str
    password: str


def accounts(count: int) -> list[Account]:
    return [Account(f"load{n}@example.test", f"load-password-{n}") for n in range(count)]


class WrongAnswer(RuntimeError):
    """A server answered something the model did not expect: no figure is reported."""


class MixClient:
    """One mail app: a blocking connection, tagged commands, every answer checked against the model."""

    def __init__(self, port: int, account: Account, rotation: int) -> None:
        self.port = port
        self.account = account
        self.model = _inbox[rotation:] + _inbox[:rotation]  # INBOX as the server holds it, by sequence number
        self.rotation = rotation
        self.tag = 0
        self.sock: socket.socket | None = None

    # -- the wire ------------------------------------------------------------------------------------------

    def connect(self) -> None:
        self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=120)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.file = self.sock.makefile("rb", buffering=1 << 16)
        if not self.file.readline().startswith(b"* OK"):
            raise WrongAnswer("no greeting")

    def close(self) -> None:
        if self.sock is not None:
            self.file.close()
            self.sock.close()
            self.sock = None

    def command(self, text: bytes) -> list[tuple[bytes, int]]:
        """Send one command; its untagged lines, each with the size of the literal that follows it (-1: none)."""
        assert self.sock is not None
        self.tag += 1
        tag = b"m%d " % self.tag
        self.sock.sendall(tag + text + b"\r\n")
        lines: list[tuple[bytes, int]] = []
        readline, read = self.file.readline, self.file.read
        while True:
            line = readline()
            if not line:
                raise WrongAnswer(f"connection closed during {text[:40]!r}")
            if line.startswith(tag):
                if line[len(tag) : len(tag) + 2] != b"OK":
                    raise WrongAnswer(f"{text[:40]!r}: {line[:200]!r}")
                return lines
            size = -1
            if line.endswith(b"}\r\n") and (match := _LITERAL.search(line)) is not None:
                size = int(match.group(1))
                if len(read(size)) != size:
                    raise WrongAnswer("literal cut short")
            lines.append((line, size))

    # -- the mix -------------------------------------------------------------------------------------------

    def login(self) -> None:
        self.connect()
        self.command(b'LOGIN %b "%b"' % (self.account.user.encode(), self.account.password.encode()))

    def logout(self) -> None:
        lines = self.command(b"LOGOUT")
        if not any(line.startswith(b"* BYE") for line, _ in lines):
            raise WrongAnswer("LOGOUT without BYE")
        self.close()

    def cycle(self) -> list[float]:
        """LIST, STATUS, SELECT, FETCH headers, FETCH bodies, STORE \\Seen, STORE \\Deleted, EXPUNGE, APPEND;
        the time each command finished."""
        done: list[float] = []
        now = time.monotonic
        count = len(self.model)
        listed = self.command(b'LIST "" "*"')
        if sum(line.startswith(b"* LIST ") for line, _ in listed) != len(FOLDERS):
            raise WrongAnswer(f"LIST gave {len(listed)} lines, not {len(FOLDERS)}")
        done.append(now())
        status = self.command(b"STATUS Sent (MESSAGES UIDNEXT UNSEEN)")
        found = [int(m.group(1)) for line, _ in status if (m := _MESSAGES.search(line))]
        if found != [SENT]:
            raise WrongAnswer(f"STATUS Sent says {found}, not {SENT} messages")
        done.append(now())
        selected = self.command(b"SELECT INBOX")
        if (b"* %d EXISTS\r\n" % count, -1) not in selected:
            raise WrongAnswer(f"SELECT did not say {count} EXISTS")
        done.append(now())
        first = count - HEADERS + 1
        headers = self.command(b"FETCH %d:* %b" % (first, HEADERS_ITEMS))
        sizes = [int(m.group(1)) for line, size in headers if size >= 0 and (m := _SIZE.search(line))]
        if sizes != [len(message) for message in self.model[first - 1 :]]:
            raise WrongAnswer(f"FETCH headers gave sizes {sizes[:5]}...")
        done.append(now())
        bodies = self.command(b"FETCH %d:%d BODY.PEEK[]" % (count - 1, count))
        if [size for _, size in bodies if size >= 0] != [len(message) for message in self.model[-2:]]:
            raise WrongAnswer("FETCH bodies gave the wrong octets")
        done.append(now())
        self.command(b"STORE %d +FLAGS (\\Seen)" % count)
        done.append(now())
        self.command(b"STORE 1 +FLAGS (\\Deleted)")
        done.append(now())
        if (b"* 1 EXPUNGE\r\n", -1) not in self.command(b"EXPUNGE"):
            raise WrongAnswer("EXPUNGE did not expunge message 1")
        oldest = self.model.pop(0)
        done.append(now())
        self.command(b"APPEND INBOX {%d+}\r\n%b" % (len(oldest), oldest))
        self.model.append(oldest)
        self.rotation = (self.rotation + 1) % len(_inbox)
        done.append(now())
        return done


@dataclass(frozen=True)
class Outcome:
    commands: int  # finished within the measured window
    rotation: int  # how far the INBOX has turned (the next run's model)
    cpu: float  # seconds of this client's CPU in the window
    logins: list[float]  # seconds each LOGIN took (with logins only)


def run_client(port: int, account: Account, rotation: int, logins: bool, seconds: float) -> Outcome:
    """One client process: once every client is ready, loop for `seconds` (at least one cycle); a cycle begun
    is finished, so the folder is left whole, but only commands finished in time count."""
    client = MixClient(port, account, rotation)
    if not logins:
        client.login()
    _ready.wait(timeout=300)
    cpu = _cpu()
    end = time.monotonic() + seconds
    counted, cycles, login_times = 0, 0, []
    while not cycles or time.monotonic() < end:
        cycles += 1
        if logins:
            began = time.monotonic()
            client.login()
            login_times.append(time.monotonic() - began)
            counted += time.monotonic() < end
        counted += sum(t < end for t in client.cycle())
        if logins:
            client.logout()
            counted += time.monotonic() < end
    cpu = _cpu() - cpu
    if not logins:
        client.logout()
    return Outcome(counted, client.rotation, cpu, login_times)


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def server_cpu(pids: list[int]) -> float:
    """CPU seconds of these processes and of their children that ended (cutime, cstime)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(value) for value in fields[11:15])  # utime stime cutime cstime
    return total / tick


class Mix:
    """The client processes (forked once, after the INBOX messages are set) and each account's rotation."""

    def __init__(self, inbox: list[bytes], clients: int) -> None:
        global _inbox, _ready
        context = multiprocessing.get_context("fork")
        _inbox, _ready = inbox, context.Barrier(clients + 1)
        self.accounts = accounts(clients)
        self.rotations: dict[tuple[str, str], int] = {}
        self.pool = context.Pool(clients)

    def close(self) -> None:
        self.pool.terminate()
        self.pool.join()

    def run(
        self, server: str, port: int, pids: Callable[[], list[int]], logins: bool, seconds: float
    ) -> tuple[float, float]:
        """Commands per second of every client together, and the median LOGIN time (0 without logins).
        `seconds` 0: one cycle each, to warm up."""
        jobs = [(port, a, self.rotations.get((server, a.user), 0), logins, seconds) for a in self.accounts]
        pending = self.pool.starmap_async(run_client, jobs, chunksize=1)  # one client per process (the barrier)
        _ready.wait(timeout=300)
        before = server_cpu(pids())
        time.sleep(seconds)
        used = server_cpu(pids()) - before
        outcomes: list[Outcome] = pending.get(timeout=seconds + 300)
        for account, outcome in zip(self.accounts, outcomes, strict=True):
            self.rotations[(server, account.user)] = outcome.rotation
        if not seconds:
            return 0.0, 0.0
        rate = sum(o.commands for o in outcomes) / seconds
        login_times = [t for o in outcomes for t in o.logins]
        print(
            f"  {server} mix {'with' if logins else 'without'} logins: {rate:.0f} cmd/s; CPU in {seconds:.0f} s: "
            f"server {used:.1f} s, clients {sum(o.cpu for o in outcomes):.1f} s",
            file=sys.stderr,
            flush=True,
        )
        return rate, statistics.median(login_times) if login_times else 0.0
