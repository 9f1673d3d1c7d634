"""What a business writes for its site (business info, pages, navigation order), kept in the database.

A new domain's content is written when it is added (`start`: from the sign-up answers, or defaults); a domain
from before that has default content until the owner saves something, and the first save writes it. The home
page answers to id 0 too, so a link opened before that first save keeps working. Each call names the domain,
which the caller obtained through the directory with the acting principal (tenancy is checked there).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import sqlalchemy as sa

from smb_suite.errors import InvalidInput, NotFound
from smb_suite.sites import words
from smb_suite.storage import database, db

HOME = "home"
CONTACT = "contact"
RESERVED_SLUGS = frozenset({CONTACT, "static", "thanks", "_contact", "404", "sitemap.xml", "robots.txt", "admin"})
SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
LOGO_TYPES = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp", "image/gif": "gif"}
MAX_LOGO_BYTES = 512 * 1024
MAX_BODY_CHARS = 60_000
LIMITS = {
    "business_name": 200,
    "tagline": 300,
    "description": 500,
    "address": 500,
    "phone": 50,
    "email": 320,
    "opening_hours": 1000,
    "title": 200,
    "seo_title": 200,
    "slug": 60,
}
MULTILINE = frozenset({"address", "opening_hours", "body"})


class ContentDomain(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def tenant_name(self) -> str: ...


@dataclass(frozen=True, slots=True)
class SiteInfo:
    theme: str
    colour: str = ""
    lang: str = "en"
    business_name: str = ""
    tagline: str = ""
    description: str = ""
    address: str = ""
    phone: str = ""
    email: str = ""
    opening_hours: str = ""
    contact_form: bool = True
    logo: bytes | None = None
    logo_type: str = ""
    updated_at: int = 0
    cover_id: int | None = None  # a picture of the media library, at the top of the home page


@dataclass(frozen=True, slots=True)
class Page:
    id: int
    slug: str
    title: str
    description: str = ""
    body: str = ""
    layout: str = ""
    position: int = 0
    in_navigation: bool = True
    updated_at: int = 0
    seo_title: str = ""  # the title search engines show; the page's title when empty

    @property
    def is_home(self) -> bool:
        return self.slug == HOME


@dataclass(frozen=True, slots=True)
class SiteContent:
    domain: str
    info: SiteInfo
    pages: tuple[Page, ...]

    def page(self, page_id: int) -> Page:
        """A page by id; 0 is the home page (its id before the content was first written)."""
        for page in self.pages:
            if page.id == page_id or page_id == 0 and page.is_home:
                return page
        raise NotFound("no such page")


def check_text(name: str, value: str) -> str:
    """Trim a field and refuse control characters (CR/LF in a single-line field) and overlong values."""
    value = value.strip()
    allowed = "\n\r\t" if name in MULTILINE else ""
    if any(ord(ch) < 32 and ch not in allowed or ord(ch) == 127 for ch in value):
        label = name.replace("_", " ")
        raise InvalidInput(f"{label} must be a single line without control characters")
    limit = MAX_BODY_CHARS if name == "body" else LIMITS.get(name, 500)
    if len(value) > limit:
        raise InvalidInput(f"{name.replace('_', ' ')} is too long (at most {limit} characters)")
    return value.replace("\r\n", "\n")


def check_slug(slug: str) -> str:
    slug = slug.strip().lower()
    if not SLUG.fullmatch(slug) or len(slug) > LIMITS["slug"]:
        raise InvalidInput("a page address uses lower-case letters, digits and single dashes, like opening-hours")
    if slug in RESERVED_SLUGS:
        raise InvalidInput(f"{slug!r} is reserved: choose another address for this page")
    return slug


def default_info(domain: ContentDomain, theme: str) -> SiteInfo:
    """No mail address: the caller offers one of the business's own (`start`), never an invented one."""
    return SiteInfo(theme=theme, business_name=domain.tenant_name)


