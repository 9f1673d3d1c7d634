"""A contract as pure data: its dated changes (the whole subscription from that day on) and the named users'
seats, and what held on a given day."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from enum import StrEnum


class UserKind(StrEnum):
    """How a named user is billed: standard, or deskless (phone and web only, smaller mailbox, lower price)."""

    STANDARD = "standard"
    DESKLESS = "deskless"


@dataclass(frozen=True, slots=True)
class State:
    """What a business subscribes to from a given day: a plan or modules (or both), and storage extensions."""

    plan: str | None = None
    modules: frozenset[str] = frozenset()
    extensions: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Change:
    """The subscription as it is from `day` on (inclusive); a later change replaces it."""

    day: datetime.date
    state: State


@dataclass(frozen=True, slots=True)
class Seat:
    """A named user of one kind, counted from `start` (inclusive) to `end` (exclusive; None: still there)."""

    kind: UserKind
    start: datetime.date
    end: datetime.date | None = None

    def counts_on(self, day: datetime.date) -> bool:
        return self.start <= day and (self.end is None or day < self.end)


@dataclass(frozen=True, slots=True)
class Contract:
    """One business's subscription: who sold it (a partner business, or None: the operator), when it started,
    every change in date order, and its seats."""

    business: str
    partner: str | None
    start: datetime.date
    changes: tuple[Change, ...]
    seats: tuple[Seat, ...]

    def state_on(self, day: datetime.date) -> State | None:
        """The subscription on `day`, None before the contract started."""
        current = None
        for change in self.changes:
            if change.day > day:
                break
            current = change.state
        return current if day >= self.start else None

    def users_on(self, day: datetime.date) -> dict[UserKind, int]:
        counts = dict.fromkeys(UserKind, 0)
        for seat in self.seats:
            if seat.counts_on(day):
                counts[seat.kind] += 1
        return counts
