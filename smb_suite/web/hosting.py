"""Hosted sites at speed: Host -> live version folder -> cached file, answered by a bare ASGI handler.

The Host names a domain (or its www. name, or <business>.<platform domain>), looked up in the database (the
`resolve` callable) to find the domain's id, whose folder holds the site: no path is built from the Host. The
answer is remembered with the live version seen then; the folder's `current` symlink is read on every request,
so every file of one response comes from one version, a publish is visible to the very next request, and any
change of the live version (a publish, or a domain removed and its folder gone) asks the database again.
Files come from FileCache (ETag, Last-Modified, gzip computed once), never through a symlink. GET and HEAD
only; conditional requests (304), one byte range (206/416), gzip when the client accepts it, index.html for
folders, never a listing, and the site's own 404.html for what does not exist.

Site responses carry our security headers but nothing is added to the files themselves.
"""

from __future__ import annotations

import asyncio
import functools
import os
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path

from starlette.types import Receive, Scope, Send

from smb_suite.sites.publish import CURRENT, SUSPENDED, VERSIONS
from smb_suite.web.filecache import AddSlash, CachedFile, Entry, FileCache, load

HOST_NAME = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+")
NOT_FOUND_PAGE = "/404.html"
CHUNK = 256 * 1024
LIVE_RECHECK = 0.005  # seconds the fast path trusts a site's live version and suspension marker it just read
PRUNED_RETRIES = 5  # publishes in a row during one request that still find the file (two versions are kept)
SECURITY = [
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
        b"object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'self'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
]
ALLOW = [(b"allow", b"GET, HEAD"), *SECURITY]
WANTED = frozenset((b"if-none-match", b"if-modified-since", b"range", b"if-range", b"accept-encoding"))
NO_BODY = (b"content-length", b"0")


@dataclass(frozen=True, slots=True)
class LiveSite:
    domain_id: int
    domain: str
    version: str  # the live version folder (a string: no pathlib on the hot path)
    suspended: bool = False  # the business is suspended: answer 503, serve nothing


HostLookup = Callable[[str], Awaitable[tuple[int, str] | None]]  # host name -> (domain id, domain name)


def cache_control(media_type: str) -> bytes:
    """HTML (and sitemap, robots) revalidate every time so a publish shows at once; assets may be kept a while."""
    if media_type.startswith(("text/html", "application/xml", "text/xml", "text/plain")):
        return b"no-cache"
    return b"public, max-age=3600"


@functools.lru_cache(maxsize=256)
def accepts_gzip(header: bytes) -> bool:
    """RFC 9110 12.5.3: gzip (or *) listed with a non-zero q value."""
    for item in header.decode("latin-1").lower().split(","):
        coding, _, params = item.strip().partition(";")
        if coding.strip() not in ("gzip", "x-gzip", "*"):
            continue
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        return quality > 0
    return False


def parse_range(header: bytes, size: int) -> tuple[int, int] | None | bool:
    """RFC 9110 14.1.2: one `bytes=` range -> (first, last); None to ignore it (send 200); False: 416."""
    text = header.decode("latin-1").strip()
    unit, _, spec = text.partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None  # other units and multiple ranges: the whole file is a valid answer
    first_text, dash, last_text = spec.strip().partition("-")
    if not dash or not (first_text.isdigit() or last_text.isdigit()):
        return None
    if first_text == "":
        length = int(last_text)
        if length == 0:
            return False
        return max(0, size - length), size - 1
    first = int(first_text)
    last = int(last_text) if last_text.isdigit() else size - 1
    if first > last and last_text:
        return None
    if first >= size:
        return False
    return first, min(last, size - 1)


def _etag_matches(header: bytes, etag: str) -> bool:
    """If-None-Match uses the weak comparison (RFC 9110 13.1.2); our gzip form carries a -gz suffix."""
    text = header.decode("latin-1")
    if text.strip() == "*":
        return True
    bare = etag.strip('"')
    for candidate in text.split(","):
        tag = candidate.strip().removeprefix("W/").strip('"')
        if tag in (bare, bare + "-gz"):
            return True
    return False


def _not_modified_since(header: bytes, entry: CachedFile) -> bool:
    try:
        since = parsedate_to_datetime(header.decode("latin-1")).timestamp()
    except (TypeError, ValueError, IndexError):
        return False
    return int(entry.mtime) <= since


