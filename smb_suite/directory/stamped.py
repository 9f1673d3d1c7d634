"""A cache of what RCPT's recipient resolution (and submission's sender facts, the DKIM signing keys) found,
valid while the directory's stamp is unchanged.

Every change that moves mail routing (a user, alias or domain added, changed or removed, a catch-all, a forward, a
business suspended) or a domain's DKIM keys writes a new random stamp in its own transaction, by database triggers
(migrations 0029, 0030), so it covers every writer: this process, the other workers and nodes, the command line,
the admin pages. Each look-up reads the stamp (one indexed row) and uses an entry only when it was filled at that
same stamp: a removed or suspended user is never delivered to after the change commits, unlike a cache with a time
to live.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

import sqlalchemy as sa

from smb_suite.errors import SmbSuiteError

T = TypeVar("T")
MAX_ENTRIES = 10_000  # keys kept; past it the cache starts again empty (a dictionary attack cannot grow it)
_STAMP = "SELECT stamp FROM directory_stamp WHERE id = 1"
Refusal = tuple[type[SmbSuiteError], str]


class StampedCache(Generic[T]):
    """Results (or refusals: unknown recipient, relaying denied) of a look-up per key, tagged with the stamp read
    before the look-up ran: an entry filled from a state newer than its stamp is only computed once more."""

    def __init__(self, refusals: tuple[type[SmbSuiteError], ...]) -> None:
        self._refusals = refusals
        self._entries: dict[Hashable, tuple[int, T | None, Refusal | None]] = {}

    def get(self, conn: sa.Connection, key: Hashable, compute: Callable[[], T]) -> T:
        """`compute()`'s result for `key`, kept while the directory's stamp stays what it was when computed.
        `compute` reads through `conn` (or later snapshots); what it raises among the refusals is kept too and
        raised again, as a new exception each time."""
        stamp = conn.exec_driver_sql(_STAMP).scalar_one()
        kept = self._entries.get(key)
        if kept is not None and kept[0] == stamp:
            found, refusal = kept[1], kept[2]
            if refusal is not None:
                raise refusal[0](refusal[1])
            assert found is not None
            return found
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()
        try:
            found = compute()
        except self._refusals as refused:
            self._entries[key] = (stamp, None, (type(refused), str(refused)))
            raise
        self._entries[key] = (stamp, found, None)
        return found
