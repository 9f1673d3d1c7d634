"""The admin pages' machinery and entry: sign in with a mail address, the home page for each role, sign out,
the language switch, the stylesheet and script.

Views only translate HTTP: login goes through login (argon2 in a thread, throttled like SMTP and IMAP),
everything else through the use cases with the signed-in principal, so the core decides what each role may
do. Every form carries the session's CSRF token; every change answers 303 to a page with a short notice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from smb_suite import log
from smb_suite.directory.brands import Brand
from smb_suite.directory.model import Principal, Role, User
from smb_suite.errors import AuthenticationFailed, LoginLocked
from smb_suite.ops import accounts, recovery, selfservice, tenants, users
from smb_suite.ops.login import login, record_sign_in
from smb_suite.ops.tiers import COLLABORATION, has_module
from smb_suite.services import Services
from smb_suite.web import i18n
from smb_suite.web.autoconfig import endpoints
from smb_suite.web.dav import collection_urls, dav_url
from smb_suite.web.errors import SignInRequired, status_for
from smb_suite.web.pages import SECURITY_HEADERS, Pages
from smb_suite.web.sessions import Sessions, check_csrf

logger = logging.getLogger("smb_suite.web")

HOME = "/admin/"
STATIC = Path(__file__).resolve().parent / "static"
FORM_BYTES = 16 * 1024  # our forms are a few short fields; refuse anything larger before parsing
YEAR = 365 * 86400
T = TypeVar("T")


async def read_form(request: Request, max_part_size: int = 4096, max_fields: int = 10) -> FormData:
    """The posted fields (URL-encoded or multipart without files), each at most max_part_size bytes."""
    return await request.form(max_files=0, max_fields=max_fields, max_part_size=max_part_size)


def text_field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def signed_in_user(services: Services, sessions: Sessions, request: Request) -> tuple[User, str] | None:
    """The signed-in user and the session's CSRF token, if the session still matches the account and its
    business is not suspended."""
    session = await sessions.load(request)
    if session is None:
        return None
    user = await services.runner.read(services.directory.user_by_id, session.user_id)
    if user is None:
        return None
    if await services.runner.read(services.directory.tenant_suspended, user.tenant_id):
        return None
    return user, session.csrf


@dataclass(frozen=True, slots=True)
class Visitor:
    """A signed-in user, the principal it acts as (with its address, for the audit log), its CSRF token."""

    user: User
    actor: Principal
    csrf: str
    brand: Brand  # its partner's, its own (a partner) or the operator's: directory/brands.py
    collaboration: bool = False  # its business has the module: the menu shows projects (and contacts, calendars)

    @property
    def manages_many(self) -> bool:
        return self.user.role in (Role.OPERATOR, Role.PARTNER)

    @property
    def is_manager(self) -> bool:
        return self.user.role is not Role.USER


class Views:
    """What every admin view needs: the services, the pages, the sessions, and the signed-in visitor."""

    notices: dict[str, str] = {
        "saved": "Saved.",
        "password": "The password is changed.",
        "mailbox-added": "The mailbox is ready: it can receive mail and sign in now.",
        "mailbox-removed": "The mailbox and its mail are deleted.",
        "alias-added": "The alias is added.",
        "alias-removed": "The alias is removed.",
        "domain-added": "The domain is added: publish the DNS records below.",
        "domain-pending": "The domain is added. It is pending until you publish the TXT record below.",
        "domain-verified": "The domain is verified: it receives mail and its website is shown.",
        "domain-not-verified": "The verification record was not found yet. DNS changes take a while: try again later.",
        "app-password-revoked": "The app password is revoked.",
        "tier": "The tier is changed.",
        "subscription": "The subscription is changed. Your provider is told.",
        "suspended": "The business is suspended.",
        "resumed": "The business is active again.",
        "tenant-created": "The business is created.",
        "welcome": "Welcome! Your mailbox and your website are ready.",
        "forwarding": "Forwarding is saved.",
        "vacation-on": "Your vacation reply is on.",
        "vacation-off": "Your vacation reply is off.",
        "catchall": "The catch-all address is saved.",
        "password-reset": "Your password is changed: sign in with the new one.",
        "recovery-pending": "A confirmation link is mailed to your recovery address: open it to start using it.",
        "recovery-removed": "The recovery address is removed.",
        "recovery-confirmed": "The recovery address is confirmed: password reset links go there.",
        "reset-link-sent": "A password reset link is mailed to the recovery address of this mailbox.",
    }

    def __init__(self, services: Services, pages: Pages, sessions: Sessions) -> None:
        self.services = services
        self.pages = pages
        self.sessions = sessions

    async def visitor(self, request: Request) -> Visitor | None:
        signed_in = await signed_in_user(self.services, self.sessions, request)
        if signed_in is None:
            return None
        user, csrf = signed_in
        brand = await self.services.runner.read(self.services.brands.for_tenant, user.tenant_id)
        collaboration = await self.read(has_module, user.tenant_id, COLLABORATION)
        return Visitor(user, users.principal_of(user, client_ip(request)), csrf, brand, collaboration)

    async def require(self, request: Request) -> Visitor:
        """The signed-in visitor; without one, the browser goes to the sign-in page."""
        visitor = await self.visitor(request)
        if visitor is None:
            raise SignInRequired()
        return visitor

    async def posted(self, request: Request, form: FormData | None = None) -> tuple[Visitor, FormData]:
        """The visitor and its form, CSRF checked before anything changes (403 without a session)."""
        if form is None:
            form = await read_form(request)
        visitor = await self.visitor(request)
        check_csrf(visitor.csrf if visitor else None, form)
        assert visitor is not None
        return visitor, form

    async def read(self, function: Callable[..., T], *args: Any) -> T:
        """A use case in a pool thread: reads, and Radicale's file work (contacts, calendars, tasks), which
        takes its own lock and charges the quota in its own transaction as DAV requests do; not the writer."""
        return await self.services.runner.read(function, self.services, *args)

    async def write(self, function: Callable[..., T], *args: Any) -> T:
        return await self.services.runner.write(function, self.services, *args)

    def render(
        self, request: Request, name: str, visitor: Visitor | None, status: int = 200, **context: Any
    ) -> Response:
        notice = self.notices.get(request.query_params.get("done", ""), "")
        context.setdefault("csrf", visitor.csrf if visitor else "")
        if visitor is not None:
            context.setdefault("brand", visitor.brand)
        return self.pages.render(request, name, status, visitor=visitor, notice=notice, **context)

    def public_form(self, request: Request, name: str, status: int = 200, **context: Any) -> Response:
        """A page with a form for visitors without a session (sign in, sign up): its CSRF token is bound to
        a short-lived cookie of this browser."""
        token = self.sessions.login_form_token(request) or self.sessions.new_login_form_token()
        response = self.render(request, name, None, status, csrf=token, **context)
        self.sessions.bind_login_form_token(response, request, token)
        return response

    @staticmethod
    def done(location: str, notice: str) -> RedirectResponse:
        separator = "&" if "?" in location else "?"
        return RedirectResponse(f"{location}{separator}done={notice}", status_code=303, headers=SECURITY_HEADERS)


class AdminViews(Views):
    """Endpoints of /admin/ itself (admin hosts only, see app.AdminRoute)."""

    def routes(self) -> list[BaseRoute]:
        return [
            Route(HOME, self.home, methods=["GET"]),
            Route("/admin/login", self.login, methods=["POST"], max_body_size=FORM_BYTES),
            Route("/admin/logout", self.logout, methods=["POST"], max_body_size=FORM_BYTES),
            Route("/admin/lang", self.language, methods=["GET"]),
            Route("/admin/static/admin.css", self.static_file, methods=["GET"]),
            Route("/admin/static/admin.js", self.static_file, methods=["GET"]),
            Route("/admin/static/favicon.svg", self.static_file, methods=["GET"]),
        ]

    async def home(self, request: Request) -> Response:
        """Each role's first page: the businesses (operator, partner), the business (owner), the account (user)."""
        visitor = await self.visitor(request)
        if visitor is None:
            return self._login_page(request)
        if visitor.manages_many:
            search = request.query_params.get("q", "")
            rows = await self.read(tenants.tenant_rows, visitor.actor, search)
            return self.render(
                request, "tenants.html", visitor, rows=rows, search=search, tiers=self.services.config.tiers
            )
        if visitor.is_manager:
            overview = await self.read(accounts.business, visitor.actor, visitor.user.tenant_id)
            tenant = await self.read(_tenant_name, visitor.user.tenant_id)
            contact = self.services.config.signup.upgrade_contact
            offer = await self.read(selfservice.offer, visitor.actor, visitor.user.tenant_id)
            return self.render(
                request,
                "business.html",
                visitor,
                business=overview,
                tenant=tenant,
                upgrade_contact=contact,
                partner="",
                offer=offer,
            )
        mailbox = await self.read(accounts.mailbox_row, visitor.actor, str(visitor.user.address))
        return self.render(request, "account.html", visitor, **await account_context(self, visitor, mailbox))

    def _login_page(self, request: Request, status: int = 200, error: str = "", username: str = "") -> Response:
        signup = self.services.config.signup.enabled
        return self.public_form(request, "login.html", status, error=error, username=username, signup=signup)

    async def login(self, request: Request) -> Response:
        form = await read_form(request)
        check_csrf(self.sessions.login_form_token(request), form)
        username = text_field(form, "username").strip()
        try:
            user = await login(self.services, username, text_field(form, "password"), client_ip(request))
        except (AuthenticationFailed, LoginLocked) as exc:
            log.event(logger, "web.login.failed", user=username, ip=client_ip(request))
            return self._login_page(request, status_for(exc), str(exc), username)
        log.event(logger, "web.login", user=user.address, ip=client_ip(request))
        await record_sign_in(self.services, user, client_ip(request))
        response = RedirectResponse(HOME, status_code=303, headers=SECURITY_HEADERS)
        await self.sessions.start(response, request, user)
        return response

    async def logout(self, request: Request) -> Response:
        form = await read_form(request)
        session = await self.sessions.load(request)
        check_csrf(session.csrf if session else None, form)
        response = RedirectResponse(HOME, status_code=303, headers=SECURITY_HEADERS)
        await self.sessions.end(response, request)
        return response

    async def language(self, request: Request) -> Response:
        """Remember the chosen language (a preference, not a change of data: no CSRF needed) and go back."""
        chosen = request.query_params.get("to", "")
        back = request.query_params.get("next", HOME)
        if not back.startswith(HOME) or "//" in back or "\\" in back:
            back = HOME
        response = RedirectResponse(quote(back, safe="/?=&-_.~"), status_code=303, headers=SECURITY_HEADERS)
        if chosen in i18n.LANGUAGES:
            self.sessions.remember(response, request, i18n.LANG_COOKIE, chosen, YEAR)
        return response

    async def static_file(self, request: Request) -> Response:
        path = STATIC / request.url.path.rsplit("/", 1)[1]
        return FileResponse(path, headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"})


async def require_current_password(services: Services, user: User, password: str, client: str) -> None:
    """A sensitive change (password, recovery address) asks the current password again, through the login
    throttle: a stolen session cannot take the account over, nor guess the password at leisure."""
    try:
        await login(services, str(user.address), password, client)
    except AuthenticationFailed as exc:
        raise AuthenticationFailed("the current password is not right: nothing was changed") from exc


def _tenant_name(services: Services, tenant_id: int) -> str:
    return services.tenants.names([tenant_id]).get(tenant_id, "")


async def account_context(views: Views, visitor: Visitor, mailbox: accounts.MailboxRow) -> dict[str, Any]:
    """What the account page shows: storage, recovery address, app passwords, mail client settings."""
    passwords = await views.read(accounts.app_passwords, visitor.actor)
    dav = dav_url(views.services.config.server.hostname, views.services.listening.get("https"))
    if not visitor.collaboration:
        dav = ""
    rules = await views.read(accounts.mail_rules, visitor.actor, str(visitor.user.address))
    return {
        "rules": rules,
        "recovery": await views.read(recovery.recovery_address, visitor.actor),
        "vacation_days": max(1, round(float(views.services.config.delivery.vacation_interval) / 86400)),
        "mailbox": mailbox,
        "app_passwords": passwords,
        "endpoints": endpoints(views.services.listening),
        "server": views.services.config.server.hostname,
        "dav": dav,
        "dav_collections": collection_urls(dav, visitor.user.id, visitor.user.tenant_id) if dav else [],
    }
