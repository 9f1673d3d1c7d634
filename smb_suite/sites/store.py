"""A domain's site on disk, with its size charged to the tenant's quota in the same step as the switch.

A new version is generated beside the live one, its size reserved (QuotaExceeded leaves the live site as it
was), then switched in atomically; older versions beyond the previous one are pruned and released.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

import sqlalchemy as sa

from smb_suite import db
from smb_suite.quota import Quota
from smb_suite.sites import publish


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
        """Charge a fully written version folder, switch to it, prune old versions. Atomic for visitors."""
        try:
            levels = self._charge(domain, publish.tree_size(version))
        except BaseException:
            shutil.rmtree(version, ignore_errors=True)
            raise
        publish.switch(self.sites_dir, domain.name, version)
        freed = publish.prune(self.sites_dir, domain.name)
        if freed:
            self._charge(domain, -freed)
        self.quota.announce(domain.tenant_id, levels)

    def publish_theme(self, domain: SiteDomain, theme_dir: Path, context: Mapping[str, object]) -> Path:
        """Render a theme into a new version and make it live; return the version folder."""
        version = publish.new_version_dir(self.sites_dir, domain.name)
        publish.render_theme(theme_dir, context, version)
        self.go_live(domain, version)
        return version

    def remove(self, conn: sa.Connection, domain: SiteDomain) -> None:
        """Release the site's bytes in the caller's transaction (files: remove_files after commit)."""
        size = conn.execute(sa.select(db.domains.c.site_bytes).where(db.domains.c.id == domain.id)).scalar_one()
        self.quota.release(conn, domain.tenant_id, int(size))

    def remove_files(self, domain: SiteDomain) -> None:
        publish.remove_site(self.sites_dir, domain.name)

    def disk_usage(self, domain_name: str) -> int:
        """Bytes on disk for a domain's site (all kept versions), for `quota check`."""
        versions = publish.site_root(self.sites_dir, domain_name) / publish.VERSIONS
        return publish.tree_size(versions) if versions.is_dir() else 0
