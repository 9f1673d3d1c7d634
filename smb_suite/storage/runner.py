"""How async front ends call the synchronous storage: writes serialised on one thread, reads in the pool.

Writes that arrive while the writer is busy run as its next batch, one after another, each in its own
transaction; their commits are made durable together by one fsync of the database log (database.synced_later,
database.sync_log), in parallel with the fsyncs of the folders their renames touched (durable.fsync_dir_later),
before any of them returns (group commit): ten sessions storing flags at once wait for one round of fsyncs,
not ten in a row, and an OK still means on disk.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any, Generic, ParamSpec, TypeVar

import sqlalchemy as sa

from smb_suite.durable import dirs_synced_later, disk_full_as_error, fsync_dir, removed_later
from smb_suite.storage import database

P = ParamSpec("P")
T = TypeVar("T")
R = TypeVar("R")


def _full_as_error(func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    with disk_full_as_error():
        return func(*args, **kwargs)


IO_THREADS = 16  # parallel fsyncs: the file system commits concurrent ones together


def _sync_folder(folder: Path) -> None:
    """fsync a folder a job renamed into; one removed meanwhile (a deleted mail folder) needs none."""
    with contextlib.suppress(FileNotFoundError):
        fsync_dir(folder)


Job = Callable[[], Any]
Outcome = tuple[bool, Any]  # (True, result) or (False, the exception)


class StoreRunner:
    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine
        self._turns = database.WriterTurns(engine)  # with other processes' writers (worker processes)
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store-writer")
        self.io = ThreadPoolExecutor(max_workers=IO_THREADS, thread_name_prefix="store-io")
        self._pending: list[tuple[Job, asyncio.Future[Any]]] = []
        self._drainer: asyncio.Task[None] | None = None
        self._after_sync: list[Callable[[], None]] = []  # the running batch's (writer thread only)

    async def write(self, func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run a storage write on the single writer thread (keeps UIDs and fsync order simple), in the next
        batch (group commit, see the module docstring); a full disk (file or index) is raised as DiskFull."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._pending.append((partial(func, *args, **kwargs), future))
        if self._drainer is None:
            self._drainer = loop.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._pending:
                batch, self._pending = self._pending, []
                try:
                    outcomes = await loop.run_in_executor(self._writer, self._run_batch, [job for job, _ in batch])
                except Exception as error:  # the writer is shut down: nothing of the batch ran
                    outcomes = [(False, error)] * len(batch)
                for (_, future), (ok, value) in zip(batch, outcomes, strict=True):
                    if future.done():  # its caller gave up waiting
                        continue
                    if ok:
                        future.set_result(value)
                    else:
                        future.set_exception(value)
        finally:
            self._drainer = None

    def _run_batch(self, jobs: list[Job]) -> list[Outcome]:
        """On the writer thread: every job, then one round of fsyncs (log and folders) for all of them."""
        outcomes: list[Outcome] = []
        with (
            removed_later(),  # an EXPUNGE's files: removed once the turn is given up, before the fsyncs
            self._turns,
            database.writes_first(),
            database.synced_later(),
            dirs_synced_later() as folders,
            database.one_connection(self._engine),
        ):
            for job in jobs:
                try:
                    outcomes.append((True, _full_as_error(job)))
                except Exception as error:  # noqa: BLE001 - handed to the job's caller
                    outcomes.append((False, error))
        syncs = [self.io.submit(_full_as_error, _sync_folder, folder) for folder in folders]
        try:
            _full_as_error(database.sync_log, self._engine)  # on this thread while the io threads sync the folders
            for sync in syncs:
                sync.result()
        except Exception as error:  # noqa: BLE001 - nobody may hear of a commit that is not known durable
            outcomes = [(False, error)] * len(jobs)
        finally:
            hooks, self._after_sync = self._after_sync, []
            for hook in hooks:
                hook()
        return outcomes

    def after_sync(self, hook: Callable[[], None]) -> None:
        """From a job of the running batch (on the writer thread): call `hook` there once the batch's round of
        fsyncs ended, before its callers hear of it (what it committed is durable unless the round failed; its
        rows were visible to readers since the commit either way)."""
        self._after_sync.append(hook)

    async def read(self, func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run in the pool, beside the writer: reads, and files written before their index rows (an APPEND's,
        Transfers.stage)."""
        return await asyncio.to_thread(func, *args, **kwargs)

    def close(self) -> None:
        self._writer.shutdown(wait=True)
        self.io.shutdown(wait=True)
        self._turns.close()


class GroupCommit(Generic[T, R]):
    """Collects writes that arrive while the writer is busy and hands them over as one batch (group commit).

    `many` runs the batch on the writer thread and returns one result per item; when it raises, the items are
    retried one by one with `one`, so a bad item fails alone.
    """

    def __init__(self, runner: StoreRunner, many: Callable[[list[T]], list[R]], one: Callable[[T], R]) -> None:
        self._runner = runner
        self._many = many
        self._one = one
        self._pending: list[tuple[T, asyncio.Future[R]]] = []
        self._draining = False

    async def submit(self, item: T) -> R:
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        if not self._draining:
            self._draining = True
            asyncio.get_running_loop().create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            while self._pending:
                batch, self._pending = self._pending, []
                try:
                    results = await self.write_batch([item for item, _ in batch])
                except Exception:  # noqa: BLE001 - isolate the failing item below
                    for item, future in batch:
                        try:
                            result = await self._runner.write(self._one, item)
                        except Exception as error:  # noqa: BLE001 - handed to the waiting caller
                            if not future.done():
                                future.set_exception(error)
                        else:
                            if not future.done():
                                future.set_result(result)
                    continue
                for (_, future), result in zip(batch, results, strict=True):
                    if not future.done():
                        future.set_result(result)  # an item's own error is a result too (the caller raises it)
        finally:
            self._draining = False

    async def write_batch(self, items: list[T]) -> list[R]:
        return await self._runner.write(self._many, items)
