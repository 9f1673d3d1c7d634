"""A domain's site on disk, with its size charged to the tenant's quota in the same step as the switch.

A new version is generated beside the live one, its size reserved (QuotaExceeded leaves the live site as it
was), then switched in atomically; versions other than the live one and the one live before it are pruned and
released. Rollback switches back to that previous version.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import BinaryIO, Protocol

import sqlalchemy as sa

from smb_suite.errors import InvalidInput
from smb_suite.quota import Quota
from smb_suite.sites import publish, upload
from smb_suite.storage import db


class SiteDomain(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def tenant_id(self) -> int: ...


class SiteStore:
    def __init__(self, engine: sa.Engine, sites_dir: Path, quota: Quota) -> None:
        self._engine = engine
        self.sites_dir = sites_dir
        self.quota = quota
        self.listeners: list[Callable[[int], None]] = []  # told the domain id after each switch or removal

    def root(self, domain_id: int) -> Path:
        """The site folder of a domain: named after its id (see publish.site_root)."""
        return publish.site_root(self.sites_dir, domain_id)

    def _charge(self, domain: SiteDomain, delta: int, enforce: bool = True) -> list[int]:
        with self._engine.begin() as conn:
            levels = [] if delta < 0 else self.quota.reserve(conn, domain.tenant_id, delta, enforce=enforce)
            if delta < 0:
                self.quota.release(conn, domain.tenant_id, -delta)
            conn.execute(
                sa.update(db.domains)
                .where(db.domains.c.id == domain.id)
                .values(site_bytes=db.domains.c.site_bytes + delta)
            )
        return levels

    def go_live(self, domain: SiteDomain, version: Path) -> None:
        """Charge a fully written version folder, switch to it, prune old versions. Atomic for visitors.

        The version live until now is kept for rollback. QuotaExceeded leaves the live site as it was.
        """
        try:
            levels = self._charge(domain, publish.tree_size(version))
            publish.sync_tree(version)
        except BaseException:
            shutil.rmtree(version, ignore_errors=True)
            raise
        self._switch(domain, version)
        self.quota.announce(domain.tenant_id, levels)

    def _switch(self, domain: SiteDomain, version: Path) -> None:
        root = self.root(domain.id)
        previous = publish.live_version(root)
        publish.switch(root, version)
        freed = publish.prune(root, keep=previous)
        if freed:
            self._charge(domain, -freed)
        self._tell(domain.id)

    def _tell(self, domain_id: int) -> None:
        for listener in self.listeners:
            listener(domain_id)

    def publish_files(self, domain: SiteDomain, files: Mapping[str, bytes]) -> Path:
        """Write a built site (render.build_site) into a new version and make it live; return the version."""
        version = publish.new_version_dir(self.root(domain.id))
        try:
            publish.write_files(files, version)
        except BaseException:
            shutil.rmtree(version, ignore_errors=True)
            raise
        self.go_live(domain, version)
        return version

    def publish_zip(self, domain: SiteDomain, source: Path | BinaryIO, limits: upload.UploadLimits) -> int:
        """Unpack a hand-made site (validated: see sites/upload.py) and make it live; return its file count."""
        version = publish.new_version_dir(self.root(domain.id))
        count = upload.extract_site(source, version, limits)
        self.go_live(domain, version)
        return count

    def rollback(self, domain: SiteDomain) -> Path:
        """Make the previously live version live again (and the current one the previous)."""
        root = self.root(domain.id)
        live = publish.live_version(root)
        others = [v for v in publish.versions(root) if live is None or v.name != live.name]
        if not others:
            raise InvalidInput("there is no previous version to go back to")
        self._switch(domain, others[0])
        return others[0]

    def live_version(self, domain_id: int) -> Path | None:
        return publish.live_version(self.root(domain_id))

    def versions(self, domain_id: int) -> list[Path]:
        """Kept version folders of a domain's site, newest first."""
        return publish.versions(self.root(domain_id))

    def set_suspended(self, domain_id: int, suspended: bool) -> None:
        publish.set_suspended(self.root(domain_id), suspended)

    def forget_domain(self, conn: sa.Connection, domain: SiteDomain) -> None:
        """Release the site's bytes in the caller's transaction (files: remove_files after commit)."""
        size = conn.execute(sa.select(db.domains.c.site_bytes).where(db.domains.c.id == domain.id)).scalar_one()
        self.quota.release(conn, domain.tenant_id, int(size))

    def remove_files(self, domain: SiteDomain) -> None:
        publish.remove_site(self.root(domain.id))
        self._tell(domain.id)

    def disk_usage(self, domain_id: int) -> int:
        """Bytes on disk for a domain's site (all kept versions), for `quota check`."""
        versions = self.root(domain_id) / publish.VERSIONS
        return publish.tree_size(versions) if versions.is_dir() else 0
