"""Hosted domains in the directory: adding one (reserved names refused: reservation.py; an owner's or partner's
is pending until its ownership is proven: ops/verification.py), looking them up, removing one."""

from __future__ import annotations

import secrets
from typing import Any

import sqlalchemy as sa

from smb_suite.directory import reservation
from smb_suite.directory.access import Access
from smb_suite.directory.model import (
    NOT_YOUR_BUSINESS,
    NOT_YOUR_DOMAIN,
    Domain,
    Principal,
    Role,
)
from smb_suite.errors import (
    AlreadyExists,
    InvalidInput,
    PermissionDenied,
    UnknownDomain,
)
from smb_suite.mail.address import normalize_domain
from smb_suite.names import check_tenant_name
from smb_suite.storage import database, db


def domain_of_row(row: Any) -> Domain:
    return Domain(int(row[0]), str(row[1]), int(row[2]), str(row[3]), row[5] is not None, str(row[4]))


def like_below(name: str) -> str:
    """A LIKE pattern for the names below `name` ('\\' escapes; names hold no % but may hold _)."""
    return "%." + name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class Domains(Access):
    """Hosted domains: add (reserved names refused, ownership pending), verify, find, remove."""

    def add_domain(self, actor: Principal, name: str, tenant: str | None = None, tier: str = "starter") -> Domain:
        """Add a hosted domain; without a tenant, a tenant named after the domain is created on `tier` (operator).

        The operator's domains (and sign-up names below the platform domain) are verified at once; an owner's or
        partner's is pending until ops/verification.py finds its TXT record. Reserved names are refused for
        everyone (reservation.refusal)."""
        domain_name = normalize_domain(name)
        tenant_name = check_tenant_name(tenant or domain_name)
        with self._engine.begin() as conn:
            row = conn.execute(sa.select(db.tenants.c.id).where(db.tenants.c.name == tenant_name)).first()
            if row is None:
                if actor.role is not Role.OPERATOR:
                    raise PermissionDenied(NOT_YOUR_BUSINESS)
                self.check_new_domain(conn, actor, domain_name, None)
                values = {"name": tenant_name, "tier": tier, "created_at": int(self._clock())}
                tenant_id = database.inserted_id(conn.execute(sa.insert(db.tenants).values(**values)))
            else:
                tenant_id = row.id
                if not self.manages(actor, tenant_id):
                    raise PermissionDenied(NOT_YOUR_BUSINESS)
            return self.insert_domain(conn, actor, domain_name, tenant_id, tenant_name)

    def check_new_domain(self, conn: sa.Connection, actor: Principal, domain_name: str, tenant_id: int | None) -> None:
        """Refuse a name that is taken or reserved (reservation.py), for the business `tenant_id` (None: a new one)."""
        if conn.execute(sa.select(db.domains.c.id).where(db.domains.c.name == domain_name)).first():
            raise AlreadyExists(f"domain {domain_name} already exists")
        related = sa.or_(
            db.domains.c.name.in_(reservation.ancestors(domain_name)),
            db.domains.c.name.like(like_below(domain_name), escape="\\"),
        )
        query = sa.select(db.domains.c.name, db.domains.c.tenant_id, db.domains.c.verified_at).where(related)
        held = [reservation.Held(r.name, r.tenant_id, r.verified_at is not None) for r in conn.execute(query)]
        reason = reservation.refusal(domain_name, tenant_id, self.names, held, actor.role is Role.OPERATOR)
        if reason is not None:
            raise PermissionDenied(reason)

    def insert_domain(
        self, conn: sa.Connection, actor: Principal, domain_name: str, tenant_id: int, tenant_name: str
    ) -> Domain:
        """Add the domain row in the caller's transaction (names checked here); pending unless the operator's."""
        self.check_new_domain(conn, actor, domain_name, tenant_id)
        now = int(self._clock())
        verified = actor.role is Role.OPERATOR or reservation.under_platform(domain_name, self.names)
        token = secrets.token_hex(16)
        values = {
            "name": domain_name,
            "tenant_id": tenant_id,
            "created_at": now,
            "verification_token": token,
            "verified_at": now if verified else None,
        }
        domain_id = database.inserted_id(conn.execute(sa.insert(db.domains).values(**values)))
        return Domain(domain_id, domain_name, tenant_id, tenant_name, verified, token)

    def pending_domains(self) -> list[Domain]:
        """Domains waiting for their ownership proof (the periodic check asks DNS for each)."""
        query = self._domain_query().where(db.domains.c.verified_at.is_(None)).order_by(db.domains.c.id)
        with self._engine.connect() as conn:
            return [domain_of_row(row) for row in conn.execute(query)]

    def mark_verified(self, domain_id: int, token: str) -> bool:
        """Record the proof of the domain that had this token; False when it is gone or was verified already."""
        table = db.domains
        with self._engine.begin() as conn:
            changed = conn.execute(
                sa.update(table)
                .where(table.c.id == domain_id, table.c.verification_token == token, table.c.verified_at.is_(None))
                .values(verified_at=int(self._clock()))
            ).rowcount
        return bool(changed)

    def domain_verified(self, name: str) -> bool:
        """True when this name is a hosted domain that proved its ownership (site hosting asks this)."""
        found = self.find_domain(name)
        return found is not None and found.verified

    def _domain_query(self) -> sa.Select[Any]:
        table = db.domains
        columns = (table.c.id, table.c.name, table.c.tenant_id, db.tenants.c.name)
        proof = (table.c.verification_token, table.c.verified_at)
        return sa.select(*columns, *proof).join(db.tenants, db.tenants.c.id == table.c.tenant_id)

    def list_domains(self, actor: Principal) -> list[Domain]:
        query = self._domain_query().order_by(db.domains.c.name)
        query = query.where(self.visible(actor, db.domains.c.tenant_id))
        with self._engine.connect() as conn:
            return [domain_of_row(row) for row in conn.execute(query)]

    def find_domain(self, name: str) -> Domain | None:
        """The hosted domain with this name, or None (no principal: used to route mail and web requests)."""
        try:
            domain_name = normalize_domain(name)
        except InvalidInput:
            return None
        with self._engine.connect() as conn:
            row = conn.execute(self._domain_query().where(db.domains.c.name == domain_name)).first()
        return None if row is None else domain_of_row(row)

    def get_domain(self, actor: Principal, name: str) -> Domain:
        """The domain, if the actor manages it. Anyone but the operator gets the same refusal for a domain of
        another business and for one that is not hosted at all: nobody can probe which domains are hosted."""
        domain = self.find_domain(name)
        if actor.role is not Role.OPERATOR and (domain is None or not self.manages(actor, domain.tenant_id)):
            raise PermissionDenied(NOT_YOUR_DOMAIN)
        if domain is None:
            raise UnknownDomain(f"unknown domain {name}")
        return domain

    def remove_domain(self, actor: Principal, name: str) -> Domain:
        """Stop hosting a domain without mailboxes; the domain records given at composition (site content, site
        bytes) are dropped in the same transaction."""
        domain = self.get_domain(actor, name)
        with self._engine.begin() as conn:
            count = conn.execute(
                sa.select(sa.func.count()).select_from(db.users).where(db.users.c.domain_id == domain.id)
            ).scalar_one()
            if count:
                raise InvalidInput(f"domain {domain.name} still has {count} mailbox(es): remove them first")
            for records in self._domain_records:
                records.forget_domain(conn, domain)
            conn.execute(sa.delete(db.aliases).where(db.aliases.c.domain_id == domain.id))
            conn.execute(sa.delete(db.domains).where(db.domains.c.id == domain.id))
        return domain

    # -- tenants ------------------------------------------------------------------------------------------
