"""Build a whole site in memory from a theme and the business's content: {path: bytes}, nothing on disk.

Publishing writes the mapping into a new version folder (publish.write_files); the admin preview serves it
straight from memory under another root. Page bodies are Markdown (markdown-it-py, raw HTML off) and the
resulting HTML is sanitized again with nh3, so what an owner types can never add a script, a frame or an
image from another host to the site.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import mimetypes
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

import jinja2
import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

from smb_suite.sites import seo, words
from smb_suite.sites.content import CONTACT, LOGO_TYPES, Page, SiteContent
from smb_suite.sites.library import Picture
from smb_suite.sites.themes import PREVIEW, Theme

SHARED_TEMPLATES = Path(__file__).resolve().parent / "templates"
CONTACT_ACTION = "_contact"
THANKS = "thanks"
COLOURS_CSS = "static/colours.css"
FAVICON = "favicon.svg"
ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "del", "em", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img",
    "li", "ol", "p", "pre", "s", "strong", "sub", "sup", "table", "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "th": {"align"}, "td": {"align"}}
URL_SCHEMES = {"http", "https", "mailto", "tel"}

_markdown = MarkdownIt("commonmark", {"html": False, "typographer": True}).enable(["table", "strikethrough"])


def _same_site_images(tag: str, attribute: str, value: str) -> str | None:
    """Images only from the site itself: a page must not make the visitor's browser call another host."""
    if tag == "img" and attribute == "src" and (not value.startswith("/") or value.startswith("//")):
        return None
    return value


def render_markdown(text: str) -> Markup:
    """Markdown to sanitized HTML (headings start at h2: the page title is the h1)."""
    html = _markdown.render(text)
    html = re.sub(r"<(/?)h1>", r"<\1h2>", html)
    cleaned = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        attribute_filter=_same_site_images,
    )
    return Markup(cleaned)  # noqa: S704 - sanitized by nh3 just above


@dataclass(frozen=True, slots=True)
class NavItem:
    title: str
    url: str
    current: bool


@dataclass(frozen=True, slots=True)
class CoverView:
    """The cover picture as templates see it (`site.cover`): {% include "_cover.html" %} shows it."""

    url: str
    phone_url: str
    alt: str
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class SiteView:
    """What templates see as `site`."""

    name: str
    tagline: str
    description: str
    domain: str
    url: str
    lang: str
    address_lines: tuple[str, ...]
    phone: str
    phone_href: str
    email: str
    hours_lines: tuple[str, ...]
    logo_url: str
    contact_form: bool
    contact_url: str
    contact_action: str
    year: int
    cover: CoverView | None = None
    structured_data: Markup = Markup("")
    og_image: str = ""

    @property
    def reach_heading(self) -> str:
        """What the contact block is called, from what it holds (the words are translated by `t`)."""
        if self.phone and self.email:
            return "Contact us"
        return "Call us" if self.phone else "Write to us"


@dataclass(frozen=True, slots=True)
class PageView:
    """What templates see as `page`."""

    title: str
    description: str
    html: Markup
    url: str
    canonical: str
    layout: str
    is_home: bool
    seo_title: str = ""


def page_path(page: Page) -> str:
    """Where a page lives in the docroot."""
    return "index.html" if page.is_home else f"{page.slug}/index.html"


def _page_url(root: str, slug: str) -> str:
    return root if slug == "" else f"{root}{slug}/"


def _lines(text: str) -> tuple[str, ...]:
    return tuple(line.strip() for line in text.splitlines() if line.strip())


def _static_files(theme: Theme) -> dict[str, bytes]:
    static = theme.folder / "static"
    files: dict[str, bytes] = {}
    if static.is_dir():
        for path in sorted(static.rglob("*")):
            if path.is_file() and not path.is_symlink() and path.relative_to(static).as_posix() != PREVIEW:
                files[f"static/{path.relative_to(static).as_posix()}"] = path.read_bytes()
    return files


def favicon(theme: Theme, colour: str, name: str) -> bytes:
    """The site's icon: its initial on the accent colour (browsers ask for one; without it every visit logs a
    404)."""
    scheme = theme.colour(colour)
    initial = escape(next((ch for ch in name if ch.isalnum()), "·").upper())
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">'
        f'<rect width="32" height="32" rx="6" fill="{scheme.value("accent")}"/>'
        f'<text x="16" y="23" font-family="sans-serif" font-size="20" font-weight="bold" text-anchor="middle" '
        f'fill="{scheme.value("accent-text")}">{initial}</text></svg>\n'
    ).encode()