class SiteHosting:
    def __init__(self, sites_dir: Path, resolve: HostLookup, cache: FileCache):
        self._sites_dir = str(sites_dir).rstrip("/")
        self._resolve = resolve
        self._hosts: dict[str, LiveSite] = {}  # host -> the site found for it, with the live version seen then
        self._seen: dict[int, tuple[float, LiveSite | None]] = {}  # domain id -> (when, `_live`) for the fast path
        self.cache = cache

    def root(self, domain_id: int) -> str:
        """A site's folder: named after the domain's id (sites/publish.site_root), never after a name."""
        return f"{self._sites_dir}/{int(domain_id)}"

    def _live(self, domain_id: int, domain: str) -> LiveSite | None:
        root = self.root(domain_id)
        try:
            target = os.readlink(f"{root}/{CURRENT}")
        except OSError:
            return None
        if not target.startswith(VERSIONS + "/") or not target[len(VERSIONS) + 1 :].isdigit():
            return None  # we only ever write versions/<digits>
        return LiveSite(domain_id, domain, f"{root}/{target}", os.path.exists(f"{root}/{SUSPENDED}"))

    async def find(self, host: str) -> LiveSite | None:
        """The live site answering to this host name: a cheap readlink while the live version is the one seen
        when the database last named the domain; the database again when it changed or was never asked."""
        if not HOST_NAME.fullmatch(host):
            return None
        known = self._hosts.get(host)
        if known is not None:
            site = self._live(known.domain_id, known.domain)
            if site is not None and site.version == known.version:
                return site
        found = await self._resolve(host)
        site = None if found is None else self._live(*found)
        if site is None:
            self._hosts.pop(host, None)
            return None
        self._hosts[host] = site
        return site

    def forget(self, domain_id: int) -> None:
        """A site of this process changed (published, removed): ask the database again for its host names."""
        self._seen.pop(domain_id, None)
        for host, site in list(self._hosts.items()):  # called from the store's writer thread: copy first
            if site.domain_id == domain_id:
                self._hosts.pop(host, None)

    def _live_lately(self, domain_id: int, domain: str) -> LiveSite | None:
        """`_live` as seen within the last LIVE_RECHECK seconds: under load the readlink and the suspension
        marker's stat are paid once per few milliseconds per site instead of per request. A publish or a
        suspension from another process shows within that time (a publish here drops it at once: `forget`)."""
        now = time.monotonic()
        seen = self._seen.get(domain_id)
        if seen is not None and now - seen[0] < LIVE_RECHECK:
            return seen[1]
        site = self._live(domain_id, domain)
        self._seen[domain_id] = (now, site)
        return site

    async def _entry(self, site: LiveSite, path: str) -> Entry:
        key = (site.version, path)
        cached = self.cache.get(key)
        if not isinstance(cached, bool):
            return cached
        entry = await asyncio.to_thread(load, Path(site.version), path, self.cache.max_file_bytes)
        if entry is None and not os.path.isdir(site.version):
            return None  # pruned while we looked: the caller retries on the new live version
        self.cache.put(key, entry)
        return entry

    async def serve(
        self, site: LiveSite, scope: Scope, receive: Receive, send: Send, not_found: Callable[[], Awaitable[None]]
    ) -> None:
        method = scope["method"]
        if method not in ("GET", "HEAD"):
            await _send(send, 405, ALLOW, b"Method Not Allowed\n", method)
            return
        path: str = scope["path"]
        entry = await self._entry(site, path)
        for _ in range(PRUNED_RETRIES):  # the version was pruned while we looked: use the one live now
            if entry is not None:
                break
            # Not only a version folder that is gone: one being pruned still exists with files missing.
            fresh = self._live(site.domain_id, site.domain)
            if fresh is None or fresh.version == site.version:
                break
            site = fresh
            entry = await self._entry(site, path)
        if isinstance(entry, AddSlash):
            location = entry.location + ("?" + scope["query_string"].decode("latin-1") if scope["query_string"] else "")
            await _send(send, 301, [(b"location", location.encode("latin-1")), *SECURITY], b"", method)
            return
        status = 200
        if entry is None:
            entry = await self._entry(site, NOT_FOUND_PAGE)
            if not isinstance(entry, CachedFile):
                await not_found()
                return
            status = 404
        await self._send_file(entry, status, scope, send)

    def answer_now(self, host: str, method: str, path: str, headers: list[tuple[bytes, bytes]]) -> Reply | None:
        """The answer to a GET or HEAD of a file in memory on a site already known live, without awaiting
        anything (web/protocol.py writes it straight to the socket); None when it needs the full path (a host
        or file never seen, a suspended business, a missing file, a redirect, a large file, another method)."""
        if method != "GET" and method != "HEAD":
            return None
        known = self._hosts.get(host)  # only names that passed HOST_NAME are kept
        if known is None:
            return None
        site = self._live_lately(known.domain_id, known.domain)
        if site is None or site.suspended or site.version != known.version:
            return None
        entry = self.cache.get((site.version, path))
        if not isinstance(entry, CachedFile) or entry.body is None:
            return None
        return plan(entry, 200, method, headers)

    async def _send_file(self, entry: CachedFile, status: int, scope: Scope, send: Send) -> None:
        reply = plan(entry, status, scope["method"], scope["headers"])
        await send({"type": "http.response.start", "status": reply.status, "headers": reply.headers})
        if reply.stream is None:
            await send({"type": "http.response.body", "body": reply.body})
        else:
            await self._stream(entry, *reply.stream, send)

    @staticmethod
    async def _stream(entry: CachedFile, offset: int, length: int, send: Send) -> None:
        """Send a file too large for the cache straight from disk (an open file survives a prune)."""
        handle = await asyncio.to_thread(open, entry.path, "rb")
        try:
            await asyncio.to_thread(handle.seek, offset)
            remaining = length
            while remaining > 0:
                chunk = await asyncio.to_thread(handle.read, min(CHUNK, remaining))
                if not chunk:
                    break
                remaining -= len(chunk)
                await send({"type": "http.response.body", "body": chunk, "more_body": remaining > 0})
        finally:
            await asyncio.to_thread(handle.close)
        if remaining > 0:
            await send({"type": "http.response.body", "body": b""})


