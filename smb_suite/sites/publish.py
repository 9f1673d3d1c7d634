"""Render a theme with jinja2 into a version folder, and switch a domain's live site atomically.

Each publish writes a new version folder beside the live one, then swaps the `current` symlink in one
rename(2), so a visitor never sees a half-written site; the previous version stays for rollback.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Mapping
from pathlib import Path

import jinja2

from smb_suite.durable import fsync_dir

CURRENT = "current"
VERSIONS = "versions"


def site_root(sites_dir: Path, domain: str) -> Path:
    return sites_dir / domain


def docroot(sites_dir: Path, domain: str) -> Path:
    """The live docroot of a domain (a symlink to its current version)."""
    return site_root(sites_dir, domain) / CURRENT


def new_version_dir(sites_dir: Path, domain: str) -> Path:
    """A fresh, not yet existing version folder beside the live one."""
    versions = site_root(sites_dir, domain) / VERSIONS
    versions.mkdir(parents=True, exist_ok=True)
    return versions / f"{time.time_ns()}"


def render_theme(theme_dir: Path, context: Mapping[str, object], target: Path) -> None:
    """Render every template of the theme into target and copy its static assets."""
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(theme_dir / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    target.mkdir(parents=True)
    for name in environment.list_templates(filter_func=lambda n: not n.startswith("_")):
        output = target / name
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(environment.get_template(name).render(**context), encoding="utf-8")
    static = theme_dir / "static"
    if static.is_dir():
        shutil.copytree(static, target / "static")


def tree_size(folder: Path) -> int:
    """Bytes of the regular files below folder (what a site version costs in quota)."""
    total = 0
    for directory, _, files in os.walk(folder):
        for name in files:
            path = Path(directory) / name
            if not path.is_symlink():
                total += path.stat().st_size
    return total


def switch(sites_dir: Path, domain: str, version: Path) -> None:
    """Make version the live site in one atomic rename of the `current` symlink."""
    root = site_root(sites_dir, domain)
    temporary = root / f".{CURRENT}.{os.getpid()}"
    temporary.unlink(missing_ok=True)
    temporary.symlink_to(version.relative_to(root))
    os.replace(temporary, root / CURRENT)
    fsync_dir(root)


def prune(sites_dir: Path, domain: str, keep: int = 2) -> int:
    """Delete all but the newest `keep` versions, never the live one; return the bytes freed."""
    root = site_root(sites_dir, domain)
    live = (root / CURRENT).resolve()
    versions = sorted((root / VERSIONS).iterdir(), key=lambda path: int(path.name), reverse=True)
    freed = 0
    for version in versions[keep:]:
        if version.resolve() != live:
            freed += tree_size(version)
            shutil.rmtree(version)
    return freed


def remove_site(sites_dir: Path, domain: str) -> None:
    shutil.rmtree(site_root(sites_dir, domain), ignore_errors=True)
