"""Admin pages for a business's website: theme and colours, business info and logo, pages and their order,
preview, publish, roll back, and the upload of a hand-made static site.

Server-rendered forms that work without JavaScript, each with the session's CSRF token; every POST answers
with a redirect to the editor (303) and a short notice. Views only translate HTTP: ops/sites.py does the work,
and the directory checks that the domain belongs to the signed-in owner's business.
"""

from __future__ import annotations

import time

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from smb_suite.directory.model import Principal
from smb_suite.errors import InvalidInput, NotFound, PermissionDenied
from smb_suite.ops import sites
from smb_suite.services import Services
from smb_suite.sites.content import MAX_LOGO_BYTES, Page, SiteContent
from smb_suite.sites.media import MAX_MEDIA_BYTES
from smb_suite.sites.render import preview_file
from smb_suite.web.admin import HOME, Views, read_form, text_field
from smb_suite.web.pages import SECURITY_HEADERS, Pages
from smb_suite.web.sessions import Sessions, check_csrf

BASE = "/admin/sites"
THEME_PREVIEW = "/admin/themes/{theme}/preview.svg"
# A theme's picture is shown in <img> only; opened on its own it may run nothing and load nothing.
PICTURE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; sandbox",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "max-age=3600",
}
FORM_BYTES = 16 * 1024
PAGE_FORM_BYTES = 256 * 1024
# Layouts by what they look like (themes name them in theme.toml; one of another theme shows its own name).
LAYOUTS = {
    "standard": "One column",
    "wide": "One wide column",
    "landing": "Welcome page, with the opening hours",
    "text": "Text",
    "sidebar": "Text with an information card beside it",
    "full": "Full width, without the card",
}
NOTICES = {
    "saved": "Saved. Preview it, then publish to make it live.",
    "published": "Published: the new version is live.",
    "rolled-back": "Rolled back: the previous version is live again.",
    "uploaded": "Your uploaded site is live.",
    "deleted": "Page deleted.",
    "page-added": "Page added. Write its text below.",
    "picture-added": "The picture is added. Copy its line into a page, or make it the cover.",
    "picture-cleaned": "The picture is added. Parts that could run code or load other sites were removed from it.",
    "picture-deleted": "The picture is deleted.",
    "cover": "The cover is saved. Publish to show it.",
}


def search_preview(content: SiteContent, page: Page) -> dict[str, str]:
    """What a search engine would show for a page when the owner gave no title or description of its own."""
    name = content.info.business_name
    default_title = name if page.is_home or page.title == name else f"{page.title} – {name}"
    return {
        "page_url": f"https://{content.domain}/" + ("" if page.is_home else f"{page.slug}/"),
        "default_title": default_title,
        "default_description": content.info.description or content.info.tagline,
    }


def when(at: int) -> str:
    """A moment as owners read it (in UTC: the server does not know the visitor's time zone)."""
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(at))


