"""Login throttling per account and per client address, one instance shared by every protocol.

After a few failures each further attempt waits longer (exponential, capped), so a brute force on SMTP AUTH,
IMAP LOGIN or the web form slows all three at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

FREE_FAILURES_PER_ACCOUNT = 3
FREE_FAILURES_PER_ADDRESS = 10  # an office behind one NAT address has several people mistyping
MAX_DELAY = 30.0
FORGET_AFTER = 15 * 60.0


@dataclass(slots=True)
class _Record:
    failures: int = 0
    last: float = 0.0


@dataclass
class LoginThrottle:
    clock: Callable[[], float] = time.monotonic
    _records: dict[str, _Record] = field(default_factory=dict)

    def _keys(self, account: str, client_ip: str) -> tuple[str, str]:
        return f"account:{account.lower()}", f"ip:{client_ip}"

    def delay(self, account: str, client_ip: str) -> float:
        """Seconds the next attempt for this account or address should wait before it is checked."""
        now = self.clock()
        excess = 0
        for key, free in zip(
            self._keys(account, client_ip), (FREE_FAILURES_PER_ACCOUNT, FREE_FAILURES_PER_ADDRESS), strict=True
        ):
            record = self._records.get(key)
            if record is None:
                continue
            if now - record.last > FORGET_AFTER:
                del self._records[key]
                continue
            excess = max(excess, record.failures - free + 1)
        if excess <= 0:
            return 0.0
        return float(min(MAX_DELAY, 0.5 * 2 ** (excess - 1)))

    def failed(self, account: str, client_ip: str) -> None:
        now = self.clock()
        for key in self._keys(account, client_ip):
            record = self._records.setdefault(key, _Record())
            record.failures += 1
            record.last = now

    def succeeded(self, account: str, client_ip: str) -> None:
        self._records.pop(self._keys(account, client_ip)[0], None)
