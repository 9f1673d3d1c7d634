"""Hosted sites: the Host header picks the domain, its live docroot answers, nothing is added to its pages.

A URL path maps to a file only if, with every symlink resolved, it stays inside the live version folder;
anything else is simply not found. Directories answer with their index.html, never with a listing.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response

from smb_suite.directory import Directory, Domain
from smb_suite.errors import NotFound
from smb_suite.ops import Services
from smb_suite.sites.publish import docroot
from smb_suite.web.hosts import request_host

INDEX = "index.html"
NOT_FOUND_PAGE = "/404.html"
SITE_HEADERS = {"X-Content-Type-Options": "nosniff"}


@dataclass(frozen=True, slots=True)
class SiteFile:
    path: Path
    stat: os.stat_result


@dataclass(frozen=True, slots=True)
class AddSlash:
    """A directory was asked for without its trailing slash: redirect so relative links resolve."""

    location: str


def find_site_domain(directory: Directory, host: str) -> Domain | None:
    """The hosted domain answering to this host name, directly or as its www. name."""
    domain = directory.find_domain(host) if host else None
    if domain is None and host.startswith("www."):
        domain = directory.find_domain(host.removeprefix("www."))
    return domain


def locate(root: Path, url_path: str) -> SiteFile | AddSlash | None:
    """Map a decoded URL path to a regular file inside root (a docroot symlink), or None."""
    parts = [part for part in url_path.split("/") if part not in ("", ".")]
    if any(part == ".." or "\0" in part for part in parts):
        return None
    try:
        base = root.resolve(strict=True)
        found = base.joinpath(*parts).resolve(strict=True)
        if not found.is_relative_to(base):
            return None
        if found.is_dir():
            if not url_path.endswith("/"):
                return AddSlash("/" + "".join(quote(part) + "/" for part in parts))
            found = (found / INDEX).resolve(strict=True)
            if not found.is_relative_to(base):
                return None
        status = found.stat()
    except (OSError, RuntimeError):  # missing, not a directory, symlink loop
        return None
    return SiteFile(found, status) if stat.S_ISREG(status.st_mode) else None


class SiteViews:
    """Serves every request that is not for the admin pages."""

    def __init__(self, services: Services, admin_hosts: frozenset[str]) -> None:
        self._services = services
        self._admin_hosts = admin_hosts

    async def serve(self, request: Request) -> Response:
        host = request_host(request.headers)
        url_path: str = request.scope["path"]
        domain = await self._services.runner.read(find_site_domain, self._services.directory, host)
        if domain is None:
            if host in self._admin_hosts and url_path == "/":
                return RedirectResponse("/admin/", status_code=303)
            raise NotFound("No website is published at this address.")
        root = docroot(self._services.config.sites_dir, domain.name)
        found = await self._services.runner.read(locate, root, url_path)
        if isinstance(found, AddSlash):
            return RedirectResponse(found.location, status_code=301)
        if found is not None:
            return self._file(found, 200)
        not_found = await self._services.runner.read(locate, root, NOT_FOUND_PAGE)
        if isinstance(not_found, SiteFile):
            return self._file(not_found, 404)
        raise NotFound("This page does not exist.")

    @staticmethod
    def _file(found: SiteFile, status: int) -> FileResponse:
        return FileResponse(found.path, status, SITE_HEADERS, stat_result=found.stat)
