"""Composition root: one asyncio loop runs aiosmtpd, twisted's IMAP server and uvicorn.

The asyncio reactor is installed inside the running coroutine, before anything imports twisted's reactor
(why, and twisted's other traps: the package docstring of smb_suite/imap), and only in a process that serves
IMAP; signals are ours (not uvicorn's, whose capture would re-raise SIGTERM before SMTP and IMAP drain, not
twisted's), so SIGTERM drains every service and exits 0.

`serve` runs that loop in this process when `[server] workers` is 1; otherwise supervisor.py binds the
listeners and starts that many workers, each this module run as `python -m smb_suite.daemon` (`worker_main`):
the same `Daemon` on the inherited sockets, its changes on the supervisor's relay (storage/bus.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import signal
import socket
import ssl
import sys
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import uvicorn
import uvloop

from smb_suite import limits, log, tls
from smb_suite.config import Config, parse_listen_address
from smb_suite.ops import certificates, imports, tiers, verification
from smb_suite.queue.routes import MxResolver, Router, SharedResolver
from smb_suite.queue.runner import QueueRunner
from smb_suite.services import Services, open_services, start_serving
from smb_suite.smtp import server as smtp_server
from smb_suite.storage import database
from smb_suite.storage.bus import Change, ChangeBus, ChangeKind, PipeBus
from smb_suite.storage.changes import ChangeHub
from smb_suite.supervisor import Supervisor, WorkerPlan, bind, bind_listeners, read_plan

logger = logging.getLogger("smb_suite.daemon")
DRAIN_SECONDS = 10.0
USAGE_RECORD_SECONDS = 3600.0


class _QuietServer(uvicorn.Server):
    """uvicorn without its own signal capture, which would kill the process before SMTP/IMAP drain."""

    def capture_signals(self) -> contextlib.AbstractContextManager[None]:  # type: ignore[override]
        return contextlib.nullcontext()


def _notify_systemd(message: bytes) -> None:
    """sd_notify(3): tell systemd (Type=notify) we are ready or stopping; a no-op outside systemd."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return
    if address.startswith("@"):
        address = "\0" + address[1:]
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.connect(address)
        sock.sendall(message)


