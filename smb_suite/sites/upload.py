"""Unpack a hand-made static site from a zip file into a new version folder, refusing anything unsafe.

Refused, before a single byte is written: absolute paths (/x, C:\\x, \\\\server), backslashes, any `..` segment,
symlinks, device files, FIFOs and sockets, names with NUL or control characters (C0, C1), duplicate names, more
files than allowed, and a declared total beyond the limit. While extracting, the bytes actually written are
counted too, so a zip that lies about its sizes (a zip bomb) is stopped at the limit; each file is written only
where its path inside the version folder says. If every file sits in one top folder (a zipped folder), that
folder becomes the docroot.
"""

from __future__ import annotations

import shutil
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from smb_suite.errors import InvalidInput
from smb_suite.names import unsafe_character

CHUNK = 64 * 1024


@dataclass(frozen=True, slots=True)
class UploadLimits:
    max_bytes: int
    max_files: int


@dataclass(frozen=True, slots=True)
class Entry:
    info: zipfile.ZipInfo
    parts: tuple[str, ...]


def _kind(info: zipfile.ZipInfo) -> str:
    """'file', 'dir' or what else the entry's Unix mode says it is (symlink, device ...)."""
    mode = info.external_attr >> 16
    if info.create_system == 3 and stat.S_IFMT(mode):  # made on Unix with a file type: it is meaningful
        if stat.S_ISLNK(mode):
            return "symlink"
        if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
            return "device file"
        if stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode):
            return "special file"
        if stat.S_ISDIR(mode):
            return "dir"
        if not stat.S_ISREG(mode):
            return "special file"
    return "dir" if info.is_dir() else "file"


def _parts(name: str) -> tuple[str, ...]:
    """The path segments of an entry name, or InvalidInput saying why the name may not be in a site."""
    if "\\" in name:
        raise InvalidInput(f"{name!r}: backslashes are not allowed in file names (use '/' between folders)")
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        raise InvalidInput(f"{name!r}: absolute paths and drive letters are not allowed in a site")
    problem = unsafe_character(name.replace("/", ""))
    if problem is not None:
        raise InvalidInput(f"{name!r}: file names must not contain {problem}")
    parts = tuple(part for part in PurePosixPath(name).parts if part not in ("", "."))
    if ".." in parts:
        raise InvalidInput(f"{name!r}: '..' would leave the site folder")
    if not parts:
        raise InvalidInput(f"{name!r}: empty file name")
    return parts


def check_entries(archive: zipfile.ZipFile, limits: UploadLimits) -> list[Entry]:
    """Validate every entry's name and kind and the declared totals; return the files to extract."""
    files: list[Entry] = []
    seen: set[tuple[str, ...]] = set()
    declared = 0
    for info in archive.infolist():
        parts = _parts(info.filename)
        kind = _kind(info)
        if kind not in ("file", "dir"):
            raise InvalidInput(f"{info.filename!r}: a {kind} is not allowed in a site")
        if kind == "dir":
            continue
        if parts in seen:
            raise InvalidInput(f"{info.filename!r} appears twice")
        seen.add(parts)
        declared += info.file_size
        files.append(Entry(info, parts))
        if len(files) > limits.max_files:
            raise InvalidInput(f"too many files: at most {limits.max_files} are allowed")
        if declared > limits.max_bytes:
            raise InvalidInput(f"the site is too large unpacked: at most {limits.max_bytes // (1024 * 1024)} MB")
    if not files:
        raise InvalidInput("the zip file holds no files")
    return _strip_common_folder(files)


def _strip_common_folder(files: list[Entry]) -> list[Entry]:
    tops = {entry.parts[0] for entry in files}
    if len(tops) == 1 and all(len(entry.parts) > 1 for entry in files):
        return [Entry(entry.info, entry.parts[1:]) for entry in files]
    return files


def extract_site(source: Path | BinaryIO, target: Path, limits: UploadLimits) -> int:
    """Unpack a validated zip into target (which must not exist); return the number of files.

    On any problem target is removed and InvalidInput says what was wrong.
    """
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InvalidInput("this is not a zip file") from exc
    try:
        entries = check_entries(archive, limits)  # every name and kind checked before anything is created
    except BaseException:
        archive.close()
        raise
    target.mkdir(parents=True)
    inside = target.resolve()
    try:
        with archive:
            written = 0
            for entry in entries:
                destination = target.joinpath(*entry.parts)
                destination.parent.mkdir(parents=True, exist_ok=True)
                if destination.parent.resolve() != inside.joinpath(*entry.parts[:-1]):
                    raise InvalidInput(f"{entry.info.filename!r} would leave the site folder")
                if destination.exists() or destination.is_symlink():
                    raise InvalidInput(f"{entry.info.filename!r} clashes with another entry")
                with archive.open(entry.info) as reader, open(destination, "xb") as writer:
                    while chunk := reader.read(CHUNK):
                        written += len(chunk)
                        if written > limits.max_bytes:
                            raise InvalidInput("the site is too large unpacked")
                        writer.write(chunk)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, OSError, RuntimeError) as exc:
        shutil.rmtree(target, ignore_errors=True)
        raise InvalidInput(f"the zip file is damaged or uses an unsupported format: {exc}") from exc
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)
        raise
    if not (target / "index.html").is_file():
        shutil.rmtree(target, ignore_errors=True)
        raise InvalidInput("the site has no index.html at its top (the home page)")
    return len(entries)
