"""Where a hosted user's Maildir is in a data folder: asked of the database by ids, as the daemon does
(smb_suite/storage/paths.py). Imports nothing but the path layout, so bench scripts stay light."""

from __future__ import annotations

import contextlib
import sqlite3
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
