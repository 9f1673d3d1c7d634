"""Mail accounts in the directory: find (login), add, list, set a password, remove; the owners of a business."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from smb_suite.directory.domains import Domains
from smb_suite.directory.model import (
    MANAGERS,
    RANK,
    Domain,
    Principal,
    Role,
    User,
)
from smb_suite.errors import (
    AlreadyExists,
    InvalidInput,
    PermissionDenied,
    UnknownUser,
)
from smb_suite.mail.address import Address, parse_address, parse_stored_address
from smb_suite.storage import database, db

USER_COLUMNS = (
    db.users.c.id,
    db.users.c.local_part,
    db.domains.c.name,
    db.users.c.role,
    db.domains.c.tenant_id,
    db.domains.c.id,
    db.users.c.password_hash,
)


class Users(Domains):
    """Mail accounts: the owners of a business, find, add, list, set a password, remove."""

    def owners(self, tenant_id: int) -> list[User]:
        """The owners of a business: they receive its storage warnings."""
        query = self._user_query().where(db.domains.c.tenant_id == tenant_id, db.users.c.role == Role.OWNER.value)
        with self._engine.connect() as conn:
            return [self._user(row) for row in conn.execute(query)]

    def with_role(self, role: Role, tenant_id: int | None = None) -> list[User]:
        """The users of this role (of one business when tenant_id is given): whom notices about it go to."""
        query = self._user_query().where(db.users.c.role == role.value)
        if tenant_id is not None:
            query = query.where(db.domains.c.tenant_id == tenant_id)
        with self._engine.connect() as conn:
            return [self._user(row) for row in conn.execute(query.order_by(db.users.c.id))]

    def members(self, tenant_id: int) -> list[User]:
        """Every user of a business, by address: whom its tasks may be assigned to."""
        query = self._user_query().where(db.domains.c.tenant_id == tenant_id)
        with self._engine.connect() as conn:
            rows = conn.execute(query.order_by(db.domains.c.name, db.users.c.local_part))
            return [self._user(row) for row in rows]

    # -- users --------------------------------------------------------------------------------------------

    def _user_query(self) -> sa.Select[Any]:
        return sa.select(*USER_COLUMNS).join(db.domains, db.domains.c.id == db.users.c.domain_id)

    @staticmethod
    def _user(row: Any) -> User:
        user_id, local_part, domain, role, tenant_id, domain_id, password_hash = row
        return User(user_id, Address(local_part, domain), Role(role), tenant_id, domain_id, password_hash)

    def find_user(self, address: str) -> User | None:
        """The user with this address, or None (used by login before anyone is authenticated)."""
        try:
            parsed = parse_address(address)
        except InvalidInput:
            return None
        query = self._user_query().where(db.users.c.local_part == parsed.local_part, db.domains.c.name == parsed.domain)
        with self._engine.connect() as conn:
            row = conn.execute(query).first()
        return None if row is None else self._user(row)

    def user_by_id(self, user_id: int) -> User | None:
        """The user with this id, or None (an admin session names its user by id)."""
        query = self._user_query().where(db.users.c.id == user_id)
        with self._engine.connect() as conn:
            row = conn.execute(query).first()
        return None if row is None else self._user(row)

    def get_user(self, actor: Principal, address: str) -> User:
        """The account, if the actor may manage it; its domain is checked before its existence (no probing)."""
        user = self.find_user(address)
        if user is not None and actor.user_id == user.id:
            return user
        if actor.role is Role.USER:
            raise PermissionDenied("you may only manage your own account")
        self.get_domain(actor, parse_address(address).domain)
        if user is None:
            raise UnknownUser(f"unknown user {address}")
        self._require_tenant(actor, user.tenant_id)
        if RANK[user.role] > RANK[actor.role]:
            raise PermissionDenied(f"only the operator manages the {user.role} account {user.address}")
        return user

    @staticmethod
    def _name_in_use(conn: sa.Connection, domain_id: int, local_part: str) -> str | None:
        """'mailbox' or 'alias' when that name of the domain is taken, else None."""
        for kind, table in (("mailbox", db.users), ("alias", db.aliases)):
            query = sa.select(table.c.id).where(table.c.domain_id == domain_id, table.c.local_part == local_part)
            if conn.execute(query).first():
                return kind
        return None

    def add_user(self, actor: Principal, address: str, password_hash: str, role: Role = Role.USER) -> User:
        parsed = parse_stored_address(address)
        if role in (Role.OPERATOR, Role.PARTNER) and actor.role is not Role.OPERATOR:
            raise PermissionDenied("only the operator creates operator and partner accounts")
        if role is Role.OWNER and actor.role not in MANAGERS:
            raise PermissionDenied("only an owner of the business creates owner accounts")
        domain = self.get_domain(actor, parsed.domain)
        with self._engine.begin() as conn:
            return self.insert_user(conn, domain, parsed, password_hash, role)

    def insert_user(
        self, conn: sa.Connection, domain: Domain, address: Address, password_hash: str, role: Role
    ) -> User:
        """Add the account row in the caller's transaction (permissions are the caller's to check)."""
        match self._name_in_use(conn, domain.id, address.local_part):
            case "mailbox":
                raise AlreadyExists(f"user {address} already exists")
            case "alias":
                raise AlreadyExists(f"{address} is already an alias")
        values = {
            "domain_id": domain.id,
            "local_part": address.local_part,
            "password_hash": password_hash,
            "role": role.value,
            "created_at": int(self._clock()),
        }
        user_id = database.inserted_id(conn.execute(sa.insert(db.users).values(**values)))
        return User(user_id, address, role, domain.tenant_id, domain.id, password_hash)

    def list_users(self, actor: Principal, domain: str | None = None) -> list[User]:
        query = self._user_query().order_by(db.domains.c.name, db.users.c.local_part)
        if domain is not None:
            query = query.where(db.domains.c.id == self.get_domain(actor, domain).id)
        if actor.role is Role.USER:
            query = query.where(db.users.c.id == actor.user_id)
        else:
            query = query.where(self.visible(actor, db.domains.c.tenant_id))
        with self._engine.connect() as conn:
            return [self._user(row) for row in conn.execute(query)]

    def set_password(self, actor: Principal, address: str, password_hash: str) -> User:
        user = self.get_user(actor, address)
        with self._engine.begin() as conn:
            conn.execute(sa.update(db.users).where(db.users.c.id == user.id).values(password_hash=password_hash))
        return user

    def remove_user(self, actor: Principal, address: str) -> User:
        """Remove the account; the user records given at composition (mail index, app passwords) are dropped in
        the same transaction (files: ops/users.remove_user, after the commit)."""
        user = self.get_user(actor, address)
        if actor.role is Role.USER:
            raise PermissionDenied("only the owner of the business may remove a mailbox")
        with self._engine.begin() as conn:
            for records in self._user_records:
                records.forget_user(conn, user)
            conn.execute(sa.delete(db.vacation_replies).where(db.vacation_replies.c.user_id == user.id))
            conn.execute(sa.delete(db.vacations).where(db.vacations.c.user_id == user.id))
            conn.execute(sa.delete(db.users).where(db.users.c.id == user.id))
        return user

    # -- aliases and routing ------------------------------------------------------------------------------
