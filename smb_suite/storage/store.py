"""The mail store: Maildir files plus an index (UIDs, flags, mod-sequences, summaries) in the database.

Durability contract (docs/ARCHITECTURE.md): write to tmp/, fsync, rename into new/, fsync the directory, then commit
the index row together with the quota usage; only then may a front end answer 250 or OK. `reconcile` at
start repairs what a crash left between those steps. Every call names the owner whose store it touches, and a
store is only reachable through its owner, so one user can never reach another's folders.

Every change to a folder's messages takes a new mod-sequence (RFC 7162) and is published on `changes`, so
sessions that show the folder can ask the index for exactly what changed (`changes_since`); a folder deleted or
renamed is announced with `changes.drop`, so no kept state outlives it.

The store is split by operation, each layer a class over the one before: folders.py (layout by ids, folder
CRUD), messages.py (index reads, flags, expunge), transfer.py (APPEND, delivery, COPY, MOVE, RENAME) and
reconcile.py (repair at start); `MailStore` composes them and is what the rest of the daemon holds.

Files live at paths made of ids (storage/paths.py): a folder's name is a database row only, so RENAME touches
no file, and every folder, file and tree this module opens or removes is checked to lie inside its owner's root.
"""

from __future__ import annotations

from smb_suite.storage.folders import DEFAULT_FOLDERS, Owner
from smb_suite.storage.index import FolderStatus, Identity, Mailbox, StoredMessage
from smb_suite.storage.messages import Expunged, FlagUpdate
from smb_suite.storage.reconcile import Reconciler
from smb_suite.storage.transfer import NewMessage, Staged, Transfer, Transfers

__all__ = [
    "DEFAULT_FOLDERS",
    "Expunged",
    "FlagUpdate",
    "FolderStatus",
    "Identity",
    "MailStore",
    "Mailbox",
    "NewMessage",
    "Staged",
    "Owner",
    "StoredMessage",
    "Transfer",
]


class MailStore(Transfers, Reconciler):
    """One store over all owners: folders, messages, transfers and reconcile (see the module docstring)."""
