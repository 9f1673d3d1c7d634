"""The SQL side of billing: subscriptions, their dated changes, and named users' seats by kind over time.

Seats come from the directory: a mailbox is a named user from the day it was created, standard unless a row of
`billing_seats` says otherwise. A kind change or the removal of the mailbox closes its row (removal through
`forget_user`, in the directory's transaction), so a month already past keeps its count."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from smb_suite.billing.contract import Change, Contract, Seat, State, UserKind
from smb_suite.directory.model import User
from smb_suite.errors import InvalidInput
from smb_suite.storage import db


def utc_day(timestamp: float) -> datetime.date:
    return datetime.datetime.fromtimestamp(timestamp, datetime.UTC).date()


def _day(text: str | None) -> datetime.date | None:
    return None if text is None else datetime.date.fromisoformat(text)


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


class Subscriptions:
    """Subscriptions and seats in the database; every method is one transaction."""

    def __init__(self, engine: sa.Engine, clock: Callable[[], float]) -> None:
        self._engine = engine
        self._clock = clock

    def today(self) -> datetime.date:
        return utc_day(self._clock())

    # -- reading ------------------------------------------------------------------------------------------------

    def contract(self, tenant_id: int) -> Contract | None:
        found = self.contracts(db.subscriptions.c.tenant_id == tenant_id)
        return found[0] if found else None

    def sold_by(self, partner_id: int) -> list[Contract]:
        return self.contracts(db.subscriptions.c.partner_id == partner_id)

    def contracts(self, *where: sa.ColumnElement[bool]) -> list[Contract]:
        """Contracts matching every condition (all without one), in the order of their business names."""
        business = db.tenants.alias("business")
        partner = db.tenants.alias("partner")
        query = (
            sa.select(db.subscriptions, business.c.name.label("business"), partner.c.name.label("partner"))
            .join(business, business.c.id == db.subscriptions.c.tenant_id)
            .outerjoin(partner, partner.c.id == db.subscriptions.c.partner_id)
            .where(*where)
            .order_by(business.c.name)
        )
        with self._engine.connect() as conn:
            return [
                Contract(
                    row.business,
                    row.partner,
                    datetime.date.fromisoformat(row.start_day),
                    self._changes(conn, row.tenant_id),
                    self._seats(conn, row.tenant_id),
                )
                for row in conn.execute(query)
            ]

    def _changes(self, conn: sa.Connection, tenant_id: int) -> tuple[Change, ...]:
        table = db.subscription_changes
        rows = conn.execute(sa.select(table).where(table.c.tenant_id == tenant_id).order_by(table.c.day, table.c.id))
        return tuple(
            Change(datetime.date.fromisoformat(row.day), State(row.plan, _names(row.modules), _names(row.extensions)))
            for row in rows
        )

    def _seats(self, conn: sa.Connection, tenant_id: int) -> tuple[Seat, ...]:
        table = db.billing_seats
        rows = conn.execute(sa.select(table).where(table.c.tenant_id == tenant_id).order_by(table.c.id)).all()
        recorded = {row.user_id for row in rows}
        users = conn.execute(
            sa.select(db.users.c.id, db.users.c.created_at)
            .join(db.domains, db.domains.c.id == db.users.c.domain_id)
            .where(db.domains.c.tenant_id == tenant_id)
        )
        implicit = [Seat(UserKind.STANDARD, utc_day(row.created_at)) for row in users if row.id not in recorded]
        explicit = [
            Seat(UserKind(row.kind), datetime.date.fromisoformat(row.start_day), _day(row.end_day)) for row in rows
        ]
        return tuple(explicit + implicit)

    def kind_of(self, user_id: int) -> UserKind:
        table = db.billing_seats
        with self._engine.connect() as conn:
            kind = conn.execute(
                sa.select(table.c.kind).where(table.c.user_id == user_id, table.c.end_day.is_(None))
            ).scalar()
        return UserKind.STANDARD if kind is None else UserKind(kind)

    # -- writing ------------------------------------------------------------------------------------------------

    def record(
        self, tenant_id: int, day: datetime.date, state: State, actor: str, partner_id: int | None = None
    ) -> None:
        """Record the subscription as it is from `day` on; the first record starts the contract (sold by
        `partner_id`). A change dated before the contract's start or its latest change is refused: history
        is appended, never rewritten."""
        table = db.subscription_changes
        with self._engine.begin() as conn:
            latest = conn.execute(sa.select(sa.func.max(table.c.day)).where(table.c.tenant_id == tenant_id)).scalar()
            if latest is None:
                conn.execute(
                    sa.insert(db.subscriptions).values(
                        tenant_id=tenant_id, partner_id=partner_id, start_day=day.isoformat(), created_at=self._clock()
                    )
                )
            elif day.isoformat() < latest:
                raise InvalidInput(
                    f"the subscription already changed on {latest}: a change takes effect that day or later"
                )
            conn.execute(
                sa.insert(table).values(
                    tenant_id=tenant_id,
                    day=day.isoformat(),
                    plan=state.plan,
                    modules=" ".join(sorted(state.modules)),
                    extensions=" ".join(sorted(state.extensions)),
                    recorded_at=int(self._clock()),
                    actor=actor,
                )
            )

    def set_kind(self, user: User, kind: UserKind, day: datetime.date) -> None:
        """The user counts as `kind` from `day` on (not before its current kind's first day)."""
        table = db.billing_seats
        with self._engine.begin() as conn:
            open_seat = self._open_seat(conn, user)
            if day.isoformat() < open_seat.start_day:
                raise InvalidInput(
                    f"{user.address} counts as {open_seat.kind} since {open_seat.start_day}: choose that day or later"
                )
            if day.isoformat() == open_seat.start_day:
                conn.execute(sa.update(table).where(table.c.id == open_seat.id).values(kind=kind.value))
                return
            conn.execute(sa.update(table).where(table.c.id == open_seat.id).values(end_day=day.isoformat()))
            conn.execute(
                sa.insert(table).values(
                    tenant_id=user.tenant_id, user_id=user.id, kind=kind.value, start_day=day.isoformat()
                )
            )

    def forget_user(self, conn: sa.Connection, user: User) -> None:
        """A removed mailbox stops counting today; its seat stays for the months it counted (UserRecords)."""
        seat = self._open_seat(conn, user)
        today = max(self.today(), datetime.date.fromisoformat(seat.start_day))
        conn.execute(
            sa.update(db.billing_seats).where(db.billing_seats.c.id == seat.id).values(end_day=today.isoformat())
        )

    def _open_seat(self, conn: sa.Connection, user: User) -> sa.Row[Any, Any, Any]:
        """The user's open seat row (id, kind, start_day), written from the directory when it has none yet."""
        table = db.billing_seats
        query = sa.select(table.c.id, table.c.kind, table.c.start_day).where(
            table.c.user_id == user.id, table.c.end_day.is_(None)
        )
        row = conn.execute(query).first()
        if row is None:
            created = conn.execute(sa.select(db.users.c.created_at).where(db.users.c.id == user.id)).scalar_one()
            conn.execute(
                sa.insert(table).values(
                    tenant_id=user.tenant_id,
                    user_id=user.id,
                    kind=UserKind.STANDARD.value,
                    start_day=utc_day(created).isoformat(),
                )
            )
            row = conn.execute(query).one()
        return row
