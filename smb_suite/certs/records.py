"""The certificates table (state and back-off per subject) and the pending HTTP-01 answers (RFC 8555 8.3)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import sqlalchemy as sa

from smb_suite.storage import db


@dataclass(frozen=True, slots=True)
class CertificateState:
    subject: str
    names: tuple[str, ...]
    not_after: int | None  # None: never obtained
    issued_at: int | None
    failures: int
    last_error: str
    next_attempt: int  # after a failure: not tried again before this time (back-off)


def _state(row: sa.Row[tuple[str, str, int | None, int | None, int, str, int]]) -> CertificateState:
    return CertificateState(
        row.subject,
        tuple(row.names.split()),
        row.not_after,
        row.issued_at,
        row.failures,
        row.last_error,
        row.next_attempt,
    )


class CertificateRecords:
    def __init__(self, engine: sa.Engine, clock: Callable[[], float]) -> None:
        self._engine = engine
        self._clock = clock

    def states(self) -> dict[str, CertificateState]:
        with self._engine.connect() as conn:
            return {row.subject: _state(row) for row in conn.execute(sa.select(db.certificates))}

    def _save(self, subject: str, values: dict[str, object]) -> None:
        table = db.certificates
        with self._engine.begin() as conn:
            if not conn.execute(sa.update(table).where(table.c.subject == subject).values(**values)).rowcount:
                conn.execute(sa.insert(table).values(subject=subject, **values))

    def obtained(self, subject: str, names: Iterable[str], not_after: int) -> None:
        values = {"names": " ".join(names), "not_after": not_after, "issued_at": int(self._clock())}
        self._save(subject, {**values, "failures": 0, "last_error": "", "next_attempt": 0})

    def failed(self, subject: str, names: Iterable[str], error: str, failures: int, next_attempt: int) -> None:
        values = {"names": " ".join(names), "last_error": error[:1000], "failures": failures}
        self._save(subject, {**values, "next_attempt": next_attempt})

    def retry_now(self, subjects: Iterable[str]) -> int:
        """End the back-off of these subjects' failures: the next round tries them; the number changed."""
        table = db.certificates
        with self._engine.begin() as conn:
            query = sa.update(table).where(table.c.subject.in_(list(subjects)), table.c.failures > 0)
            return int(conn.execute(query.values(next_attempt=0)).rowcount)

    def forget(self, subjects: Iterable[str]) -> None:
        with self._engine.begin() as conn:
            conn.execute(sa.delete(db.certificates).where(db.certificates.c.subject.in_(list(subjects))))

    def put_challenges(self, answers: dict[str, str], expires_at: int) -> None:
        """Publish token -> key authorization; expired answers are dropped on the way."""
        table = db.acme_challenges
        with self._engine.begin() as conn:
            conn.execute(sa.delete(table).where(table.c.expires_at < int(self._clock())))
            conn.execute(sa.delete(table).where(table.c.token.in_(list(answers))))
            rows = [{"token": t, "key_authorization": k, "expires_at": expires_at} for t, k in answers.items()]
            if rows:
                conn.execute(sa.insert(table), rows)

    def drop_challenges(self, tokens: Iterable[str]) -> None:
        with self._engine.begin() as conn:
            conn.execute(sa.delete(db.acme_challenges).where(db.acme_challenges.c.token.in_(list(tokens))))

    def key_authorization(self, token: str) -> str | None:
        table = db.acme_challenges
        query = sa.select(table.c.key_authorization).where(
            table.c.token == token, table.c.expires_at >= int(self._clock())
        )
        with self._engine.connect() as conn:
            found = conn.execute(query).scalar_one_or_none()
        return None if found is None else str(found)
