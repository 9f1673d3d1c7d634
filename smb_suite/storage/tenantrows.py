"""A business's rows, read out of one database and written into another under new ids (`smb-suite tenant export`
and `tenant import`, docs/ARCHITECTURE.md "Moving a business between servers").

`PARTS` lists, in the order they are inserted, the tables that hold a business: how its rows are found from the
tenant id, and which columns hold the id of a row of another part. Ids in an archive are only keys between its
rows: `insert` gives every row a new id on the target (the database assigns it) and rewrites every reference
through the map of the ids it assigned, so nothing from the archive ever names a row or a path of the target.
A reference to an id the archive does not hold is refused.

Not moved: what belongs to the server or to the moment (sessions, login throttling, the outbound queue,
certificates, DAV locks, the previous provider's IMAP import ledger, password recovery links, API tokens: their
secrets are only stored hashed, so a partner issues new ones).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from smb_suite.errors import MoveRefused
from smb_suite.storage import db

Rows = dict[str, list[dict[str, Any]]]
Select = sa.Select[Any]


def _domain_ids(tenant_id: int) -> Select:
    return sa.select(db.domains.c.id).where(db.domains.c.tenant_id == tenant_id)


def _user_ids(tenant_id: int) -> Select:
    return sa.select(db.users.c.id).where(db.users.c.domain_id.in_(_domain_ids(tenant_id)))


def _mailbox_ids(tenant_id: int) -> Select:
    return sa.select(db.mailboxes.c.id).where(db.mailboxes.c.user_id.in_(_user_ids(tenant_id)))


def _by(column: sa.Column[Any], ids: Callable[[int], Select]) -> Callable[[int], sa.ColumnElement[bool]]:
    return lambda tenant_id: column.in_(ids(tenant_id))


def _tenant(column: sa.Column[Any]) -> Callable[[int], sa.ColumnElement[bool]]:
    return lambda tenant_id: column == tenant_id


@dataclass(frozen=True, slots=True)
class Part:
    """One table of a business: which of its rows belong to tenant T, and which columns hold ids of other parts."""

    table: sa.Table
    belongs: Callable[[int], sa.ColumnElement[bool]]
    refs: Mapping[str, str] = field(default_factory=dict)  # column -> the table whose id it holds

    @property
    def keyed(self) -> bool:
        """Whether rows have an `id` of their own, which the target assigns anew."""
        return [c.name for c in self.table.primary_key.columns] == ["id"]


PARTS: tuple[Part, ...] = (
    Part(db.tenants, _tenant(db.tenants.c.id)),
    Part(db.domains, _tenant(db.domains.c.tenant_id), {"tenant_id": "tenants"}),
    Part(db.users, _by(db.users.c.domain_id, _domain_ids), {"domain_id": "domains"}),
    Part(db.vacations, _by(db.vacations.c.user_id, _user_ids), {"user_id": "users"}),
    Part(db.recovery_addresses, _by(db.recovery_addresses.c.user_id, _user_ids), {"user_id": "users"}),
    Part(db.aliases, _by(db.aliases.c.domain_id, _domain_ids), {"domain_id": "domains"}),
    Part(db.app_passwords, _by(db.app_passwords.c.user_id, _user_ids), {"user_id": "users"}),
    Part(db.recovery_addresses, _by(db.recovery_addresses.c.user_id, _user_ids), {"user_id": "users"}),
    Part(db.dkim_keys, _by(db.dkim_keys.c.domain_id, _domain_ids), {"domain_id": "domains"}),
    Part(db.mailboxes, _by(db.mailboxes.c.user_id, _user_ids), {"user_id": "users"}),
    Part(db.folder_subscriptions, _by(db.folder_subscriptions.c.user_id, _user_ids), {"user_id": "users"}),
    Part(db.messages, _by(db.messages.c.mailbox_id, _mailbox_ids), {"mailbox_id": "mailboxes"}),
    Part(db.expunged, _by(db.expunged.c.mailbox_id, _mailbox_ids), {"mailbox_id": "mailboxes"}),
    Part(db.site_media, _by(db.site_media.c.domain_id, _domain_ids), {"domain_id": "domains"}),
    Part(db.site_settings, _by(db.site_settings.c.domain_id, _domain_ids), {"domain_id": "domains"}),
    Part(db.site_pages, _by(db.site_pages.c.domain_id, _domain_ids), {"domain_id": "domains"}),
    Part(db.subscriptions, _tenant(db.subscriptions.c.tenant_id), {"tenant_id": "tenants"}),
    Part(db.subscription_changes, _tenant(db.subscription_changes.c.tenant_id), {"tenant_id": "tenants"}),
    Part(db.billing_seats, _tenant(db.billing_seats.c.tenant_id), {"tenant_id": "tenants", "user_id": "users"}),
    Part(db.brands, _tenant(db.brands.c.tenant_id), {"tenant_id": "tenants"}),
    Part(db.correspondents, _tenant(db.correspondents.c.tenant_id), {"tenant_id": "tenants"}),
    Part(db.audit_log, _tenant(db.audit_log.c.tenant_id), {"tenant_id": "tenants"}),
)
BY_NAME = {part.table.name: part for part in PARTS}
# Every other table, and why it stays (a new table must join one list or the other: tests/unit/ops).
NOT_MOVED = {
    "vacation_replies": "who got an autoreply lately: the interval starts again",
    "message_meta": "summaries: computed again from the files on import",
    "usage_daily": "the source's daily records: billing history stays where it was billed",
    "imports": "runs of an IMAP import on the source",
    "imported_messages": "the ledger of an IMAP import on the source",
    "queue_messages": "outbound mail: the source sends what waits",
    "queue_recipients": "outbound mail: the source sends what waits",
    "login_failures": "throttling of the moment",
    "login_locks": "throttling of the moment",
    "rate_events": "allowances of the moment",
    "web_sessions": "sessions: users sign in again",
    "recovery_tokens": "password reset links: asked for again",
    "api_tokens": "stored hashed: a partner issues new ones",
    "api_calls": "counts of the moment",
    "api_idempotency": "answers of the moment",
    "certificates": "the target obtains its own",
    "acme_challenges": "the target obtains its own",
    "dav_locks": "locks of the moment",
    "calendar_feeds": "calendar subscription URLs name this server: users make new ones on the target",
    "directory_stamp": "this server's routing-cache stamp: the target's own changes when the rows arrive",
}
# References that may name a row the business no longer has (a removed user's closed seat, a deleted cover
# picture): such rows lose the reference (set to NULL) or, when it cannot be NULL, are left out.
OPTIONAL_REFS = {("site_settings", "cover_id"): "site_media", ("billing_seats", "user_id"): "users"}


@dataclass(frozen=True, slots=True)
class Snapshot:
    schema: str  # the database's migration revision
    rows: Rows
    partner: str | None  # the partner's business name (its id means nothing on another server)


PARTNER_COLUMNS = (("tenants", "partner_id"), ("subscriptions", "partner_id"))


def read(conn: sa.Connection, tenant_id: int) -> Snapshot:
    """Every row of the business, as JSON-ready values (binary columns in base64); the partner by name."""
    rows: Rows = {}
    for part in PARTS:
        query = sa.select(part.table).where(part.belongs(tenant_id)).order_by(*part.table.primary_key.columns)
        rows[part.table.name] = [_encoded(part.table, row._mapping) for row in conn.execute(query)]
    partner_id = rows["tenants"][0]["partner_id"] if rows["tenants"] else None
    for table, column in PARTNER_COLUMNS:
        for row in rows[table]:
            row[column] = None
    partner = None
    if partner_id is not None:
        partner = conn.execute(sa.select(db.tenants.c.name).where(db.tenants.c.id == partner_id)).scalar_one()
    return Snapshot(read_schema(conn), rows, partner)


def read_schema(conn: sa.Connection) -> str:
    """The database's migration revision."""
    return str(conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one())


