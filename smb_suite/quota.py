"""Storage accounting: the one place that changes a tenant's usage, inside the writer's own transaction.

Tier limits and their enforcement build on this (storage tiers issue); today every writer already calls
`charge` with the bytes it adds or frees, so usage is exact from the first message.
"""

from __future__ import annotations

import sqlalchemy as sa

from smb_suite import db


def charge(conn: sa.Connection, tenant_id: int, delta: int) -> None:
    """Add `delta` bytes (negative to free) to the tenant's usage, in the caller's transaction."""
    if delta:
        conn.execute(
            sa.update(db.tenants)
            .where(db.tenants.c.id == tenant_id)
            .values(usage_bytes=db.tenants.c.usage_bytes + delta)
        )


def usage(conn: sa.Connection, tenant_id: int) -> int:
    return int(conn.execute(sa.select(db.tenants.c.usage_bytes).where(db.tenants.c.id == tenant_id)).scalar_one())
