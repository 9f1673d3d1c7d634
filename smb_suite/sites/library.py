"""A site's media library: pictures kept in the database (checked and rewritten by sites/media.py), charged to
the business's quota in the transaction that records them and released in the one that deletes them.

Published sites get them as files named after their ids (media/<id>.<ext>, media/<id>-phone.<ext>), never after
an uploaded name. Each call names the domain, obtained through the directory with the acting principal.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import sqlalchemy as sa

from smb_suite.errors import InvalidInput, NotFound
from smb_suite.quota import Quota
from smb_suite.sites.media import EXTENSIONS, Prepared
from smb_suite.storage import database, db

MAX_ALT = 300
MAX_PICTURES = 200


class MediaDomain(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def tenant_id(self) -> int: ...


@dataclass(frozen=True, slots=True)
class Picture:
    """One picture of the library; `data` and `phone` are the bytes published (phone: raster only)."""

    id: int
    media_type: str
    alt: str
    width: int
    height: int
    size: int
    created_at: int
    data: bytes = b""
    phone: bytes | None = None

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.media_type]

    @property
    def path(self) -> str:
        """Where the picture is published, below the site's root (from its id, never a name)."""
        return f"media/{self.id}.{self.extension}"

    @property
    def phone_path(self) -> str | None:
        return f"media/{self.id}-phone.{self.extension}" if self.phone else None

    @property
    def markdown(self) -> str:
        """What the owner writes in a page to show it (the alt text escaped for Markdown)."""
        alt = "".join("\\" + ch if ch in "[]\\" else ch for ch in self.alt)
        return f"![{alt}](/{self.path})"


def check_alt(alt: str) -> str:
    """Every picture says what it shows, for people who cannot see it (WCAG 2.1, 1.1.1)."""
    alt = " ".join(alt.split())
    if not alt:
        raise InvalidInput("describe the picture in a few words (its alt text): it is required")
    if len(alt) > MAX_ALT:
        raise InvalidInput(f"the alt text is too long (at most {MAX_ALT} characters)")
    return alt


COLUMNS = ("id", "media_type", "alt", "width", "height", "size", "created_at")


def _picture(row: Any, with_data: bool) -> Picture:
    values = {name: getattr(row, name) for name in COLUMNS}
    if with_data:
        values |= {"data": row.data, "phone": row.phone}
    return Picture(**values)


class MediaLibrary:
    def __init__(self, engine: sa.Engine, quota: Quota, clock: Callable[[], float]) -> None:
        self._engine = engine
        self._quota = quota
        self._clock = clock

    def add(self, domain: MediaDomain, prepared: Prepared, alt: str) -> tuple[Picture, list[int]]:
        """Keep a prepared picture (QuotaExceeded: nothing kept, nothing charged); the warning levels crossed."""
        alt = check_alt(alt)
        table = db.site_media
        with self._engine.begin() as conn:
            count = conn.execute(sa.select(sa.func.count()).where(table.c.domain_id == domain.id)).scalar_one()
            if count >= MAX_PICTURES:
                raise InvalidInput(f"a site keeps at most {MAX_PICTURES} pictures: delete some first")
            levels = self._quota.reserve(conn, domain.tenant_id, prepared.size)
            values = {
                "domain_id": domain.id,
                "media_type": prepared.media_type,
                "alt": alt,
                "width": prepared.width,
                "height": prepared.height,
                "data": prepared.data,
                "phone": prepared.phone,
                "size": prepared.size,
                "created_at": int(self._clock()),
            }
            media_id = database.inserted_id(conn.execute(sa.insert(table).values(**values)))
        return self.get(domain, media_id), levels

    def pictures(self, domain: MediaDomain, with_data: bool = False) -> list[Picture]:
        table = db.site_media
        columns = [table.c[name] for name in COLUMNS] + ([table.c.data, table.c.phone] if with_data else [])
        query = sa.select(*columns).where(table.c.domain_id == domain.id).order_by(table.c.id)
        with self._engine.connect() as conn:
            return [_picture(row, with_data) for row in conn.execute(query)]

    def get(self, domain: MediaDomain, media_id: int) -> Picture:
        table = db.site_media
        query = sa.select(table).where(table.c.domain_id == domain.id, table.c.id == media_id)
        with self._engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None:
            raise NotFound("no such picture")
        return _picture(row, True)

    def delete(self, domain: MediaDomain, media_id: int) -> None:
        """Delete a picture and free its bytes; a cover that was this picture is cleared."""
        table = db.site_media
        with self._engine.begin() as conn:
            size = conn.execute(
                sa.select(table.c.size).where(table.c.domain_id == domain.id, table.c.id == media_id)
            ).scalar_one_or_none()
            if size is None:
                raise NotFound("no such picture")
            conn.execute(sa.delete(table).where(table.c.id == media_id))
            conn.execute(
                sa.update(db.site_settings)
                .where(db.site_settings.c.domain_id == domain.id, db.site_settings.c.cover_id == media_id)
                .values(cover_id=None)
            )
            self._quota.release(conn, domain.tenant_id, int(size))

    def forget_domain(self, conn: sa.Connection, domain: MediaDomain) -> None:
        """Delete a domain's pictures and free their bytes in the caller's transaction (domain removal)."""
        table = db.site_media
        total = conn.execute(
            sa.select(sa.func.coalesce(sa.func.sum(table.c.size), 0)).where(table.c.domain_id == domain.id)
        ).scalar_one()
        conn.execute(sa.delete(table).where(table.c.domain_id == domain.id))
        self._quota.release(conn, domain.tenant_id, int(total))

    def total(self, domain_id: int) -> int:
        """Bytes of a domain's pictures, for `quota check`."""
        table = db.site_media
        query = sa.select(sa.func.coalesce(sa.func.sum(table.c.size), 0)).where(table.c.domain_id == domain_id)
        with self._engine.connect() as conn:
            return int(conn.execute(query).scalar_one())
