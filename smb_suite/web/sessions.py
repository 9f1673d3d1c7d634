"""Admin sessions and CSRF tokens.

A signed-in browser's cookie holds an opaque random token; the session itself (user, CSRF token, expiry) is a
row in the database (auth/sessions.py), so logout and a password change end it everywhere, a copied cookie
included, and every worker process sees the same sessions. Before login, a short-lived cookie signed with the
key in the data folder (session.key, mode 0600) carries the login form's CSRF token. Cookies are Secure on
HTTPS (over plain HTTP the admin pages redirect to HTTPS when it is served).
"""

from __future__ import annotations

import contextlib
import hmac
import os
import secrets
from pathlib import Path

from itsdangerous import BadData, URLSafeTimedSerializer
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from smb_suite.auth.sessions import StoredSession, WebSessions
from smb_suite.directory.model import User
from smb_suite.errors import ConfigError, PermissionDenied
from smb_suite.storage.runner import StoreRunner

KEY_FILE = "session.key"
SESSION_COOKIE = "smb_session"
LOGIN_COOKIE = "smb_login"
COOKIE_PATH = "/admin"
SESSION_SECONDS = 8 * 3600
LOGIN_FORM_SECONDS = 3600
CSRF_FIELD = "csrf"
FORM_REJECTED = (
    "This form has expired or was not sent from this site, so nothing was changed. Reload the page and try again."
)


def load_or_create_key(path: Path) -> bytes:
    """Read the session signing key, creating it on first use (0600, never replacing an existing one)."""
    if not path.exists():
        temporary = path.with_name(f".{path.name}.{os.getpid()}")
        temporary.unlink(missing_ok=True)
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="ascii") as handle:
                handle.write(secrets.token_hex(32) + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            with contextlib.suppress(FileExistsError):  # another process wrote the key first: use theirs
                os.link(temporary, path)
        finally:
            temporary.unlink()
    key = path.read_text(encoding="ascii").strip()
    if len(key) < 32:
        raise ConfigError(f"{path}: session key is too short; delete the file to create a new one")
    return key.encode("ascii")


class Sessions:
    """Issues, reads and ends the sessions (rows in the database) and sets their cookies."""

    def __init__(self, key: bytes, store: WebSessions, runner: StoreRunner) -> None:
        self._store = store
        self._runner = runner
        self._login_forms = URLSafeTimedSerializer(key, salt="smb-suite.web.login-form")

    async def start(self, response: Response, request: Request, user: User) -> None:
        """Sign the user in on this response (a new session, a fresh CSRF token) and drop the login-form cookie.
        The browser's previous session, if any, ends."""
        old = request.cookies.get(SESSION_COOKIE, "")
        if old:
            await self._runner.write(self._store.end, old)
        token, _ = await self._runner.write(self._store.create, user.id, SESSION_SECONDS)
        self._set(response, request, SESSION_COOKIE, token, SESSION_SECONDS)
        self._clear(response, request, LOGIN_COOKIE)

    async def load(self, request: Request) -> StoredSession | None:
        """The live session of this request, or None (no cookie, ended, expired)."""
        token = request.cookies.get(SESSION_COOKIE, "")
        if not token:
            return None
        return await self._runner.read(self._store.find, token)

    async def end(self, response: Response, request: Request) -> None:
        """Log out: the session's row goes (a copy of the cookie opens nothing any more), and the cookie."""
        token = request.cookies.get(SESSION_COOKIE, "")
        if token:
            await self._runner.write(self._store.end, token)
        self._clear(response, request, SESSION_COOKIE)

    def login_form_token(self, request: Request) -> str | None:
        """The CSRF token bound to this browser's login-form cookie, or None if missing or expired."""
        try:
            token = self._login_forms.loads(request.cookies.get(LOGIN_COOKIE, ""), max_age=LOGIN_FORM_SECONDS)
        except BadData:
            return None
        return token if isinstance(token, str) else None

    def new_login_form_token(self) -> str:
        return secrets.token_urlsafe(32)

    def bind_login_form_token(self, response: Response, request: Request, token: str) -> None:
        """Set (or refresh) the cookie that the login form's hidden token must match."""
        self._set(response, request, LOGIN_COOKIE, self._login_forms.dumps(token), LOGIN_FORM_SECONDS)

    def remember(self, response: Response, request: Request, name: str, value: str, max_age: int) -> None:
        """A preference cookie (like the language) with the same flags as the session's."""
        self._set(response, request, name, value, max_age)

    @staticmethod
    def _set(response: Response, request: Request, name: str, value: str, max_age: int) -> None:
        response.set_cookie(
            name,
            value,
            max_age=max_age,
            path=COOKIE_PATH,
            secure=request.url.scheme == "https",
            httponly=True,
            samesite="lax",
        )

    @staticmethod
    def _clear(response: Response, request: Request, name: str) -> None:
        secure = request.url.scheme == "https"
        response.delete_cookie(name, path=COOKIE_PATH, secure=secure, httponly=True, samesite="lax")


def check_csrf(expected: str | None, form: FormData) -> None:
    """Refuse a POST whose hidden token does not match the one bound to this browser (before any change)."""
    given = form.get(CSRF_FIELD)
    if expected is None or not isinstance(given, str):
        raise PermissionDenied(FORM_REJECTED)
    if not hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace")):
        raise PermissionDenied(FORM_REJECTED)