def _encoded(table: sa.Table, row: sa.RowMapping) -> dict[str, Any]:
    return {
        name: base64.b64encode(value).decode("ascii") if isinstance(value, bytes) else value
        for name, value in row.items()
        if name in table.c
    }


def check(rows: Rows) -> None:
    """Refuse rows this version cannot insert: unknown tables or columns, ids that are not positive integers."""
    for name, table_rows in rows.items():
        part = BY_NAME.get(name)
        if part is None or not isinstance(table_rows, list):
            raise MoveRefused(f"the archive holds rows of {name!r}, which this version does not move")
        for row in table_rows:
            if not isinstance(row, dict):
                raise MoveRefused(f"a row of {name} is not a record")
            unknown = set(row) - set(part.table.c.keys())
            if unknown:
                raise MoveRefused(f"rows of {name} have columns this version does not know: {sorted(unknown)}")
            for column in [*part.refs] + (["id"] if part.keyed else []):
                value = row.get(column)
                if value is not None and (type(value) is not int or value <= 0):
                    raise MoveRefused(f"{name}.{column} holds {value!r}, not an id")
    if len(rows.get("tenants", [])) != 1:
        raise MoveRefused("the archive must hold exactly one business")


@dataclass(slots=True)
class NewIds:
    """Archive id -> target id, per table, for every row `insert` wrote."""

    ids: dict[str, dict[int, int]] = field(default_factory=dict)

    def of(self, table: str, old: int) -> int:
        try:
            return self.ids[table][old]
        except KeyError:
            raise MoveRefused(f"the archive refers to {table} id {old}, which it does not hold") from None