@dataclass
class Daemon:
    config: Config
    resolver: MxResolver | None = None  # DNS for MX lookups; None: the services' resolver ([dns] nameservers)
    services: Services | None = None
    plan: WorkerPlan | None = None  # a worker of the supervisor's: its inherited listeners, relay and slot
    ports: dict[str, tuple[str, int]] = field(default_factory=dict)
    _sockets: dict[str, socket.socket] = field(default_factory=dict)
    _closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)

        self.services = services = open_services(self.config)
        services.store.changes.loop = loop
        if self.plan is None:  # alone: ours to bind and to reconcile (the supervisor did both for its workers)
            self._sockets = bind_listeners(self.config)
            await start_serving(services)
        else:
            self._sockets = {name: socket.socket(fileno=fd) for name, fd in self.plan.listeners.items()}
        await self._join_change_bus(services, stop)
        self._start_queue(services)

        acme = tls.CertificateIndex(self.config.acme_dir) if self.config.acme.directory else None
        finder = tls.CertificateFinder(self.config.site_certificates_dir, acme)
        sni = tls.SniContexts(self.config.certificate_path, self.config.key_path, finder)
        if self.plan is None or self.plan.slot == 0:  # once per server, not once per worker
            await self._start_metrics(services)
        await self._start_web(services, sni.default)  # first, so closed after SMTP and IMAP drain (/healthz)
        await self._start_smtp(services, sni.default)
        self._start_imap(services, sni.default, finder)
        if self.plan is None or self.plan.slot == 0:  # once per server, not once per worker
            if acme is not None:
                renewals = asyncio.create_task(certificates.run_periodically(services))
                self._closers.append(functools.partial(_cancel, renewals))
            usage_recorder = asyncio.create_task(self._record_usage_daily(services))
            self._closers.append(functools.partial(_cancel, usage_recorder))
            verifier = asyncio.create_task(verification.run_periodically(services))
            self._closers.append(functools.partial(_cancel, verifier))
            importer = asyncio.create_task(imports.run_periodically(services))  # runs queued in the admin UI
            self._closers.append(functools.partial(_cancel, importer))
        if self.plan is None:
            _notify_systemd(b"READY=1")
            print(connection_help(self.ports), flush=True)
        else:
            os.write(self.plan.ready, b"r")
            os.close(self.plan.ready)

        await stop.wait()
        log.event(logger, "daemon.stopping")
        services.draining = True
        if self.plan is None:
            _notify_systemd(b"STOPPING=1")
        for close in reversed(self._closers):
            await close()
        for sock in self._sockets.values():
            sock.close()
        services.close()
        log.event(logger, "daemon.stopped")
        return 0

    async def _join_change_bus(self, services: Services, stop: asyncio.Event) -> None:
        """Hear the changes the other processes sharing the index make (storage/bus.py): on PostgreSQL every
        worker of every node LISTENs (storage/pgbus.py); on SQLite a worker's peers are on the supervisor's
        relay. A worker stops when the relay closes (its supervisor is gone), whichever bus it hears."""
        relay = None
        if self.plan is not None:
            relay = PipeBus(socket.socket(fileno=self.plan.bus), on_lost=stop.set)
        bus: ChangeBus | None = relay
        if database.is_postgresql(self.config.database_url):
            from smb_suite.storage.pgbus import PostgresBus  # psycopg (8 MB) only in a worker on PostgreSQL

            bus = PostgresBus(self.config.database_url)
            if relay is not None:
                await relay.start(lambda change: None)  # only watched for the supervisor's end
                self._closers.append(relay.close)
        if bus is not None:
            await services.store.changes.connect(bus)
            self._closers.append(bus.close)  # closed last: after every listener that could still hear a change
        if self.plan is not None:  # a password verified by one worker is taken by all
            hub = services.store.changes
            announce = functools.partial(_announce_credential, hub)
            services.credentials.share(self.plan.credential_key, announce)
            hub.on(ChangeKind.CREDENTIAL, services.credentials.learn)

    def _start_queue(self, services: Services) -> None:
        """The outbound queue runner; stopped last, after the listeners that feed it."""
        delivery = services.delivery

        async def notify(recipient: str, report: bytes) -> None:
            await delivery.send("", [recipient], report)  # reports have the null sender (RFC 3461 6.2)

        router = Router(self.config.outbound, self.resolver or SharedResolver(services.resolver))
        runner = QueueRunner(
            services.queue,
            router,
            services.runner,
            self.config.outbound,
            self.config.server.hostname,
            services.clock,
            notify,
            services.metrics,
        )
        runner.start()
        self._closers.append(functools.partial(runner.stop, DRAIN_SECONDS))

    @staticmethod
    async def _record_usage_daily(services: Services) -> None:
        """Record each business's usage for the day now and every hour (the last record of a day stays)."""
        while True:
            await services.runner.write(tiers.record_daily_usage, services)
            await asyncio.sleep(USAGE_RECORD_SECONDS)

    def _listening(self, name: str, host: str, port: int) -> None:
        self.ports[name] = (host, port)
        if self.services is not None:
            self.services.listening[name] = port
        log.event(logger, "listening", service=name, address=f"{host}:{port}")

    async def _start_smtp(self, services: Services, context: ssl.SSLContext) -> None:
        budget = smtp_server.processing_budget(services)  # shared by the three SMTP listeners
        for mode in smtp_server.Mode:
            sock = self._sockets.get(mode.value)
            if sock is None:
                continue
            host, port = sock.getsockname()[:2]
            listener = await smtp_server.start(services, host, port, mode, context, budget, sock=sock)
            self._listening(mode.value, host, listener.port)
            self._closers.append(functools.partial(listener.close, DRAIN_SECONDS))

    def _start_imap(self, services: Services, context: ssl.SSLContext, finder: tls.CertificateFinder) -> None:
        if "imap" in self._sockets or "imaps" in self._sockets:
            _start_twisted()
        for name, implicit_tls in (("imap", False), ("imaps", True)):
            sock = self._sockets.get(name)
            if sock is None:
                continue
            from smb_suite.imap import server as imap_server  # imports twisted: only after _start_twisted()

            port = imap_server.adopt(services, sock, context, finder, implicit_tls)
            self._listening(name, sock.getsockname()[0], port.getHost().port)
            self._closers.append(_closer_for_twisted(port, imap_server.close_connections))

    async def _start_web(self, services: Services, tls_context: ssl.SSLContext) -> None:
        # Each uvicorn server logs "Started server process", "Shutting down"... at INFO: once per listener, so
        # twice with http and https. Our own `listening` and `daemon.stopping` lines say it once; uvicorn's
        # warnings and errors still show.
        logging.getLogger("uvicorn.error").setLevel(logging.WARNING)
        app = None
        for name, secure in (("http", False), ("https", True)):
            sock = self._sockets.get(name)
            if sock is None:
                continue
            if app is None:
                from smb_suite.web.app import create_app

                app = create_app(services)
            from smb_suite.web.protocol import HttpProtocols

            context = tls_context if secure else None  # the handshake is done by the protocol's gate
            options: dict[str, Any] = {
                "http": HttpProtocols(name, self.config, context, services.metrics.watch("http"), app.answer_now),
                "timeout_keep_alive": self.config.http.keepalive_timeout,
            }
            server = _QuietServer(
                uvicorn.Config(
                    app,
                    log_config=None,
                    access_log=False,
                    lifespan="off",
                    server_header=False,
                    proxy_headers=False,
                    timeout_graceful_shutdown=int(DRAIN_SECONDS),
                    **options,
                )
            )
            task = asyncio.create_task(server.serve(sockets=[sock]))
            self._listening(name, sock.getsockname()[0], sock.getsockname()[1])
            self._closers.append(_closer_for_uvicorn(server, task))

    async def _start_metrics(self, services: Services) -> None:
        """The operator's Prometheus listener, apart from the public web ones (closed last)."""
        address = parse_listen_address(self.config.listen.metrics)
        if address is None:
            return
        from smb_suite.web.metrics import MetricsApp

        sock = self._sockets["metrics"] = bind(*address)
        server = _QuietServer(
            uvicorn.Config(MetricsApp(services), log_config=None, access_log=False, lifespan="off", server_header=False)
        )
        task = asyncio.create_task(server.serve(sockets=[sock]))
        self._listening("metrics", address[0], sock.getsockname()[1])
        self._closers.append(_closer_for_uvicorn(server, task))


