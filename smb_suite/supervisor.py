"""The supervisor of worker processes (`[server] workers` > 1): every core serves every protocol.

It binds every listener once, brings the index and the Maildirs in line (`start_serving`: the repairs must never
run beside a serving process, which would take another worker's or node's mail in flight for debris), then
starts N workers. Each is a fresh interpreter (`python -m smb_suite.daemon`) that inherits the listening
sockets (`pass_fds`) and reads its plan (configuration, which descriptor is which listener) from its stdin; the
kernel hands each connection to whichever worker accepts it first. Why spawn rather than fork after bind: a
restarted worker is forked from a process that runs an event loop and threads (the relay, the database), which
fork does not copy safely; a fresh interpreter starts clean every time, at the price of ~1 s of imports per
worker start.

Each worker also gets one end of a socket pair to the supervisor's change relay (storage/bus.py) and a pipe on
which it says it is ready. The supervisor sends READY=1 to systemd once every worker said so, restarts a
worker that dies (logged, its queue claims released so its mail is sent again at once), and on SIGTERM or
SIGINT passes SIGTERM to every worker, waits for them to drain, and exits 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import pickle
import secrets
import signal
import socket
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from smb_suite import limits, log, metrics
from smb_suite.config import Config, parse_listen_address
from smb_suite.queue.spool import claimant
from smb_suite.services import Services, open_services, start_serving
from smb_suite.storage.bus import Relay

logger = logging.getLogger("smb_suite.supervisor")
LISTENERS = ("smtp", "submission", "submissions", "imap", "imaps", "http", "https")
RESTART_DELAYS = (0.1, 0.5, 1.0, 2.0, 5.0)  # a worker dying again and again is restarted ever more slowly
STEADY_SECONDS = 30.0  # a worker that ran this long before dying is restarted at once again
STOP_MARGIN = 5.0  # past its drain, a worker gets this long to exit before it is killed


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP: asyncio sets TCP_NODELAY only on sockets that say they are TCP; without it, Nagle
    # plus delayed ACKs hold every keep-alive response back ~40 ms.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(limits.LISTEN_BACKLOG)
    sock.set_inheritable(True)
    # Non-blocking for every process that shares it: twisted's accept loop on an adopted socket would block on a
    # blocking one (and the loop with it) once the queue is empty, or when another worker took the connection.
    sock.setblocking(False)
    return sock


def bind_listeners(config: Config) -> dict[str, socket.socket]:
    """Every enabled listener of `[listen]`, bound and listening, by service name."""
    bound: dict[str, socket.socket] = {}
    try:
        for name in LISTENERS:
            address = parse_listen_address(getattr(config.listen, name))
            if address is not None:
                bound[name] = bind(*address)
    except OSError:
        for sock in bound.values():
            sock.close()
        raise
    return bound


@dataclass
class WorkerPlan:
    """What a worker reads from its stdin: everything it needs but its inherited descriptors' objects."""

    config: Config
    slot: int  # 0 runs the once-per-server chores (daily usage records, domain verification)
    listeners: dict[str, int]  # service name -> inherited listening socket's descriptor
    bus: int  # its end of the socket pair to the change relay
    ready: int  # write end of the pipe on which it says it serves
    credential_key: bytes  # the verified-credential cache's key, the same in every worker (auth/credentials.py)


def read_plan() -> WorkerPlan:
    plan = pickle.load(sys.stdin.buffer)
    if not isinstance(plan, WorkerPlan):
        raise SystemExit("smb-suite worker: no plan on stdin (workers are started by `smb-suite serve`)")
    return plan


@dataclass
class _Worker:
    slot: int
    process: asyncio.subprocess.Process
    started_at: float
    ready: asyncio.Future[bool]


