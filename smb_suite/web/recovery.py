"""Password recovery pages: "forgot password" (ask for a link), the page a reset link opens (choose a new
password), the page a confirmation link opens, and the recovery address on the account page.

The "forgot password" answer is the same page, given before anything about the address is looked up: the
lookup, the link and its mail run after the answer is sent (a background task), so the page's words and its
time are the same for an address that exists and one that does not. Links are opened by GET pages that only
look (mail scanners fetch links); only the form on them (CSRF-bound, like the sign-in form) uses the link.
Views only translate HTTP; ops/recovery.py does the work.
"""

from __future__ import annotations

import asyncio
import logging

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from smb_suite import log
from smb_suite.auth.recovery import CONFIRM, RESET
from smb_suite.errors import InvalidInput, SmbSuiteError
from smb_suite.ops import recovery
from smb_suite.web import i18n
from smb_suite.web.admin import FORM_BYTES, HOME, Views, client_ip, read_form, require_current_password, text_field
from smb_suite.web.errors import status_for
from smb_suite.web.sessions import check_csrf

logger = logging.getLogger("smb_suite.web")
FORGOT = "/admin/forgot"
ACCOUNT_RECOVERY = "/admin/account/recovery"


class RecoveryViews(Views):
    def routes(self) -> list[BaseRoute]:
        post = {"methods": ["POST"], "max_body_size": FORM_BYTES}
        return [
            Route(FORGOT, self.forgot_form, methods=["GET"]),
            Route(FORGOT, self.forgot, **post),  # type: ignore[arg-type]
            Route(recovery.RESET_PATH, self.reset_form, methods=["GET"]),
            Route(recovery.RESET_PATH, self.reset, **post),  # type: ignore[arg-type]
            Route(recovery.CONFIRM_PATH, self.confirm_form, methods=["GET"]),
            Route(recovery.CONFIRM_PATH, self.confirm, **post),  # type: ignore[arg-type]
            Route(ACCOUNT_RECOVERY, self.set_address, **post),  # type: ignore[arg-type]
        ]

    # -- forgot password ------------------------------------------------------------------------------------

    async def forgot_form(self, request: Request) -> Response:
        return self.public_form(request, "forgot.html", sent=False)

    async def forgot(self, request: Request) -> Response:
        form = await read_form(request)
        check_csrf(self.sessions.login_form_token(request), form)
        address, client = text_field(form, "address").strip()[:320], client_ip(request)
        await self.write(recovery.allow_request, address, client)  # RateLimited: 429 with its message
        response = self.public_form(request, "forgot.html", sent=True)
        response.background = BackgroundTask(self._request_reset, address, client)
        return response

    async def _request_reset(self, address: str, client: str) -> None:
        try:
            await self.write(recovery.request_reset, address, client)
        except (SmbSuiteError, OSError) as error:  # the page was answered: nobody to tell but the log
            log.event(logger, "recovery.request_failed", ip=client, error=type(error).__name__)

    # -- a reset link ---------------------------------------------------------------------------------------

    async def reset_form(self, request: Request) -> Response:
        token = request.query_params.get("token", "")
        await self.read(recovery.check_link, token, RESET)
        return self.public_form(request, "reset.html", token=token, error="")

    async def reset(self, request: Request) -> Response:
        form = await read_form(request)
        check_csrf(self.sessions.login_form_token(request), form)
        token, client = text_field(form, "token"), client_ip(request)
        await self.write(recovery.check_link, token, RESET, client)
        try:
            password_hash = await asyncio.to_thread(recovery.new_hash, text_field(form, "password"))
        except InvalidInput as exc:
            return self.public_form(request, "reset.html", status_for(exc), token=token, error=str(exc))
        user = await self.write(recovery.reset_password, token, password_hash, client)
        log.event(logger, "web.password_reset", user=user.address, ip=client)
        response = self.done(HOME, "password-reset")
        await self.sessions.end(response, request)  # this browser's session, if any, ended with the others
        return response

    # -- a confirmation link --------------------------------------------------------------------------------

    async def confirm_form(self, request: Request) -> Response:
        token = request.query_params.get("token", "")
        await self.read(recovery.check_link, token, CONFIRM)
        return self.public_form(request, "recovery_confirm.html", token=token)

    async def confirm(self, request: Request) -> Response:
        form = await read_form(request)
        check_csrf(self.sessions.login_form_token(request), form)
        await self.write(recovery.confirm_address, text_field(form, "token"), client_ip(request))
        return self.done(HOME, "recovery-confirmed")

    # -- the account's recovery address ---------------------------------------------------------------------

    async def set_address(self, request: Request) -> Response:
        visitor, form = await self.posted(request)
        await require_current_password(self.services, visitor.user, text_field(form, "current"), client_ip(request))
        language = i18n.language(request)
        chosen = await self.write(recovery.set_address, visitor.actor, text_field(form, "address"), language)
        return self.done("/admin/account", "recovery-pending" if chosen else "recovery-removed")
