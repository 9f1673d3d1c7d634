"""Durable file operations: what a 250 or an OK promises survives a crash (docs/ARCHITECTURE.md, durability contract).

And what a full disk looks like to the rest of the code: `DiskFull`, raised for ENOSPC/EDQUOT from the file
system, for SQLite's "database or disk is full" and for PostgreSQL's disk_full, so that each front end maps one
error (SMTP 452 4.3.1, IMAP NO [UNAVAILABLE]) instead of an OSError it would report as an internal error.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

from smb_suite import log
from smb_suite.errors import DiskFull

logger = logging.getLogger("smb_suite.storage")
FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
_SQLITE_FULL = 13  # SQLITE_FULL: "database or disk is full"
_POSTGRES_DISK_FULL = "53100"  # SQLSTATE disk_full (PostgreSQL Appendix A), psycopg's `sqlstate`


def fsync_dir(path: Path) -> None:
    """Make a rename or a new entry in this directory durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


_later = threading.local()  # what this thread noted inside `dirs_synced_later` and `removed_later`


def fsync_dir_later(path: Path) -> None:
    """fsync_dir now, or, inside `dirs_synced_later` (a batch of the store writer), at the end of the batch,
    before any of its callers answers. Only for renames whose order against the index commit does not matter
    (a flag in a file name, a new message file: the start-up reconcile repairs either order)."""
    noted: set[Path] | None = getattr(_later, "dirs", None)
    if noted is None:
        fsync_dir(path)
    else:
        noted.add(path)


@contextlib.contextmanager
def dirs_synced_later() -> Iterator[set[Path]]:
    """Collect this thread's `fsync_dir_later` directories; the caller fsyncs them before it answers."""
    noted: set[Path] = set()
    _later.dirs = noted
    try:
        yield noted
    finally:
        _later.dirs = None


def remove_later(path: Path) -> None:
    """Remove a file now, or, inside `removed_later` (a batch of the store writer), when that block ends: once
    the batch has given up the writers' turn (storage/runner.py), before its fsyncs. For files no index row
    names any more (an expunged message's, after its transaction): removing one took milliseconds under a
    busy file system, and every other process's writer waited them out."""
    noted: list[Path] | None = getattr(_later, "removed", None)
    if noted is None:
        path.unlink(missing_ok=True)
    else:
        noted.append(path)


@contextlib.contextmanager
def removed_later() -> Iterator[None]:
    """Collect this thread's `remove_later` files and remove them when the block ends. One that cannot be
    removed is logged and left (the start-up reconcile would index it again): its transaction has committed,
    so its caller must not hear of a failure."""
    noted: list[Path] = []
    _later.removed = noted
    try:
        yield
    finally:
        _later.removed = None
        for path in noted:
            try:
                path.unlink(missing_ok=True)
            except OSError as error:
                logger.warning("file.remove_failed %s", log.fields(path=str(path), error=str(error)))


def is_disk_full(error: BaseException) -> bool:
    """ENOSPC/EDQUOT, SQLite's SQLITE_FULL or PostgreSQL's disk_full (bare, or wrapped by SQLAlchemy as `.orig`)."""
    if isinstance(error, OSError):
        return error.errno in FULL_ERRNOS
    original = getattr(error, "orig", error)
    if getattr(original, "sqlstate", None) == _POSTGRES_DISK_FULL:
        return True
    return isinstance(original, sqlite3.Error) and getattr(original, "sqlite_errorcode", None) == _SQLITE_FULL


@contextlib.contextmanager
def disk_full_as_error() -> Iterator[None]:
    """Turn a full disk inside the block into DiskFull; any other error passes unchanged."""
    try:
        yield
    except DiskFull:
        raise
    except Exception as exc:
        if is_disk_full(exc):
            raise DiskFull("the server's storage is full; nothing was stored, try again later") from exc
        raise
