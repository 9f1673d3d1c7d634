"""The file `smb-suite tenant export` writes and `tenant import` reads: one tar (plain, gzip or zstd) whose last
member, `manifest.json`, gives the format, the versions it was made by, and the size and SHA-256 of every other
member (docs/ARCHITECTURE.md "Moving a business between servers").

Reading never trusts the archive: every member must be a regular file (no link, device, folder or FIFO) whose
name is relative, free of `..`, under one of the known top folders and seen once; it is extracted into a staging
folder (opened with O_EXCL and O_NOFOLLOW) while it is hashed, and only when the manifest lists exactly the
members found, with their sizes and checksums, does `extract` return. Nothing outside the staging folder is
touched, and the caller removes it on any refusal.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import tarfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Any

import zstandard

from smb_suite.errors import MoveRefused

FORMAT = 1
MANIFEST = "manifest.json"
ROWS = "rows.json"
FOLDERS = ("mail", "sites", "dav", "files")  # the top folders a member may be in (besides ROWS and MANIFEST)
CHUNK = 1 << 20
MAX_JSON = 1 << 30  # rows and manifest are read into memory: a bound, not a size anyone reaches
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True, slots=True)
class Member:
    size: int
    sha256: str


@dataclass(slots=True)
class Manifest:
    """What an archive holds and who made it; `members` lists every member but the manifest itself."""

    source_version: str
    schema: str
    source_host: str
    tenant: str
    partner: str | None = None  # the partner's business name: linked again on a target where it exists
    live_sites: dict[str, str] = field(default_factory=dict)  # archive domain id -> its live version's name
    created: str = ""
    members: dict[str, Member] = field(default_factory=dict)

    def encode(self) -> bytes:
        data = {"format": FORMAT, **asdict(self)}
        return json.dumps(data, indent=0, sort_keys=True).encode() + b"\n"

    @classmethod
    def decode(cls, data: bytes) -> Manifest:
        try:
            fields = json.loads(data)
            if not isinstance(fields, dict) or fields.pop("format", None) != FORMAT:
                raise MoveRefused(f"the archive's format is not {FORMAT}: made by another version of smb-suite")
            members = {str(name): Member(**entry) for name, entry in fields.pop("members").items()}
            manifest = cls(**fields, members=members)
        except (ValueError, TypeError, KeyError, AttributeError) as error:
            raise MoveRefused(f"the archive's {MANIFEST} is not readable ({error})") from error
        if not all(isinstance(m.size, int) and isinstance(m.sha256, str) for m in members.values()):
            raise MoveRefused(f"the archive's {MANIFEST} has a member without a size or checksum")
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in manifest.live_sites.items()):
            raise MoveRefused(f"the archive's {MANIFEST} names live sites wrongly")
        return manifest


def member_name(name: str) -> PurePosixPath:
    """An archive member's name, refused unless it stays inside the folder it is extracted to."""
    path = PurePosixPath(name)
    if (
        not name
        or "\x00" in name
        or "\\" in name
        or path.is_absolute()
        or any(part in ("", ".", "..") for part in name.split("/"))
        or (name not in (ROWS, MANIFEST) and (len(path.parts) < 2 or path.parts[0] not in FOLDERS))
    ):
        raise MoveRefused(f"the archive holds a member with an unsafe or unknown name: {name!r}")
    return path


# -- writing ------------------------------------------------------------------------------------------------


class _Hashing:
    """A file reader that hashes what it hands out (tarfile reads each member exactly once)."""

    def __init__(self, reader: IO[bytes]) -> None:
        self.reader = reader
        self.digest = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.reader.read(size)
        self.digest.update(data)
        return data


class Writer:
    """Members added one by one, then the manifest last; the file gets its name only once complete."""

    def __init__(self, tar: tarfile.TarFile, manifest: Manifest) -> None:
        self._tar = tar
        self.manifest = manifest

    def add_file(self, name: str, opened: IO[bytes]) -> int:
        """Add an open file under `name` (its size from fstat: the file must not grow meanwhile)."""
        member_name(name)
        info = tarfile.TarInfo(name)
        info.size = os.fstat(opened.fileno()).st_size
        info.mode = 0o600
        info.mtime = int(os.fstat(opened.fileno()).st_mtime)
        hashing = _Hashing(opened)
        self._tar.addfile(info, hashing)
        self.manifest.members[name] = Member(info.size, hashing.digest.hexdigest())
        return info.size

    def add_bytes(self, name: str, data: bytes) -> None:
        if name != MANIFEST:
            member_name(name)
            self.manifest.members[name] = Member(len(data), hashlib.sha256(data).hexdigest())
        info = tarfile.TarInfo(name)
        info.size = len(data)
        info.mode = 0o600
        info.mtime = int(time.time())
        self._tar.addfile(info, _Hashing(_BytesReader(data)))  # type: ignore[arg-type]


class _BytesReader:
    def __init__(self, data: bytes) -> None:
        self._view = memoryview(data)
        self._at = 0

    def read(self, size: int = -1) -> bytes:
        end = len(self._view) if size < 0 else self._at + size
        chunk = bytes(self._view[self._at : end])
        self._at += len(chunk)
        return chunk


