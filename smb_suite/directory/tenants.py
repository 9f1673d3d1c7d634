"""Businesses (tenants) as the operator and partners manage them: create one for a customer, give it to a
partner, suspend and resume it. Who may: the operator any business; a partner the businesses of its customers
(tenants.partner_id = the partner's own business), never its own; owners and users none of this.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

from smb_suite.directory.core import Directory
from smb_suite.directory.model import NOT_YOUR_BUSINESS, Principal, Role, Tenant
from smb_suite.errors import AlreadyExists, InvalidInput, NotFound, PermissionDenied
from smb_suite.names import check_tenant_name
from smb_suite.storage import database, db


class Tenants:
    def __init__(self, engine: sa.Engine, directory: Directory, clock: Callable[[], float]) -> None:
        self._engine = engine
        self._directory = directory
        self._clock = clock

    def find(self, name: str) -> Tenant | None:
        table = db.tenants
        query = sa.select(table.c.id, table.c.name, table.c.tier, table.c.partner_id, table.c.suspended)
        with self._engine.connect() as conn:
            row = conn.execute(query.where(table.c.name == name)).first()
        return None if row is None else Tenant(row.id, row.name, row.tier, row.partner_id, bool(row.suspended))

    def require_steward(self, actor: Principal, tenant: Tenant) -> None:
        """The operator, or the partner of this customer business: those change its tier and suspend it."""
        if actor.role is Role.OPERATOR:
            return
        if actor.role is Role.PARTNER and tenant.partner_id is not None and tenant.partner_id == actor.tenant_id:
            return
        raise PermissionDenied("only the operator or the business's partner may do this")

    def get(self, actor: Principal, name: str) -> Tenant:
        """The business, if the actor manages it; anyone but the operator gets the same refusal for a business
        of someone else and for one that does not exist (no probing of business names)."""
        tenant = self.find(name)
        if actor.role is not Role.OPERATOR and (tenant is None or not self._directory.manages(actor, tenant.id)):
            raise PermissionDenied(NOT_YOUR_BUSINESS)
        if tenant is None:
            raise NotFound(f"unknown business {name!r}")
        return tenant

    def create(self, actor: Principal, name: str, tier: str) -> Tenant:
        """A new business on `tier`; a partner's becomes one of its customers."""
        with self._engine.begin() as conn:
            return self.insert(conn, actor, name, tier)

    def insert(self, conn: sa.Connection, actor: Principal, name: str, tier: str) -> Tenant:
        """`create` in the caller's transaction (tenants.create_tenant adds its domain and owner in it too)."""
        if actor.role not in (Role.OPERATOR, Role.PARTNER):
            raise PermissionDenied("only the operator or a partner creates a business")
        name = check_tenant_name(name)  # the one check of a business name: CLI, admin UI, sign-up
        partner_id = actor.tenant_id if actor.role is Role.PARTNER else None
        if conn.execute(sa.select(db.tenants.c.id).where(db.tenants.c.name == name)).first():
            raise AlreadyExists(f"a business named {name!r} already exists")
        values = {"name": name, "tier": tier, "created_at": int(self._clock()), "partner_id": partner_id}
        tenant_id = database.inserted_id(conn.execute(sa.insert(db.tenants).values(**values)))
        return Tenant(tenant_id, name, tier, partner_id, False)

    def set_suspended(self, actor: Principal, name: str, suspended: bool) -> Tenant:
        tenant = self.get(actor, name)
        self.require_steward(actor, tenant)
        if actor.tenant_id == tenant.id:
            raise PermissionDenied("you cannot suspend your own business")
        with self._engine.begin() as conn:
            conn.execute(sa.update(db.tenants).where(db.tenants.c.id == tenant.id).values(suspended=suspended))
        return Tenant(tenant.id, tenant.name, tenant.tier, tenant.partner_id, suspended)

    def set_partner(self, actor: Principal, name: str, partner: str | None) -> Tenant:
        """Give a business to a partner (None: take it back). Operator only."""
        if actor.role is not Role.OPERATOR:
            raise PermissionDenied("only the operator gives a business to a partner")
        tenant = self.get(actor, name)
        partner_id = None
        if partner is not None:
            partner_tenant = self.get(actor, partner)
            if partner_tenant.id == tenant.id:
                raise InvalidInput("a business cannot be its own partner")
            partner_id = partner_tenant.id
        with self._engine.begin() as conn:
            conn.execute(sa.update(db.tenants).where(db.tenants.c.id == tenant.id).values(partner_id=partner_id))
        return Tenant(tenant.id, tenant.name, tenant.tier, partner_id, tenant.suspended)

    def names(self, tenant_ids: list[int]) -> dict[int, str]:
        with self._engine.connect() as conn:
            rows = conn.execute(sa.select(db.tenants.c.id, db.tenants.c.name).where(db.tenants.c.id.in_(tenant_ids)))
            return {row.id: row.name for row in rows}
