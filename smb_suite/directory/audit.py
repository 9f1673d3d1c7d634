"""The audit log: who changed what, when and from where. Every use case that changes something records it
(the use cases in ops/); the operator reads it all, owners and partners the
records of the businesses they manage.

Records name objects (addresses, domains, tiers), never secrets: no password or key ever reaches `record`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa

from smb_suite import log
from smb_suite.directory.core import Directory
from smb_suite.directory.model import Principal, Role
from smb_suite.errors import PermissionDenied
from smb_suite.storage import db

logger = logging.getLogger("smb_suite.audit")
MAX_TARGET = 500


@dataclass(frozen=True, slots=True)
class Entry:
    at: int
    actor: str
    client: str
    tenant: str
    action: str
    target: str


class AuditLog:
    def __init__(self, engine: sa.Engine, clock: Callable[[], float]) -> None:
        self._engine = engine
        self._clock = clock

    def record(self, actor: Principal, action: str, target: str = "", tenant_id: int | None = None) -> None:
        """Append one record (its own transaction, after the change it describes committed)."""
        values = {
            "at": int(self._clock()),
            "actor": actor.name[:320],
            "client": actor.client[:100],
            "tenant_id": tenant_id,
            "action": action[:50],
            "target": target[:MAX_TARGET],
        }
        with self._engine.begin() as conn:
            conn.execute(sa.insert(db.audit_log).values(**values))
        log.event(logger, "audit", action=action, actor=actor.name, client=actor.client, target=target)

    def entries(self, actor: Principal, tenant_id: int | None = None, limit: int = 200) -> list[Entry]:
        """The newest records the actor may read (of one business when tenant_id is given)."""
        if actor.role is Role.USER:
            raise PermissionDenied("only owners and the operator read the audit log")
        table = db.audit_log
        query = (
            sa.select(table, db.tenants.c.name.label("tenant"))
            .outerjoin(db.tenants, db.tenants.c.id == table.c.tenant_id)
            .where(Directory.visible(actor, table.c.tenant_id))
            .order_by(table.c.id.desc())
            .limit(limit)
        )
        if tenant_id is not None:
            query = query.where(table.c.tenant_id == tenant_id)
        with self._engine.connect() as conn:
            return [
                Entry(row.at, row.actor, row.client, row.tenant or "", row.action, row.target)
                for row in conn.execute(query)
            ]
