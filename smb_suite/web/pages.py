"""Our own HTML pages (admin and error pages): one jinja2 environment, one render path, strict headers.

Tenant sites never pass through here: their files are served as published, with nothing added.
"""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse

from smb_suite.directory.brands import Brand
from smb_suite.web import i18n
from smb_suite.web.hosts import request_host

# Every page of ours is same-origin only, never framed, never cached (it may show account data).
SECURITY_HEADERS: Mapping[str, str] = {
    "Content-Security-Policy": "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


class Pages:
    """Renders the package templates with autoescaping; knows which hosts may link the admin stylesheet."""

    def __init__(self, admin_hosts: frozenset[str], brand: Brand) -> None:
        self._admin_hosts = admin_hosts
        self._brand = brand  # the operator's: pages without a signed-in visitor or a partner's sign-up
        self._environment = jinja2.Environment(
            loader=jinja2.PackageLoader("smb_suite.web", "templates"),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            auto_reload=False,  # templates ship with the package: no stat() per page on the event loop
        )

    def is_admin_host(self, request: Request) -> bool:
        return request_host(request.headers) in self._admin_hosts

    def render(
        self,
        request: Request,
        name: str,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        **context: object,
    ) -> HTMLResponse:
        # The stylesheet lives under /admin/, which exists only on admin hosts; elsewhere pages stay plain.
        lang = i18n.language(request)
        html = self._environment.get_template(name).render(
            admin_host=self.is_admin_host(request),
            lang=lang,
            _=i18n.translator(lang),
            languages=i18n.LANGUAGES,
            format_bytes=i18n.bytes_formatter(lang),
            here=request.url.path + (f"?{request.url.query}" if request.url.query else ""),
            **{"brand": self._brand, **context},
        )
        return HTMLResponse(html, status_code=status, headers={**SECURITY_HEADERS, **(headers or {})})

    def error(
        self, request: Request, status: int, message: str = "", headers: Mapping[str, str] | None = None
    ) -> HTMLResponse:
        title = HTTPStatus(status).phrase
        shown = "" if message == title else message
        return self.render(request, "error.html", status, headers, title=title, message=shown, visitor=None)
