"""How async front ends call the synchronous storage: writes serialised on one thread, reads in the pool."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Generic, ParamSpec, TypeVar

from smb_suite.durable import disk_full_as_error

P = ParamSpec("P")
T = TypeVar("T")
R = TypeVar("R")


def _full_as_error(func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    with disk_full_as_error():
        return func(*args, **kwargs)


IO_THREADS = 16  # parallel fsyncs: the file system commits concurrent ones together


class StoreRunner:
    def __init__(self) -> None:
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store-writer")
        self.io = ThreadPoolExecutor(max_workers=IO_THREADS, thread_name_prefix="store-io")

    async def write(self, func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run a storage write on the single writer thread (keeps UIDs and fsync order simple); a full disk
        (file or index) is raised as DiskFull."""
        return await asyncio.get_running_loop().run_in_executor(
            self._writer, partial(_full_as_error, func, *args, **kwargs)
        )

    async def read(self, func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        return await asyncio.to_thread(func, *args, **kwargs)

    def close(self) -> None:
        self._writer.shutdown(wait=True)
        self.io.shutdown(wait=True)


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
