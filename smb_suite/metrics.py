"""Prometheus metrics (prometheus-client): the counters, gauges and histograms the daemon updates as it works.

One `Metrics` per process, in its own registry (nothing registered at import), reached through the services
container. Values that live in the database (queue depth and age, storage per tier) are not kept here: the
metrics listener computes them at each scrape (ops/metrics.py), so every worker and node reports the same.

With worker processes (`[server] workers` > 1) the supervisor starts each worker with PROMETHEUS_MULTIPROC_DIR
naming `multiprocess_dir`, so prometheus-client keeps every worker's values in files there, and the page (served
by worker 0) sums them (ops/metrics.py); gauges of live sessions sum the live workers ("livesum"), a dead
worker's are dropped by `worker_died`, which also counts the restart. The README lists every metric.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector, multiprocess

from smb_suite.config import Config

PREFIX = "smb_"
# Command latencies: from a fast NOOP (sub-millisecond) to a large message or mailbox (seconds).
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"})
MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"  # read by prometheus-client when a worker imports it
RESTARTS_FILE = "worker_restarts"


def multiprocess_dir(data_dir: Path) -> Path:
    return data_dir / "run" / "metrics"


def start_multiprocess(folder: Path) -> None:
    """The supervisor, before its first worker: an empty folder (values of a previous run would be summed)."""
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.iterdir():
        stale.unlink()


def worker_died(folder: Path, pid: int) -> None:
    """The supervisor, when a worker died: forget its live gauges, count one restart."""
    multiprocess.mark_process_dead(pid, str(folder))  # type: ignore[no-untyped-call]
    temporary = folder / f".{RESTARTS_FILE}.new"
    temporary.write_text(str(worker_restarts(folder) + 1))
    temporary.replace(folder / RESTARTS_FILE)


def worker_restarts(folder: Path) -> int:
    try:
        return int((folder / RESTARTS_FILE).read_text())
    except (OSError, ValueError):
        return 0


def shared(config: Config) -> bool:
    """True when worker processes keep their values in `multiprocess_dir` (the supervisor tells
    prometheus-client so through each worker's environment)."""
    return int(config.server.workers) > 1 and bool(config.listen.metrics)


class Metrics:
    def __init__(self) -> None:
        self.registry = registry = CollectorRegistry(auto_describe=True)
        ProcessCollector(registry=registry)  # process_cpu_seconds_total, process_resident_memory_bytes...
        self.received = Counter(
            f"{PREFIX}messages_received",
            "Messages accepted over SMTP (250 after DATA)",
            ["listener"],
            registry=registry,
        )
        self.delivered = Counter(
            f"{PREFIX}messages_delivered",
            "Message copies delivered: into a local mailbox (local) or accepted by the next server (remote)",
            ["destination"],
            registry=registry,
        )
        self.deferred = Counter(
            f"{PREFIX}messages_deferred",
            "Remote delivery attempts that failed temporarily (retried)",
            registry=registry,
        )
        self.bounced = Counter(
            f"{PREFIX}messages_bounced",
            "Recipients given up on (permanent failure or too long in the queue)",
            registry=registry,
        )
        self.sessions = Gauge(
            f"{PREFIX}sessions", "Open sessions", ["protocol"], registry=registry, multiprocess_mode="livesum"
        )
        self.sessions_opened = Counter(f"{PREFIX}sessions_opened", "Sessions opened", ["protocol"], registry=registry)
        self.sessions_refused = Counter(
            f"{PREFIX}sessions_refused", "Connections refused over a connection cap", ["protocol"], registry=registry
        )
        self.auth_failures = Counter(
            f"{PREFIX}auth_failures",
            "Failed logins (SMTP AUTH, IMAP, web): wrong user name or password",
            registry=registry,
        )
        self.auth_throttled = Counter(
            f"{PREFIX}auth_throttled",
            "Logins refused because the account or the client address is locked",
            registry=registry,
        )
        self.command_seconds = Histogram(
            f"{PREFIX}command_seconds",
            "Time from a command (SMTP, IMAP) or request (HTTP) to its reply",
            ["protocol", "command"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self._command_children: dict[tuple[str, str], Histogram] = {}
        self.certificate_failures = Counter(
            f"{PREFIX}certificate_failures",
            "Failed attempts to obtain or renew a certificate (ACME)",
            registry=registry,
        )

    def watch(self, protocol: str) -> SessionWatch:
        """What a listener's connection limits tell of its sessions (limits.ConnectionLimits)."""
        return SessionWatch(self, protocol)

    def observe(self, protocol: str, command: str, seconds: float) -> None:
        """Once per command or request: the histogram child is kept (prometheus' labels() validates the values
        and takes a lock at each call)."""
        key = (protocol, command)
        child = self._command_children.get(key)
        if child is None:
            child = self._command_children[key] = self.command_seconds.labels(protocol, command)
        child.observe(seconds)

    @contextmanager
    def timed(self, protocol: str, command: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.observe(protocol, command, time.perf_counter() - started)


class SessionWatch:
    """Sessions of one protocol: opened, open now, refused over a cap."""

    def __init__(self, metrics: Metrics, protocol: str) -> None:
        self._open = metrics.sessions.labels(protocol)
        self._opened = metrics.sessions_opened.labels(protocol)
        self._refused = metrics.sessions_refused.labels(protocol)

    def opened(self) -> None:
        self._opened.inc()
        self._open.inc()

    def closed(self) -> None:
        self._open.dec()

    def refused(self) -> None:
        self._refused.inc()
