"""How async front ends call the synchronous storage: writes serialised on one thread, reads in the pool."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


class StoreRunner:
    def __init__(self) -> None:
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store-writer")

    async def write(self, func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run a storage write on the single writer thread (keeps UIDs and fsync order simple)."""
        return await asyncio.get_running_loop().run_in_executor(self._writer, partial(func, *args, **kwargs))

    async def read(self, func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        return await asyncio.to_thread(func, *args, **kwargs)

    def close(self) -> None:
        self._writer.shutdown(wait=True)
