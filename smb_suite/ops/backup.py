"""Backups that restore: `backup DEST`, `backup verify DEST`, `restore DEST` (docs/ARCHITECTURE.md, backups).

DEST holds complete snapshots, one folder per run (`DEST/<UTC time>/`), and `DEST/latest`, a symbolic link to
the newest. A run writes into a hidden folder and renames it into place once everything is synced, so a crash
never leaves a half snapshot that looks whole. Every run after the first is incremental: a file unchanged since
the previous snapshot (same identity, size and modification time) is hard-linked to it, not read again; each
snapshot still stands alone, so deleting an old one never damages a newer one.

The database is copied first (storage/dbcopy.py); the message files are then the ones its rows name, found by
their unique Maildir key when a flag change renamed them meanwhile, and stored under the name the row holds.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath

from smb_suite.config import Config
from smb_suite.durable import fsync_dir
from smb_suite.errors import BackupError
from smb_suite.storage import dbcopy, maildir, paths

MANIFEST = "manifest.json"
LATEST = "latest"
FORMAT = 1
CHUNK = 1 << 20
# Copied whole (files and symbolic links), besides the files the database names; dav and files hold calendars,
# contacts and documents (smb_suite/dav/layout.py).
TREES = ("sites", "tls", "dav", "files")
LAYOUT_FILE = f"mail/{paths.LAYOUT_MARKER}"
SHOWN_PROBLEMS = 20


@dataclass(frozen=True, slots=True)
class Entry:
    """One file of a snapshot: its checksum, size, modification time and mode, or the target of a link."""

    size: int = 0
    sha256: str = ""
    mtime_ns: int = 0
    mode: int = 0
    link: str = ""


@dataclass(slots=True)
class Manifest:
    created: str
    backend: str
    database: str  # the copy's file name
    schema: str
    files: dict[str, Entry] = field(default_factory=dict)

    def write(self, folder: Path) -> None:
        data = {"format": FORMAT, **asdict(self)}
        data["files"] = {name: {k: v for k, v in asdict(e).items() if v} for name, e in self.files.items()}
        (folder / MANIFEST).write_text(json.dumps(data, indent=0, sort_keys=True) + "\n")

    @classmethod
    def read(cls, folder: Path) -> Manifest:
        try:
            data = json.loads((folder / MANIFEST).read_text())
            if data.pop("format") != FORMAT:
                raise BackupError(f"{folder / MANIFEST}: unknown manifest format")
            files = {str(name): Entry(**entry) for name, entry in data.pop("files").items()}
            return cls(**data, files=files)
        except (OSError, ValueError, TypeError, KeyError, AttributeError) as error:
            raise BackupError(f"{folder / MANIFEST}: no readable manifest ({error})") from error


@dataclass(frozen=True, slots=True)
class BackupReport:
    snapshot: Path
    schema: str
    copied: int
    copied_bytes: int
    linked: int
    expunged: int  # messages of the database copy expunged before their file was taken


@dataclass(frozen=True, slots=True)
class VerifyReport:
    snapshot: Path
    files: int
    size: int


@dataclass(frozen=True, slots=True)
class RestoreReport:
    data_dir: Path
    files: int
    schema: str


def backup(config: Config, dest: Path) -> BackupReport:
    """Take a consistent snapshot of the data folder into DEST while the daemon serves."""
    if not config.server.data_dir.is_dir():
        raise BackupError(f"{config.server.data_dir} is not initialised: nothing to back up")
    backend = dbcopy.backend_for(config.database_url)
    dest.mkdir(mode=0o700, parents=True, exist_ok=True)
    previous = _latest(dest)
    name = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    partial = dest / f".partial-{name}-{os.getpid()}"
    partial.mkdir(mode=0o700)
    contents = backend.dump(partial / backend.filename, dbcopy.contents)
    manifest = Manifest(time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), backend.name, backend.filename, "")
    manifest.schema = contents.schema
    manifest.files[backend.filename] = _hash_entry(partial / backend.filename)
    copier = _Copier(partial, previous)
    expunged = _copy_messages(config, contents, copier)
    for spooled in contents.queued:
        with contextlib.suppress(FileNotFoundError):  # delivered and removed since the database was copied
            copier.take_file(config.queue_dir / "msg" / _plain(spooled), f"queue/msg/{spooled}")
    for relative in [LAYOUT_FILE, *_top_files(config.server.data_dir)]:
        if (config.server.data_dir / relative).is_file():
            copier.take_file(config.server.data_dir / relative, relative)
    for tree in TREES:
        copier.take_tree(config.server.data_dir, tree)
    manifest.files.update(copier.files)
    manifest.write(partial)
    os.sync()  # every file of the snapshot on disk before it gets its final name
    snapshot = _unique(dest, name)
    partial.rename(snapshot)
    _point_latest(dest, snapshot.name)
    return BackupReport(snapshot, contents.schema, copier.copied, copier.copied_bytes, copier.linked, expunged)


def verify(dest: Path) -> VerifyReport:
    """Check every file of the newest snapshot against its manifest, and the database copy's integrity."""
    snapshot = _snapshot(dest)
    manifest = Manifest.read(snapshot)
    problems = [f"{name}: {problem}" for name, problem in _check_files(snapshot, manifest)]
    backend_problem = dbcopy.check_copy(manifest.backend, snapshot / manifest.database)
    if backend_problem:
        problems.append(backend_problem)
    if problems:
        shown = problems[:SHOWN_PROBLEMS] + [f"... and {len(problems) - SHOWN_PROBLEMS} more"] * (
            len(problems) > SHOWN_PROBLEMS
        )
        raise BackupError(f"backup {snapshot} is damaged ({len(problems)} problem(s)):\n  " + "\n  ".join(shown))
    return VerifyReport(snapshot, len(manifest.files), sum(entry.size for entry in manifest.files.values()))