Adjust = Callable[[str, int | None, dict[str, Any]], None]


BATCH = 500  # rows per INSERT: the transaction holds the writers' lock, which the daemon waits for


def insert(conn: sa.Connection, rows: Rows, before: Adjust | None = None) -> NewIds:
    """Insert the business's rows in the caller's transaction, each keyed row under a new id, every reference
    rewritten; `before(table, archive id, values)` may adjust a row (file names, counters) just before it goes in."""
    new = NewIds()
    for part in PARTS:
        name = part.table.name
        batch: list[dict[str, Any]] = []
        olds: list[int] = []
        for row in rows.get(name, []):
            values = _decoded(part.table, row)
            if not _rewrite(new, name, part, values):
                continue
            old = values.pop("id", None) if part.keyed else None
            if before is not None:
                before(name, old, values)
            if batch and (len(batch) == BATCH or batch[0].keys() != values.keys()):
                _insert_batch(conn, new, part, batch, olds)
                batch, olds = [], []
            batch.append(values)
            olds.append(old or 0)
        if batch:
            _insert_batch(conn, new, part, batch, olds)
    return new


def _insert_batch(conn: sa.Connection, new: NewIds, part: Part, batch: list[dict[str, Any]], olds: list[int]) -> None:
    """One INSERT of many rows (same columns); a keyed table's new ids come back in the rows' order."""
    name = part.table.name
    statement = sa.insert(part.table)
    try:
        if not part.keyed:
            conn.execute(statement, batch)
            return
        keyed = statement.returning(part.table.c.id, sort_by_parameter_order=True)
        assigned = conn.execute(keyed, batch).scalars().all()
    except IntegrityError as error:  # a duplicate UID, alias ...: the archive contradicts itself
        raise MoveRefused(f"the archive's rows of {name} do not fit the database ({error.orig})") from error
    new.ids.setdefault(name, {}).update(zip(olds, (int(i) for i in assigned), strict=True))


def _rewrite(new: NewIds, name: str, part: Part, values: dict[str, Any]) -> bool:
    """Rewrite references to target ids; False when the row must be left out (an optional reference lost)."""
    for column, table in part.refs.items():
        if values.get(column) is None:
            continue
        optional = OPTIONAL_REFS.get((name, column))
        if optional is not None and values[column] not in new.ids.get(table, {}):
            return False
        values[column] = new.of(table, values[column])
    for (table_name, column), table in OPTIONAL_REFS.items():
        if table_name == name and column not in part.refs and values.get(column) is not None:
            values[column] = new.ids.get(table, {}).get(values[column])
    return True