@dataclass(frozen=True, slots=True)
class Reply:
    """A response decided from a cached file and the request's header fields alone."""

    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes = b""  # what follows the header (nothing for HEAD)
    stream: tuple[int, int] | None = None  # (offset, length) of the file to send from disk after the header
    wire: bytes = b""  # the header fields serialised, when the cache holds them so (web/protocol.py)
    file: Path | None = None  # the file whose whole content the body is (sendfile may send it instead)


def plan(entry: CachedFile, status: int, method: str, request: list[tuple[bytes, bytes]]) -> Reply:
    """The answer to GET or HEAD of this file: 304, 416, 206, gzip or the file (RFC 9110 13, 14)."""
    if not entry.headers:
        _prepare_headers(entry)
    wanted: dict[bytes, bytes] = {}
    for name, value in request:
        if name in WANTED:
            wanted[name] = value
    head = method == "HEAD"
    if status == 200 and wanted:
        if b"if-none-match" in wanted:
            fresh = _etag_matches(wanted[b"if-none-match"], entry.etag)
        else:
            fresh = b"if-modified-since" in wanted and _not_modified_since(wanted[b"if-modified-since"], entry)
        if fresh:
            return Reply(304, _validators(entry))
        if b"range" in wanted and _if_range_holds(wanted.get(b"if-range"), entry):
            byte_range = parse_range(wanted[b"range"], entry.size)
            if byte_range is False:
                return Reply(416, [(b"content-range", f"bytes */{entry.size}".encode()), *SECURITY, NO_BODY])
            if byte_range is not None and byte_range is not True:
                return _range(entry, byte_range, head)
    if entry.gzipped is not None and b"accept-encoding" in wanted and accepts_gzip(wanted[b"accept-encoding"]):
        return Reply(status, entry.gzip_headers, b"" if head else entry.gzipped, wire=entry.gzip_wire)
    if entry.body is not None:
        return Reply(status, entry.headers, b"" if head else entry.body, wire=entry.wire, file=entry.path)
    return Reply(status, entry.headers, stream=None if head else (0, entry.size))


def _range(entry: CachedFile, byte_range: tuple[int, int], head: bool) -> Reply:
    first, last = byte_range
    length = last - first + 1
    headers = [(name, value) for name, value in entry.headers if name not in (b"content-length", b"vary")]
    headers.append((b"content-range", f"bytes {first}-{last}/{entry.size}".encode()))
    headers.append((b"content-length", str(length).encode()))
    if head:
        return Reply(206, headers)
    if entry.body is not None:
        return Reply(206, headers, entry.body[first : last + 1])
    return Reply(206, headers, stream=(first, length))


def _validators(entry: CachedFile) -> list[tuple[bytes, bytes]]:
    keep = (b"etag", b"last-modified", b"cache-control", b"vary")
    return [(name, value) for name, value in entry.headers if name in keep] + SECURITY


def _if_range_holds(header: bytes | None, entry: CachedFile) -> bool:
    """RFC 9110 13.1.5: a Range applies only if If-Range (when sent) still names this representation."""
    if header is None:
        return True
    text = header.decode("latin-1").strip()
    return text == entry.etag or text == entry.last_modified


def _prepare_headers(entry: CachedFile) -> None:
    common = [
        (b"content-type", entry.media_type.encode()),
        (b"last-modified", entry.last_modified.encode()),
        (b"cache-control", cache_control(entry.media_type)),
        (b"accept-ranges", b"bytes"),
        *SECURITY,
    ]
    vary = [(b"vary", b"accept-encoding")] if entry.gzipped is not None else []
    entry.gzip_headers = [
        *common,
        *vary,
        (b"etag", f'"{entry.etag.strip(chr(34))}-gz"'.encode()),
        (b"content-encoding", b"gzip"),
        (b"content-length", str(len(entry.gzipped or b"")).encode()),
    ]
    entry.headers = [*common, *vary, (b"etag", entry.etag.encode()), (b"content-length", str(entry.size).encode())]
    entry.gzip_wire = wire(entry.gzip_headers)
    entry.wire = wire(entry.headers)


def wire(headers: list[tuple[bytes, bytes]]) -> bytes:
    """Header fields as HTTP/1.1 puts them on the wire (our own names and values: nothing from the request)."""
    return b"".join(b"%s: %s\r\n" % field for field in headers)


async def _send(send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes, method: str) -> None:
    """A short answer of our own (405, 301) with its length."""
    headers = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if method == "HEAD" else body})
