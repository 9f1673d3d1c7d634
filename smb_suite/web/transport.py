"""HTTPS for the admin pages: plain-HTTP admin requests are redirected (308) when an HTTPS listener exists, and
HTTPS answers on the server's own host name carry HSTS (RFC 6797).

HSTS is sent on the admin host only, never on a tenant's site (that is the business's decision), without
includeSubDomains (names below ours may be tenants'), and not on loopback names or IP literals (browsers ignore
it for IP literals, RFC 6797 8.1, and pinning "localhost" would break other local servers).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping

from starlette.responses import RedirectResponse
from starlette.types import Message, Scope, Send

from smb_suite.web.hosts import LOCAL_NAMES

HSTS = "max-age=2592000"  # 30 days
HSTS_HEADER = (b"strict-transport-security", HSTS.encode())


def https_redirect(scope: Scope, host: str, listening: Mapping[str, int]) -> RedirectResponse | None:
    """The 308 to the same admin URL over HTTPS, for a plain-HTTP request while HTTPS is served; else None."""
    port = listening.get("https")
    if scope.get("scheme") != "http" or not port or not host:
        return None
    raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
    query: bytes = scope.get("query_string", b"")
    target = f"https://{host}{'' if port == 443 else f':{port}'}{raw_path.decode('latin-1')}"
    if query:
        target += "?" + query.decode("latin-1")
    return RedirectResponse(target, status_code=308, headers={"Cache-Control": "no-store"})


def wants_hsts(scope: Scope, host: str, hostname: str) -> bool:
    """An HTTPS request to the server's own (admin) host name, when that name is a real DNS name."""
    if scope.get("scheme") != "https" or host != hostname or host in LOCAL_NAMES:
        return False
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return True
    return False


def with_hsts(send: Send) -> Send:
    """`send` that adds Strict-Transport-Security to the response start."""

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = [header for header in message.get("headers", []) if header[0].lower() != HSTS_HEADER[0]]
            message = {**message, "headers": [*headers, HSTS_HEADER]}
        await send(message)

    return sending