def colours_css(theme: Theme, colour: str) -> bytes:
    scheme = theme.colour(colour)
    variables = "".join(f"  --{name}: {value};\n" for name, value in scheme.values)
    return f"/* {theme.name}: {scheme.label} */\n:root {{\n{variables}}}\n".encode()


MEDIA_IMAGE = re.compile(r'<img src="/(media/(\d+)\.(?:jpg|png|webp|svg))"')


class _Builder:
    def __init__(self, theme: Theme, content: SiteContent, root: str, pictures: Sequence[Picture] = ()) -> None:
        self.theme = theme
        self.content = content
        self.root = root
        self.base_url = f"https://{content.domain}/"
        self.files: dict[str, bytes] = _static_files(theme)
        self.pictures = {picture.id: picture for picture in pictures}
        for picture in pictures:
            self.files[picture.path] = picture.data
            if picture.phone_path and picture.phone:
                self.files[picture.phone_path] = picture.phone
        self.files[COLOURS_CSS] = colours_css(theme, content.info.colour)
        self.files[FAVICON] = favicon(theme, content.info.colour, content.info.business_name or content.domain)
        info = content.info
        logo_url = logo_path = ""
        if info.logo and info.logo_type in LOGO_TYPES:
            logo_path = f"media/logo.{LOGO_TYPES[info.logo_type]}"
            self.files[logo_path] = info.logo
            logo_url = self.asset(logo_path)
        self.site = SiteView(
            name=info.business_name,
            tagline=info.tagline,
            description=info.description,
            domain=content.domain,
            url=self.base_url,
            lang=info.lang or "en",
            address_lines=_lines(info.address),
            phone=info.phone,
            phone_href="tel:" + re.sub(r"[^0-9+]", "", info.phone) if info.phone else "",
            email=info.email,
            hours_lines=_lines(info.opening_hours),
            logo_url=logo_url,
            contact_form=info.contact_form,
            contact_url=_page_url(root, CONTACT),
            contact_action=root + CONTACT_ACTION,
            year=datetime.date.today().year,
        )
        cover = self.pictures.get(info.cover_id or 0)
        if cover is not None:
            cover_view = CoverView(
                self.asset(cover.path),
                self.asset(cover.phone_path) if cover.phone_path else "",
                cover.alt,
                cover.width,
                cover.height,
            )
            self.site = dataclasses.replace(self.site, cover=cover_view)
        image = cover.path if cover is not None else logo_path if logo_url else ""
        logo_absolute = self.base_url + logo_path if logo_url else ""
        self.site = dataclasses.replace(
            self.site,
            og_image=self.base_url + image if image else "",
            structured_data=seo.json_ld(
                seo.local_business(
                    info.business_name,
                    self.base_url,
                    info.description or info.tagline,
                    self.site.address_lines,
                    info.phone,
                    info.email,
                    self.site.hours_lines,
                    [self.base_url + image] if image else [],
                    logo_absolute,
                )
            ),
        )
        self.environment = jinja2.Environment(
            # A theme's own templates first; then our shared partials (_meta.html, _form.html), which a theme
            # may override by shipping its own file of that name.
            loader=jinja2.ChoiceLoader(
                [jinja2.FileSystemLoader(theme.folder / "templates"), jinja2.FileSystemLoader(SHARED_TEMPLATES)]
            ),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
        )
        self.environment.globals["asset"] = self.asset
        self.t = words.translator(self.site.lang)
        self.environment.globals["t"] = self.t

    def asset(self, path: str) -> str:
        """URL of a generated or static file with a content fingerprint, so browsers may cache it safely."""
        data = self.files.get(path.lstrip("/"))
        version = hashlib.blake2b(data, digest_size=6).hexdigest() if data is not None else "0"
        return f"{self.root}{path.lstrip('/')}?v={version}"

    def nav(self, current: str) -> list[NavItem]:
        items = [
            NavItem(self.nav_title(page), _page_url(self.root, "" if page.is_home else page.slug), page.slug == current)
            for page in self.content.pages
            if page.in_navigation or page.is_home
        ]
        if self.content.info.contact_form:
            items.append(NavItem(self.t("Contact"), self.site.contact_url, current == CONTACT))
        return items

    def media_images(self, html: Markup) -> Markup:
        """Pictures of the library in a page: below the site's root, a phone-sized version offered by srcset,
        their size given (no layout shift) and loaded when scrolled to."""

        def picture(match: re.Match[str]) -> str:
            found = self.pictures.get(int(match.group(2)))
            if found is None:
                return match.group(0)
            attributes = f'<img src="{self.root}{found.path}" loading="lazy"'
            if found.width and found.height:
                attributes += f' width="{found.width}" height="{found.height}"'
            if found.phone_path:
                attributes += (
                    f' srcset="{self.root}{found.phone_path} 640w, {self.root}{found.path} {found.width}w"'
                    ' sizes="(max-width: 700px) 100vw, 700px"'
                )
            return attributes

        return Markup(MEDIA_IMAGE.sub(picture, str(html)))  # noqa: S704 - our own attributes on sanitized HTML

    def nav_title(self, page: Page) -> str:
        """A home page headed with the business's name is "Home" in the menu (the name is already above it)."""
        return self.t("Home") if page.is_home and page.title == self.site.name else page.title

    def render(self, template: str, current: str, page: PageView) -> bytes:
        html = self.environment.get_template(template).render(
            site=self.site, page=page, nav=self.nav(current), root=self.root
        )
        return html.encode("utf-8")

    def special(self, slug: str, title: str, description: str) -> PageView:
        url = _page_url(self.root, slug)
        return PageView(title, description, Markup(""), url, _page_url(self.base_url, slug), "", False)

    def build(self) -> dict[str, bytes]:
        for page in self.content.pages:
            slug = "" if page.is_home else page.slug
            view = PageView(
                title=page.title,
                description=page.description or self.content.info.description or self.content.info.tagline,
                html=self.media_images(render_markdown(page.body)),
                url=_page_url(self.root, slug),
                canonical=_page_url(self.base_url, slug),
                layout=self.theme.layout(page.layout),
                is_home=page.is_home,
                seo_title=page.seo_title,
            )
            self.files[page_path(page)] = self.render(f"layouts/{view.layout}.html", page.slug, view)
        t = self.t
        if self.content.info.contact_form:
            contact = self.special(CONTACT, t("Contact"), t("Write to {name}.", name=self.site.name))
            self.files[f"{CONTACT}/index.html"] = self.render("contact.html", CONTACT, contact)
            thanks = self.special(THANKS, t("Thank you"), t("Your message was sent."))
            self.files[f"{THANKS}/index.html"] = self.render("thanks.html", THANKS, thanks)
        missing = self.special("404", t("Page not found"), t("This page does not exist."))
        self.files["404.html"] = self.render("404.html", "", missing)
        self.files["sitemap.xml"] = self.sitemap()
        self.files["robots.txt"] = f"User-agent: *\nAllow: /\nSitemap: {self.base_url}sitemap.xml\n".encode()
        return self.files

    def sitemap(self) -> bytes:
        """sitemaps.org 0.9: every page and the contact page, with the date it last changed."""
        entries = []
        for page in self.content.pages:
            url = _page_url(self.base_url, "" if page.is_home else page.slug)
            modified = datetime.datetime.fromtimestamp(page.updated_at or 0, datetime.UTC).date().isoformat()
            entries.append(f"  <url><loc>{escape(url)}</loc><lastmod>{modified}</lastmod></url>\n")
        if self.content.info.contact_form:
            entries.append(f"  <url><loc>{escape(_page_url(self.base_url, CONTACT))}</loc></url>\n")
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n' + "".join(entries) + "</urlset>\n"
        ).encode()


def build_site(
    theme: Theme, content: SiteContent, root: str = "/", pictures: Sequence[Picture] = ()
) -> dict[str, bytes]:
    """Every file of the site, keyed by its path in the docroot (links start with `root`)."""
    return _Builder(theme, content, root, pictures).build()


def preview_file(files: Mapping[str, bytes], url_path: str) -> tuple[bytes, str] | None:
    """The file of a built site that a path below the preview root names, with its media type."""
    path = url_path.lstrip("/")
    if path == "" or path.endswith("/"):
        path += "index.html"
    data = files.get(path)
    if data is None:
        return None
    media_type = mimetypes.guess_type(Path(path).name)[0] or "application/octet-stream"
    return data, media_type
