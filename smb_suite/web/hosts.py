"""Which name a request was sent to, and which names are ours (the admin pages) rather than a tenant's."""

from __future__ import annotations

from collections.abc import Iterable

from starlette.datastructures import Headers
from starlette.types import Scope

from smb_suite.config import Config

LOCAL_NAMES = frozenset({"localhost", "127.0.0.1", "[::1]"})
CONTACT_PATH = "/_contact"  # a hosted site's contact form posts here, on the site's own name (web/contact.py)
SITE_SCOPE_KEY = "smb.site_domain"  # set by the app's dispatcher: the domain whose site received the post


def request_host(headers: Headers) -> str:
    """The Host header without its port, lower-cased, without a trailing dot; '' when absent."""
    return host_name(headers.get("host", ""))


def host_of(scope: Scope) -> str:
    """request_host straight from an ASGI scope's raw headers (the hosting fast path)."""
    return host_in(scope["headers"])


def host_in(headers: Iterable[tuple[bytes, bytes]]) -> str:
    """request_host from raw (lower-case name, value) header pairs."""
    for name, value in headers:
        if name == b"host":
            return host_name(value.decode("latin-1"))
    return ""


def host_name(header: str) -> str:
    host = header.strip().lower()
    if host.startswith("["):  # IPv6 literal, RFC 3986 3.2.2
        end = host.find("]")
        return host[: end + 1] if end > 0 else ""
    name, colon, _port = host.partition(":")
    return (name if colon else host).rstrip(".")


def admin_hosts(config: Config) -> frozenset[str]:
    """Names that show the admin pages: the server's own host name and loopback."""
    return LOCAL_NAMES | {config.server.hostname.lower().rstrip(".")}
