"""Watching a running daemon's system calls with strace (Debian's strace): attach, wait until every thread is
traced, read what it did. Shows what no client can: which files SELECT opens, whether an OK left before the
fsyncs that make it true."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.polling import wait_for


def wait_until_traced(pid: int, deadline: float = 30.0) -> None:
    """Until strace has attached to every thread of the process (each one's TracerPid is set)."""
    wait_for("strace to attach", lambda: all(_traced(task) for task in Path(f"/proc/{pid}/task").iterdir()), deadline)


def _traced(task: Path) -> bool:
    try:
        return re.search(r"^TracerPid:\s+[1-9]", (task / "status").read_text(), re.M) is not None
    except FileNotFoundError:  # the thread ended meanwhile
        return True


@contextmanager
def traced(pid: int, log: Path, *options: str) -> Iterator[Path]:
    """strace -f on every thread of `pid` while the block runs, writing to `log`."""
    command = ["strace", "-f", "-qq", *options, "-o", str(log), "-p", str(pid)]
    tracer = subprocess.Popen(command, stderr=subprocess.DEVNULL)
    try:
        wait_until_traced(pid)
        yield log
    finally:
        tracer.terminate()
        tracer.wait(timeout=30)


@dataclass(frozen=True)
class Call:
    """One finished system call: when it began and ended (seconds of the day), its name and its text."""

    start: float
    end: float
    name: str
    text: str


_LINE = re.compile(r"^(\d+) +(\d+):(\d+):(\d+\.\d+) (.*)$")
_DURATION = re.compile(r" <(\d+\.\d+)>$")


def calls(trace: str) -> list[Call]:
    """The calls of an `strace -f -tt -T -y` log, joining the halves of calls other threads interrupted."""
    found: list[Call] = []
    begun: dict[str, tuple[float, str]] = {}
    for line in trace.splitlines():
        match = _LINE.match(line)
        if match is None:
            continue
        pid, hours, minutes, seconds, rest = match.groups()
        at = int(hours) * 3600 + int(minutes) * 60 + float(seconds)
        if rest.endswith("<unfinished ...>"):
            begun[pid] = (at, rest.removesuffix("<unfinished ...>"))
            continue
        if rest.startswith("<... "):
            start, head = begun.pop(pid, (at, ""))
            name = rest[5:].split(" ", 1)[0]
            found.append(Call(start, at, name, head + rest))
            continue
        duration = _DURATION.search(rest)
        name = rest.split("(", 1)[0]
        found.append(Call(at, at + (float(duration.group(1)) if duration else 0.0), name, rest))
    return found


SENDS = ("sendto", "sendmsg", "write", "writev")  # how a server's reply may leave
SYNCS = ("fsync", "fdatasync")


def on_port(trace: list[Call], port: int, names: tuple[str, ...]) -> list[Call]:
    """The calls `names` on the connection whose other end is `port` (strace -yy shows both ends)."""
    end = f":{port}]>"
    return [c for c in trace if c.name in names and end in c.text.split(",", 1)[0]]


def log_calls(trace: list[Call]) -> tuple[list[Call], list[Call]]:
    """Writes to SQLite's write-ahead log, and its fsyncs."""
    writes = [c for c in trace if c.name == "pwrite64" and "-wal>" in c.text]
    return writes, [c for c in trace if c.name in SYNCS and "-wal>" in c.text]
