"""Tenants, domains, users and aliases. Every call takes the acting principal and refuses what it may not do,
so a front end cannot forget a permission check it never makes.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import sqlalchemy as sa

from smb_suite import db, domain_names
from smb_suite.errors import (
    AlreadyExists,
    DomainPending,
    InvalidInput,
    NotFound,
    PermissionDenied,
    RelayDenied,
    UnknownDomain,
    UnknownRecipient,
    UnknownUser,
)
from smb_suite.mail.address import Address, normalize_domain, parse_address, parse_stored_address
from smb_suite.names import check_tenant_name


class Role(StrEnum):
    """Who may do what (enforced here, not in pages): the operator everything; a partner the businesses it
    created or was given (tenants.partner_id = its own business) and its own; an owner its business; a user
    its own account."""

    OPERATOR = "operator"
    PARTNER = "partner"
    OWNER = "owner"
    USER = "user"


# The same refusal for what belongs to another business and for what does not exist (no probing).
NOT_YOUR_DOMAIN = "this domain is not one of yours"
NOT_YOUR_BUSINESS = "this business is not one of yours"
MANAGERS = frozenset({Role.OPERATOR, Role.PARTNER, Role.OWNER})
RANK = {Role.USER: 0, Role.OWNER: 1, Role.PARTNER: 2, Role.OPERATOR: 3}


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is acting, and from where (recorded in the audit log): the operator at the command line (no
    tenant), or a signed-in user of a tenant with the client address its front end saw."""

    role: Role
    tenant_id: int | None = None
    user_id: int | None = None
    name: str = "operator@cli"
    client: str = "cli"


OPERATOR = Principal(Role.OPERATOR)


@dataclass(frozen=True, slots=True)
class Domain:
    id: int
    name: str
    tenant_id: int
    tenant_name: str
    verified: bool = True  # False: pending ownership proof (ops/verification.py): no mail, no site, no DKIM
    token: str = ""  # the value of its smb-suite-verification= TXT record


@dataclass(frozen=True, slots=True)
class Tenant:
    id: int
    name: str
    tier: str
    partner_id: int | None = None
    suspended: bool = False


@dataclass(frozen=True, slots=True)
class User:
    id: int
    address: Address
    role: Role
    tenant_id: int
    domain_id: int
    password_hash: str


@dataclass(frozen=True, slots=True)
class Resolution:
    """Where mail for one address goes: hosted mailboxes, and addresses elsewhere (forwards, alias targets)."""

    mailboxes: tuple[User, ...]
    remote: tuple[Address, ...]


@dataclass(frozen=True, slots=True)
class Vacation:
    subject: str
    body: str


_USER_COLUMNS = (
    db.users.c.id,
    db.users.c.local_part,
    db.domains.c.name,
    db.users.c.role,
    db.domains.c.tenant_id,
    db.domains.c.id,
    db.users.c.password_hash,
)


def _domain(row: Any) -> Domain:
    return Domain(int(row[0]), str(row[1]), int(row[2]), str(row[3]), row[5] is not None, str(row[4]))


