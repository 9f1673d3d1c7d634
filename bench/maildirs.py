"""Where a hosted user's Maildir is in a data folder: asked of the database by ids, as the daemon does
(smb_suite/storage/paths.py), and writing a Maildir of test messages. Imports nothing but the path layout, so
bench scripts stay light."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Sequence
from pathlib import Path

from smb_suite.storage.paths import MailLayout


def maildir_path(data_dir: Path, address: str, folder: str = "INBOX") -> Path:
    """The Maildir of one folder of a hosted user (read-only look-up of the ids; tests use it too)."""
    local, _, domain = address.partition("@")
    query = (
        "SELECT users.id, mailboxes.id FROM users JOIN domains ON domains.id = users.domain_id "
        "JOIN mailboxes ON mailboxes.user_id = users.id "
        "WHERE users.local_part = ? AND domains.name = ? AND mailboxes.name = ?"
    )
    with contextlib.closing(sqlite3.connect(f"file:{data_dir / 'smb-suite.db'}?mode=ro", uri=True)) as conn:
        row = conn.execute(query, (local.lower(), domain.lower(), folder)).fetchone()
    if row is None:
        raise LookupError(f"no folder {folder!r} of {address} in {data_dir}")
    return MailLayout(data_dir / "mail").folder(row[0], row[1], folder == "INBOX")


def write_maildir(folder: Path, messages: Sequence[bytes]) -> None:
    """A Maildir holding `messages`, every third one unread, with fixed times (the same for every server)."""
    for sub in ("tmp", "new", "cur"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    for n, data in enumerate(messages):
        flags = "S" if n % 3 else ""
        path = folder / "cur" / f"{1700000000 + n}.M{n}P1.bench,S={len(data)}:2,{flags}"
        path.write_bytes(data)
        os.utime(path, (1700000000 + n, 1700000000 + n))


def toml_workers(workers: str) -> str:
    """A benchmark's --workers (auto or N) as the value of smb-suite's `[server] workers`."""
    return f'"{workers}"' if workers == "auto" else str(int(workers))
