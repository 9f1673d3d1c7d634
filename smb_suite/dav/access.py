"""Who a DAV request acts for: put into the ASGI scope by the front end once the login succeeded, read by the
Radicale and wsgidav plugins from the WSGI environ (a2wsgi passes the scope as `asgi.scope`). A client cannot
set a scope key, only headers, so nothing it sends can pose as a verified user."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from smb_suite.dav.layout import tenant_principal, user_principal

SCOPE_KEY = "smb_suite.dav_user"
MAX_REQUEST_BYTES = 16 * 1024 * 1024  # one calendar or address book uploaded whole at most


@dataclass(frozen=True, slots=True)
class DavUser:
    user_id: int
    tenant_id: int
    address: str

    @property
    def principal(self) -> str:
        """Radicale's name for the user (its personal collections live under it)."""
        return user_principal(self.user_id)

    @property
    def business(self) -> str:
        """Radicale's name for the business (its shared collections live under it)."""
        return tenant_principal(self.tenant_id)


def user_of(environ: Mapping[str, Any]) -> DavUser | None:
    scope = environ.get("asgi.scope")
    user = scope.get(SCOPE_KEY) if isinstance(scope, dict) else None
    return user if isinstance(user, DavUser) else None