@contextmanager
def writing(target: Path, manifest: Manifest) -> Iterator[Writer]:
    """Write the archive to `target` (.tar, .tar.gz/.tgz or .tar.zst/.tzst): into a hidden file beside it,
    synced and renamed into place when the block ends without error, removed otherwise."""
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    try:
        with open(partial, "xb") as raw:
            os.fchmod(raw.fileno(), 0o600)  # password hashes and DKIM keys: for the operator's eyes only
            with (
                _compressed(raw, _compression(target.name)) as stream,
                tarfile.open(fileobj=stream, mode="w|", format=tarfile.PAX_FORMAT) as tar,
            ):
                writer = Writer(tar, manifest)
                yield writer
                manifest.created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
                writer.add_bytes(MANIFEST, manifest.encode())
            raw.flush()
            os.fsync(raw.fileno())
        partial.rename(target)
    finally:
        partial.unlink(missing_ok=True)


def _compression(name: str) -> str:
    if name.endswith((".tar.zst", ".tzst", ".tar.zstd")):
        return "zstd"
    if name.endswith((".tar.gz", ".tgz")):
        return "gzip"
    if name.endswith(".tar"):
        return ""
    raise MoveRefused(f"{name}: name the archive .tar, .tar.gz or .tar.zst (which says how it is compressed)")


@contextmanager
def _compressed(raw: IO[bytes], kind: str) -> Iterator[Any]:
    if kind == "zstd":
        with zstandard.ZstdCompressor(level=3).stream_writer(raw, closefd=False) as stream:
            yield stream
    elif kind == "gzip":
        with gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6) as stream:
            yield stream
    else:
        yield raw


# -- reading ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Extracted:
    manifest: Manifest
    rows: bytes  # rows.json, checked against the manifest
    files: list[PurePosixPath]  # every other member, extracted below the staging folder


def extract(archive: Path, staging: Path) -> Extracted:
    """Extract every member into `staging` (which must exist and be empty), checking each; MoveRefused unless
    the manifest lists exactly the members found with their sizes and checksums."""
    found: dict[str, Member] = {}
    manifest_data = rows = None
    try:
        with open(archive, "rb") as raw, _decompressed(raw) as stream, tarfile.open(fileobj=stream, mode="r|") as tar:
            for info in tar:
                path = member_name(info.name)
                if not info.isreg():
                    raise MoveRefused(f"the archive's member {info.name!r} is not a regular file (link, device?)")
                if info.name in found or (info.name == MANIFEST and manifest_data is not None):
                    raise MoveRefused(f"the archive holds {info.name!r} twice")
                reader = tar.extractfile(info)
                assert reader is not None  # a regular file
                if info.name in (ROWS, MANIFEST):
                    data = reader.read(MAX_JSON + 1)
                    if len(data) > MAX_JSON:
                        raise MoveRefused(f"the archive's {info.name} is too large")
                    if info.name == MANIFEST:
                        manifest_data = data
                        continue
                    rows = data
                    found[info.name] = Member(len(data), hashlib.sha256(data).hexdigest())
                else:
                    found[info.name] = _extract_file(reader, staging, path)
    except (tarfile.TarError, EOFError, zstandard.ZstdError, gzip.BadGzipFile, OSError) as error:
        if isinstance(error, FileExistsError):
            raise MoveRefused(f"the archive holds a member twice ({error.filename})") from error
        raise MoveRefused(f"{archive} is not a readable archive ({error})") from error
    if manifest_data is None or rows is None:
        raise MoveRefused(f"{archive} is no business archive: no {MANIFEST} or no {ROWS}")
    manifest = Manifest.decode(manifest_data)
    _compare(manifest.members, found)
    return Extracted(manifest, rows, [PurePosixPath(name) for name in found if name != ROWS])


def _compare(listed: dict[str, Member], found: dict[str, Member]) -> None:
    problems = [f"{name}: missing from the archive" for name in sorted(set(listed) - set(found))]
    problems += [f"{name}: not in the manifest" for name in sorted(set(found) - set(listed))]
    problems += [
        f"{name}: " + ("size differs" if found[name].size != entry.size else "checksum differs (changed or damaged)")
        for name, entry in sorted(listed.items())
        if name in found and found[name] != entry
    ]
    if problems:
        shown = "\n  ".join(problems[:20] + ([f"... and {len(problems) - 20} more"] if len(problems) > 20 else []))
        raise MoveRefused(f"the archive does not match its manifest, nothing was imported:\n  {shown}")


def _extract_file(reader: IO[bytes], staging: Path, path: PurePosixPath) -> Member:
    target = staging.joinpath(*path.parts)
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    with open(fd, "wb") as writer:
        while chunk := reader.read(CHUNK):
            digest.update(chunk)
            writer.write(chunk)
            size += len(chunk)
    return Member(size, digest.hexdigest())


@contextmanager
def _decompressed(raw: IO[bytes]) -> Iterator[Any]:
    """The tar stream inside `raw`, whichever compression its first bytes name."""
    head = raw.read(4)
    raw.seek(0)
    if head.startswith(ZSTD_MAGIC):
        with zstandard.ZstdDecompressor().stream_reader(raw, closefd=False) as stream:
            yield stream
    elif head.startswith(GZIP_MAGIC):
        with gzip.GzipFile(fileobj=raw, mode="rb") as stream:
            yield stream
    else:
        yield raw
