"""Recipient routing: aliases, catch-all addresses, forwarding and vacation (RFC 3834) settings, and
`resolve_recipient`, which turns an address into hosted mailboxes and remote forwards (on every RCPT)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from smb_suite.directory.model import (
    Domain,
    Principal,
    Resolution,
    Role,
    User,
    Vacation,
)
from smb_suite.directory.stamped import StampedCache
from smb_suite.directory.users import USER_COLUMNS, Users
from smb_suite.errors import (
    AlreadyExists,
    DomainPending,
    InvalidInput,
    NotFound,
    PermissionDenied,
    RelayDenied,
    UnknownRecipient,
)
from smb_suite.mail.address import Address, parse_address, parse_stored_address
from smb_suite.storage import db


class Routing(Users):
    """Recipient routing: aliases, catch-all, forwarding, vacation replies, and the resolution RCPT asks for."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # RCPT's resolutions, kept while no change to routing commits anywhere (stamped.py)
        self._resolutions: StampedCache[Resolution] = StampedCache((DomainPending, RelayDenied, UnknownRecipient))
        self._senders: StampedCache[tuple[frozenset[str], bool]] = StampedCache(())

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

    def sender_facts(self, user: User, domain: str) -> tuple[frozenset[str], bool]:
        """What submission's MAIL asks for every message: the addresses the user may send as, and whether
        `domain` is hosted and proved its ownership. Kept like RCPT's resolutions (stamped.py): aliases and
        domains move the stamp."""
        with self._engine.connect() as conn:
            return self._senders.get(
                conn,
                (str(user.address), domain.lower()),
                lambda: (frozenset(self.sender_addresses(user)), self.domain_verified(domain)),
            )

    def resolve_recipient(self, address: str, delimiter: str = "+", max_depth: int = 5) -> Resolution:
        """Hosted mailboxes and remote addresses that receive mail sent to this address.

        Follows aliases and forwards (up to `max_depth` hops); `user+tag@` reaches `user@` when no address
        `user+tag@` exists; the domain's catch-all takes what nothing else answers. Raises RelayDenied when
        the domain is not hosted, UnknownRecipient when nothing answers here. Kept until the next change to
        routing commits, by whichever process (stamped.py): a repeated RCPT costs one read of the stamp.
        """
        parsed = parse_address(address)
        with self._engine.connect() as conn:
            return self._resolutions.get(
                conn, (parsed, delimiter, max_depth), lambda: _resolve(conn, parsed, delimiter, max_depth)
            )

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


def _resolve(conn: sa.Connection, parsed: Address, delimiter: str, max_depth: int) -> Resolution:
    """Routing.resolve_recipient's look-up, on one connection."""
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
    suspended = lookup.suspended(parsed.domain) or any(lookup.suspended_user(user) for user in found.values())
    if not found and not remote:
        raise UnknownRecipient(f"no mailbox here for {parsed}")
    return Resolution(tuple(found.values()), tuple(remote), suspended)


class _Lookup:
    """The queries of one recipient resolution, on one connection (RCPT is on every message's path)."""

    def __init__(self, conn: sa.Connection, delimiter: str) -> None:
        self._conn = conn
        self._delimiter = delimiter
        self._domains: dict[str, tuple[bool, str | None, bool, bool]] = {}
        self._suspended_users: set[int] = set()

    def _domain(self, name: str) -> tuple[bool, str | None, bool, bool]:
        """(hosted and verified, catch-all target, pending, its business suspended) of a domain. A pending domain
        is not hosted: mail for it goes where its DNS says, never into the mailboxes of whoever claimed it here."""
        if name not in self._domains:
            table = db.domains
            query = (
                sa.select(table.c.catchall, table.c.verified_at, db.tenants.c.suspended)
                .join(db.tenants, db.tenants.c.id == table.c.tenant_id)
                .where(table.c.name == name)
            )
            row = self._conn.execute(query).first()
            if row is None:
                self._domains[name] = (False, None, False, False)
            else:
                verified = row.verified_at is not None
                self._domains[name] = (verified, row.catchall if verified else None, not verified, bool(row.suspended))
        return self._domains[name]

    def hosted(self, name: str) -> bool:
        return self._domain(name)[0]

    def pending(self, name: str) -> bool:
        return self._domain(name)[2]

    def suspended(self, name: str) -> bool:
        """True when the business of this domain is suspended."""
        return self._domain(name)[3]

    def suspended_user(self, user: User) -> bool:
        """True when the business of a mailbox `expand` found is suspended."""
        return user.id in self._suspended_users

    def expand(self, address: Address, found: dict[int, User], catch_all: bool) -> list[Address]:
        """One hosted address: add its mailbox to `found`; return the addresses it passes mail on to."""
        candidates = [address]
        if self._delimiter and self._delimiter in address.local_part:
            base = address.local_part.split(self._delimiter, 1)[0]
            if base:
                candidates.append(Address(base, address.domain))  # plus-addressing (RFC 5233 style)
        for candidate in candidates:
            row = self._conn.execute(
                sa.select(*USER_COLUMNS, db.users.c.forward_to, db.users.c.forward_keep_copy, db.tenants.c.suspended)
                .join(db.domains, db.domains.c.id == db.users.c.domain_id)
                .join(db.tenants, db.tenants.c.id == db.domains.c.tenant_id)
                .where(db.users.c.local_part == candidate.local_part, db.domains.c.name == candidate.domain)
            ).first()
            if row is not None:
                user = Users._user(row[:7])
                if row.suspended:
                    self._suspended_users.add(user.id)
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
