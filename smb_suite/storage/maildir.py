"""Maildir on disk (Maildir++ layout, as Dovecot and Courier read it): folder names, durable writes, flag suffixes.

Where a folder's directory is belongs to storage/paths.py (ids, never names); this module works inside one.
"""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import time
from collections.abc import Iterator
from pathlib import Path

from smb_suite.durable import disk_full_as_error, fsync_dir
from smb_suite.errors import InvalidMailboxName
from smb_suite.names import unsafe_character
from smb_suite.storage import paths

SUBDIRS = ("tmp", "new", "cur")
# RFC 3501 2.3.2 system flags <-> Maildir info letters (https://cr.yp.to/proto/maildir.html)
FLAG_LETTERS = {"\\Draft": "D", "\\Flagged": "F", "\\Answered": "R", "\\Seen": "S", "\\Deleted": "T"}
_counter = itertools.count()
MAX_NAME_LENGTH = 200


def validate_mailbox_name(name: str) -> str:
    """Return the canonical folder name ('INBOX' in any case becomes 'INBOX'), or raise InvalidMailboxName."""
    if not name or len(name) > MAX_NAME_LENGTH:
        raise InvalidMailboxName("folder name is empty or too long")
    problem = unsafe_character(name.replace("/", ""))  # '/' is the hierarchy delimiter
    if problem is not None:
        raise InvalidMailboxName(f"a folder name must not contain {problem}")
    parts = name.split("/")
    if any(part in ("", ".", "..") for part in parts) or any(part.strip() != part for part in parts):
        raise InvalidMailboxName("folder name has an empty, '.' or '..' level")
    if parts[0].upper() == "INBOX":
        parts[0] = "INBOX"
    return "/".join(parts)


def create_folder(path: Path) -> None:
    for sub in SUBDIRS:
        (path / sub).mkdir(parents=True, exist_ok=True)
    fsync_dir(path)
    fsync_dir(path.parent)


def new_key(size: int) -> str:
    """A unique Maildir base name: time, microseconds, pid, counter, host; S= carries the size (Dovecot)."""
    now = time.time()
    host = socket.gethostname().replace("/", "\\057").replace(":", "\\072")
    return f"{int(now)}.M{int(now * 1e6) % 1_000_000}P{os.getpid()}Q{next(_counter)}.{host},S={size}"


def info_suffix(flags: frozenset[str]) -> str:
    return ":2," + "".join(sorted(FLAG_LETTERS[f] for f in flags if f in FLAG_LETTERS))


def flags_from_filename(filename: str) -> frozenset[str]:
    _, sep, info = filename.partition(":2,")
    if not sep:
        return frozenset()
    letters = {letter: flag for flag, letter in FLAG_LETTERS.items()}
    return frozenset(letters[ch] for ch in info if ch in letters)


def key_of(filename: str) -> str:
    return filename.rpartition("/")[2].split(":", 1)[0]  # string operations: called per message of a STORE


def write_new(folder: Path, data: bytes, mtime: float | None = None) -> str:
    """Write a message into tmp/, fsync it, rename into new/; return 'new/<key>'. The caller fsyncs new/."""
    key = new_key(len(data))
    tmp = folder / "tmp" / key
    with disk_full_as_error():
        try:
            with open(tmp, "xb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            if mtime is not None:
                os.utime(tmp, (mtime, mtime))
            os.rename(tmp, folder / "new" / key)
        except BaseException:
            tmp.unlink(missing_ok=True)  # no half-written file left in tmp/ (a full disk, or anything else)
            raise
    return f"new/{key}"


def rename_for_flags(folder: Path, filename: str, flags: frozenset[str]) -> str:
    """Move a message into cur/ with the info suffix matching flags; return its new relative name."""
    target = f"cur/{key_of(filename)}{info_suffix(flags)}"
    if target != filename:  # joined as strings: pathlib cost more than the rename itself (STORE 1:*)
        base = os.fspath(folder)
        os.rename(os.path.join(base, paths.checked_name(filename)), os.path.join(base, target))
    return target


def link_or_copy(source: Path, target: Path) -> bool:
    """Give a message file a second name (a copy where links fail); False when the source is gone."""
    try:
        os.link(source, target)
    except FileNotFoundError:
        return False
    except OSError:  # another file system, or links not supported
        try:
            shutil.copyfile(source, target)
        except FileNotFoundError:
            return False
        with open(target, "rb") as handle:
            os.fsync(handle.fileno())
    return True


def scan(folder: Path) -> dict[str, str]:
    """Messages present on disk: key -> relative filename (symbolic links and odd names are no messages)."""
    found: dict[str, str] = {}
    for sub in ("new", "cur"):
        directory = folder / sub
        if directory.is_dir() and not directory.is_symlink():
            for entry in os.scandir(directory):
                name = f"{sub}/{entry.name}"
                if entry.is_file(follow_symlinks=False) and paths.is_message_file(name):
                    found[key_of(entry.name)] = name
    return found


LOOKS = 3  # a message file is looked for under its row's name, then twice by its key after a rename


def whereabouts(folder: Path, filename: str, scans: dict[Path, dict[str, str]]) -> Iterator[Path]:
    """Where a message file an index row names may be now: under the row's name, then (renamed by a flag change
    since the row was read) found by its unique key, the folder scanned again for the last look. The caller
    opens each in turn until one opens; `scans` keeps each folder's scan between calls."""
    key = key_of(filename)
    for look in range(LOOKS):
        if look == 0:
            name: str | None = filename
        else:
            if look == LOOKS - 1 or folder not in scans:
                scans[folder] = scan(folder)
            name = scans[folder].get(key)
        if name is not None:
            yield paths.message_file(folder, name)


def clean_tmp(folder: Path, older_than: float) -> None:
    """Remove files left in tmp/ by a crash before their rename (never acknowledged to anyone)."""
    directory = folder / "tmp"
    if directory.is_dir() and not directory.is_symlink():
        for entry in os.scandir(directory):
            if entry.is_file(follow_symlinks=False) and entry.stat(follow_symlinks=False).st_mtime < older_than:
                os.unlink(entry.path)
