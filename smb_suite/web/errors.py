"""Core errors to HTTP: the one place where an exception becomes a status code and a human page.

4xx pages show the error's own message (written for users); anything else gets a generic page, and the
traceback goes to our log only, never to the client.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.types import ExceptionHandler

from smb_suite import log
from smb_suite.errors import (
    AlreadyExists,
    AuthenticationFailed,
    ChangedMeanwhile,
    InvalidInput,
    LoginLocked,
    NotFound,
    PermissionDenied,
    QuotaExceeded,
    RateLimited,
    SmbSuiteError,
    TemporaryFailure,
)
from smb_suite.web.pages import Pages

logger = logging.getLogger("smb_suite.web")

STATUS: tuple[tuple[type[SmbSuiteError], int], ...] = (
    (PermissionDenied, 403),
    (NotFound, 404),
    (InvalidInput, 400),
    (AlreadyExists, 409),
    (ChangedMeanwhile, 409),
    (AuthenticationFailed, 401),
    (QuotaExceeded, 413),
    (LoginLocked, 429),  # too many failed logins: the page says when to try again
    (RateLimited, 429),  # too many requests (forgotten passwords): likewise
    (TemporaryFailure, 503),  # the message says what to do (try later); a retry may succeed
)
SIGN_IN = "/admin/"


class SignInRequired(Exception):
    """A page of the admin UI was asked for without a session: the browser goes to the sign-in page."""


GENERIC_MESSAGE = "Something went wrong on our side. Please try again later."


def status_for(exc: SmbSuiteError) -> int:
    """The HTTP status for a core error (500 for any we do not expect a user to cause)."""
    for kind, status in STATUS:
        if isinstance(exc, kind):
            return status
    return 500


def exception_handlers(pages: Pages) -> Mapping[Any, ExceptionHandler]:
    """Handlers for the Starlette app: core errors, starlette's own HTTP errors, and everything else."""

    async def core_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, SmbSuiteError)
        status = status_for(exc)
        if status == 500:
            fields = log.fields(path=request.url.path, error=type(exc).__name__)
            logger.error("web.error %s", fields, exc_info=exc)
            return pages.error(request, 500, GENERIC_MESSAGE)
        return pages.error(request, status, str(exc))

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return pages.error(request, exc.status_code, exc.detail, exc.headers)

    async def unexpected(request: Request, exc: Exception) -> Response:
        # Starlette's ServerErrorMiddleware re-raises after this page is sent, so uvicorn logs the traceback.
        return pages.error(request, 500, GENERIC_MESSAGE)

    async def sign_in(request: Request, exc: Exception) -> Response:
        return RedirectResponse(SIGN_IN, status_code=303, headers={"Cache-Control": "no-store"})

    return {SmbSuiteError: core_error, HTTPException: http_error, SignInRequired: sign_in, Exception: unexpected}
