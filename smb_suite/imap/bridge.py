"""asyncio -> twisted: run a coroutine as an asyncio task and hand twisted a Deferred of its result.

A Deferred cannot await an asyncio future (trap 2 in the package docstring), so `defer.ensureDeferred` would
stall on the storage runner's futures; the task runs on the loop and `Deferred.fromFuture` carries the outcome
back.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

from twisted.internet.defer import Deferred

T = TypeVar("T")


def as_deferred(coroutine: Coroutine[Any, Any, T]) -> Deferred[T]:
    return Deferred.fromFuture(asyncio.ensure_future(coroutine))