def _start_twisted() -> None:
    """Run twisted's reactor on our asyncio loop (installed before anything imports the reactor). Only in a
    process that serves IMAP: twisted and its modules are ~10 MB of every worker that does not."""
    from twisted.internet import asyncioreactor

    asyncioreactor.install(asyncio.get_running_loop())  # type: ignore[no-untyped-call]
    from twisted.internet import reactor
    from twisted.logger import STDLibLogObserver, globalLogBeginner

    globalLogBeginner.beginLoggingTo([STDLibLogObserver()], redirectStandardIO=False)  # type: ignore[list-item]
    reactor.startRunning(installSignalHandlers=False)


def connection_help(ports: dict[str, tuple[str, int]]) -> str:
    def where(name: str) -> str:
        return f"{ports[name][0]}:{ports[name][1]}" if name in ports else "(disabled)"

    admin = ports.get("https")
    admin_url = f"https://localhost:{admin[1]}/admin/" if admin else "(https disabled)"
    return "\n".join(
        [
            "smb-suite is running. Connect a mail client with your full address as user name:",
            f"  IMAP      {where('imaps')} (SSL/TLS)   or {where('imap')} (STARTTLS)",
            f"  SMTP      {where('submissions')} (SSL/TLS)   or {where('submission')} (STARTTLS), "
            "password authentication",
            f"  Inbound   {where('smtp')} (MX)",
            f"  Admin     {admin_url}   (self-signed certificate: accept it once)",
            f"  Sites     http://{where('http')}/ with the domain as Host",
            "Stop with Ctrl-C (or SIGTERM).",
        ]
    )


def _announce_credential(hub: ChangeHub, entry: int) -> None:
    hub.post(Change(ChangeKind.CREDENTIAL, entry))


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def _closer_for_twisted(port: Any, hang_up: Callable[[Any], None]) -> Callable[[], Awaitable[None]]:
    async def close() -> None:
        hang_up(port)
        deferred = port.stopListening()
        if deferred is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(deferred.asFuture(asyncio.get_running_loop()), DRAIN_SECONDS)

    return close


def _closer_for_uvicorn(server: uvicorn.Server, task: asyncio.Task[None]) -> Callable[[], Awaitable[None]]:
    async def close() -> None:
        server.should_exit = True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(task, DRAIN_SECONDS + 1)

    return close


def serve(config: Config) -> int:
    log.setup()
    # The loop thread shares the GIL with storage threads; after each socket write it must get the GIL back,
    # and with the default 5 ms switch interval it queues behind them (a convoy). 0.5 ms keeps replies prompt.
    sys.setswitchinterval(0.0005)
    limits.return_freed_memory()  # large message copies go back to the OS once freed
    if config.server.workers == 1:
        return _run(Daemon(config).run())
    return asyncio.run(Supervisor(config, _notify_systemd, connection_help, DRAIN_SECONDS).run())


def worker_main() -> int:
    """One of the supervisor's workers (`python -m smb_suite.daemon`, its plan on stdin)."""
    plan = read_plan()
    log.setup()
    sys.setswitchinterval(0.0005)
    limits.return_freed_memory()
    return _run(Daemon(plan.config, plan=plan).run())


def _run(main: Coroutine[Any, Any, int]) -> int:
    """A serving process runs on uvloop (libuv): the loop, its transports and timers in C, about half the CPU
    per request of the stdlib loop. Twisted's asyncio reactor runs on it too (readers, writers, timers).
    What differs from asyncio is handled where it matters: limits._Gate (reading starts right after
    connection_made), limits.stream (transports are no asyncio.Transport subclasses), web/protocol.py
    (no loop.sendfile: os.sendfile on the socket)."""
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)


if __name__ == "__main__":
    sys.exit(worker_main())
