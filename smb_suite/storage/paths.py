"""Where mail lives on disk: paths made of internal ids only, never of names (issue 11).

    <mail_dir>/users/<user id>/                   a user's Maildir++ root, which is its INBOX
    <mail_dir>/users/<user id>/.~<mailbox id>/    every other folder of the user
    <mail_dir>/LAYOUT                             "2": the name-based layout of old versions was moved (legacy.py)

Domains, local parts and folder names are data in the database, nothing more: renaming a folder changes one row,
and no name a user chose can point a path anywhere. Ids are never reused (AUTOINCREMENT, migration 0009), so a
path never names the files of a row deleted before.

Every path the store opens, renames or removes comes from `MailLayout`: below the (resolved) mail root it is
made of fixed names and ids only, so it cannot climb out, and no directory on the way may be a symbolic link,
so a link planted in a data folder (users/5 -> users/7) leads nowhere either; three lstat calls, not a full
resolve per operation. `inside` is the general check (resolve, then compare) for any other path. Message file
names read from the index or the disk are checked by `message_file` before they are joined to a folder.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from smb_suite.errors import UnsafePath

USERS = "users"
LAYOUT_MARKER = "LAYOUT"
LAYOUT_VERSION = "2"
FOLDER_PREFIX = ".~"  # never produced by the old name encoding ('~' was %-encoded), so the two cannot meet
# Maildir (https://cr.yp.to/proto/maildir.html): new/ or cur/, then a base name without '/' or NUL, not a dot file
_MESSAGE_FILE = re.compile(r"(?:new|cur)/[^/\x00.][^/\x00]*")


def inside(root: Path, path: Path) -> Path:
    """`path` resolved, when it lies strictly below `root` (resolved too); else UnsafePath."""
    resolved = path.resolve()
    base = root.resolve()
    if resolved == base or not resolved.is_relative_to(base):
        raise UnsafePath(f"storage path {path} is not inside {root}")
    return resolved


def _id_text(value: int) -> str:
    if type(value) is not int or value <= 0:  # not a bool, not a string that looks like a number
        raise UnsafePath(f"storage ids are positive integers, not {value!r}")
    return str(value)


def message_file(folder: Path, filename: str) -> Path:
    """A message's file in a folder; the name ('new/<key>' or 'cur/<key>:2,<flags>') is checked first."""
    if not _MESSAGE_FILE.fullmatch(filename):
        raise UnsafePath(f"not a Maildir message file name: {filename!r}")
    return folder / filename


def is_message_file(filename: str) -> bool:
    return _MESSAGE_FILE.fullmatch(filename) is not None


def checked_name(filename: str) -> str:
    """`filename` itself once checked as `message_file` does (for callers that join paths as strings)."""
    if not _MESSAGE_FILE.fullmatch(filename):
        raise UnsafePath(f"not a Maildir message file name: {filename!r}")
    return filename


@dataclass(frozen=True, slots=True)
class MailLayout:
    """The mail tree of one data folder (config.mail_dir)."""

    root: Path

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", self.root.resolve())

    @property
    def users(self) -> Path:
        return self.root / USERS

    @property
    def marker(self) -> Path:
        return self.root / LAYOUT_MARKER

    def user_root(self, user_id: int) -> Path:
        """The user's Maildir++ root (its INBOX): users/<id>, no symbolic link on the way."""
        return self._without_links(USERS, _id_text(user_id))

    def folder(self, user_id: int, mailbox_id: int, inbox: bool) -> Path:
        """A folder's Maildir: the user's root for INBOX, `.~<mailbox id>` below it for any other."""
        if inbox:
            return self.user_root(user_id)
        return self._without_links(USERS, _id_text(user_id), f"{FOLDER_PREFIX}{_id_text(mailbox_id)}")

    def _without_links(self, *parts: str) -> Path:
        """The path of `parts` (fixed names and ids) below root, when none of its directories below root is a
        symbolic link; those not created yet are fine (mkdir makes real ones). Joined as text: every store
        write checks its folder, and pathlib's joining cost more than the lstat calls."""
        current = str(self.root).rstrip("/")  # "/" itself: the parts start with "/"
        checking = True
        for part in parts:
            current = f"{current}/{part}"
            if not checking:
                continue
            try:
                mode = os.lstat(current).st_mode
            except FileNotFoundError:
                checking = False
                continue
            if stat.S_ISLNK(mode) or not stat.S_ISDIR(mode):
                raise UnsafePath(f"storage path {current} is a symbolic link or not a folder")
        return Path(current)
