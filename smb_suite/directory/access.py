"""Who may touch which business: the permission helpers every directory call goes through, and the businesses
(tenants) an actor sees. Every call takes the acting principal and refuses what it may not do, so a front end
cannot forget a permission check it never makes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa

from smb_suite.directory import reservation
from smb_suite.directory.model import (
    DomainRecords,
    Principal,
    Role,
    Tenant,
    UserRecords,
)
from smb_suite.errors import (
    NotFound,
    PermissionDenied,
)
from smb_suite.storage import db


class Access:
    """The directory's base: the database, the clock, the reserved-name rules, and who may touch which business."""

    def __init__(
        self,
        engine: sa.Engine,
        clock: Callable[[], float],
        names: reservation.Rules | None = None,
        user_records: Sequence[UserRecords] = (),
        domain_records: Sequence[DomainRecords] = (),
    ) -> None:
        self._engine = engine
        self._clock = clock
        self.names = names or reservation.Rules()
        self._user_records = user_records  # dropped with a user, in remove_user's transaction
        self._domain_records = domain_records  # dropped with a domain, in remove_domain's transaction

    # -- permission helpers -------------------------------------------------------------------------------

    def partner_of(self, tenant_id: int) -> int | None:
        """The business of the partner that manages this one, if any."""
        with self._engine.connect() as conn:
            value = conn.execute(sa.select(db.tenants.c.partner_id).where(db.tenants.c.id == tenant_id)).scalar()
        return None if value is None else int(value)

    def _require_tenant(self, actor: Principal, tenant_id: int) -> None:
        """Refuse unless the actor manages this business: the operator any, an owner or partner its own, a
        partner also those of its customers."""
        if actor.role is Role.OPERATOR:
            return
        if actor.role in (Role.OWNER, Role.PARTNER) and actor.tenant_id == tenant_id:
            return
        if actor.role is Role.PARTNER and actor.tenant_id is not None and self.partner_of(tenant_id) == actor.tenant_id:
            return
        raise PermissionDenied("this belongs to another business")

    require_tenant = _require_tenant

    def manages(self, actor: Principal, tenant_id: int) -> bool:
        try:
            self._require_tenant(actor, tenant_id)
        except PermissionDenied:
            return False
        return True

    @staticmethod
    def visible(actor: Principal, tenant_column: sa.ColumnElement[Any]) -> sa.ColumnElement[bool]:
        """A WHERE clause keeping the rows of the businesses the actor manages (or belongs to)."""
        if actor.role is Role.OPERATOR:
            return sa.true()
        own = tenant_column == actor.tenant_id
        if actor.role is Role.PARTNER:
            customers = sa.select(db.tenants.c.id).where(db.tenants.c.partner_id == actor.tenant_id)
            return sa.or_(own, tenant_column.in_(customers))
        return own

    # -- businesses ---------------------------------------------------------------------------------------

    def list_tenants(self, actor: Principal) -> list[Tenant]:
        table = db.tenants
        query = sa.select(table.c.id, table.c.name, table.c.tier, table.c.partner_id, table.c.suspended)
        query = query.where(self.visible(actor, table.c.id)).order_by(table.c.name)
        with self._engine.connect() as conn:
            return [Tenant(r.id, r.name, r.tier, r.partner_id, bool(r.suspended)) for r in conn.execute(query)]

    def get_tenant(self, actor: Principal, name: str) -> Tenant:
        for tenant in self.list_tenants(actor):
            if tenant.name == name:
                return tenant
        raise NotFound(f"unknown business {name!r}")

    def tenant_suspended(self, tenant_id: int) -> bool:
        """True while the operator (or its partner) has suspended this business."""
        with self._engine.connect() as conn:
            query = sa.select(db.tenants.c.suspended).where(db.tenants.c.id == tenant_id)
            return bool(conn.execute(query).scalar())
