"""The one poll-until-deadline loop of the tests (and benchmarks): ask again until the answer is truthy."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")
DEADLINE = 60.0


def wait_for(
    what: str,
    probe: Callable[[], T],
    deadline: float = DEADLINE,
    interval: float = 0.05,
    detail: Callable[[], str] | None = None,
) -> T:
    """Call `probe` every `interval` seconds until it returns something truthy, and return that; fail naming
    `what` (and what `detail` says then) once `deadline` seconds have passed. A probe may raise to fail at once
    (say, when the process it waits for has exited)."""
    end = time.monotonic() + deadline
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > end:
            explained = f":\n{detail()}" if detail is not None else ""
            raise AssertionError(f"timed out after {deadline:g} s waiting for {what}{explained}")
        time.sleep(interval)
