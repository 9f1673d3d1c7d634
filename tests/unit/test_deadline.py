"""limits.Deadline: a connection's header and keep-alive timeouts, moved at every request without a new timer
each time; it must still fire exactly when the last deadline set has passed, and never after a clear."""

from __future__ import annotations

import asyncio
from typing import Any, cast

from smb_suite.limits import Deadline


class Timers:
    """A loop with a hand-turned clock: call_at records, `advance` runs what is due."""

    def __init__(self) -> None:
        self.now = 100.0
        self.armed: list[list[Any]] = []  # [when, callback, cancelled]

    def time(self) -> float:
        return self.now

    def call_at(self, when: float, callback: Any) -> Any:
        entry = [when, callback, False]
        self.armed.append(entry)

        class Handle:
            def when(self) -> float:
                return float(entry[0])

            def cancel(self) -> None:
                entry[2] = True

        return Handle()

    def advance(self, seconds: float) -> None:
        self.now += seconds
        while due := [e for e in self.armed if e[0] <= self.now and not e[2]]:
            for entry in due:
                self.armed.remove(entry)
                entry[1]()


def make() -> tuple[Timers, Deadline, list[float]]:
    timers, fired = Timers(), []
    deadline = Deadline(cast(asyncio.AbstractEventLoop, timers), lambda: fired.append(timers.now))
    return timers, deadline, fired


def test_a_deadline_moved_at_each_request_fires_once_after_the_last_one() -> None:
    timers, deadline, fired = make()
    for _ in range(5):  # five requests a second apart on a keep-alive connection
        deadline.set(3.0)
        timers.advance(1.0)
    assert fired == [] and len(timers.armed) == 1  # one timer, re-armed only when it fired early
    timers.advance(2.0)
    assert fired == [107.0]


def test_a_cleared_deadline_never_fires_and_a_shorter_one_fires_on_time() -> None:
    timers, deadline, fired = make()
    deadline.set(3.0)
    deadline.clear()
    timers.advance(10.0)
    assert fired == [] and not deadline.pending
    deadline.set(10.0)
    deadline.set(1.0)
    timers.advance(1.0)
    assert fired == [111.0]
    deadline.set(1.0)
    deadline.cancel()
    timers.advance(5.0)
    assert fired == [111.0] and not [e for e in timers.armed if not e[2]]
