"""A domain's site versions on disk, and the atomic switch of its live one.

A site lives in `<sites_dir>/<domain id>/` (site_root): the id never changes and is never reused, the name is
only data in the database, so no path is built from a name anyone chose.

Each publish writes a new version folder beside the live one, then swaps the `current` symlink in one
rename(2), so a visitor never sees a half-written site; the version that was live before stays for rollback,
older ones are pruned. Version folders never change once written (the web cache relies on it).
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterable, Mapping
from pathlib import Path

from smb_suite.durable import fsync_dir

CURRENT = "current"
VERSIONS = "versions"
SUSPENDED = "suspended"  # a marker file beside `current`: the hosting answers 503 while it exists


def site_root(sites_dir: Path, domain_id: int) -> Path:
    """The folder of a domain's site: named after its id, which is never reused (never after its name)."""
    if isinstance(domain_id, bool) or not isinstance(domain_id, int) or domain_id <= 0:
        raise ValueError(f"a site folder is named after a domain id, not {domain_id!r}")
    return sites_dir / str(domain_id)


def docroot(root: Path) -> Path:
    """The live docroot of a site (a symlink to its current version)."""
    return root / CURRENT


def new_version_dir(root: Path) -> Path:
    """A fresh, not yet existing version folder beside the live one."""
    versions = root / VERSIONS
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


def live_version(root: Path) -> Path | None:
    """The version folder `current` points at, or None before the first publish (or if it points elsewhere)."""
    try:
        target = os.readlink(docroot(root))
    except OSError:
        return None
    name = target.removeprefix(VERSIONS + "/")
    return root / VERSIONS / name if name.isdigit() and name.isascii() else None


def versions(root: Path) -> list[Path]:
    """Kept version folders, newest first."""
    folder = root / VERSIONS
    if not folder.is_dir():
        return []
    kept = (p for p in folder.iterdir() if p.name.isdigit() and p.name.isascii() and not p.is_symlink())
    return sorted(kept, key=lambda p: int(p.name), reverse=True)


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


def switch(root: Path, version: Path) -> None:
    """Make version the live site in one atomic rename of the `current` symlink."""
    if version.parent != root / VERSIONS:
        raise ValueError(f"{version} is not a version of the site in {root}")
    temporary = root / f".{CURRENT}.{os.getpid()}"
    temporary.unlink(missing_ok=True)
    temporary.symlink_to(version.relative_to(root))
    os.replace(temporary, root / CURRENT)
    fsync_dir(root)


def prune(root: Path, keep: Path | None = None) -> int:
    """Delete every version except the live one and `keep` (the one live before it); return bytes freed."""
    live = live_version(root)
    kept = {path.resolve() for path in (live, keep) if path is not None}
    freed = 0
    for version in versions(root):
        if version.resolve() not in kept:
            freed += tree_size(version)
            shutil.rmtree(version)
    return freed


def remove_site(root: Path) -> None:
    shutil.rmtree(root, ignore_errors=True)


def set_suspended(root: Path, suspended: bool) -> None:
    """Mark (or unmark) a site as suspended; its files stay. Visible to the very next request."""
    marker = root / SUSPENDED
    if suspended:
        root.mkdir(parents=True, exist_ok=True)
        marker.touch()
    else:
        marker.unlink(missing_ok=True)
    if root.is_dir():
        fsync_dir(root)


def migrate_layout(sites_dir: Path, domains: Iterable[tuple[int, str]]) -> list[str]:
    """Move sites from folders named after their domain to folders named after its id (once, on start).

    Idempotent and crash-safe: each move is one rename(2) within sites_dir, made durable by an fsync of sites_dir;
    a folder already moved is not there any more, a half-done run is finished by the next. A name folder whose
    id folder already exists is left alone (and never served). Id folders of domains that no longer exist (a
    crash between the removal of a domain and of its files) are removed. Returns what was done, for the log.
    """
    done: list[str] = []
    if not sites_dir.is_dir():
        return done
    known: set[str] = set()
    newest = 0
    for domain_id, name in domains:
        newest = max(newest, domain_id)
        new = site_root(sites_dir, domain_id)
        known.add(new.name)
        if not name or name in (".", "..") or "/" in name or "\\" in name or "\0" in name:
            continue  # never a stored domain name; nothing to move
        old = sites_dir / name
        if old.is_symlink() or not old.is_dir():
            continue
        if new.exists() or new.is_symlink():
            done.append(f"kept {name}: its site folder {new.name} already exists")
            continue
        os.rename(old, new)
        done.append(f"moved site {name} -> {new.name}")
    for entry in sites_dir.iterdir():
        orphan = entry.name.isdigit() and entry.name.isascii() and entry.name not in known
        if orphan and int(entry.name) < newest and not entry.is_symlink():  # a newer id may be a domain just added
            shutil.rmtree(entry)
            done.append(f"removed the site folder {entry.name} of a removed domain")
    if done:
        fsync_dir(sites_dir)
    return done
