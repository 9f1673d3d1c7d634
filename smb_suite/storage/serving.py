"""Whether a node starts alone: the start-up repairs may only run where no other node serves.

The repairs after a crash (storage/reconcile.py, the queue's `reconcile`) compare the shared files with the index
as a whole: a message file without a row is indexed, a spool file without rows is removed. Beside another node
that is serving, those are its mail in flight (a file fsynced whose rows are about to commit), which the repairs
would index twice or delete after that node answered 250. So every serving daemon holds a shared PostgreSQL
advisory lock for its whole life, and a starting one repairs only if it gets the same lock exclusively; otherwise
it waits for its shared turn (after any node still repairing) and serves without repairing: what a crash leaves
behind is never acknowledged mail (a file without a row, a queue file without rows) or a renamed file readers
find by its Maildir key, so it can wait for a start where the node is alone. With SQLite, one machine serves
and its supervisor (or single process) repairs before anything serves: always alone.
See docs/ARCHITECTURE.md "Starting beside serving nodes".
"""

from __future__ import annotations

import sqlalchemy as sa

SERVING_LOCK = 0x736D622D7376  # "smb-sv": any constant other applications on the database do not use


class ServingMark:
    """The lock a serving node holds on its own connection (advisory locks last as long as their session)."""

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine
        self._conn: sa.Connection | None = None
        self._alone = False

    def try_alone(self) -> bool:
        """True when no other node serves or repairs; the caller then repairs before calling `serve`."""
        if self._engine.dialect.name != "postgresql":
            return True
        self._conn = self._engine.connect()
        self._conn.detach()  # its own session, closed with it: a pooled one would keep the lock for the next user
        alone = bool(self._conn.exec_driver_sql(f"SELECT pg_try_advisory_lock({SERVING_LOCK})").scalar_one())
        self._conn.commit()
        self._alone = alone
        return alone

    def serve(self) -> None:
        """Hold the shared lock from now on (waiting while another node repairs), then drop the exclusive one."""
        if self._conn is None:
            return
        self._conn.exec_driver_sql(f"SELECT pg_advisory_lock_shared({SERVING_LOCK})")
        if self._alone:
            self._conn.exec_driver_sql(f"SELECT pg_advisory_unlock({SERVING_LOCK})")
        self._conn.commit()

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()  # detached: the session ends, and its advisory locks with it
            self._conn = None