def default_home(info: SiteInfo) -> Page:
    """The first page: its heading is the business's name, its text in the site's language."""
    body = words.first_page_body(info.lang, info.business_name, info.tagline, info.address, info.phone)
    return Page(id=0, slug=HOME, title=info.business_name or "Home", body=body, position=0)


def _page(row: Any) -> Page:
    return Page(
        row.id,
        row.slug,
        row.title,
        row.description,
        row.body,
        row.layout,
        row.position,
        bool(row.in_navigation),
        int(row.updated_at),
        row.seo_title,
    )


INFO_COLUMNS = [f.name for f in dataclasses.fields(SiteInfo)]
PAGE_COLUMNS = [f.name for f in dataclasses.fields(Page)]


class ContentStore:
    def __init__(self, engine: sa.Engine, clock: Callable[[], float]) -> None:
        self._engine = engine
        self._clock = clock

    def load(self, domain: ContentDomain, default_theme: str) -> SiteContent:
        with self._engine.connect() as conn:
            return self._load(conn, domain, default_theme)

    def _load(self, conn: sa.Connection, domain: ContentDomain, default_theme: str) -> SiteContent:
        columns = [db.site_settings.c[name] for name in INFO_COLUMNS]
        row = conn.execute(sa.select(*columns).where(db.site_settings.c.domain_id == domain.id)).first()
        if row is None:
            info = default_info(domain, default_theme)
            return SiteContent(domain.name, info, (default_home(info),))
        info = SiteInfo(**{name: getattr(row, name) for name in INFO_COLUMNS})
        info = dataclasses.replace(info, contact_form=bool(info.contact_form), updated_at=int(info.updated_at))
        query = sa.select(*[db.site_pages.c[name] for name in PAGE_COLUMNS]).where(
            db.site_pages.c.domain_id == domain.id
        )
        pages = tuple(_page(r) for r in conn.execute(query.order_by(db.site_pages.c.position, db.site_pages.c.id)))
        return SiteContent(domain.name, info, pages)

    def start(self, domain: ContentDomain, info: SiteInfo) -> SiteContent:
        """Write a domain's first content (info and a home page made from it) unless it has content already."""
        with self._engine.begin() as conn:
            return self._ensure(conn, domain, info.theme, info)

    def _ensure(
        self, conn: sa.Connection, domain: ContentDomain, default_theme: str, info: SiteInfo | None = None
    ) -> SiteContent:
        """Write the first content the first time anything is saved; return the content as stored."""
        exists = conn.execute(
            sa.select(db.site_settings.c.domain_id).where(db.site_settings.c.domain_id == domain.id)
        ).first()
        if exists is None:
            now = int(self._clock())
            info = info or default_info(domain, default_theme)
            for name in ("business_name", "tagline", "address", "phone", "lang"):
                check_text(name, getattr(info, name))
            values = dataclasses.asdict(info) | {"updated_at": now}
            conn.execute(sa.insert(db.site_settings).values(domain_id=domain.id, **values))
            home = dataclasses.asdict(default_home(info)) | {"updated_at": now}
            del home["id"]
            conn.execute(sa.insert(db.site_pages).values(domain_id=domain.id, **home))
        return self._load(conn, domain, default_theme)

    def save_info(self, domain: ContentDomain, default_theme: str, **values: Any) -> SiteInfo:
        """Update business info fields (text fields checked; theme and colour checked by the caller)."""
        unknown = set(values) - set(INFO_COLUMNS)
        if unknown:
            raise InvalidInput(f"unknown fields {sorted(unknown)}")
        for name, value in values.items():
            if isinstance(value, str):
                values[name] = check_text(name, value)
        if values.get("business_name") == "":
            raise InvalidInput("the business name must not be empty")
        with self._engine.begin() as conn:
            self._ensure(conn, domain, default_theme)
            conn.execute(
                sa.update(db.site_settings)
                .where(db.site_settings.c.domain_id == domain.id)
                .values(updated_at=int(self._clock()), **values)
            )
            return self._load(conn, domain, default_theme).info

    def save_logo(self, domain: ContentDomain, default_theme: str, data: bytes | None, content_type: str) -> None:
        """Store (or with data None, remove) the logo: PNG, JPEG, WebP or GIF up to 512 KiB."""
        if data is not None:
            if content_type not in LOGO_TYPES:
                raise InvalidInput("the logo must be a PNG, JPEG, WebP or GIF image")
            if len(data) > MAX_LOGO_BYTES:
                raise InvalidInput("the logo is too large (at most 512 KB)")
            if not _looks_like(data, content_type):
                raise InvalidInput("the file is not the kind of image its name says")
        self.save_info(domain, default_theme, logo=data, logo_type=content_type if data else "")

    def add_page(self, domain: ContentDomain, default_theme: str, slug: str, title: str) -> Page:
        slug = check_slug(slug)
        title = check_text("title", title) or slug.replace("-", " ").capitalize()
        with self._engine.begin() as conn:
            content = self._ensure(conn, domain, default_theme)
            if any(page.slug == slug for page in content.pages):
                raise InvalidInput(f"a page with the address /{slug}/ already exists")
            position = max((page.position for page in content.pages), default=0) + 1
            page_id = database.inserted_id(
                conn.execute(
                    sa.insert(db.site_pages).values(
                        domain_id=domain.id, slug=slug, title=title, position=position, updated_at=int(self._clock())
                    )
                )
            )
            return self._load(conn, domain, default_theme).page(page_id)

    def update_page(self, domain: ContentDomain, default_theme: str, page_id: int, **values: Any) -> Page:
        for name in ("title", "description", "body", "layout", "seo_title"):
            if name in values:
                values[name] = check_text(name, values[name])
        if not values.get("title", "x"):
            raise InvalidInput("a page needs a title")
        with self._engine.begin() as conn:
            stored = self._ensure(conn, domain, default_theme)
            if page_id == 0:  # the default home page, shown before anything was saved
                page_id = next(page.id for page in stored.pages if page.is_home)
            updated = conn.execute(
                sa.update(db.site_pages)
                .where(db.site_pages.c.domain_id == domain.id, db.site_pages.c.id == page_id)
                .values(updated_at=int(self._clock()), **values)
            ).rowcount
            if not updated:
                raise NotFound("no such page")
            return self._load(conn, domain, default_theme).page(page_id)

    def delete_page(self, domain: ContentDomain, default_theme: str, page_id: int) -> None:
        with self._engine.begin() as conn:
            content = self._ensure(conn, domain, default_theme)
            if content.page(page_id).is_home:
                raise InvalidInput("the home page cannot be deleted (edit it instead)")
            conn.execute(
                sa.delete(db.site_pages).where(db.site_pages.c.domain_id == domain.id, db.site_pages.c.id == page_id)
            )

    def move_page(self, domain: ContentDomain, default_theme: str, page_id: int, offset: int) -> None:
        """Move a page up (offset -1) or down (+1) in the navigation."""
        with self._engine.begin() as conn:
            pages = list(self._ensure(conn, domain, default_theme).pages)
            ids = [page.id for page in pages]
            if page_id not in ids:
                raise NotFound("no such page")
            index = ids.index(page_id)
            target = index + offset
            if not 0 <= target < len(pages):
                return
            pages[index], pages[target] = pages[target], pages[index]
            for position, page in enumerate(pages):
                conn.execute(sa.update(db.site_pages).where(db.site_pages.c.id == page.id).values(position=position))

    def forget_domain(self, conn: sa.Connection, domain: ContentDomain) -> None:
        """Delete a domain's content in the caller's transaction (when the domain is removed)."""
        conn.execute(sa.delete(db.site_pages).where(db.site_pages.c.domain_id == domain.id))
        conn.execute(sa.delete(db.site_settings).where(db.site_settings.c.domain_id == domain.id))


def _looks_like(data: bytes, content_type: str) -> bool:
    signatures = {
        "image/png": (b"\x89PNG\r\n\x1a\n",),
        "image/jpeg": (b"\xff\xd8\xff",),
        "image/gif": (b"GIF87a", b"GIF89a"),
        "image/webp": (b"RIFF",),
    }
    return data.startswith(signatures[content_type])
