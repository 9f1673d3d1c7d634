"""The archive of `tenant export` / `tenant import` (ops/tenant_archive.py) and the refusals of an import: nothing
from an archive may reach outside the staging folder, a changed byte is caught before anything changes, and a
server that hosts the domains already, or cannot hold the business, is left exactly as it was."""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from smb_suite.config import MIB
from smb_suite.config import load as load_config
from smb_suite.directory.model import OPERATOR, Role
from smb_suite.errors import MoveRefused
from smb_suite.ops import tenant_archive, tenant_move
from smb_suite.ops.tenant_archive import MANIFEST, ROWS, Manifest, Member
from smb_suite.services import initialise, open_services
from smb_suite.storage import db, tenantrows
from tests.daemon import prepare, write_config

ROWS_DATA = b'{"tenants": []}'


def manifest_for(members: dict[str, bytes]) -> Manifest:
    listed = {name: Member(len(data), hashlib.sha256(data).hexdigest()) for name, data in members.items()}
    return Manifest("0.1.0", "0025", "old.example", "shop", members=listed)


def tar_of(path: Path, members: list[tarfile.TarInfo | tuple[str, bytes]]) -> Path:
    with tarfile.open(path, "w") as tar:
        for member in members:
            if isinstance(member, tarfile.TarInfo):
                tar.addfile(member)
            else:
                info = tarfile.TarInfo(member[0])
                info.size = len(member[1])
                tar.addfile(info, io.BytesIO(member[1]))
    return path


def staging(tmp_path: Path) -> Path:
    folder = tmp_path / "staging"
    folder.mkdir()
    return folder


@pytest.mark.parametrize("name", ["shop.tar", "shop.tar.gz", "shop.tar.zst"])
def test_an_archive_reads_back_its_manifest_rows_and_files_in_each_compression(tmp_path: Path, name: str) -> None:
    manifest = Manifest("0.1.0", "0025", "old.example", "shop", partner="reseller", live_sites={"4": "17"})
    with tenant_archive.writing(tmp_path / name, manifest) as writer:
        (tmp_path / "message").write_bytes(b"Subject: hi\r\n\r\nhello\r\n")
        with open(tmp_path / "message", "rb") as handle:
            writer.add_file("mail/12", handle)
        writer.add_bytes(ROWS, ROWS_DATA)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no partial file left

    read = tenant_archive.extract(tmp_path / name, staging(tmp_path))

    assert read.rows == ROWS_DATA and [str(p) for p in read.files] == ["mail/12"]
    assert (tmp_path / "staging" / "mail" / "12").read_bytes() == b"Subject: hi\r\n\r\nhello\r\n"
    assert (read.manifest.partner, read.manifest.live_sites, read.manifest.tenant) == ("reseller", {"4": "17"}, "shop")
    assert read.manifest.members["mail/12"].sha256 == hashlib.sha256(b"Subject: hi\r\n\r\nhello\r\n").hexdigest()