class Supervisor:
    def __init__(
        self,
        config: Config,
        notify: Callable[[bytes], None],
        connection_help: Callable[[dict[str, tuple[str, int]]], str],
        drain_seconds: float,
    ) -> None:
        self.config = config
        self.count = int(config.server.workers)
        self._drain_seconds = drain_seconds
        self._notify = notify
        self._help = connection_help
        self._sockets: dict[str, socket.socket] = {}
        self._relay = Relay()
        self._workers: dict[int, _Worker] = {}  # by slot
        self._watchers: set[asyncio.Task[None]] = set()
        self._stopping = False
        self._failed: int | None = None  # exit code of a worker that died before the first READY
        self._served = False  # every worker said ready once (READY=1 sent)
        self._services: Services | None = None
        self._credential_key = secrets.token_bytes(32)
        # with a metrics listener, the workers keep their values in files there (metrics.py)
        self._metrics_dir = metrics.multiprocess_dir(config.server.data_dir) if metrics.shared(config) else None

    @property
    def ports(self) -> dict[str, tuple[str, int]]:
        return {name: sock.getsockname()[:2] for name, sock in self._sockets.items()}

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        self._sockets = bind_listeners(self.config)
        for name, (host, port) in self.ports.items():
            log.event(logger, "listening", service=name, address=f"{host}:{port}")
        self._services = services = open_services(self.config)
        if self._metrics_dir is not None:
            metrics.start_multiprocess(self._metrics_dir)
        try:
            await start_serving(services)
            for slot in range(self.count):
                await self._start(slot)
            first = asyncio.gather(*(worker.ready for worker in self._workers.values()))
            stopped = asyncio.ensure_future(stop.wait())
            either: list[asyncio.Future[Any]] = [first, stopped]
            await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
            if first.done() and all(first.result()):
                self._served = True
                log.event(logger, "supervisor.ready", workers=self.count)
                self._notify(b"READY=1")
                print(self._help(self.ports), flush=True)
                await stopped
            else:
                first.cancel()
                self._failed = self._failed if self._failed is not None else 1
            log.event(logger, "daemon.stopping")
            self._notify(b"STOPPING=1")
            await self._stop_all()
        finally:
            for sock in self._sockets.values():
                sock.close()
            await self._relay.close()
            services.close()
        log.event(logger, "daemon.stopped")
        return 0 if self._failed is None else self._failed

    async def _start(self, slot: int, failures: int = 0) -> None:
        ours, theirs = socket.socketpair()
        ready_read, ready_write = os.pipe()
        plan = WorkerPlan(
            self.config,
            slot,
            {name: sock.fileno() for name, sock in self._sockets.items()},
            theirs.fileno(),
            ready_write,
            self._credential_key,
        )
        env = {key: value for key, value in os.environ.items() if key != "NOTIFY_SOCKET"}  # READY=1 is ours
        if self._metrics_dir is not None:
            env[metrics.MULTIPROCESS_ENV] = str(self._metrics_dir)
        try:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "smb_suite.daemon",
                stdin=asyncio.subprocess.PIPE,
                pass_fds=[*plan.listeners.values(), plan.bus, plan.ready],
                env=env,
            )
        finally:
            theirs.close()
            os.close(ready_write)
        assert process.stdin is not None
        process.stdin.write(pickle.dumps(plan))
        with contextlib.suppress(ConnectionError):
            await process.stdin.drain()
        process.stdin.close()
        await self._relay.attach(process.pid, ours)
        loop = asyncio.get_running_loop()
        ready = asyncio.ensure_future(loop.run_in_executor(None, _wait_ready, ready_read))
        ready.add_done_callback(functools.partial(_log_ready, slot, process.pid))
        worker = _Worker(slot, process, loop.time(), ready)
        self._workers[slot] = worker
        log.event(logger, "worker.started", slot=slot, pid=process.pid)
        watcher = asyncio.create_task(self._watch(worker, failures), name=f"worker-{slot}")
        self._watchers.add(watcher)
        watcher.add_done_callback(self._watchers.discard)

    async def _watch(self, worker: _Worker, failures: int) -> None:
        """Restart the worker when it dies (unless we are stopping); `failures`: quick deaths in a row."""
        code = await worker.process.wait()
        await self._relay.detach(worker.process.pid)
        if self._stopping:
            return
        log.event(logger, "worker.died", slot=worker.slot, pid=worker.process.pid, status=code)
        if self._metrics_dir is not None:
            await asyncio.to_thread(metrics.worker_died, self._metrics_dir, worker.process.pid)
        if self._services is not None:
            released = await self._services.runner.write(
                self._services.queue.release_claims, claimant(worker.process.pid)
            )
            if released:
                log.event(logger, "queue.claims_released", pid=worker.process.pid, messages=released)
        if not self._served:  # it never served: a configuration or start problem, not a crash to restart
            self._failed = code or 1
            return
        loop = asyncio.get_running_loop()
        steady = loop.time() - worker.started_at >= STEADY_SECONDS
        failures = 0 if steady else failures + 1
        await asyncio.sleep(RESTART_DELAYS[min(failures, len(RESTART_DELAYS) - 1)] if failures else 0)
        if not self._stopping:
            await self._start(worker.slot, failures)

    async def _stop_all(self) -> None:
        """SIGTERM to every worker, then wait for each to drain (a worker stuck past the drain is killed)."""
        self._stopping = True
        for watcher in list(self._watchers):
            watcher.cancel()
        workers = list(self._workers.values())
        for worker in workers:
            with contextlib.suppress(ProcessLookupError):
                worker.process.send_signal(signal.SIGTERM)
        for worker in workers:
            try:
                await asyncio.wait_for(worker.process.wait(), self._drain_seconds + STOP_MARGIN)
            except TimeoutError:
                log.event(logger, "worker.killed", slot=worker.slot, pid=worker.process.pid)
                with contextlib.suppress(ProcessLookupError):
                    worker.process.kill()
                await worker.process.wait()


def _log_ready(slot: int, pid: int, ready: asyncio.Future[bool]) -> None:
    if not ready.cancelled() and ready.exception() is None and ready.result():
        log.event(logger, "worker.ready", slot=slot, pid=pid)


def _wait_ready(fd: int) -> bool:
    """In a thread: True when the worker wrote its ready byte, False when it died first (end of file)."""
    try:
        return os.read(fd, 1) == b"r"
    finally:
        os.close(fd)
