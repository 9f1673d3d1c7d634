"""The admin pages: sign in with a mail address, see the mailboxes of your business, sign out.

Views only translate HTTP: login goes through ops.login (argon2 in a thread, throttled like SMTP and IMAP),
listings through the directory with the signed-in principal, so the core decides what each user may see.
"""

from __future__ import annotations

import logging
from pathlib import Path

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from smb_suite import log, ops
from smb_suite.directory import Role, User
from smb_suite.errors import AuthenticationFailed
from smb_suite.ops import Services
from smb_suite.web.errors import status_for
from smb_suite.web.pages import SECURITY_HEADERS, Pages
from smb_suite.web.sessions import Sessions, check_csrf

logger = logging.getLogger("smb_suite.web")

HOME = "/admin/"
STYLESHEET = Path(__file__).resolve().parent / "static" / "admin.css"
FORM_BYTES = 16 * 1024  # our forms are a few short fields; refuse anything larger before parsing


async def read_form(request: Request, max_part_size: int = 4096, max_fields: int = 10) -> FormData:
    """The posted fields (URL-encoded or multipart without files), each at most max_part_size bytes."""
    return await request.form(max_files=0, max_fields=max_fields, max_part_size=max_part_size)


def text_field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def signed_in_user(services: Services, sessions: Sessions, request: Request) -> tuple[User, str] | None:
    """The signed-in user and the session's CSRF token, if the session still matches the account."""
    session = sessions.load(request)
    if session is None:
        return None
    user = await services.runner.read(services.directory.find_user, session.address)
    if user is None or user.id != session.user_id:
        return None
    if sessions.password_tag(user) != session.password_tag:
        return None
    return user, session.csrf


class AdminViews:
    """Endpoints of /admin/ (admin hosts only, see app.AdminRoute)."""

    def __init__(self, services: Services, pages: Pages, sessions: Sessions) -> None:
        self._services = services
        self._pages = pages
        self._sessions = sessions

    def routes(self) -> list[BaseRoute]:
        return [
            Route(HOME, self.home, methods=["GET"]),
            Route("/admin/login", self.login, methods=["POST"], max_body_size=FORM_BYTES),
            Route("/admin/logout", self.logout, methods=["POST"], max_body_size=FORM_BYTES),
            Route("/admin/static/admin.css", self.stylesheet, methods=["GET"]),
        ]

    async def home(self, request: Request) -> Response:
        signed_in = await signed_in_user(self._services, self._sessions, request)
        if signed_in is None:
            return self._login_page(request)
        user, csrf = signed_in
        users = await self._services.runner.read(self._services.directory.list_users, ops.principal_of(user))
        return self._pages.render(
            request, "account.html", user=user, users=users, owner=user.role is Role.OWNER, csrf=csrf
        )

    def _login_page(self, request: Request, status: int = 200, error: str = "", username: str = "") -> Response:
        token = self._sessions.login_form_token(request) or self._sessions.new_login_form_token()
        response = self._pages.render(request, "login.html", status, csrf=token, error=error, username=username)
        self._sessions.bind_login_form_token(response, request, token)
        return response

    async def login(self, request: Request) -> Response:
        form = await read_form(request)
        check_csrf(self._sessions.login_form_token(request), form)
        username = text_field(form, "username").strip()
        try:
            user = await ops.login(self._services, username, text_field(form, "password"), client_ip(request))
        except AuthenticationFailed as exc:
            log.event(logger, "web.login.failed", user=username, ip=client_ip(request))
            return self._login_page(request, status_for(exc), str(exc), username)
        log.event(logger, "web.login", user=user.address, ip=client_ip(request))
        response = RedirectResponse(HOME, status_code=303, headers=SECURITY_HEADERS)
        self._sessions.start(response, request, user)
        return response

    async def logout(self, request: Request) -> Response:
        form = await read_form(request)
        session = self._sessions.load(request)
        check_csrf(session.csrf if session else None, form)
        response = RedirectResponse(HOME, status_code=303, headers=SECURITY_HEADERS)
        self._sessions.end(response, request)
        return response

    async def stylesheet(self, request: Request) -> Response:
        return FileResponse(STYLESHEET, headers={"X-Content-Type-Options": "nosniff"})
