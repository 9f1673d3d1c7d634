"""The import runs (progress the CLI prints and the admin page shows) and the ledger of source messages already
brought in. Ledger rows are written by `ledger_writer` inside the store's transaction that indexes the messages
(Transfers.commit_staged), never on their own."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import sqlalchemy as sa

from smb_suite.directory.model import User
from smb_suite.storage import db, index


@dataclass(frozen=True, slots=True)
class Progress:
    import_id: int
    source: str
    state: str  # queued, running, done, failed
    error: str | None
    messages_done: int
    messages_total: int
    bytes_done: int
    bytes_total: int
    updated: float  # last progress or lease renewal: a run killed with its process stops moving

    def under_way(self, now: float, quiet: float) -> bool:
        """Queued or running, and heard of within `quiet` seconds (a killed command-line run stays "running")."""
        return self.state in ("queued", "running") and now - self.updated < quiet


@dataclass(frozen=True, slots=True)
class Claimed:
    """A run started in the admin UI, taken by this process: whose, from where, its sealed password."""

    import_id: int
    user_id: int
    settings: str
    secret: bytes


@dataclass(frozen=True, slots=True)
class SourceFolder:
    """One folder of one source, as the ledger keys it."""

    user_id: int
    source: str
    folder: str
    uidvalidity: int


class ImportRecords:
    def __init__(self, engine: sa.Engine, clock: Callable[[], float]) -> None:
        self._engine = engine
        self._clock = clock

    def start(self, user: User, source: str, **queued: object) -> int:
        """A new run, under way now (the CLI), or `queued` with its settings and sealed password (admin UI)."""
        now = self._clock()
        state = "queued" if queued else "running"
        with self._engine.begin() as conn:
            values = {"user_id": user.id, "source": source, "state": state, "started": now, "updated": now, **queued}
            return int(conn.execute(sa.insert(db.imports).values(**values).returning(db.imports.c.id)).scalar_one())

    def claim(self, lease: float) -> Claimed | None:
        """The oldest queued run, or a running one whose process stopped renewing its lease; now ours."""
        table = db.imports
        now = self._clock()
        waiting = sa.and_(
            table.c.state.in_(("queued", "running")),
            table.c.secret.is_not(None),
            sa.or_(table.c.claimed_until.is_(None), table.c.claimed_until < now),
        )
        with self._engine.begin() as conn:
            row = conn.execute(sa.select(table).where(waiting).order_by(table.c.id).limit(1)).first()
            if row is None:
                return None
            taken = sa.update(table).where(table.c.id == row.id, waiting)  # nobody took it meanwhile
            if not conn.execute(taken.values(claimed_until=now + lease, state="running")).rowcount:
                return None
        return Claimed(int(row.id), int(row.user_id), str(row.settings), bytes(row.secret))

    def finish(self, import_id: int) -> None:
        """The run ended (done or failed): its password is erased and nobody takes it up again."""
        self.update(import_id, secret=None, claimed_until=None)

    def update(self, import_id: int, **values: object) -> None:
        with self._engine.begin() as conn:
            table = db.imports
            conn.execute(sa.update(table).where(table.c.id == import_id).values(updated=self._clock(), **values))

    def renew(self, import_id: int, lease: float) -> None:
        """This process's claim on the run holds for `lease` more seconds."""
        self.update(import_id, claimed_until=self._clock() + lease)

    def progress(self, import_id: int) -> Progress:
        with self._engine.connect() as conn:
            row = conn.execute(sa.select(db.imports).where(db.imports.c.id == import_id)).one()
        return _progress(row)

    def latest(self, user: User) -> Progress | None:
        """The user's newest run (the mailbox page shows it)."""
        table = db.imports
        query = sa.select(table).where(table.c.user_id == user.id).order_by(table.c.id.desc()).limit(1)
        with self._engine.connect() as conn:
            row = conn.execute(query).first()
        return None if row is None else _progress(row)

    def imported(self, folder: SourceFolder) -> set[int]:
        """UIDs of this source folder already brought in."""
        table = db.imported_messages
        query = sa.select(table.c.uid).where(
            table.c.user_id == folder.user_id,
            table.c.source == folder.source,
            table.c.folder == folder.folder,
            table.c.uidvalidity == folder.uidvalidity,
        )
        with self._engine.connect() as conn:
            return {int(uid) for uid in conn.execute(query).scalars()}

    def held(self, user: User, folder: str) -> dict[tuple[int, int], list[int]]:
        """The UIDs of the messages in one of the user's folders by (size, internal date), oldest first."""
        found: dict[tuple[int, int], list[int]] = {}
        with self._engine.connect() as conn:
            mailbox = index.mailbox_named(conn, user.id, folder)
            if mailbox is None:
                return found
            table = db.messages
            query = sa.select(table.c.size, table.c.internaldate, table.c.uid).where(table.c.mailbox_id == mailbox.id)
            for size, date, uid in conn.execute(query.order_by(table.c.uid)):
                found.setdefault((int(size), int(date)), []).append(int(uid))
        return found

    def adopt(self, folder: SourceFolder, uids: Iterable[int]) -> None:
        """Source messages found already in the mailbox: recorded as brought in, not copied again."""
        with self._engine.begin() as conn:
            self.ledger_writer(folder, uids)(conn)

    @staticmethod
    def ledger_writer(folder: SourceFolder, uids: Iterable[int]) -> Callable[[sa.Connection], None]:
        """Records these source UIDs, in the caller's transaction (the one that indexes their copies)."""
        rows = [{**_key(folder), "uid": uid} for uid in uids]

        def write(conn: sa.Connection) -> None:
            if rows:
                conn.execute(sa.insert(db.imported_messages), rows)

        return write

    def forget_user(self, conn: sa.Connection, user: User) -> None:
        """UserRecords: a removed mailbox's runs and ledger go with it."""
        conn.execute(sa.delete(db.imported_messages).where(db.imported_messages.c.user_id == user.id))
        conn.execute(sa.delete(db.imports).where(db.imports.c.user_id == user.id))


def _key(folder: SourceFolder) -> dict[str, object]:
    return {
        "user_id": folder.user_id,
        "source": folder.source,
        "folder": folder.folder,
        "uidvalidity": folder.uidvalidity,
    }


def _progress(row: sa.Row[tuple[object, ...]]) -> Progress:
    values = row._mapping
    return Progress(
        int(values["id"]),
        str(values["source"]),
        str(values["state"]),
        None if values["error"] is None else str(values["error"]),
        int(values["messages_done"]),
        int(values["messages_total"]),
        int(values["bytes_done"]),
        int(values["bytes_total"]),
        float(values["updated"]),
    )
