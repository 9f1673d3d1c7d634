"""The one ASGI app of the web front end, served by the daemon on both the http and https listeners.

Routing is by Host first: our own names (config.server.hostname and loopback) are the admin origin, which
never serves tenant content (no site, no contact form: an uploaded script there would run with the admin's
cookie); /admin/ on them is the admin UI, /dav/ CalDAV, CardDAV and WebDAV (web/dav.py), and
/.well-known/caldav and /carddav redirect there from any name. Any other Host naming a published site of a
*verified* domain is answered by web/hosting.py directly (no router, no middleware: the fast path), except the
contact form's POST /_contact; everything else gets our neutral "not found" page.
"""

from __future__ import annotations

import asyncio
import functools
import importlib
import sys
import time
from collections.abc import Callable
from types import ModuleType
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.datastructures import Headers, URLPath
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Match, Route, Router
from starlette.types import ASGIApp, Receive, Scope, Send

from smb_suite.directory.core import Directory
from smb_suite.directory.model import OPERATOR, Domain
from smb_suite.errors import NotFound
from smb_suite.metrics import HTTP_METHODS
from smb_suite.services import Services
from smb_suite.web import acme, errors, health
from smb_suite.web.api.document import PREFIX as API_PREFIX
from smb_suite.web.autoconfig import AutoconfigViews
from smb_suite.web.dav import WELL_KNOWN, DavFront, is_dav_path
from smb_suite.web.filecache import FileCache
from smb_suite.web.hosting import Reply, SiteHosting
from smb_suite.web.hosts import CONTACT_PATH, SITE_SCOPE_KEY, admin_hosts, host_in, host_of, request_host
from smb_suite.web.pages import Pages
from smb_suite.web.sessions import KEY_FILE, Sessions, load_or_create_key
from smb_suite.web.transport import https_redirect, wants_hsts, with_hsts

if TYPE_CHECKING:
    from smb_suite.web.contact import ContactViews

ADMIN_PREFIX = "/admin"
KIB = 1024


class AdminRoute(BaseRoute):
    """Matches /admin and below, but only on the admin host names; elsewhere that path is the tenant's. Its
    routes are made by the first request that needs them (web/routes.py says why)."""

    def __init__(self, hosts: frozenset[str], routes: Callable[[], list[BaseRoute]]) -> None:
        self._hosts = hosts
        self._make_routes = routes
        self._made: Router | None = None

    @property
    def _router(self) -> Router:
        if self._made is None:
            self._made = Router(self._make_routes())
        return self._made

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http" and is_admin_request(scope, self._hosts):
            return Match.FULL, {}
        return Match.NONE, {}

    @property
    def routes(self) -> list[BaseRoute]:
        return self._router.routes

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        return self._router.url_path_for(name, **path_params)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._router(scope, receive, send)


class PrefixRoute(BaseRoute):
    """Everything below `prefix` on the admin host names goes to `app` (the provisioning API), made by the first
    request there."""

    def __init__(self, hosts: frozenset[str], prefix: str, app: Callable[[], ASGIApp]) -> None:
        self._hosts = hosts
        self._prefix = prefix
        self._make_app = app
        self._app: ASGIApp | None = None

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        path: str = scope.get("path", "")
        under = path == self._prefix or path.startswith(self._prefix + "/")
        if scope["type"] == "http" and under and request_host(Headers(scope=scope)) in self._hosts:
            return Match.FULL, {}
        return Match.NONE, {}

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._app is None:
            self._app = self._make_app()
        await self._app(scope, receive, send)


def is_admin_request(scope: Scope, hosts: frozenset[str], host: str | None = None) -> bool:
    path: str = scope.get("path", "")
    under_admin = path == ADMIN_PREFIX or path.startswith(ADMIN_PREFIX + "/")
    return under_admin and (host if host is not None else request_host(Headers(scope=scope))) in hosts


def platform_label(tenant_name: str) -> str:
    """A business's name as one DNS label: lower case, every run of other characters one '-'."""
    label = "".join(ch if ch.isascii() and ch.isalnum() else "-" for ch in tenant_name.lower())
    return "-".join(part for part in label.split("-") if part)[:63]