def restore(config: Config, dest: Path) -> RestoreReport:
    """Verify the newest snapshot, then copy it into an empty (or missing) data folder."""
    data_dir = config.server.data_dir
    if data_dir.exists() and (not data_dir.is_dir() or any(data_dir.iterdir())):
        raise BackupError(f"{data_dir} is not empty: restore only into an empty or new data folder")
    checked = verify(dest)
    manifest = Manifest.read(checked.snapshot)
    if not dbcopy.known_schema(manifest.schema):
        raise BackupError(f"the backup's database schema {manifest.schema} is newer than this version knows: upgrade")
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    backend = dbcopy.backend_for(config.database_url)
    if backend.name != manifest.backend:
        raise BackupError(f"the backup holds a {manifest.backend} database, the configuration uses {backend.name}")
    backend.restore(checked.snapshot / manifest.database)
    for name, entry in manifest.files.items():
        if name != manifest.database:
            _restore_file(checked.snapshot / name, data_dir / _safe(name), entry)
    os.sync()
    return RestoreReport(data_dir, len(manifest.files), manifest.schema)


# -- taking files -----------------------------------------------------------------------------------------


def _copy_messages(config: Config, contents: dbcopy.Contents, copier: _Copier) -> int:
    """Copy the message files the database copy names; return how many were expunged before they were taken."""
    layout = paths.MailLayout(config.mail_dir)
    scans: dict[Path, dict[str, str]] = {}
    expunged = 0
    for row in contents.messages:
        folder = layout.folder(row.user_id, row.mailbox_id, row.inbox)
        relative = f"mail/{paths.message_file(folder, row.filename).relative_to(layout.root).as_posix()}"
        identity = f"{PurePosixPath(relative).parent.parent}/{maildir.key_of(row.filename)}"  # same across renames
        for path in maildir.whereabouts(folder, row.filename, scans):
            try:
                copier.take_file(path, relative, identity)
                break
            except FileNotFoundError:
                continue  # renamed (a flag change) between looking and opening: look again
        else:
            expunged += 1
    return expunged


class _Copier:
    """Copies files into a new snapshot with their checksums, or hard-links those unchanged since `previous`."""

    def __init__(self, target: Path, previous: Path | None) -> None:
        self.target = target
        self.previous = previous
        self.files: dict[str, Entry] = {}
        self.copied = self.copied_bytes = self.linked = 0
        self._known: dict[str, tuple[str, Entry]] = {}
        if previous is not None:
            for name, entry in Manifest.read(previous).files.items():
                self._known[_identity(name)] = (name, entry)

    def take_file(self, source: Path, relative: str, identity: str | None = None) -> None:
        info = os.stat(source, follow_symlinks=False)
        destination = self.target / relative
        destination.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        known = self._known.get(identity or relative)
        if (
            known is not None
            and self.previous is not None
            and (known[1].size, known[1].mtime_ns) == (info.st_size, info.st_mtime_ns)
        ):
            try:
                os.link(self.previous / known[0], destination)
                self.files[relative] = known[1]
                self.linked += 1
                return
            except OSError:
                pass  # another file system, or too many links: copy it
        self.files[relative] = _copy(source, destination, info)
        self.copied += 1
        self.copied_bytes += info.st_size

    def take_tree(self, root: Path, tree: str) -> None:
        for relative in _walk(root, tree):
            source = root / relative
            try:
                if source.is_symlink():
                    link = os.readlink(source)
                    (self.target / relative).parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                    (self.target / relative).symlink_to(link)
                    self.files[relative] = Entry(link=link)
                else:
                    self.take_file(source, relative)
            except FileNotFoundError:
                continue  # an old site version pruned by a publish during the backup