class SiteAdminViews(Views):
    notices = {**Views.notices, **NOTICES}

    def __init__(self, services: Services, pages: Pages, sessions: Sessions) -> None:
        super().__init__(services, pages, sessions)
        self._services = services

    def routes(self) -> list[BaseRoute]:
        site = BASE + "/{domain}"
        upload_bytes = self._services.config.sites.max_upload_mb * 1024 * 1024 + 1024 * 1024
        return [
            Route(BASE + "/", self.index, methods=["GET"]),
            Route(site + "/", self.edit, methods=["GET"]),
            Route(site + "/theme", self.theme, methods=["POST"], max_body_size=FORM_BYTES),
            Route(site + "/info", self.info, methods=["POST"], max_body_size=FORM_BYTES),
            Route(site + "/logo", self.logo, methods=["POST"], max_body_size=MAX_LOGO_BYTES + FORM_BYTES),
            Route(site + "/pages", self.add_page, methods=["POST"], max_body_size=FORM_BYTES),
            Route(site + "/pages/{page:int}", self.page, methods=["GET"]),
            Route(site + "/pages/{page:int}", self.save_page, methods=["POST"], max_body_size=PAGE_FORM_BYTES),
            Route(site + "/pages/{page:int}/delete", self.delete_page, methods=["POST"], max_body_size=FORM_BYTES),
            Route(site + "/pages/{page:int}/move", self.move_page, methods=["POST"], max_body_size=FORM_BYTES),
            Route(site + "/publish", self.publish, methods=["POST"], max_body_size=FORM_BYTES),
            Route(site + "/rollback", self.rollback, methods=["POST"], max_body_size=FORM_BYTES),
            Route(site + "/upload", self.upload, methods=["POST"], max_body_size=upload_bytes),
            Route(site + "/preview/{path:path}", self.preview, methods=["GET"]),
            Route(THEME_PREVIEW, self.theme_preview, methods=["GET"]),
        ]

    # -- helpers ----------------------------------------------------------------------------------------------

    async def _actor(self, request: Request) -> tuple[Principal, str] | None:
        visitor = await self.visitor(request)
        if visitor is None:
            return None
        if not visitor.is_manager:
            raise PermissionDenied("Only an owner of the business edits its website.")
        return visitor.actor, visitor.csrf

    async def _post(self, request: Request, form: FormData | None = None) -> tuple[Principal, FormData, str]:
        """The acting owner, the checked form and the domain of a POST (refused before any change)."""
        if form is None:
            form = await read_form(request)
        actor = await self._actor(request)
        check_csrf(actor[1] if actor else None, form)
        assert actor is not None
        return actor[0], form, request.path_params["domain"]

    @staticmethod
    def _done(domain: str, notice: str, anchor: str = "") -> RedirectResponse:
        location = f"{BASE}/{domain}/?done={notice}{anchor}"
        return RedirectResponse(location, status_code=303, headers=SECURITY_HEADERS)

    # -- pages ------------------------------------------------------------------------------------------------

    async def index(self, request: Request) -> Response:
        actor = await self._actor(request)
        if actor is None:
            return RedirectResponse(HOME, status_code=303)
        domains = await self._services.runner.read(sites.editable_domains, self._services, actor[0])
        if len(domains) == 1:
            return RedirectResponse(f"{BASE}/{domains[0].name}/", status_code=303)
        return self.render(request, "sites.html", await self.visitor(request), domains=domains)

    async def edit(self, request: Request) -> Response:
        actor = await self._actor(request)
        if actor is None:
            return RedirectResponse(HOME, status_code=303)
        principal, csrf = actor
        editor = await self._services.runner.read(
            sites.editor, self._services, principal, request.path_params["domain"]
        )
        usage = await self._services.runner.read(self._services.quota.current, editor.domain.tenant_id)
        limits = sites.upload_limits(self._services)
        return self.render(
            request,
            "site_edit.html",
            await self.visitor(request),
            editor=editor,
            theme=editor.themes.get(editor.content.info.theme),
            usage=usage,
            max_upload=limits.max_bytes,
            max_picture=MAX_MEDIA_BYTES,
            when=when,
        )

    async def page(self, request: Request) -> Response:
        actor = await self._actor(request)
        if actor is None:
            return RedirectResponse(HOME, status_code=303)
        editor = await self._services.runner.read(sites.editor, self._services, actor[0], request.path_params["domain"])
        page = editor.content.page(request.path_params["page"])
        theme = editor.themes.get(editor.content.info.theme)
        layouts = theme.layouts if theme else ()
        return self.render(
            request,
            "page_edit.html",
            await self.visitor(request),
            editor=editor,
            page=page,
            layouts=[(layout, LAYOUTS.get(layout, layout)) for layout in layouts],
            search=search_preview(editor.content, page),
        )

    async def preview(self, request: Request) -> Response:
        actor = await self._actor(request)
        if actor is None:
            return RedirectResponse(HOME, status_code=303)
        domain = request.path_params["domain"]
        root = f"{BASE}/{domain}/preview/"
        files = await self._services.runner.read(sites.preview, self._services, actor[0], domain, root)
        found = preview_file(files, request.path_params["path"])
        if found is None:
            raise NotFound("This page is not part of the site.")
        body, media_type = found
        return Response(body, media_type=media_type, headers={**SECURITY_HEADERS, "X-Robots-Tag": "noindex"})

    async def theme_preview(self, request: Request) -> Response:
        """A theme's picture, for the sign-up page and the editor (no session needed: the themes are public)."""
        choices = await self._services.runner.read(sites.theme_choices, self._services)
        theme = choices.get(request.path_params["theme"])
        if theme is None or theme.preview is None:
            raise NotFound("This theme has no picture.")
        return FileResponse(theme.preview, media_type="image/svg+xml", headers=PICTURE_HEADERS)

    # -- changes ----------------------------------------------------------------------------------------------

    async def theme(self, request: Request) -> Response:
        actor, form, domain = await self._post(request)
        await self._services.runner.write(
            sites.choose_theme, self._services, actor, domain, text_field(form, "theme"), text_field(form, "colour")
        )
        return self._done(domain, "saved")

    async def info(self, request: Request) -> Response:
        actor, form, domain = await self._post(request, await read_form(request, max_fields=20))
        fields = {name: text_field(form, name) for name in sites.INFO_FIELDS}
        contact_form = text_field(form, "contact_form") == "on"
        await self._services.runner.write(sites.save_info, self._services, actor, domain, fields, contact_form)
        return self._done(domain, "saved")

    async def logo(self, request: Request) -> Response:
        form = await request.form(max_files=1, max_fields=5, max_part_size=MAX_LOGO_BYTES + 1024)
        actor, form, domain = await self._post(request, form)
        upload = form.get("logo")
        data: bytes | None = None
        content_type = ""
        if text_field(form, "remove") != "1":
            if not isinstance(upload, UploadFile) or not upload.filename:
                raise InvalidInput("Choose an image file for the logo.")
            data = await upload.read(MAX_LOGO_BYTES + 1)
            content_type = upload.content_type or ""
        await self._services.runner.write(sites.save_logo, self._services, actor, domain, data, content_type)
        return self._done(domain, "saved")

    async def add_page(self, request: Request) -> Response:
        actor, form, domain = await self._post(request)
        page_id = await self._services.runner.write(
            sites.add_page, self._services, actor, domain, text_field(form, "slug"), text_field(form, "title")
        )
        return RedirectResponse(f"{BASE}/{domain}/pages/{page_id}?done=page-added", status_code=303)

    async def save_page(self, request: Request) -> Response:
        form = await read_form(request, max_part_size=PAGE_FORM_BYTES)
        actor, form, domain = await self._post(request, form)
        values = {name: text_field(form, name) for name in ("title", "seo_title", "description", "body", "layout")}
        await self._services.runner.write(
            sites.update_page,
            self._services,
            actor,
            domain,
            request.path_params["page"],
            in_navigation=text_field(form, "in_navigation") == "on",
            **values,
        )
        return self._done(domain, "saved", "#pages")

    async def delete_page(self, request: Request) -> Response:
        actor, _, domain = await self._post(request)
        await self._services.runner.write(sites.delete_page, self._services, actor, domain, request.path_params["page"])
        return self._done(domain, "deleted", "#pages")

    async def move_page(self, request: Request) -> Response:
        actor, form, domain = await self._post(request)
        offset = -1 if text_field(form, "direction") == "up" else 1
        await self._services.runner.write(
            sites.move_page, self._services, actor, domain, request.path_params["page"], offset
        )
        return self._done(domain, "saved", "#pages")

    async def publish(self, request: Request) -> Response:
        actor, _, domain = await self._post(request)
        await self._services.runner.write(sites.publish_site, self._services, actor, domain)
        return self._done(domain, "published")

    async def rollback(self, request: Request) -> Response:
        actor, _, domain = await self._post(request)
        await self._services.runner.write(sites.roll_back, self._services, actor, domain)
        return self._done(domain, "rolled-back")

    async def upload(self, request: Request) -> Response:
        limit = self._services.config.sites.max_upload_mb * 1024 * 1024
        form = await request.form(max_files=1, max_fields=5, max_part_size=limit)
        actor, form, domain = await self._post(request, form)
        upload = form.get("site")
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise InvalidInput("Choose a .zip file with your site.")
        await self._services.runner.write(sites.upload_site, self._services, actor, domain, upload.file)
        return self._done(domain, "uploaded")
