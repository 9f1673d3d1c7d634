"""Moving mail once from the name-based layout of old versions to the id layout of storage/paths.py.

Old: <mail_dir>/<domain>/<local part>/ was a user's Maildir++ root (INBOX) and folder "a/b" its subfolder
".a.b", %-encoded (`old_folder_path`). New: <mail_dir>/users/<user id>/ and ".~<mailbox id>" below it.

`migrate` runs at start (services.initialise), before anything opens the store. It is idempotent and crash-safe:
each step is one rename, taken only when its source is still there and its target is not, and the marker
<mail_dir>/LAYOUT is written (and fsynced) last. A start that finds no marker runs every step again, so a kill
at any point leaves a state the next start completes; a start that finds it does nothing. The index rows keep
their UIDs, flags and file names (relative to the folder), so clients see the same mail as before.

A user whose old path is not a plain folder two levels below mail_dir (a local part or domain holding '/',
'\\', NUL, '..'; a symbolic link on the way) is not moved: under the old code that path could be another
business's Maildir (issue 11). That user starts with an empty store, and the log says so.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import sqlalchemy as sa

from smb_suite import log
from smb_suite.durable import fsync_dir
from smb_suite.storage import db
from smb_suite.storage.paths import LAYOUT_VERSION, MailLayout

logger = logging.getLogger("smb_suite.storage")

_SAFE = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 _-")


def _encode(part: str) -> str:
    return "".join(ch if ch in _SAFE else "".join(f"%{b:02X}" for b in ch.encode()) for ch in part)


def old_folder_path(root: Path, name: str) -> Path:
    """Where the old layout kept folder `name` (canonical) under a user's root."""
    if name == "INBOX":
        return root
    return root / ("." + ".".join(_encode(part) for part in name.split("/")))


def _plain_name(part: str) -> bool:
    return bool(part) and part not in (".", "..") and not any(ch in part for ch in "/\\\x00")


def _real_dir(path: Path) -> bool:
    return path.is_dir() and not path.is_symlink()


def old_user_root(mail_dir: Path, domain: str, local_part: str) -> Path | None:
    """The old root of a user when it is safe to take its files (see the module docstring), else None."""
    if not (_plain_name(domain) and "." in domain and _plain_name(local_part)):
        return None
    domain_dir = mail_dir / domain
    if domain_dir.is_symlink():
        return None
    return domain_dir / local_part


def _move(source: Path, target: Path) -> bool:
    """Rename a directory unless the target exists; merge message files into it when both do."""
    if not _real_dir(source):
        return False
    if not target.exists():
        os.rename(source, target)
        return True
    for sub in ("new", "cur"):  # both exist: a store was created before the move (e.g. by an older CLI run)
        if _real_dir(source / sub):
            (target / sub).mkdir(parents=True, exist_ok=True)
            for entry in os.scandir(source / sub):
                if entry.is_file(follow_symlinks=False) and not (target / sub / entry.name).exists():
                    os.rename(entry.path, target / sub / entry.name)
            fsync_dir(target / sub)
    return True


def migrate(engine: sa.Engine, mail_dir: Path) -> int:
    """Move every user's folders to the id layout; return how many directories were moved (0: nothing to do)."""
    layout = MailLayout(mail_dir)
    if layout.marker.exists():
        return 0
    layout.users.mkdir(parents=True, exist_ok=True)
    with engine.connect() as conn:
        users = conn.execute(
            sa.select(db.users.c.id, db.users.c.local_part, db.domains.c.name)
            .join(db.domains, db.domains.c.id == db.users.c.domain_id)
            .order_by(db.users.c.id)
        ).all()
        folders = conn.execute(
            sa.select(db.mailboxes.c.id, db.mailboxes.c.user_id, db.mailboxes.c.name).order_by(db.mailboxes.c.id)
        ).all()
    moved = 0
    for user_id, local_part, domain in users:
        old_root = old_user_root(layout.root, domain, local_part)
        if old_root is None:
            log.event(logger, "storage.legacy_skipped", user=user_id, reason="unsafe old path")
            continue
        new_root = layout.user_root(user_id)
        if _real_dir(old_root):
            for mailbox_id, _, name in (f for f in folders if f[1] == user_id and f[2] != "INBOX"):
                # subfolders first, inside the old root: the root itself then moves in one rename
                if _move(old_folder_path(old_root, name), old_root / f".~{mailbox_id}"):
                    moved += 1
            if _move(old_root, new_root):
                moved += 1
            fsync_dir(old_root.parent)
        for mailbox_id, _, name in (f for f in folders if f[1] == user_id and f[2] != "INBOX"):
            # a start killed between the renames of an older version of this step, or folders merged above
            if _move(old_folder_path(new_root, name), layout.folder(user_id, mailbox_id, False)):
                moved += 1
        if new_root.is_dir():
            fsync_dir(new_root)
    fsync_dir(layout.users)
    _remove_empty_domain_dirs(layout.root, {domain for _, _, domain in users})
    _write_marker(layout)
    if moved:
        log.event(logger, "storage.legacy_moved", directories=moved)
    return moved


def _remove_empty_domain_dirs(mail_dir: Path, domains: set[str]) -> None:
    """Remove the old domain folders left empty; one still holding something is left alone, and logged."""
    for domain in domains:
        path = mail_dir / domain
        if _plain_name(domain) and "." in domain and _real_dir(path):
            try:
                path.rmdir()  # only an empty one: rmdir never removes mail
            except OSError:
                log.event(logger, "storage.legacy_left", folder=str(path))


def _write_marker(layout: MailLayout) -> None:
    tmp = layout.marker.with_suffix(".tmp")
    with open(tmp, "w", encoding="ascii") as handle:
        handle.write(LAYOUT_VERSION + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.rename(tmp, layout.marker)
    fsync_dir(layout.root)