def _decoded(table: sa.Table, row: Mapping[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, value in row.items():
        if isinstance(table.c[name].type, sa.LargeBinary) and isinstance(value, str):
            try:
                values[name] = base64.b64decode(value, validate=True)
            except ValueError as error:
                raise MoveRefused(f"{table.name}.{name} is not base64") from error
        else:
            values[name] = value
    return values


def add_summaries(conn: sa.Connection, summaries: Mapping[int, Mapping[str, Any]]) -> None:
    """The FETCH and SEARCH summaries of the messages just inserted (message id -> message_meta values)."""
    if summaries:
        conn.execute(sa.insert(db.message_meta), [{"message_id": key, **values} for key, values in summaries.items()])


def hosted_domains(conn: sa.Connection, names: list[str]) -> list[str]:
    """Which of these domain names the target hosts already."""
    return sorted(conn.execute(sa.select(db.domains.c.name).where(db.domains.c.name.in_(names))).scalars())


def tenant_named(conn: sa.Connection, name: str) -> int | None:
    return conn.execute(sa.select(db.tenants.c.id).where(db.tenants.c.name == name)).scalar_one_or_none()


def set_usage(conn: sa.Connection, tenant_id: int, tenant_bytes: int, users: Mapping[int, int]) -> None:
    """The business's and each mailbox's counters as measured on what was written (so `quota check` agrees)."""
    conn.execute(sa.update(db.tenants).where(db.tenants.c.id == tenant_id).values(usage_bytes=tenant_bytes))
    for user_id, used in users.items():
        conn.execute(sa.update(db.users).where(db.users.c.id == user_id).values(usage_bytes=used))


# -- an import interrupted between placing its folders and committing its rows ------------------------------

STAGING_PREFIX = ".tenant-import-"  # <data_dir>/.tenant-import-<pid>-<random>/: an import's staging folder
JOURNAL = "placing.json"


def staging_folder(data_dir: Path, pid: int, token: str) -> Path:
    return data_dir / f"{STAGING_PREFIX}{pid}-{token}"


def note_placing(staging: Path, places: list[tuple[str, int, Path]]) -> None:
    """Before an import renames its folders into place: which folder belongs to which new row (table, id), so
    that a kill before the commit can be undone (`clear_interrupted`)."""
    entries = [{"table": table, "id": row_id, "path": str(path)} for table, row_id, path in places]
    with open(staging / JOURNAL, "x") as journal:
        json.dump(entries, journal)
        journal.flush()
        os.fsync(journal.fileno())


def clear_interrupted(engine: sa.Engine, data_dir: Path) -> list[str]:
    """Remove what an import killed before its commit left (the staging folder, and each folder it renamed into
    place whose row does not exist: SQLite hands a rolled-back id out again, which must find no folder).
    Staging folders of a process still running are left alone. Returns the folders removed."""
    removed: list[str] = []
    for staging in sorted(data_dir.glob(f"{STAGING_PREFIX}*")):
        pid = staging.name.removeprefix(STAGING_PREFIX).split("-")[0]
        if not pid.isdigit() or _alive(int(pid)) or staging.is_symlink():
            continue
        with contextlib.suppress(OSError, ValueError):
            for entry in json.loads((staging / JOURNAL).read_text()):
                removed.extend(_undo(engine, data_dir, entry))
        shutil.rmtree(staging, ignore_errors=True)
        removed.append(staging.name)
    return removed


def _undo(engine: sa.Engine, data_dir: Path, entry: dict[str, Any]) -> list[str]:
    table = db.metadata.tables.get(str(entry.get("table")))
    row_id, path = entry.get("id"), Path(str(entry.get("path")))
    if table is None or type(row_id) is not int or path.name != str(row_id) or path.is_symlink():
        return []
    if not path.resolve().is_relative_to(data_dir.resolve()) or not path.is_dir():
        return []
    with engine.connect() as conn:
        if conn.execute(sa.select(table.c.id).where(table.c.id == row_id)).first() is not None:
            return []  # committed: the folder is the business's
    shutil.rmtree(path)
    return [str(path.relative_to(data_dir))]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