def special(name: str, kind: bytes, target: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = target
    return info


@pytest.mark.parametrize(
    "member",
    [
        ("../outside", b"x"),
        ("/etc/cron.d/evil", b"x"),
        ("mail/../../outside", b"x"),
        ("sites/./1/x", b"x"),
        ("etc/passwd", b"x"),
        special("mail/1", tarfile.SYMTYPE, "/etc/passwd"),
        special("mail/2", tarfile.LNKTYPE, "rows.json"),
        special("files/shared/tty", tarfile.CHRTYPE),
        special("files/shared/pipe", tarfile.FIFOTYPE),
        special("files/shared/folder", tarfile.DIRTYPE),
    ],
    ids=["dotdot", "absolute", "inner-dotdot", "dot", "unknown-top", "symlink", "hardlink", "device", "fifo", "dir"],
)
def test_a_member_with_a_path_trick_or_of_another_type_than_file_is_refused(
    tmp_path: Path, member: tarfile.TarInfo | tuple[str, bytes]
) -> None:
    archive = tar_of(tmp_path / "evil.tar", [(ROWS, ROWS_DATA), member])
    with pytest.raises(MoveRefused):
        tenant_archive.extract(archive, staging(tmp_path))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["evil.tar", "staging"]


def test_a_changed_byte_or_a_member_missing_or_unlisted_is_refused_naming_it(tmp_path: Path) -> None:
    members = {ROWS: ROWS_DATA, "mail/1": b"original", "mail/2": b"second"}
    listed = manifest_for(members).encode()
    cases = {
        "mail/1: checksum differs": [(ROWS, ROWS_DATA), ("mail/1", b"ORIGINAL"), ("mail/2", b"second")],
        "mail/2: missing from the archive": [(ROWS, ROWS_DATA), ("mail/1", b"original")],
        "mail/3: not in the manifest": [
            (ROWS, ROWS_DATA),
            *[(n, members[n]) for n in ("mail/1", "mail/2")],
            ("mail/3", b"extra"),
        ],
    }
    for number, (problem, content) in enumerate(cases.items()):
        archive = tar_of(tmp_path / f"{number}.tar", [*content, (MANIFEST, listed)])
        folder = tmp_path / str(number)
        folder.mkdir()
        with pytest.raises(MoveRefused, match=problem):
            tenant_archive.extract(archive, staging(folder))


def test_a_manifest_of_another_format_is_refused(tmp_path: Path) -> None:
    data = json.loads(manifest_for({ROWS: ROWS_DATA}).encode())
    data["format"] = 99
    archive = tar_of(tmp_path / "future.tar", [(ROWS, ROWS_DATA), (MANIFEST, json.dumps(data).encode())])
    with pytest.raises(MoveRefused, match="format"):
        tenant_archive.extract(archive, staging(tmp_path))


# -- refusals of the import, on real data folders (no daemon) --------------------------------------------------


def snapshot(folder: Path) -> list[str]:
    """Every path of a data folder but the database's own files (their bytes change with any read)."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if "smb-suite.db" not in p.name)


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A server with example.test (demo@ and alice@, the starter site, a document over 1 MiB) and its archive."""
    folder = tmp_path_factory.mktemp("source")
    config = write_config(folder)
    prepare(config)
    shared = load_config(config).server.data_dir / "files" / "1" / "shared"
    shared.mkdir(parents=True)
    (shared / "big.bin").write_bytes(b"x" * (MIB + 1))
    services = open_services(load_config(config))
    try:
        tenant_move.export_tenant(services, OPERATOR, "example.test", folder / "example.tar.gz")
    finally:
        services.close()
    return config, folder / "example.tar.gz"


def refused_import(config: Path, archive: Path, match: str) -> None:
    settings = load_config(config)
    before = snapshot(settings.server.data_dir)
    services = open_services(settings)
    try:
        tenants = len(services.directory.list_tenants(OPERATOR))
        with pytest.raises(MoveRefused, match=match):
            tenant_move.import_tenant(services, OPERATOR, archive)
        assert len(services.directory.list_tenants(OPERATOR)) == tenants
    finally:
        services.close()
    assert snapshot(settings.server.data_dir) == before  # no staging folder, no file placed


def test_an_import_into_a_server_hosting_the_domain_is_refused_and_changes_nothing(
    exported: tuple[Path, Path],
) -> None:
    config, archive = exported
    refused_import(config, archive, "hosts example.test already")


def test_an_import_whose_tier_is_not_configured_or_too_small_here_is_refused(
    exported: tuple[Path, Path], tmp_path: Path
) -> None:
    for tiers, problem in (
        ('[quota]\ndefault_tier = "gold"\n[tiers.gold]\nstorage_mb = 50\n', "tier 'starter' is not configured"),
        ("[tiers.starter]\nstorage_mb = 1\n", "more than its tier 'starter' allows"),
    ):
        folder = tmp_path / problem.split()[0]
        folder.mkdir()
        config = write_config(folder, tiers)
        initialise(load_config(config))
        refused_import(config, exported[1], problem)


def test_a_folder_in_the_way_of_the_import_removes_what_it_placed_and_the_rows(
    exported: tuple[Path, Path], tmp_path: Path
) -> None:
    config = write_config(tmp_path)
    settings = load_config(config)
    initialise(settings)
    (settings.server.data_dir / "files" / "1").mkdir(parents=True)  # documents of business id 1, left over
    refused_import(config, exported[1], "exists already")


def test_an_import_killed_before_its_commit_leaves_no_folder_a_later_row_could_inherit(tmp_path: Path) -> None:
    settings = load_config(write_config(tmp_path))
    initialise(settings)
    data = settings.server.data_dir
    left = settings.mail_dir / "users" / "7"  # renamed into place, then kill -9 before the commit
    (left / "cur").mkdir(parents=True)
    (left / "cur" / "1.M1P1Q1.host:2,S").write_bytes(b"Subject: not yours\r\n\r\n")
    dead = tenantrows.staging_folder(data, 4_194_305, "dead")  # above Linux's pid_max: no such process
    running = tenantrows.staging_folder(data, os.getpid(), "live")
    for staging_dir in (dead, running):
        staging_dir.mkdir()
    tenantrows.note_placing(dead, [("users", 7, left)])

    created = initialise(settings)  # the daemon's start (and the next `tenant import`) clear it

    assert not left.exists() and not dead.exists()
    assert running.is_dir()  # an import still running keeps its staging folder
    assert any("mail/users/7" in line for line in created)


def test_every_table_is_either_moved_with_a_business_or_left_for_a_stated_reason() -> None:
    moved = {part.table.name for part in tenantrows.PARTS}
    assert moved.isdisjoint(tenantrows.NOT_MOVED)
    assert set(db.metadata.tables) == moved | set(tenantrows.NOT_MOVED)


def rewritten(archive: Path, target: Path, change: Callable[[dict[str, Any]], None]) -> Path:
    """The archive with its rows changed by `change` and a manifest that matches (what a forger would make)."""
    members: dict[str, bytes] = {}
    with tarfile.open(archive) as tar:
        for info in tar:
            reader = tar.extractfile(info)
            assert reader is not None
            members[info.name] = reader.read()
    rows = json.loads(members[ROWS])
    change(rows)
    members[ROWS] = json.dumps(rows).encode()
    manifest = Manifest.decode(members.pop(MANIFEST))
    manifest.members = manifest_for(members).members
    return tar_of(target, [*members.items(), (MANIFEST, manifest.encode())])


def test_an_operator_account_in_an_archive_becomes_an_owner_of_its_business_not_an_operator_here(
    exported: tuple[Path, Path], tmp_path: Path
) -> None:
    def promote(rows: dict[str, Any]) -> None:
        rows["users"][0]["role"] = "operator"

    forged = rewritten(exported[1], tmp_path / "forged.tar", promote)
    settings = load_config(write_config(tmp_path))
    initialise(settings)
    services = open_services(settings)
    try:
        report = tenant_move.import_tenant(services, OPERATOR, forged)
        roles = {user.role for user in services.directory.list_users(OPERATOR)}
    finally:
        services.close()
    assert Role.OPERATOR not in roles and Role.OWNER in roles
    assert any("an owner of its business here" in warning for warning in report.warnings)


def test_forged_rows_naming_another_row_or_a_uid_past_uidnext_are_refused_and_change_nothing(
    exported: tuple[Path, Path], tmp_path: Path
) -> None:
    def foreign_domain(rows: dict[str, Any]) -> None:
        rows["aliases"].append({"id": 99, "domain_id": 4242, "local_part": "x", "target": "a@b.example"})

    def uid_past_next(rows: dict[str, Any]) -> None:
        box = rows["mailboxes"][0]
        message = {"id": 999, "mailbox_id": box["id"], "uid": box["uidnext"], "filename": "new/1.M1P1Q1.host"}
        rows["messages"].append({**message, "size": 1, "flags": "", "internaldate": 1, "modseq": 1})

    config = write_config(tmp_path)
    initialise(load_config(config))
    for number, (change, problem) in enumerate(
        ((foreign_domain, "domains id 4242, which it does not hold"), (uid_past_next, "UID its folder cannot hold"))
    ):
        refused_import(config, rewritten(exported[1], tmp_path / f"{number}.tar", change), problem)
