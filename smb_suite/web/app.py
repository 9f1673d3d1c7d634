"""The one ASGI app of the web front end, served by the daemon on both the http and https listeners.

Routing is by Host first: /admin/ on our own names (config.server.hostname and loopback) is the admin UI;
every other request belongs to the hosted site named by its Host, or gets our neutral "not found" page.
"""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.datastructures import Headers, URLPath
from starlette.routing import BaseRoute, Match, Route, Router
from starlette.types import Receive, Scope, Send

from smb_suite.ops import Services
from smb_suite.web import errors
from smb_suite.web.admin import AdminViews
from smb_suite.web.autoconfig import AutoconfigViews
from smb_suite.web.hosts import admin_hosts, request_host
from smb_suite.web.pages import Pages
from smb_suite.web.sessions import KEY_FILE, Sessions, load_or_create_key
from smb_suite.web.sites import SiteViews

ADMIN_PREFIX = "/admin"


class AdminRoute(BaseRoute):
    """Matches /admin and below, but only on the admin host names; elsewhere that path is the tenant's."""

    def __init__(self, hosts: frozenset[str], routes: list[BaseRoute]) -> None:
        self._hosts = hosts
        self._router = Router(routes)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        path: str = scope.get("path", "")
        under_admin = path == ADMIN_PREFIX or path.startswith(ADMIN_PREFIX + "/")
        if scope["type"] == "http" and under_admin and request_host(Headers(scope=scope)) in self._hosts:
            return Match.FULL, {}
        return Match.NONE, {}

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        return self._router.url_path_for(name, **path_params)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._router(scope, receive, send)


def create_app(services: Services) -> Starlette:
    """Build the web app; creates the session key in the data folder on first use."""
    hosts = admin_hosts(services.config)
    pages = Pages(hosts)
    sessions = Sessions(load_or_create_key(services.config.server.data_dir / KEY_FILE))
    admin = AdminViews(services, pages, sessions)
    sites = SiteViews(services, hosts)
    return Starlette(
        routes=[
            AdminRoute(hosts, admin.routes()),
            *AutoconfigViews(services).routes(),
            Route("/{path:path}", sites.serve, methods=["GET"]),
        ],
        exception_handlers=errors.exception_handlers(pages),
    )