def platform_domain_of(directory: Directory, label: str) -> Domain | None:
    """The first domain (oldest) of the business whose name gives this label, or None."""
    for domain in sorted(directory.list_domains(OPERATOR), key=lambda domain: domain.id):
        if platform_label(domain.tenant_name) == label:
            return domain
    return None


def site_domain_of(directory: Directory, platform_domain: str, host: str) -> tuple[int, str] | None:
    """The hosted domain whose site answers to this host name, as (id, name): the domain of that name, else the
    domain its www. name belongs to, else (<label>.<platform domain>) the first domain of that business."""
    candidates = [host, host[4:]] if host.startswith("www.") else [host]
    for name in candidates:
        domain = directory.find_domain(name)
        if domain is not None:  # a domain pending its ownership proof serves no site (ops/verification.py)
            return (domain.id, domain.name) if domain.verified else None
    suffix = "." + platform_domain.lower().strip(".")
    label = host.removesuffix(suffix)
    if label != host and label and "." not in label:
        found = platform_domain_of(directory, label)
        if found is not None and found.verified:
            return found.id, found.name
    return None


class WebApp:
    """The dispatcher: published sites straight to SiteHosting, the rest to the Starlette app."""

    def __init__(self, services: Services) -> None:
        self._services = services
        self.hosts = admin_hosts(services.config)
        self._hostname = services.config.server.hostname.lower().rstrip(".")
        pages = Pages(self.hosts, services.brands.default)
        self._pages = pages
        self._sessions = Sessions(
            load_or_create_key(services.config.server.data_dir / KEY_FILE), services.web_sessions, services.runner
        )
        self._contact: ContactViews | None = None
        autoconfig = AutoconfigViews(services)
        self.dav = DavFront(services)
        self._autoconfig_paths = {route.path for route in autoconfig.routes()}
        sites_config = services.config.sites
        self.cache = FileCache(sites_config.cache_mb * KIB * KIB, sites_config.cache_file_kb * KIB)
        self.hosting = SiteHosting(services.config.sites_dir, self._site_domain, self.cache)
        services.sites.listeners.append(self._published)
        self.starlette = Starlette(
            routes=[
                AdminRoute(self.hosts, lambda: _views().admin_routes(services, pages, self._sessions)),
                PrefixRoute(self.hosts, API_PREFIX, lambda: _views().api(services)),
                Route(CONTACT_PATH, self._contact_post, methods=["POST"], max_body_size=64 * KIB),
                *autoconfig.routes(),
                Route("/{path:path}", self.no_site, methods=["GET", "HEAD"]),
            ],
            exception_handlers=errors.exception_handlers(pages),
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._dispatch(scope, receive, send)
            return
        method = scope["method"] if scope["method"] in HTTP_METHODS else "OTHER"  # bounded label values
        with self._services.metrics.timed("http", method):
            await self._dispatch(scope, receive, send)

    async def _dispatch(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == health.HEALTH_PATH:  # on every Host, before any site
            await health.answer(self._services, scope, receive, send)
            return
        if scope["type"] == "http" and scope["path"].startswith(acme.CHALLENGE_PREFIX):  # likewise
            await acme.answer(self._services, scope, receive, send)
            return
        host = host_of(scope) if scope["type"] == "http" else ""
        if host in self.hosts:  # the admin host: HTTPS only when it is served, HSTS on its real name
            if is_admin_request(scope, self.hosts, host):
                redirect = https_redirect(scope, host, self._services.listening)
                if redirect is not None:
                    await redirect(scope, receive, send)
                    return
            if wants_hsts(scope, host, self._hostname):
                send = with_hsts(send)
            if is_dav_path(scope["path"]):  # CalDAV, CardDAV, WebDAV: on our own name only (web/dav.py)
                redirect = https_redirect(scope, host, self._services.listening)
                await (redirect or self.dav)(scope, receive, send)
                return
            if scope["path"] == "/" and scope["method"] == "PROPFIND":  # a calendar app given only our name
                await self.dav.well_known(scope, receive, send, on_admin_host=True)
                return
        if scope["type"] == "http" and scope["path"] in WELL_KNOWN:
            await self.dav.well_known(scope, receive, send, host in self.hosts)
            return
        if host and host not in self.hosts and scope["path"] not in self._autoconfig_paths:  # no site on ours
            site = await self.hosting.find(host)
            if site is not None:
                if site.suspended:
                    await self._suspended(scope, receive, send)
                    return
                if scope["path"] == CONTACT_PATH and scope["method"] == "POST":
                    scope[SITE_SCOPE_KEY] = site.domain
                else:
                    not_found = functools.partial(self._not_found, scope, receive, send)
                    await self.hosting.serve(site, scope, receive, send, not_found)
                    return
        if host in self.hosts or scope["path"] == CONTACT_PATH:  # the admin UI, the API, a contact form
            await _load_views()
        await self.starlette(scope, receive, send)

    def answer_now(self, method: str, path: str, headers: list[tuple[bytes, bytes]]) -> Reply | None:
        """A site's file answered without the ASGI stack (web/protocol.py), when _dispatch would surely answer
        it with that file: not /healthz, ACME, DAV discovery or autoconfig, not our own host names, a site and
        file already cached. Counted in the metrics like every request."""
        started = time.perf_counter()
        if path == health.HEALTH_PATH or path in WELL_KNOWN or path in self._autoconfig_paths:
            return None
        if path.startswith(acme.CHALLENGE_PREFIX):
            return None
        host = host_in(headers)
        if not host or host in self.hosts:
            return None
        reply = self.hosting.answer_now(host, method, path, headers)
        if reply is not None:
            self._services.metrics.observe("http", method, time.perf_counter() - started)
        return reply

    async def _not_found(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = self._pages.error(Request(scope, receive), 404, "This page does not exist.")
        await response(scope, receive, send)

    async def _suspended(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A neutral page for a suspended business's site: nothing of its content, no reason given."""
        message = "This website is temporarily unavailable."
        response = self._pages.error(Request(scope, receive), 503, message, {"Retry-After": "3600"})
        await response(scope, receive, send)

    async def _site_domain(self, host: str) -> tuple[int, str] | None:
        """Host name -> (domain id, name) from the database (SiteHosting remembers it while the site is live)."""
        platform = self._services.config.sites.platform_domain
        return await self._services.runner.read(site_domain_of, self._services.directory, platform, host)

    def _published(self, domain_id: int) -> None:
        """A publish or removal in this process: free the cached files of the versions that are no longer live."""
        live = self._services.sites.live_version(domain_id)
        self.cache.forget_domain(self.hosting.root(domain_id), str(live) if live else None)
        self.hosting.forget(domain_id)

    async def _contact_post(self, request: Request) -> Response:
        if self._contact is None:
            self._contact = _views().contact(self._services, self._pages)
        return await self._contact.post(request)

    async def no_site(self, request: Request) -> Response:
        if request_host(request.headers) in self.hosts and request.url.path == "/":
            return RedirectResponse("/admin/", status_code=303)
        raise NotFound("No website is published at this address.")


ROUTES_MODULE = "smb_suite.web.routes"


def _views() -> ModuleType:
    """web/routes.py, imported by the first request for the admin UI, the API or a contact form: lazily, so that
    an idle worker does not hold those modules (see there)."""
    from smb_suite.web import routes

    return routes


async def _load_views() -> None:
    """Import web/routes.py in a thread, once, before the request that needs it: its modules take ~0.5 s to
    import (seconds on a busy machine), which on the event loop would stall every connection of this worker."""
    if ROUTES_MODULE not in sys.modules:
        await asyncio.to_thread(importlib.import_module, ROUTES_MODULE)


def create_app(services: Services) -> WebApp:
    """Build the web app; creates the session key in the data folder on first use."""
    return WebApp(services)