def _like_below(name: str) -> str:
    """A LIKE pattern for the names below `name` ('\\' escapes; names hold no % but may hold _)."""
    return "%." + name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class Directory:
    """The account directory over the database."""

    def __init__(self, engine: sa.Engine, clock: Callable[[], float], names: domain_names.Rules | None = None) -> None:
        self._engine = engine
        self._clock = clock
        self.names = names or domain_names.Rules()

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

    @staticmethod
    def _require_operator(actor: Principal) -> None:
        if actor.role is not Role.OPERATOR:
            raise PermissionDenied("only the operator may do this")

    # -- domains ------------------------------------------------------------------------------------------

    def add_domain(self, actor: Principal, name: str, tenant: str | None = None, tier: str = "starter") -> Domain:
        """Add a hosted domain; without a tenant, a tenant named after the domain is created on `tier` (operator).

        The operator's domains (and sign-up names below the platform domain) are verified at once; an owner's or
        partner's is pending until ops/verification.py finds its TXT record. Reserved names are refused for
        everyone (domain_names.refusal)."""
        domain_name = normalize_domain(name)
        tenant_name = check_tenant_name(tenant or domain_name)
        with self._engine.begin() as conn:
            row = conn.execute(sa.select(db.tenants.c.id).where(db.tenants.c.name == tenant_name)).first()
            if row is None:
                if actor.role is not Role.OPERATOR:
                    raise PermissionDenied(NOT_YOUR_BUSINESS)
                self.check_new_domain(conn, actor, domain_name, None)
                values = {"name": tenant_name, "tier": tier, "created_at": int(self._clock())}
                tenant_id = db.inserted_id(conn.execute(sa.insert(db.tenants).values(**values)))
            else:
                tenant_id = row.id
                if not self.manages(actor, tenant_id):
                    raise PermissionDenied(NOT_YOUR_BUSINESS)
            return self.insert_domain(conn, actor, domain_name, tenant_id, tenant_name)

    def check_new_domain(self, conn: sa.Connection, actor: Principal, domain_name: str, tenant_id: int | None) -> None:
        """Refuse a name that is taken or reserved (domain_names), for the business `tenant_id` (None: a new one)."""
        if conn.execute(sa.select(db.domains.c.id).where(db.domains.c.name == domain_name)).first():
            raise AlreadyExists(f"domain {domain_name} already exists")
        related = sa.or_(
            db.domains.c.name.in_(domain_names.ancestors(domain_name)),
            db.domains.c.name.like(_like_below(domain_name), escape="\\"),
        )
        query = sa.select(db.domains.c.name, db.domains.c.tenant_id, db.domains.c.verified_at).where(related)
        held = [domain_names.Held(r.name, r.tenant_id, r.verified_at is not None) for r in conn.execute(query)]
        reason = domain_names.refusal(domain_name, tenant_id, self.names, held, actor.role is Role.OPERATOR)
        if reason is not None:
            raise PermissionDenied(reason)

    def insert_domain(
        self, conn: sa.Connection, actor: Principal, domain_name: str, tenant_id: int, tenant_name: str
    ) -> Domain:
        """Add the domain row in the caller's transaction (names checked here); pending unless the operator's."""
        self.check_new_domain(conn, actor, domain_name, tenant_id)
        now = int(self._clock())
        verified = actor.role is Role.OPERATOR or domain_names.under_platform(domain_name, self.names)
        token = secrets.token_hex(16)
        values = {
            "name": domain_name,
            "tenant_id": tenant_id,
            "created_at": now,
            "verification_token": token,
            "verified_at": now if verified else None,
        }
        domain_id = db.inserted_id(conn.execute(sa.insert(db.domains).values(**values)))
        return Domain(domain_id, domain_name, tenant_id, tenant_name, verified, token)

    def pending_domains(self) -> list[Domain]:
        """Domains waiting for their ownership proof (the periodic check asks DNS for each)."""
        query = self._domain_query().where(db.domains.c.verified_at.is_(None)).order_by(db.domains.c.id)
        with self._engine.connect() as conn:
            return [_domain(row) for row in conn.execute(query)]

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
            return [_domain(row) for row in conn.execute(query)]

    def find_domain(self, name: str) -> Domain | None:
        """The hosted domain with this name, or None (no principal: used to route mail and web requests)."""
        try:
            domain_name = normalize_domain(name)
        except InvalidInput:
            return None
        with self._engine.connect() as conn:
            row = conn.execute(self._domain_query().where(db.domains.c.name == domain_name)).first()
        return None if row is None else _domain(row)

    def get_domain(self, actor: Principal, name: str) -> Domain:
        """The domain, if the actor manages it. Anyone but the operator gets the same refusal for a domain of
        another business and for one that is not hosted at all: nobody can probe which domains are hosted."""
        domain = self.find_domain(name)
        if actor.role is not Role.OPERATOR and (domain is None or not self.manages(actor, domain.tenant_id)):
            raise PermissionDenied(NOT_YOUR_DOMAIN)
        if domain is None:
            raise UnknownDomain(f"unknown domain {name}")
        return domain

    def remove_domain(
        self, actor: Principal, name: str, forget_site: Callable[[sa.Connection, Domain], None]
    ) -> Domain:
        """Stop hosting a domain without mailboxes; `forget_site` releases its site in the same transaction."""
        domain = self.get_domain(actor, name)
        with self._engine.begin() as conn:
            count = conn.execute(
                sa.select(sa.func.count()).select_from(db.users).where(db.users.c.domain_id == domain.id)
            ).scalar_one()
            if count:
                raise InvalidInput(f"domain {domain.name} still has {count} mailbox(es): remove them first")
            forget_site(conn, domain)
            conn.execute(sa.delete(db.aliases).where(db.aliases.c.domain_id == domain.id))
            conn.execute(sa.delete(db.domains).where(db.domains.c.id == domain.id))
        return domain

    # -- tenants ------------------------------------------------------------------------------------------

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

    def owners(self, tenant_id: int) -> list[User]:
        """The owners of a business: they receive its storage warnings."""
        query = self._user_query().where(db.domains.c.tenant_id == tenant_id, db.users.c.role == Role.OWNER.value)
        with self._engine.connect() as conn:
            return [self._user(row) for row in conn.execute(query)]

    # -- users --------------------------------------------------------------------------------------------

    def _user_query(self) -> sa.Select[Any]:
        return sa.select(*_USER_COLUMNS).join(db.domains, db.domains.c.id == db.users.c.domain_id)

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
        user_id = db.inserted_id(conn.execute(sa.insert(db.users).values(**values)))
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

    def remove_user(self, actor: Principal, address: str, forget_mail: Callable[[sa.Connection, User], None]) -> User:
        """Remove the account; `forget_mail` drops its mail index in the same transaction (ops/users.remove_user)."""
        user = self.get_user(actor, address)
        if actor.role is Role.USER:
            raise PermissionDenied("only the owner of the business may remove a mailbox")
        with self._engine.begin() as conn:
            forget_mail(conn, user)
            conn.execute(sa.delete(db.vacation_replies).where(db.vacation_replies.c.user_id == user.id))
            conn.execute(sa.delete(db.vacations).where(db.vacations.c.user_id == user.id))
            conn.execute(sa.delete(db.users).where(db.users.c.id == user.id))
        return user

    # -- aliases and routing ------------------------------------------------------------------------------

    def add_alias(self, actor: Principal, alias: str, target: str) -> tuple[Address, Address]:
        source = parse_stored_address(alias)
        destination = parse_stored_address(target)
        domain = self.get_domain(actor, source.domain)
        with self._engine.begin() as conn:
            if self._name_in_use(conn, domain.id, source.local_part) == "mailbox":
                raise AlreadyExists(f"{source} is a mailbox; an alias cannot have its name")
            duplicate = conn.execute(
                sa.select(db.aliases.c.id).where(
                    db.aliases.c.domain_id == domain.id,
                    db.aliases.c.local_part == source.local_part,
                    db.aliases.c.target == str(destination),
                )
            ).first()
            if duplicate:
                raise AlreadyExists(f"alias {source} -> {destination} already exists")
            conn.execute(
                sa.insert(db.aliases).values(domain_id=domain.id, local_part=source.local_part, target=str(destination))
            )
        return source, destination

    def remove_alias(self, actor: Principal, alias: str, target: str) -> tuple[Address, Address]:
        source = parse_address(alias)
        destination = parse_address(target)
        domain = self.get_domain(actor, source.domain)
        with self._engine.begin() as conn:
            removed = conn.execute(
                sa.delete(db.aliases).where(
                    db.aliases.c.domain_id == domain.id,
                    db.aliases.c.local_part == source.local_part,
                    db.aliases.c.target == str(destination),
                )
            ).rowcount
        if not removed:
            raise NotFound(f"no alias {source} -> {destination}")
        return source, destination

    def list_aliases(self, actor: Principal) -> list[tuple[Address, Address]]:
        query = sa.select(db.aliases.c.local_part, db.domains.c.name, db.aliases.c.target).join(
            db.domains, db.domains.c.id == db.aliases.c.domain_id
        )
        if actor.role is Role.USER:
            raise PermissionDenied("only an owner of the business sees its aliases")
        query = query.where(self.visible(actor, db.domains.c.tenant_id))
        with self._engine.connect() as conn:
            rows = conn.execute(query.order_by(db.domains.c.name, db.aliases.c.local_part)).all()
        return [(Address(local, domain), parse_address(target)) for local, domain, target in rows]

    def sender_addresses(self, user: User) -> set[str]:
        """The addresses a user may send as: its own and each alias whose target is the user."""
        query = (
            sa.select(db.aliases.c.local_part, db.domains.c.name)
            .join(db.domains, db.domains.c.id == db.aliases.c.domain_id)
            .where(db.aliases.c.target == str(user.address))
        )
        with self._engine.connect() as conn:
            rows = conn.execute(query).all()
        return {str(user.address)} | {f"{local}@{domain}" for local, domain in rows}

    def resolve_recipient(self, address: str, delimiter: str = "+", max_depth: int = 5) -> Resolution:
        """Hosted mailboxes and remote addresses that receive mail sent to this address.

        Follows aliases and forwards (up to `max_depth` hops); `user+tag@` reaches `user@` when no address
        `user+tag@` exists; the domain's catch-all takes what nothing else answers. Raises RelayDenied when
        the domain is not hosted, UnknownRecipient when nothing answers here.
        """
        parsed = parse_address(address)
        with self._engine.connect() as conn:
            lookup = _Lookup(conn, delimiter)
            if lookup.pending(parsed.domain):
                raise DomainPending(f"the domain {parsed.domain} is not verified on this server yet")
            if not lookup.hosted(parsed.domain):
                raise RelayDenied(f"we do not host {parsed.domain}")
            found: dict[int, User] = {}
            remote: dict[Address, None] = {}
            pending, seen = [parsed], set()
            for depth in range(max_depth):
                next_round: list[Address] = []
                for current in pending:
                    if current in seen:
                        continue
                    seen.add(current)
                    if depth and not lookup.hosted(current.domain):
                        remote[current] = None
                        continue
                    next_round.extend(lookup.expand(current, found, catch_all=depth == 0))
                pending = next_round
        if not found and not remote:
            raise UnknownRecipient(f"no mailbox here for {parsed}")
        return Resolution(tuple(found.values()), tuple(remote))

    # -- forwarding, catch-all, vacation ------------------------------------------------------------------

    def set_forwarding(self, actor: Principal, address: str, target: str | None, keep_copy: bool = False) -> User:
        """Forward the user's mail to `target` (None: stop forwarding), optionally keeping a copy."""
        user = self.get_user(actor, address)
        destination = None if target is None else parse_stored_address(target)
        if destination == user.address:
            raise InvalidInput("a mailbox cannot forward to itself")
        with self._engine.begin() as conn:
            conn.execute(
                sa.update(db.users)
                .where(db.users.c.id == user.id)
                .values(
                    forward_to=None if destination is None else str(destination),
                    forward_keep_copy=keep_copy and destination is not None,
                )
            )
        return user

    def forwarding(self, user_id: int) -> tuple[str | None, bool]:
        """Where a user's mail is forwarded (None: nowhere) and whether a copy stays."""
        query = sa.select(db.users.c.forward_to, db.users.c.forward_keep_copy).where(db.users.c.id == user_id)
        with self._engine.connect() as conn:
            row = conn.execute(query).one()
        return row.forward_to, bool(row.forward_keep_copy)

    def catchalls(self, domain_ids: Iterable[int]) -> dict[int, str]:
        """The catch-all targets among these domains."""
        query = sa.select(db.domains.c.id, db.domains.c.catchall).where(
            db.domains.c.id.in_(list(domain_ids)), db.domains.c.catchall.is_not(None)
        )
        with self._engine.connect() as conn:
            return {row.id: row.catchall for row in conn.execute(query)}

    def set_catchall(self, actor: Principal, domain: str, target: str | None) -> Domain:
        """Deliver mail for unknown addresses of `domain` to `target` (None: refuse them again)."""
        hosted = self.get_domain(actor, domain)
        destination = None if target is None else str(parse_stored_address(target))
        with self._engine.begin() as conn:
            conn.execute(sa.update(db.domains).where(db.domains.c.id == hosted.id).values(catchall=destination))
        return hosted

    def vacations(self, user_ids: Iterable[int]) -> dict[int, Vacation]:
        """The vacation replies switched on among these users."""
        table = db.vacations
        query = sa.select(table.c.user_id, table.c.subject, table.c.body).where(table.c.user_id.in_(list(user_ids)))
        with self._engine.connect() as conn:
            return {row.user_id: Vacation(row.subject, row.body) for row in conn.execute(query)}

    def set_vacation(self, actor: Principal, address: str, vacation: Vacation | None) -> User:
        """Turn the user's vacation autoreply on (with this subject and text) or off (None)."""
        user = self.get_user(actor, address)
        if vacation is not None and not vacation.body.strip():
            raise InvalidInput("the vacation message must not be empty")
        if len(vacation.subject if vacation else "") > 200:
            raise InvalidInput("the vacation subject is longer than 200 characters")
        with self._engine.begin() as conn:
            conn.execute(sa.delete(db.vacations).where(db.vacations.c.user_id == user.id))
            conn.execute(sa.delete(db.vacation_replies).where(db.vacation_replies.c.user_id == user.id))
            if vacation is not None:
                conn.execute(
                    sa.insert(db.vacations).values(
                        user_id=user.id, subject=vacation.subject, body=vacation.body, created_at=int(self._clock())
                    )
                )
        return user

    def claim_vacation_reply(self, user_id: int, sender: str, interval: float) -> bool:
        """Record that `user_id` answers `sender` now, unless it did within `interval` seconds (RFC 3834 2)."""
        now = int(self._clock())
        table = db.vacation_replies
        key = sender.lower()
        with self._engine.begin() as conn:
            last = conn.execute(
                sa.select(table.c.replied_at).where(table.c.user_id == user_id, table.c.sender == key)
            ).scalar_one_or_none()
            if last is None:
                conn.execute(sa.insert(table).values(user_id=user_id, sender=key, replied_at=now))
                return True
            if now - last < interval:
                return False
            conn.execute(
                sa.update(table).where(table.c.user_id == user_id, table.c.sender == key).values(replied_at=now)
            )
            return True


