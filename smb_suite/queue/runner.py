"""The queue runner: on the daemon's loop, sends due mail, retries on the backoff schedule, reports failures.

Jobs (one message, one domain) go to a destination (domain, static route or smarthost); each destination runs up
to `connections_per_destination` workers, each holding one connection and reusing it for the next job, within
`max_connections` in all. Spool I/O runs through the StoreRunner (writes on the writer thread), never on the loop.
Mail queued in this process comes straight from the insert (`take`, born claimed: see QueueStore); scans find
the rest (retries, other processes' mail, a backlog beyond MAX_IN_FLIGHT).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field

from smb_suite import log
from smb_suite.config import OutboundConfig
from smb_suite.errors import SmbSuiteError, TemporaryFailure, Undeliverable
from smb_suite.mail import dsn
from smb_suite.metrics import Metrics
from smb_suite.queue import transport
from smb_suite.queue.routes import Router
from smb_suite.queue.spool import Job, Kind, Message, Outcome, QueueStore, Recipient, Status, jobs
from smb_suite.storage.runner import GroupCommit, StoreRunner

logger = logging.getLogger("smb_suite.queue")
Notify = Callable[[str, bytes], Awaitable[None]]  # deliver a report (null sender) to one address
MAX_IN_FLIGHT = 2000  # jobs held in memory at once; the rest wait in the spool
QUIT_TIMEOUT = 5.0


@dataclass
class _Destination:
    jobs: deque[Job] = field(default_factory=deque)
    workers: int = 0


class QueueRunner:
    def __init__(
        self,
        spool: QueueStore,
        router: Router,
        runner: StoreRunner,
        config: OutboundConfig,
        hostname: str,
        clock: Callable[[], float],
        notify: Notify,
        metrics: Metrics | None = None,
    ) -> None:
        self._metrics = metrics or Metrics()
        self._spool = spool
        self._router = router
        self._runner = runner
        self._config = config
        self._hostname = hostname
        self._clock = clock
        self._notify = notify
        self._settings = transport.settings(
            hostname, config.connect_timeout, config.command_timeout, config.verify_certificates
        )
        self._destinations: dict[str, _Destination] = {}
        self._busy_recipients: set[int] = set()
        self._busy_messages: dict[int, int] = {}  # message id -> jobs scheduled or running
        self._settling: set[int] = set()  # messages whose report is being handed over
        self._needs_report: set[int] = set()  # messages with a failure recorded since their last report
        self._wakeup = asyncio.Event()
        self._slots = asyncio.Semaphore(config.max_connections)
        self._workers: set[asyncio.Task[None]] = set()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._records: GroupCommit[tuple[int, Sequence[Outcome]], bool] = GroupCommit(
            runner, self._record_batch, lambda attempt: self._record_batch([attempt])[0]
        )
        self._full_scan_due = 0.0  # loop time of the next look for reports and delays
        self._loop: asyncio.AbstractEventLoop | None = None
        # a release wakes the scan only when it may find work: the last one found some or had no room (more may
        # wait), or an attempt failed for now (its retry's time); mail taken as queued needs none
        self._rescan = False

    # -- life cycle ---------------------------------------------------------------------------------------

    def start(self) -> None:
        loop = self._loop = asyncio.get_running_loop()

        def wake_from_thread() -> None:
            loop.call_soon_threadsafe(self.wake)

        self._spool.listeners.append(wake_from_thread)
        self._spool.taker = self
        self._task = asyncio.create_task(self._run(), name="queue-runner")

    def wake(self) -> None:
        self._wakeup.set()

    async def stop(self, drain_seconds: float) -> None:
        """Take no new jobs; let running transactions finish (bounded), then cancel the rest."""
        self._stopping = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._workers:
            _, pending = await asyncio.wait(self._workers, timeout=drain_seconds)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    async def _run(self) -> None:
        while not self._stopping:
            self._wakeup.clear()
            try:
                wait = await self._scan()
            except (SmbSuiteError, OSError, RuntimeError):  # a database hiccup must not end the runner
                logger.exception("queue.scan_failed")
                wait = self._config.scan_interval
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), wait)

    async def _scan(self) -> float:
        """Schedule due jobs; every scan_interval also report leftover failures and delays. Return the sleep."""
        now = self._clock()
        self._rescan = len(self._busy_recipients) >= MAX_IN_FLIGHT
        if not self._rescan:
            # the busy ones are copied here, before the read: a job released later recorded its attempt first
            due = await self._runner.read(self._spool.due, now, set(self._busy_recipients))
            self._rescan = bool(due)
            held = await self._claim(job.message.id for job in due)
            for job in due:
                if job.message.id in held:  # another worker's claim: it sends that one
                    self._schedule(job)
        loop_time = asyncio.get_running_loop().time()
        if loop_time >= self._full_scan_due:
            self._full_scan_due = loop_time + self._config.scan_interval
            await self._runner.write(self._spool.renew, list(self._busy_messages))  # ours while we work on them
            unsettled = await self._runner.read(self._spool.unsettled, [*self._busy_messages, *self._settling])
            held = await self._claim(message.id for message in unsettled)
            for message in unsettled:
                if message.id in held:
                    await self._settle(message)
            delayed = await self._runner.read(self._spool.delayed, now - self._config.delay_notice)
            held = await self._claim(message.id for message in delayed)
            for message in delayed:
                if message.id in held:
                    await self._report_delay(message)
        next_due = await self._runner.read(self._spool.next_due)
        wait = float(self._config.scan_interval)
        if next_due is not None:
            wait = min(wait, max(next_due - self._clock(), 0.0) + 0.01)
        return wait

    # -- scheduling ---------------------------------------------------------------------------------------

    def has_room(self) -> bool:
        """Taker: whether mail queued now may come straight here (on the writer thread: a rough look)."""
        return not self._stopping and len(self._busy_recipients) < MAX_IN_FLIGHT

    def take(self, messages: Sequence[Message]) -> None:
        """Taker: on the writer thread; the jobs are scheduled on the loop once the batch is durable."""
        loop = self._loop
        if loop is None:
            return

        def schedule() -> None:
            with contextlib.suppress(RuntimeError):  # the loop closed: the claims end with this process
                loop.call_soon_threadsafe(self._adopt, messages)

        self._runner.after_sync(schedule)

    def _adopt(self, messages: Sequence[Message]) -> None:
        if self._stopping:  # left claimed, like the jobs a stop cancels (freed by the next start, or expiring)
            return
        # No busy set to leave out: the rows are new, and on SQLite a new row may take the id of one just deleted
        # (a sent message whose job is not released yet), which would hide the new recipient for good.
        for message in messages:
            for job in jobs(message, float("inf"), set()):
                self._schedule(job)

    async def _claim(self, message_ids: Iterable[int]) -> set[int]:
        """The messages of these this worker may send (claimed in the database: one sender per message)."""
        ids = list(message_ids)
        return await self._runner.write(self._spool.claim, ids) if ids else set()

    def _schedule(self, job: Job) -> None:
        self._busy_recipients.update(r.id for r in job.recipients)
        self._busy_messages[job.message.id] = self._busy_messages.get(job.message.id, 0) + 1
        key = self._router.destination(job.domain)
        destination = self._destinations.setdefault(key, _Destination())
        destination.jobs.append(job)
        if destination.workers < min(self._config.connections_per_destination, len(destination.jobs)):
            destination.workers += 1
            task = asyncio.create_task(self._work(key, destination), name=f"queue-{key}")
            self._workers.add(task)
            task.add_done_callback(self._workers.discard)

    def _release(self, job: Job) -> bool:
        """Forget a finished job; True when no other job of its message is outstanding."""
        self._busy_recipients.difference_update(r.id for r in job.recipients)
        left = self._busy_messages.get(job.message.id, 1) - 1
        if left:
            self._busy_messages[job.message.id] = left
        else:
            self._busy_messages.pop(job.message.id, None)
        if self._rescan and len(self._busy_recipients) < MAX_IN_FLIGHT // 2:
            self._rescan = False
            self.wake()
        return left == 0

    async def _work(self, key: str, destination: _Destination) -> None:
        connection: transport.Connection | None = None
        try:
            async with self._slots:
                while destination.jobs and not self._stopping:
                    job = destination.jobs.popleft()
                    try:
                        connection = await self._attempt(job, connection, destination)
                    except (SmbSuiteError, OSError, ValueError, RuntimeError) as error:  # never lose the worker
                        logger.exception("queue.attempt_failed id=%s", job.message.queue_id)
                        if connection is not None:
                            connection.close()
                        connection = None
                        reply = f"4.3.0 local error: {error.__class__.__name__}"
                        await self._record(job, [Outcome(r.id, Kind.TEMPORARY, reply) for r in job.recipients])
                    finally:
                        await self._finish(job)
        finally:
            destination.workers -= 1
            if destination.workers == 0 and not destination.jobs:
                self._destinations.pop(key, None)
            if connection is not None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(connection.quit(), QUIT_TIMEOUT)

    async def _attempt(
        self, job: Job, connection: transport.Connection | None, destination: _Destination
    ) -> transport.Connection | None:
        """Send one job, reusing the connection when it is still open; record what happened."""
        try:
            data = await self._runner.read(self._spool.read, job.message)
        except FileNotFoundError:  # deleted by the operator meanwhile
            return connection
        if connection is None or not connection.usable:
            try:
                connection = await transport.connect(await self._router.hops(job.domain), self._settings)
            except Undeliverable as error:
                reply = f"{error.status} {error.text}"
                await self._record(job, [Outcome(r.id, Kind.PERMANENT, reply) for r in job.recipients])
                return None
            except TemporaryFailure as error:
                # Every job waiting for this destination would meet the same failure: defer them all now.
                waiting = [job, *destination.jobs]
                destination.jobs.clear()
                for deferred in waiting:
                    reply = f"4.4.1 {error}"
                    await self._record(deferred, [Outcome(r.id, Kind.TEMPORARY, reply) for r in deferred.recipients])
                    if deferred is not job:
                        await self._finish(deferred)
                return None
        outcomes = await connection.transaction(job.message.sender, job.recipients, data)
        await self._record(job, outcomes)
        return connection if connection.usable else None

    def _record_batch(self, attempts: list[tuple[int, Sequence[Outcome]]]) -> list[bool]:
        return self._spool.record_batch(attempts, self._config.retry_schedule, self._config.max_age)

    async def _record(self, job: Job, outcomes: Sequence[Outcome]) -> None:
        if await self._records.submit((job.message.id, outcomes)):
            self._needs_report.add(job.message.id)
        self._rescan = self._rescan or any(outcome.kind is Kind.TEMPORARY for outcome in outcomes)
        addresses = {r.id: r.address for r in job.recipients}
        sent = sum(outcome.kind is Kind.SENT for outcome in outcomes)
        self._metrics.delivered.labels("remote").inc(sent)
        self._metrics.deferred.inc(sum(outcome.kind is Kind.TEMPORARY for outcome in outcomes))
        for outcome in outcomes:
            log.event(
                logger,
                f"queue.{outcome.kind}",
                id=job.message.queue_id,
                rcpt=addresses.get(outcome.recipient_id, "?"),
                relay=outcome.remote_mta or "-",
                reply=outcome.reply[:200],
            )

    async def _finish(self, job: Job) -> None:
        if self._release(job) and job.message.id in self._needs_report:
            self._needs_report.discard(job.message.id)
            message = await self._runner.read(self._spool.get, job.message.id)
            if message is not None and any(r.status is Status.FAILED and not r.reported for r in message.recipients):
                await self._settle(message)

    # -- reports ------------------------------------------------------------------------------------------

    def _report(
        self, message: Message, recipients: Sequence[Recipient], action: dsn.Action, original: bytes
    ) -> dsn.Report:
        entries = []
        for r in recipients:
            default = "5.0.0" if action is dsn.Action.FAILED and r.last_reply[:1] != "4" else "4.4.7"
            entries.append(
                dsn.RecipientReport(
                    r.address,
                    action,
                    dsn.enhanced_status(r.last_reply, default),
                    r.last_reply,
                    r.remote_mta,
                    remote=bool(r.remote_mta),
                )
            )
        return dsn.Report(self._hostname, message.sender, message.queue_id, message.created_at, entries, original)

    async def _send_report(self, message: Message, recipients: Sequence[Recipient], action: dsn.Action) -> bool:
        """Give the sender one report; False when it could not be handed over now (retry at the next scan)."""
        try:
            original = await self._runner.read(self._spool.read, message)
        except FileNotFoundError:
            original = b""
        report = self._report(message, recipients, action, original)
        try:
            await self._notify(message.sender, dsn.build(report, self._clock()))
        except TemporaryFailure:
            return False
        except SmbSuiteError as error:  # the sender cannot receive it (unknown local user...): drop it
            log.event(logger, "queue.report_undeliverable", id=message.queue_id, reason=str(error))
        except OSError:
            logger.exception("queue.report_failed id=%s", message.queue_id)
            return False
        rcpts = dsn.describe(report.recipients)
        log.event(logger, f"queue.dsn_{action}", id=message.queue_id, to=message.sender, rcpts=rcpts)
        return True

    async def _settle(self, message: Message) -> None:
        """Report unreported failures once (never for a null sender: no bounce for a bounce), then clean up."""
        if message.id in self._settling:
            return
        self._settling.add(message.id)
        try:
            failed = [r for r in message.recipients if r.status is Status.FAILED and not r.reported]
            if failed and message.sender:
                if not await self._send_report(message, failed, dsn.Action.FAILED):
                    return
            elif failed:
                log.event(logger, "queue.dsn_suppressed", id=message.queue_id, reason="null sender")
            await self._runner.write(self._spool.settle, message.id, [r.id for r in failed])
            self._metrics.bounced.inc(len(failed))
        finally:
            self._settling.discard(message.id)

    async def _report_delay(self, message: Message) -> None:
        waiting = [r for r in message.recipients if r.status is Status.QUEUED]
        if waiting and await self._send_report(message, waiting, dsn.Action.DELAYED):
            await self._runner.write(self._spool.mark_delay_notified, message.id)