def _walk(root: Path, tree: str) -> Iterator[str]:
    """Files and symbolic links below root/tree, relative to root, links not followed."""
    for folder, dirs, files in os.walk(root / tree):
        here = Path(folder)
        for name in sorted(files) + [d for d in sorted(dirs) if (here / d).is_symlink()]:
            yield (here / name).relative_to(root).as_posix()


def _top_files(data_dir: Path) -> list[str]:
    """Files at the top of the data folder (the session key ...), except SQLite's own (copied by its backend)."""
    return sorted(
        entry.name
        for entry in os.scandir(data_dir)
        if entry.is_file(follow_symlinks=False) and not entry.name.startswith(dbcopy.SqliteBackend.filename)
    )


def _plain(name: str) -> str:
    """A spool file name from the database, refused when it is not a plain file name."""
    if not name or name.startswith(".") or "/" in name or "\x00" in name:
        raise BackupError(f"the database names an unsafe spool file: {name!r}")
    return name


def _identity(relative: str) -> str:
    """What stays the same when a file is renamed: a message's folder and Maildir key; else its path."""
    path = PurePosixPath(relative)
    if path.parts[0] == "mail" and path.parent.name in ("new", "cur"):
        return f"{path.parent.parent}/{maildir.key_of(path.name)}"
    return relative


def _copy(source: Path, destination: Path, info: os.stat_result) -> Entry:
    digest = hashlib.sha256()
    mode = stat.S_IMODE(info.st_mode)
    with open(source, "rb") as reader, open(destination, "xb") as writer:
        while chunk := reader.read(CHUNK):
            digest.update(chunk)
            writer.write(chunk)
    os.chmod(destination, mode)
    os.utime(destination, ns=(info.st_atime_ns, info.st_mtime_ns))
    return Entry(info.st_size, digest.hexdigest(), info.st_mtime_ns, mode)


def _hash_entry(path: Path) -> Entry:
    info = path.stat()
    return Entry(info.st_size, _sha256(path), info.st_mtime_ns, stat.S_IMODE(info.st_mode))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as reader:
        while chunk := reader.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


# -- snapshots ----------------------------------------------------------------------------------------------


def _latest(dest: Path) -> Path | None:
    link = dest / LATEST
    return dest / os.readlink(link) if link.is_symlink() else None


def _snapshot(dest: Path) -> Path:
    """The newest snapshot of DEST (or DEST itself when it is one)."""
    if (dest / MANIFEST).is_file():
        return dest
    latest = _latest(dest)
    if latest is None or not latest.is_dir():
        raise BackupError(f"{dest} holds no backup (no {LATEST} snapshot, no {MANIFEST})")
    return latest


def _unique(dest: Path, name: str) -> Path:
    candidate, number = dest / name, 1
    while candidate.exists():
        number += 1
        candidate = dest / f"{name}-{number}"
    return candidate


def _point_latest(dest: Path, name: str) -> None:
    """Switch DEST/latest to the new snapshot in one rename."""
    temporary = dest / f".{LATEST}-{os.getpid()}"
    temporary.symlink_to(name)
    temporary.rename(dest / LATEST)
    fsync_dir(dest)


def _check_files(snapshot: Path, manifest: Manifest) -> Iterator[tuple[str, str]]:
    for name, entry in sorted(manifest.files.items()):
        path = snapshot / _safe(name)
        if entry.link:
            if not path.is_symlink() or os.readlink(path) != entry.link:
                yield name, f"should be a link to {entry.link}"
        elif not path.is_file() or path.is_symlink():
            yield name, "missing from the backup"
        elif path.stat().st_size != entry.size:
            yield name, f"size {path.stat().st_size} differs from the manifest's {entry.size}"
        elif _sha256(path) != entry.sha256:
            yield name, "checksum differs from the manifest (the file was changed)"
    listed = set(manifest.files) | {MANIFEST}
    for extra in sorted(set(_walk(snapshot, ".")) - listed):
        yield extra, "not in the manifest"


def _safe(name: str) -> PurePosixPath:
    """A manifest path, refused when it could leave the folder it is joined to."""
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise BackupError(f"{MANIFEST} names an unsafe path: {name!r}")
    return path


def _restore_file(source: Path, target: Path, entry: Entry) -> None:
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if entry.link:
        if PurePosixPath(entry.link).is_absolute() or ".." in PurePosixPath(entry.link).parts:
            raise BackupError(f"{MANIFEST} names an unsafe link target: {entry.link!r}")
        target.symlink_to(entry.link)
        return
    info = os.stat(source)
    _copy(source, target, info)
    os.chmod(target, entry.mode)
    os.utime(target, ns=(entry.mtime_ns, entry.mtime_ns))
