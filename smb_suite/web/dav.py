"""CalDAV, CardDAV and WebDAV on the admin host name (/dav/), and the RFC 6764 well-known redirects on every name.

DAV is served under our own name, like the admin pages, never under a tenant's domain: one name, one
certificate, and no Host header can make a business's domain answer with another's data. A request is
authenticated here, on the loop (ops/login.py: throttled, argon2 in a thread, the credential cache; the
mailbox password or an app password), then checked: the business's tier must include the "collaboration"
module, and the path must name the user's own principal, its business's, or the document space; anything else
is 404, exactly as a path that does not exist (no probing of other businesses). Only then does the request reach
Radicale or wsgidav (smb_suite/dav/), in a2wsgi's worker threads, with the verified `DavUser` in its scope.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
from typing import cast
from urllib.parse import unquote, urlsplit

from a2wsgi import WSGIMiddleware
from starlette.datastructures import Headers
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from smb_suite import log
from smb_suite.dav.access import MAX_REQUEST_BYTES, SCOPE_KEY, DavUser
from smb_suite.dav.layout import SHARED, tenant_principal, user_principal
from smb_suite.errors import AccountSuspended, AuthenticationFailed, LoginLocked
from smb_suite.ops.login import login
from smb_suite.ops.tiers import COLLABORATION, has_module
from smb_suite.services import Services

DAV_PREFIX = "/dav"
FILES = "files"  # /dav/files/: the documents (smb_suite/dav/files.py)
WELL_KNOWN = frozenset({"/.well-known/caldav", "/.well-known/carddav"})
THREADS = 8  # Radicale and wsgidav requests served at once (each blocks a thread on files)
CHALLENGE = {"WWW-Authenticate": 'Basic realm="smb-suite", charset="UTF-8"'}
NO_STORE = {"Cache-Control": "no-store"}
logger = logging.getLogger("smb_suite.web.dav")


def is_dav_path(path: str) -> bool:
    return path == DAV_PREFIX or path.startswith(DAV_PREFIX + "/")


def dav_url(hostname: str, https_port: int | None) -> str:
    """The account URL clients are given: our own name over HTTPS (the standard port unless told another)."""
    port = "" if https_port in (None, 443) else f":{https_port}"
    return f"https://{hostname}{port}{DAV_PREFIX}/"


def collection_urls(base: str, user_id: int, tenant_id: int) -> list[tuple[str, str]]:
    """The collections a user syncs, as (label, URL), for clients that want one URL each (Outlook's CalDAV
    Synchronizer, Thunderbird): the default ones of dav/calendars.py; task lists are on their project's page."""
    own, business = base + user_principal(user_id), base + tenant_principal(tenant_id)
    return [
        ("Your calendar", f"{own}/calendar/"),
        ("Your address book", f"{own}/contacts/"),
        ("Team calendar", f"{business}/team/"),
        ("Business contacts", f"{business}/contacts/"),
        ("Task list “Tasks”", f"{business}/tasks/"),
    ]


def well_known_target(hostname: str, https_port: int | None, on_admin_host: bool) -> str:
    """Where /.well-known/caldav and /carddav send clients (RFC 6764 5): our /dav/, on our own name."""
    return DAV_PREFIX + "/" if on_admin_host or not https_port else dav_url(hostname, https_port)


def _parts(path: str) -> list[str]:
    return [part for part in path.removeprefix(DAV_PREFIX).split("/") if part]


def is_files_path(path: str) -> bool:
    """/dav/files/...: wsgidav's documents; everything else under /dav/ is Radicale's."""
    return _parts(path)[:1] == [FILES]


def allowed_path(path: str, user: DavUser) -> bool:
    """The DAV root, the user's principal, its business's, or the documents ("Shared" and the user's own
    folder): the only paths a user may name."""
    parts = _parts(path)
    if parts[:1] == [FILES]:
        return len(parts) == 1 or parts[1] in (SHARED, user.address)
    return not parts or parts[0] in (user.principal, user.business)


