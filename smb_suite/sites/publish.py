"""Render a theme with jinja2 and publish it atomically.

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


def site_root(sites_dir: Path, domain: str) -> Path:
    return sites_dir / domain


def docroot(sites_dir: Path, domain: str) -> Path:
    """The live docroot of a domain (a symlink to its current version)."""
    return site_root(sites_dir, domain) / CURRENT


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


def publish(sites_dir: Path, domain: str, theme_dir: Path, context: Mapping[str, object]) -> Path:
    """Render into a new version folder and switch `current` to it atomically; return the version path."""
    root = site_root(sites_dir, domain)
    versions = root / "versions"
    versions.mkdir(parents=True, exist_ok=True)
    version = versions / f"{time.time_ns()}"
    render_theme(theme_dir, context, version)
    link = root / CURRENT
    temporary = root / f".{CURRENT}.{os.getpid()}"
    temporary.unlink(missing_ok=True)
    temporary.symlink_to(version.relative_to(root))
    os.replace(temporary, link)
    fsync_dir(root)
    return version


def remove_site(sites_dir: Path, domain: str) -> None:
    shutil.rmtree(site_root(sites_dir, domain), ignore_errors=True)
