"""Database schema (SQLAlchemy Core) and engine; migrations live in smb_suite/migrations.

Portable SQL only, so the same schema runs on SQLite (embedded default) and PostgreSQL (fleets).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

metadata = sa.MetaData()

tenants = sa.Table(
    "tenants",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(100), nullable=False, unique=True),
    sa.Column("tier", sa.String(50), nullable=False, server_default="starter"),
    sa.Column("usage_bytes", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("warned_percent", sa.Integer, nullable=False, server_default="0"),
)

domains = sa.Table(
    "domains",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(253), nullable=False, unique=True),
    sa.Column("tenant_id", sa.Integer, sa.ForeignKey("tenants.id"), nullable=False, index=True),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("site_bytes", sa.BigInteger, nullable=False, server_default="0"),
)

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("domain_id", sa.Integer, sa.ForeignKey("domains.id"), nullable=False),
    sa.Column("local_part", sa.String(64), nullable=False),
    sa.Column("password_hash", sa.String(200), nullable=False),
    sa.Column("role", sa.String(20), nullable=False, server_default="user"),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("usage_bytes", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("quota_bytes", sa.BigInteger, nullable=True),
    sa.UniqueConstraint("domain_id", "local_part"),
)

aliases = sa.Table(
    "aliases",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("domain_id", sa.Integer, sa.ForeignKey("domains.id"), nullable=False),
    sa.Column("local_part", sa.String(64), nullable=False),
    sa.Column("target", sa.String(320), nullable=False),
    sa.UniqueConstraint("domain_id", "local_part", "target"),
)

mailboxes = sa.Table(
    "mailboxes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("name", sa.String(500), nullable=False),
    sa.Column("uidvalidity", sa.BigInteger, nullable=False),
    sa.Column("uidnext", sa.BigInteger, nullable=False, server_default="1"),
    sa.Column("subscribed", sa.Boolean, nullable=False, server_default=sa.true()),
    # RFC 7162 CONDSTORE: raised by every change to the folder's messages (new, flags, expunge)
    sa.Column("highestmodseq", sa.BigInteger, nullable=False, server_default="1"),
    sa.UniqueConstraint("user_id", "name"),
)

messages = sa.Table(
    "messages",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("mailbox_id", sa.Integer, sa.ForeignKey("mailboxes.id"), nullable=False),
    sa.Column("uid", sa.BigInteger, nullable=False),
    sa.Column("filename", sa.String(300), nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("flags", sa.String(1000), nullable=False, server_default=""),
    sa.Column("internaldate", sa.BigInteger, nullable=False),
    sa.Column("modseq", sa.BigInteger, nullable=False, server_default="1"),  # RFC 7162, of the last change
    sa.UniqueConstraint("mailbox_id", "uid"),
    sa.Index("ix_messages_mailbox_modseq", "mailbox_id", "modseq"),
)

# What FETCH and SEARCH need without opening the file (mail/summary.py), one row per message, computed when
# the message is stored. A message without a row (stored before migration 0006) is summarised on demand.
message_meta = sa.Table(
    "message_meta",
    metadata,
    sa.Column("message_id", sa.Integer, sa.ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("envelope", sa.LargeBinary, nullable=False),
    sa.Column("bodystructure", sa.LargeBinary, nullable=False),
    sa.Column("body", sa.LargeBinary, nullable=False),
    sa.Column("subject", sa.Text, nullable=False),
    sa.Column("sender", sa.Text, nullable=False),
    sa.Column("to", sa.Text, nullable=False),
    sa.Column("cc", sa.Text, nullable=False),
    sa.Column("bcc", sa.Text, nullable=False),
    sa.Column("sent_day", sa.Integer, nullable=True),
)

usage_daily = sa.Table(
    "usage_daily",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("tenant_id", sa.Integer, sa.ForeignKey("tenants.id"), nullable=False),
    sa.Column("day", sa.String(10), nullable=False),
    sa.Column("usage_bytes", sa.BigInteger, nullable=False),
    sa.Column("limit_bytes", sa.BigInteger, nullable=False),
    sa.UniqueConstraint("tenant_id", "day"),
)

MIGRATIONS = Path(__file__).parent / "migrations"


def inserted_id(result: sa.CursorResult[Any]) -> int:
    """The primary key of the row an INSERT just created."""
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def create_engine(url: str) -> sa.Engine:
    """An engine with SQLite tuned for one writer and many readers (WAL, foreign keys, busy timeout)."""
    engine = sa.create_engine(url, connect_args={"timeout": 30} if url.startswith("sqlite") else {})
    if url.startswith("sqlite"):

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

    return engine


def _alembic_config(engine: sa.Engine) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def is_current(engine: sa.Engine) -> bool:
    """True when the database is at the newest migration."""
    head = ScriptDirectory.from_config(_alembic_config(engine)).get_current_head()
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision() == head


def migrate(engine: sa.Engine) -> None:
    """Apply every pending migration."""
    command.upgrade(_alembic_config(engine), "head")
