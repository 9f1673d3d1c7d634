"""Published files in memory, with their ETag, Last-Modified and gzip form computed once.

Entries are keyed by (version folder, URL path). A version folder never changes after it went live, so an
entry can never be stale: a publish (here or by the CLI in another process) switches `current` to another
folder, and the next request looks up keys of that folder. Old versions fall out by LRU, or at once when the
publish happened in this process (SiteStore listeners call `forget_domain`).
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
import os
import stat
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from email.utils import formatdate
from pathlib import Path
from urllib.parse import quote

INDEX = "index.html"
ENTRY_OVERHEAD = 512  # bytes counted for an entry's bookkeeping, so negative entries are bounded too
COMPRESSIBLE = ("text/", "application/javascript", "application/json", "application/xml", "image/svg+xml")
MIN_COMPRESS = 256
EXTRA_TYPES = {".webmanifest": "application/manifest+json", ".mjs": "text/javascript", ".wasm": "application/wasm"}


@dataclass(frozen=True, slots=True)
class AddSlash:
    """A directory was asked for without its trailing slash: redirect so relative links resolve."""

    location: str


@dataclass(slots=True)
class CachedFile:
    path: Path
    size: int
    mtime: float
    etag: str
    last_modified: str
    media_type: str
    body: bytes | None  # None: larger than the cache's per-file limit, read from disk per request
    gzipped: bytes | None = None
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)  # filled by the server, once
    gzip_headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    wire: bytes = b""  # `headers` serialised for the fast path of web/protocol.py
    gzip_wire: bytes = b""

    @property
    def cost(self) -> int:
        return ENTRY_OVERHEAD + len(self.body or b"") + len(self.gzipped or b"")


Entry = CachedFile | AddSlash | None


def media_type(path: Path) -> str:
    suffix = path.suffix.lower()
    kind = EXTRA_TYPES.get(suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if kind.startswith("text/") or kind in ("application/javascript", "application/json", "image/svg+xml"):
        return f"{kind}; charset=utf-8"
    return kind


def locate(root: Path, url_path: str) -> tuple[Path, os.stat_result] | AddSlash | None:
    """Map a decoded URL path to a regular file inside root, or None; a symlink below root is never followed."""
    parts = [part for part in url_path.split("/") if part not in ("", ".")]
    if any(part == ".." or "\0" in part for part in parts):
        return None
    try:
        base = root.resolve(strict=True)
        candidate = base.joinpath(*parts)
        found = candidate.resolve(strict=True)
        if found != candidate or not found.is_relative_to(base):
            return None  # a symlink on the way (uploads refuse them; whatever made one, it is not served)
        if found.is_dir():
            if not url_path.endswith("/"):
                return AddSlash("/" + "".join(quote(part) + "/" for part in parts))
            index = found / INDEX
            found = index.resolve(strict=True)
            if found != index or not found.is_relative_to(base):
                return None
        status = found.stat()
    except (OSError, RuntimeError, ValueError):  # missing, not a directory, symlink loop, bad name
        return None
    return (found, status) if stat.S_ISREG(status.st_mode) else None


def load(root: Path, url_path: str, max_body: int) -> Entry:
    """Read one file for the cache (blocking: call it in a thread)."""
    found = locate(root, url_path)
    if not isinstance(found, tuple):
        return found
    path, status = found
    kind = media_type(path)
    body: bytes | None = None
    gzipped: bytes | None = None
    if status.st_size <= max_body:
        try:
            body = path.read_bytes()
        except OSError:
            return None
        tag = hashlib.blake2b(body, digest_size=12).hexdigest()
        if len(body) >= MIN_COMPRESS and kind.startswith(COMPRESSIBLE):
            packed = gzip.compress(body, compresslevel=6, mtime=0)
            gzipped = packed if len(packed) < len(body) * 0.9 else None
    else:
        tag = f"{status.st_ino:x}-{status.st_size:x}-{status.st_mtime_ns:x}"
    return CachedFile(
        path=path,
        size=len(body) if body is not None else status.st_size,
        mtime=status.st_mtime,
        etag=f'"{tag}"',
        last_modified=formatdate(status.st_mtime, usegmt=True),
        media_type=kind,
        body=body,
        gzipped=gzipped,
    )


class FileCache:
    """An LRU of entries bounded by total bytes."""

    def __init__(self, max_bytes: int, max_file_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.max_file_bytes = max_file_bytes
        self._entries: OrderedDict[tuple[str, str], Entry] = OrderedDict()
        self._costs: dict[tuple[str, str], int] = {}
        self._used = 0
        self._lock = threading.Lock()  # publishes in the writer thread call forget_domain

    def get(self, key: tuple[str, str]) -> Entry | bool:
        """The cached entry, or False when not cached (None is a cached "no such file")."""
        with self._lock:
            try:
                entry = self._entries[key]
            except KeyError:
                return False
            self._entries.move_to_end(key)
            return entry

    def put(self, key: tuple[str, str], entry: Entry) -> None:
        cost = entry.cost if isinstance(entry, CachedFile) else ENTRY_OVERHEAD
        if cost > self.max_bytes:
            return
        with self._lock:
            self._drop(key)
            self._entries[key] = entry
            self._costs[key] = cost
            self._used += cost
            while self._used > self.max_bytes:
                self._drop(next(iter(self._entries)))

    def _drop(self, key: tuple[str, str]) -> None:
        if key in self._entries:
            del self._entries[key]
            self._used -= self._costs.pop(key)

    def forget_domain(self, domain_root: str, keep: str | None) -> None:
        """Drop entries of a domain's versions other than `keep` (after a publish in this process)."""
        prefix = domain_root.rstrip("/") + "/"
        with self._lock:
            for key in [k for k in self._entries if k[0].startswith(prefix) and k[0] != keep]:
                self._drop(key)

    @property
    def used(self) -> int:
        return self._used
