"""Storage tiers and usage accounting: the one quota check every writer calls in its own transaction.

A tenant's usage is the sum of its mailboxes and its site versions, exact to the byte. Writers call
`reserve` (check, then charge) inside the transaction that records what they wrote, and `release` when they
free space, which always succeeds, so deleting works even over quota. `reserve` returns the warning levels the
tenant just crossed; the writer passes them to `announce` after its commit.

The drift check (`smb-suite quota check`, ops/tiers.check_drift) recomputes usage from what is on disk: the
counters are updated in the writers' own transactions, so they should never drift; this is the proof an
operator can run (and the property tests assert) rather than a repair step that would hide a bug.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from smb_suite.config import TierConfig
from smb_suite.errors import InvalidInput, QuotaExceeded
from smb_suite.storage import db
from smb_suite.storage.prepared import Prepared

WarningListener = Callable[[int, int], None]
FULL_MARGIN = 64 * 1024  # less room than this is "full": a typical message would not fit


# Built once: SQLAlchemy then reuses their compiled form (these run for every message stored).
_CHARGE_TENANT = Prepared(
    sa.update(db.tenants)
    .where(db.tenants.c.id == sa.bindparam("tenant"))
    .values(usage_bytes=db.tenants.c.usage_bytes + sa.bindparam("delta"))
    .returning(db.tenants.c.name, db.tenants.c.tier, db.tenants.c.usage_bytes, db.tenants.c.warned_percent)
)
_CHARGE_USER = Prepared(
    sa.update(db.users)
    .where(db.users.c.id == sa.bindparam("user"))
    .values(usage_bytes=db.users.c.usage_bytes + sa.bindparam("delta"))
    .returning(db.users.c.usage_bytes, db.users.c.quota_bytes)
)
_USAGE = sa.select(db.tenants.c.name, db.tenants.c.tier, db.tenants.c.usage_bytes).where(
    db.tenants.c.id == sa.bindparam("tenant")
)
_ROOM = (
    sa.select(
        db.tenants.c.tier, db.tenants.c.usage_bytes, db.users.c.usage_bytes.label("user_usage"), db.users.c.quota_bytes
    )
    .select_from(db.tenants.outerjoin(db.users, db.users.c.id == sa.bindparam("user")))
    .where(db.tenants.c.id == sa.bindparam("tenant"))
)
_LOWER_WARNED = Prepared(
    sa.update(db.tenants)
    .where(db.tenants.c.id == sa.bindparam("tenant"), db.tenants.c.warned_percent > sa.bindparam("level"))
    .values(warned_percent=sa.bindparam("level"))
)


@dataclass(frozen=True, slots=True)
class Usage:
    tenant_id: int
    tenant: str
    tier: str
    used: int
    limit: int

    @property
    def percent(self) -> float:
        return 100.0 * self.used / self.limit if self.limit else 100.0

    @property
    def free(self) -> int:
        return max(0, self.limit - self.used)


def format_bytes(count: int) -> str:
    """Human sizes in binary units, as the tiers are sold (50 MB = 50 MiB)."""
    value = float(count)
    for unit in ("bytes", "KB", "MB", "GB"):
        if abs(value) < 1024 or unit == "GB":
            return f"{int(value)} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


class Quota:
    """Tier limits from configuration plus the usage counters in the database."""

    def __init__(self, engine: sa.Engine, tiers: Mapping[str, TierConfig], warn_percent: tuple[int, ...]) -> None:
        self._engine = engine
        self.tiers = tiers
        self.warn_percent = tuple(sorted(warn_percent))
        self.listeners: list[WarningListener] = []

    def limit_of(self, tier: str) -> int:
        config = self.tiers.get(tier)
        return 0 if config is None else config.storage_bytes

    def current(self, tenant_id: int) -> Usage:
        with self._engine.connect() as conn:
            return self.usage(conn, tenant_id)

    def current_all(self) -> list[Usage]:
        with self._engine.connect() as conn:
            return self.all_usage(conn)

    def mailbox_usage(self, user_id: int) -> tuple[int, int | None]:
        """One mailbox's bytes and its own limit inside the tenant's quota (None: only the tenant's)."""
        with self._engine.connect() as conn:
            row = conn.execute(
                sa.select(db.users.c.usage_bytes, db.users.c.quota_bytes).where(db.users.c.id == user_id)
            ).one()
        return int(row.usage_bytes), None if row.quota_bytes is None else int(row.quota_bytes)

    def set_mailbox_limit(self, user_id: int, limit: int | None) -> None:
        """Give one mailbox a limit inside its tenant's quota (None removes it)."""
        if limit is not None and limit <= 0:
            raise InvalidInput("a mailbox limit must be positive")
        with self._engine.begin() as conn:
            conn.execute(sa.update(db.users).where(db.users.c.id == user_id).values(quota_bytes=limit))

    def change_tier(self, tenant_id: int, tier: str) -> Usage:
        with self._engine.begin() as conn:
            return self.set_tier(conn, tenant_id, tier)

    def record_today(self, today: datetime.date) -> int:
        with self._engine.begin() as conn:
            return self.record_daily(conn, today)

    def usage(self, conn: sa.Connection, tenant_id: int) -> Usage:
        row = conn.execute(_USAGE, {"tenant": tenant_id}).one()
        return Usage(tenant_id, row.name, row.tier, int(row.usage_bytes), self.limit_of(row.tier))

    def all_usage(self, conn: sa.Connection) -> list[Usage]:
        rows = conn.execute(
            sa.select(db.tenants.c.id, db.tenants.c.name, db.tenants.c.tier, db.tenants.c.usage_bytes).order_by(
                db.tenants.c.name
            )
        )
        return [Usage(r.id, r.name, r.tier, int(r.usage_bytes), self.limit_of(r.tier)) for r in rows]

    def is_full(self, conn: sa.Connection, tenant_id: int, user_id: int | None = None) -> bool:
        """True when not even a small message fits: SMTP answers 452 at RCPT (the sender retries later). One
        statement for both counters (it runs for every recipient)."""
        row = conn.execute(_ROOM, {"tenant": tenant_id, "user": user_id}).one()
        if self.limit_of(row.tier) - int(row.usage_bytes) < FULL_MARGIN:
            return True
        return row.quota_bytes is not None and int(row.quota_bytes) - int(row.user_usage) < FULL_MARGIN

    def reserve(
        self, conn: sa.Connection, tenant_id: int, size: int, user_id: int | None = None, enforce: bool = True
    ) -> list[int]:
        """Check that `size` more bytes fit and charge them; return warning levels newly crossed.

        Raises QuotaExceeded (nothing charged) when they do not fit and `enforce` is set; recovery and system
        mail (the warnings themselves) pass enforce=False. Charging first, in one UPDATE ... RETURNING per
        counter, locks the rows before the check: two writers of one tenant can never both pass on PostgreSQL.
        """
        name, tier, used, warned = _CHARGE_TENANT.one(conn, {"tenant": tenant_id, "delta": size})
        after = Usage(tenant_id, name, tier, int(used), self.limit_of(tier))
        room = None
        if user_id is not None:
            user_used, user_quota = _CHARGE_USER.one(conn, {"user": user_id, "delta": size})
            room = None if user_quota is None else int(user_quota) - int(user_used) + size
        free_before = max(0, after.limit - (after.used - size))
        if enforce and (size > free_before or (room is not None and size > room)):
            self._charge(conn, tenant_id, -size, user_id)
            if size > free_before:
                raise QuotaExceeded(
                    f"storage full: {format_bytes(after.used - size)} of {format_bytes(after.limit)} used "
                    f"({after.tier} tier), this needs {format_bytes(size)}"
                )
            raise QuotaExceeded(f"this mailbox is full: it has {format_bytes(max(room or 0, 0))} left")
        return self._crossed(conn, after, int(warned))

    def release(self, conn: sa.Connection, tenant_id: int, size: int, user_id: int | None = None) -> None:
        """Free `size` bytes; always allowed. Lowers the warning level so a later crossing warns again."""
        _, tier, used, warned = _CHARGE_TENANT.one(conn, {"tenant": tenant_id, "delta": -size})  # every EXPUNGE
        if user_id is not None:
            _CHARGE_USER.run(conn, {"user": user_id, "delta": -size})
        after, limit = int(used), self.limit_of(tier)
        level = max((p for p in self.warn_percent if after * 100 >= p * limit), default=0)
        if int(warned) > level:
            _LOWER_WARNED.run(conn, {"tenant": tenant_id, "level": level})

    def _charge(self, conn: sa.Connection, tenant_id: int, delta: int, user_id: int | None) -> None:
        if not delta:
            return
        _CHARGE_TENANT.run(conn, {"tenant": tenant_id, "delta": delta})
        if user_id is not None:
            _CHARGE_USER.run(conn, {"user": user_id, "delta": delta})

    def _crossed(self, conn: sa.Connection, after: Usage, warned: int) -> list[int]:
        """The warning levels `after` reaches that were not announced yet (recorded as announced)."""
        if not after.limit:
            return []
        crossed = [p for p in self.warn_percent if p > warned and after.used * 100 >= p * after.limit]
        if crossed:
            conn.execute(
                sa.update(db.tenants).where(db.tenants.c.id == after.tenant_id).values(warned_percent=max(crossed))
            )
        return crossed[-1:]

    def announce(self, tenant_id: int, levels: list[int]) -> None:
        """After the writer's commit: tell listeners (the owner's warning mail) about crossed levels."""
        for level in levels:
            for listener in self.listeners:
                listener(tenant_id, level)

    def set_tier(self, conn: sa.Connection, tenant_id: int, tier: str) -> Usage:
        """Move a tenant to another tier; refuse a downgrade below its current usage."""
        if tier not in self.tiers:
            raise InvalidInput(f"no tier named {tier!r}; tiers: {', '.join(self.tiers)}")
        current = self.usage(conn, tenant_id)
        limit = self.limit_of(tier)
        if current.used > limit:
            raise QuotaExceeded(
                f"{current.tenant} uses {format_bytes(current.used)}, more than the {format_bytes(limit)} of "
                f"{tier}: free {format_bytes(current.used - limit)} first"
            )
        conn.execute(sa.update(db.tenants).where(db.tenants.c.id == tenant_id).values(tier=tier))
        level = max((p for p in self.warn_percent if current.used * 100 >= p * limit), default=0)
        conn.execute(sa.update(db.tenants).where(db.tenants.c.id == tenant_id).values(warned_percent=level))
        return self.usage(conn, tenant_id)

    def daily_history(self, tenant_id: int, days: int) -> list[tuple[str, int, int]]:
        """The last `days` daily records of a tenant, newest first: (day, used bytes, limit bytes)."""
        query = (
            sa.select(db.usage_daily.c.day, db.usage_daily.c.usage_bytes, db.usage_daily.c.limit_bytes)
            .where(db.usage_daily.c.tenant_id == tenant_id)
            .order_by(db.usage_daily.c.day.desc())
            .limit(days)
        )
        with self._engine.connect() as conn:
            return [(row.day, int(row.usage_bytes), int(row.limit_bytes)) for row in conn.execute(query)]

    def record_daily(self, conn: sa.Connection, day: datetime.date) -> int:
        """Upsert today's usage of every tenant (for reports and billing); return how many were recorded."""
        key = day.isoformat()
        usages = self.all_usage(conn)
        for usage in usages:
            updated = conn.execute(
                sa.update(db.usage_daily)
                .where(db.usage_daily.c.tenant_id == usage.tenant_id, db.usage_daily.c.day == key)
                .values(usage_bytes=usage.used, limit_bytes=usage.limit)
            ).rowcount
            if not updated:
                conn.execute(
                    sa.insert(db.usage_daily).values(
                        tenant_id=usage.tenant_id, day=key, usage_bytes=usage.used, limit_bytes=usage.limit
                    )
                )
        return len(usages)


@dataclass(frozen=True, slots=True)
class Drift:
    tenant: str
    counted: int
    on_disk: int

    @property
    def difference(self) -> int:
        return self.counted - self.on_disk


def maildir_bytes(root: Path) -> int:
    """Bytes of the messages (new/ and cur/ of every folder) under a user's Maildir root."""
    total = 0
    if not root.is_dir():
        return 0
    for folder in [root, *(entry for entry in root.iterdir() if entry.name.startswith(".") and entry.is_dir())]:
        for sub in ("new", "cur"):
            directory = folder / sub
            if directory.is_dir():
                total += sum(entry.stat().st_size for entry in os.scandir(directory) if entry.is_file())
    return total
