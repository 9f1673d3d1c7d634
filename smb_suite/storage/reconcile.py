"""Reconcile at start: bring the index in line with the Maildirs after a crash (rows without files go, files
without rows are indexed, renamed files are followed) and clear old debris from tmp/.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from smb_suite import log
from smb_suite.errors import UnsafePath
from smb_suite.mail.address import Address
from smb_suite.mail.summary import Summary, summarize
from smb_suite.storage import db, index, maildir, paths
from smb_suite.storage.folders import Owner
from smb_suite.storage.index import Mailbox, StoredMessage
from smb_suite.storage.messages import Messages

logger = logging.getLogger("smb_suite.storage")
TMP_MAX_AGE = 36 * 3600  # Maildir convention: tmp/ files older than 36 hours are debris
BATCH = 1000  # message files indexed per statement batch at recovery


class Reconciler(Messages):
    def reconcile(self) -> int:
        """Bring the index in line with the Maildirs after a crash; return how many rows were repaired."""
        repaired = 0
        with self._engine.connect() as conn:
            owners = conn.execute(
                sa.select(db.users.c.id, db.domains.c.tenant_id, db.users.c.local_part, db.domains.c.name).join(
                    db.domains, db.domains.c.id == db.users.c.domain_id
                )
            ).all()
        for user_id, tenant_id, local_part, domain in owners:
            owner = _StoredOwner(user_id, tenant_id, Address(local_part, domain))
            for mailbox in self.mailboxes(owner):
                try:
                    repaired += self._reconcile_folder(owner, mailbox)
                except UnsafePath as error:  # a tampered data folder: leave it alone, serve everyone else
                    log.event(logger, "store.unsafe_folder", user=user_id, mailbox=mailbox.id, error=str(error))
        return repaired

    def _reconcile_folder(self, owner: Owner, mailbox: Mailbox) -> int:
        folder = self.folder(owner, mailbox)
        maildir.create_folder(folder)
        maildir.clean_tmp(folder, time.time() - TMP_MAX_AGE)
        on_disk = maildir.scan(folder)
        indexed = {maildir.key_of(m.filename): m for m in self.messages(mailbox)}
        repaired = 0
        with self._engine.begin() as conn:
            for key, message in indexed.items():
                if key not in on_disk:
                    index.remove(conn, mailbox.id, [message.uid])
                    self.quota.release(conn, owner.tenant_id, message.size, owner.id)
                    repaired += 1
                elif on_disk[key] != message.filename:
                    conn.execute(
                        sa.update(db.messages)
                        .where(db.messages.c.mailbox_id == mailbox.id, db.messages.c.uid == message.uid)
                        .values(filename=on_disk[key])
                    )
                    repaired += 1
            unindexed = [filename for key, filename in sorted(on_disk.items()) if key not in indexed]
            for start in range(0, len(unindexed), BATCH):
                self._index_files(conn, owner, mailbox, folder, unindexed[start : start + BATCH])
            repaired += len(unindexed)
            if repaired:
                index.next_modseq(conn, mailbox.id)
        return repaired

    def _index_files(self, conn: sa.Connection, owner: Owner, mailbox: Mailbox, folder: Path, names: list[str]) -> None:
        """Index message files that have no row: one quota charge, one UID range and two inserts per batch
        (row by row, a crashed 100,000-message Maildir took minutes to come back)."""
        rows: list[tuple[StoredMessage, Summary]] = []
        first, modseq = index.allocate(conn, mailbox.id, len(names))
        for uid, filename in enumerate(names, start=first):
            path = paths.message_file(folder, filename)
            stat = path.stat()
            flags = maildir.flags_from_filename(filename)
            stored = StoredMessage(uid, filename, stat.st_size, flags, int(stat.st_mtime), modseq)
            rows.append((stored, summarize(path.read_bytes())))
        self.quota.reserve(conn, owner.tenant_id, sum(stored.size for stored, _ in rows), owner.id, enforce=False)
        index.insert_many(conn, mailbox.id, rows)


@dataclass(frozen=True, slots=True)
class _StoredOwner:
    id: int
    tenant_id: int
    address: Address