class _Lookup:
    """The queries of one recipient resolution, on one connection (RCPT is on every message's path)."""

    def __init__(self, conn: sa.Connection, delimiter: str) -> None:
        self._conn = conn
        self._delimiter = delimiter
        self._domains: dict[str, tuple[bool, str | None, bool]] = {}

    def _domain(self, name: str) -> tuple[bool, str | None, bool]:
        """(hosted and verified, catch-all target, pending) of a domain. A pending domain is not hosted: mail
        for it goes where its DNS says, never into the mailboxes of whoever claimed it here."""
        if name not in self._domains:
            table = db.domains
            query = sa.select(table.c.catchall, table.c.verified_at).where(table.c.name == name)
            row = self._conn.execute(query).first()
            if row is None:
                self._domains[name] = (False, None, False)
            else:
                verified = row.verified_at is not None
                self._domains[name] = (verified, row.catchall if verified else None, not verified)
        return self._domains[name]

    def hosted(self, name: str) -> bool:
        return self._domain(name)[0]

    def pending(self, name: str) -> bool:
        return self._domain(name)[2]

    def expand(self, address: Address, found: dict[int, User], catch_all: bool) -> list[Address]:
        """One hosted address: add its mailbox to `found`; return the addresses it passes mail on to."""
        candidates = [address]
        if self._delimiter and self._delimiter in address.local_part:
            base = address.local_part.split(self._delimiter, 1)[0]
            if base:
                candidates.append(Address(base, address.domain))  # plus-addressing (RFC 5233 style)
        for candidate in candidates:
            row = self._conn.execute(
                sa.select(*_USER_COLUMNS, db.users.c.forward_to, db.users.c.forward_keep_copy)
                .join(db.domains, db.domains.c.id == db.users.c.domain_id)
                .where(db.users.c.local_part == candidate.local_part, db.domains.c.name == candidate.domain)
            ).first()
            if row is not None:
                user = Directory._user(row[:7])
                if not row.forward_to or row.forward_keep_copy:
                    found[user.id] = user
                return [parse_address(row.forward_to)] if row.forward_to else []
            targets = self._conn.execute(
                sa.select(db.aliases.c.target)
                .join(db.domains, db.domains.c.id == db.aliases.c.domain_id)
                .where(db.domains.c.name == candidate.domain, db.aliases.c.local_part == candidate.local_part)
            ).all()
            if targets:
                return [parse_address(target) for (target,) in targets]
        catchall = self._domain(address.domain)[1] if catch_all else None
        return [parse_address(catchall)] if catchall else []
