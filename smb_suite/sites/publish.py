"""A domain's site versions on disk, and the atomic switch of its live one.

Each publish writes a new version folder beside the live one, then swaps the `current` symlink in one
rename(2), so a visitor never sees a half-written site; the version that was live before stays for rollback,
older ones are pruned. Version folders never change once written (the web cache relies on it).
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Mapping
from pathlib import Path

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


def write_files(files: Mapping[str, bytes], target: Path) -> None:
    """Write a built site (path -> bytes, from render.build_site) into a new version folder."""
    target.mkdir(parents=True)
    for name, data in files.items():
        output = target.joinpath(*name.split("/"))
        if not output.resolve().is_relative_to(target.resolve()):
            raise ValueError(f"{name!r} leaves the version folder")
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_bytes(data)


def live_version(sites_dir: Path, domain: str) -> Path | None:
    """The version folder `current` points at, or None before the first publish."""
    link = docroot(sites_dir, domain)
    try:
        return site_root(sites_dir, domain) / os.readlink(link)
    except OSError:
        return None


def versions(sites_dir: Path, domain: str) -> list[Path]:
    """Kept version folders, newest first."""
    folder = site_root(sites_dir, domain) / VERSIONS
    if not folder.is_dir():
        return []
    return sorted((p for p in folder.iterdir() if p.name.isdigit()), key=lambda p: int(p.name), reverse=True)


def tree_size(folder: Path) -> int:
    """Bytes of the regular files below folder (what a site version costs in quota)."""
    total = 0
    for directory, _, files in os.walk(folder):
        for name in files:
            path = Path(directory) / name
            if not path.is_symlink():
                total += path.stat().st_size
    return total


def sync_tree(folder: Path) -> None:
    """fsync every file and folder of a version before it goes live, so a crash never shows a torn site."""
    for directory, _, files in os.walk(folder):
        for name in files:
            fd = os.open(Path(directory) / name, os.O_RDONLY | os.O_NOFOLLOW)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        fsync_dir(Path(directory))
    fsync_dir(folder.parent)


def switch(sites_dir: Path, domain: str, version: Path) -> None:
    """Make version the live site in one atomic rename of the `current` symlink."""
    root = site_root(sites_dir, domain)
    temporary = root / f".{CURRENT}.{os.getpid()}"
    temporary.unlink(missing_ok=True)
    temporary.symlink_to(version.relative_to(root))
    os.replace(temporary, root / CURRENT)
    fsync_dir(root)


def prune(sites_dir: Path, domain: str, keep: Path | None = None) -> int:
    """Delete every version except the live one and `keep` (the one live before it); return bytes freed."""
    live = live_version(sites_dir, domain)
    kept = {path.resolve() for path in (live, keep) if path is not None}
    freed = 0
    for version in versions(sites_dir, domain):
        if version.resolve() not in kept:
            freed += tree_size(version)
            shutil.rmtree(version)
    return freed


def remove_site(sites_dir: Path, domain: str) -> None:
    shutil.rmtree(site_root(sites_dir, domain), ignore_errors=True)