def _credentials(headers: Headers) -> tuple[str, str] | None:
    """The Basic credentials of the request (RFC 7617), or None."""
    scheme, _, value = headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        name, colon, password = base64.b64decode(value.strip(), validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (name, password) if colon and name else None


def _unsized(scope: Scope) -> bool:
    """A chunked body to Radicale (curl -T -, some phone apps): Radicale reads exactly CONTENT_LENGTH bytes, so it
    would see none (400); wsgidav reads chunked bodies itself."""
    headers = Headers(scope=scope)
    chunked = "chunked" in headers.get("transfer-encoding", "").lower()
    return chunked and "content-length" not in headers and not is_files_path(scope["path"])


async def _sized(scope: Scope, receive: Receive, limit: int) -> tuple[Scope, Receive] | None:
    """The chunked body read here, at most `limit` bytes (None beyond, or when the client left), and handed on
    with its Content-Length (RFC 9112 6.3: the length is then known)."""
    body = bytearray()
    more = True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            return None
        body += message.get("body", b"")
        if len(body) > limit:
            return None
        more = message.get("more_body", False)
    headers = [(name, value) for name, value in scope["headers"] if name != b"transfer-encoding"]
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if replayed:
            return await receive()
        replayed = True
        return {"type": "http.request", "body": bytes(body), "more_body": False}

    return {**scope, "headers": [*headers, (b"content-length", str(len(body)).encode())]}, replay


class DavFront:
    """/dav/: the user checked here, then Radicale or wsgidav (dav/apps.py), made by the first request that
    reaches them: Radicale, wsgidav and lxml are ~6 MB that a worker no DAV client uses does without."""

    def __init__(self, services: Services) -> None:
        self._services = services
        self._apps: ASGIApp | None = None

    async def _wsgi(self) -> ASGIApp:
        """The apps, made in a thread by the first request that reaches them (their imports take ~0.3 s, seconds
        on a busy machine: not on the event loop)."""
        if self._apps is None:
            made = await asyncio.to_thread(self._make_apps)
            self._apps = self._apps or made  # two first requests at once: both use the first made
        return self._apps

    def _make_apps(self) -> ASGIApp:
        from smb_suite.dav.apps import DavApps  # lazily: see the class docstring

        return cast(ASGIApp, WSGIMiddleware(DavApps(self._services.dav), workers=THREADS))  # type: ignore[arg-type]

    async def well_known(self, scope: Scope, receive: Receive, send: Send, on_admin_host: bool) -> None:
        target = well_known_target(
            self._services.config.server.hostname, self._services.listening.get("https"), on_admin_host
        )
        await RedirectResponse(target, 301, NO_STORE)(scope, receive, send)

    async def _user(self, scope: Scope) -> DavUser | Response:
        """The verified user of the request, or the answer that refuses it."""
        credentials = _credentials(Headers(scope=scope))
        if credentials is None:
            return PlainTextResponse("authentication required", 401, CHALLENGE)
        client = scope.get("client")
        ip = client[0] if client else "unknown"
        try:
            user = await login(self._services, credentials[0], credentials[1], ip, app_passwords=True)
        except LoginLocked as error:
            wait = max(1, int(error.until - self._services.clock()))
            return PlainTextResponse(str(error), 429, {"Retry-After": str(wait)})
        except AccountSuspended:
            return PlainTextResponse("this business is suspended", 403)
        except AuthenticationFailed:
            return PlainTextResponse("wrong user name or password", 401, CHALLENGE)
        return DavUser(user.id, user.tenant_id, str(user.address))

    async def _refusal(self, scope: Scope, user: DavUser) -> Response | None:
        """404 without the module or for a path that is not the user's. A PUT that cannot fit gets 507 further on,
        once what it replaces is known: dav/files.py before reading the body, Radicale's QuotaStorage (bodies of
        at most MAX_REQUEST_BYTES)."""
        services = self._services
        headers = Headers(scope=scope)
        destination = unquote(urlsplit(headers.get("destination", "")).path)
        paths = (scope["path"], destination) if destination else (scope["path"],)
        if not all(allowed_path(path, user) for path in paths):
            return PlainTextResponse("not found", 404)
        if not await services.runner.read(has_module, services, user.tenant_id, COLLABORATION):
            return PlainTextResponse("not found", 404)
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = await self._user(scope)
        if isinstance(found, Response):
            await found(scope, receive, send)
            return
        refusal = await self._refusal(scope, found)
        log.event(logger, "dav.request", method=scope["method"], user=found.address, refused=refusal is not None)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        if _unsized(scope):
            sized = await _sized(scope, receive, MAX_REQUEST_BYTES)
            if sized is None:
                await PlainTextResponse("too large", 413)(scope, receive, send)  # RFC 9110 15.5.14
                return
            scope, receive = sized
        app = await self._wsgi()
        await app({**scope, "root_path": DAV_PREFIX, SCOPE_KEY: found}, receive, send)
