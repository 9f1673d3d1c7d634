"""Backups that restore (issue 17): `smb-suite backup DEST`, `backup verify DEST` and `restore DEST` as an operator
runs them, against a daemon that keeps serving SMTP and IMAP meanwhile.

What a backup must keep is what the server acknowledged: a 250 to DATA (RFC 5321 4.1.1.4) or OK to APPEND
(RFC 3501 6.3.11) promises the message is stored; UIDs and UIDVALIDITY must not change (RFC 3501 2.3.1.1), nor
the flags a client set with STORE (RFC 3501 6.4.6).
"""

from __future__ import annotations

import hashlib
import imaplib
import json
import re
import shutil
import smtplib
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.daemon import DOMAIN, OWNER, OWNER_PASSWORD, USER, USER_PASSWORD, Daemon, Daemons, run_cli, write_config
from tests.integration.test_dav import business
from tests.mailtest import message, queue_list, submit
from tests.polling import wait_for

FLAGS = re.compile(rb"UID (\d+) FLAGS \(([^)]*)\)")
LOAD_FLAG = "\\Answered"  # toggled by the IMAP load during the backup: renames the files (Maildir info)


def imap(daemon: Daemon, address: str = OWNER, password: str = OWNER_PASSWORD) -> imaplib.IMAP4:
    client = imaplib.IMAP4("127.0.0.1", daemon.ports["imap"], timeout=30)
    client.login(address, password)
    return client


def deliver(daemon: Daemon, subject: str, to: str = OWNER) -> None:
    with smtplib.SMTP("127.0.0.1", daemon.ports["smtp"], timeout=30) as client:
        client.sendmail("someone@remote.example", [to], message(subject, to, "someone@remote.example"))


def uid_flags(
    daemon: Daemon, folders: tuple[str, ...], address: str = OWNER, password: str = OWNER_PASSWORD
) -> dict[str, dict[int, frozenset[str]]]:
    """UID FETCH 1:* FLAGS of each folder, plus its UIDVALIDITY under the key 0 (as a one-element set)."""
    client = imap(daemon, address, password)
    try:
        state = {}
        for folder in folders:
            typ, _ = client.select(folder)
            assert typ == "OK"
            validity = client.response("UIDVALIDITY")[1][0]
            typ, data = client.uid("FETCH", "1:*", "(FLAGS)")
            assert typ == "OK"
            found = {
                int(m[1]): frozenset(m[2].decode().split()) - {"\\Recent"}
                for item in data
                if item and (m := FLAGS.search(item if isinstance(item, bytes) else item[0]))
            }
            state[folder] = {0: frozenset({str(validity)}), **found}
        return state
    finally:
        client.logout()


def backup(daemon: Daemon, dest: Path, *extra: str, check: bool = True) -> str:
    result = daemon.cli("backup", *extra, str(dest), check=check)
    return result.stdout + result.stderr


def restored_daemon(fresh_daemon: Daemons, folder: Path, dest: Path) -> Daemon:
    """A new configuration on its own ports and an empty data folder, restored from DEST, then started."""
    folder.mkdir()
    config = write_config(folder)
    result = run_cli(config, "restore", str(dest))
    assert "restored" in result.stdout
    restored = Daemon(folder, config)
    fresh_daemon.started.append(restored)
    return restored.start()


class Load:
    """SMTP deliveries and IMAP flag changes and APPENDs in two threads, until stopped."""

    def __init__(self, daemon: Daemon) -> None:
        self.daemon = daemon
        self.stopping = threading.Event()
        self.done = {"smtp": 0, "imap": 0}
        self.errors: list[BaseException] = []
        self.threads = [threading.Thread(target=self._guard, args=(job,)) for job in (self._smtp, self._imap)]

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        wait_for("the load to run", lambda: all(self.done.values()) or self.errors)
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(60)
        assert not self.errors, self.errors

    def _guard(self, job: object) -> None:
        try:
            job()  # type: ignore[operator]
        except BaseException as error:  # reported by __exit__
            self.errors.append(error)

    def _smtp(self) -> None:
        with smtplib.SMTP("127.0.0.1", self.daemon.ports["smtp"], timeout=30) as client:
            while not self.stopping.is_set():
                to = OWNER if self.done["smtp"] % 2 else USER
                client.sendmail("load@remote.example", [to], message(f"load {self.done['smtp']}", to))
                self.done["smtp"] += 1

    def _imap(self) -> None:
        client = imap(self.daemon)
        client.select("INBOX")
        while not self.stopping.is_set():
            sign = "+" if self.done["imap"] % 2 == 0 else "-"
            assert client.uid("STORE", "1:*", f"{sign}FLAGS.SILENT", f"({LOAD_FLAG})")[0] == "OK"
            assert client.append("Archive", "(\\Seen)", None, message(f"append {self.done['imap']}", OWNER))[0] == "OK"
            self.done["imap"] += 1
        client.logout()


def dav(daemon: Daemon, method: str, path: str, **options: Any) -> httpx.Response:
    url = f"https://127.0.0.1:{daemon.ports['https']}{path}"  # plain HTTP redirects there
    return httpx.request(method, url, auth=(OWNER, OWNER_PASSWORD), verify=False, timeout=60, **options)


def dav_files(daemon: Daemon) -> dict[str, bytes]:
    assert dav(daemon, "PROPFIND", "/dav/", headers={"Depth": "1"}).status_code == 207  # makes the collections
    card = b"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:ada\r\nFN:Ada Lovelace\r\nN:Lovelace;Ada;;;\r\nEND:VCARD\r\n"
    return {f"/dav/{business(daemon, DOMAIN)}/contacts/ada.vcf": card, "/dav/files/Shared/offer.txt": b"our offer\n"}


def site_home(daemon: Daemon) -> bytes:
    url = f"https://127.0.0.1:{daemon.ports['https']}/"
    answer = httpx.get(url, headers={"Host": DOMAIN}, verify=False, timeout=30)
    assert answer.status_code == 200
    return answer.content


def without_load_flag(state: dict[str, dict[int, frozenset[str]]]) -> dict[str, dict[int, frozenset[str]]]:
    return {folder: {uid: flags - {LOAD_FLAG} for uid, flags in msgs.items()} for folder, msgs in state.items()}


def seed(daemon: Daemon, count: int) -> None:
    """Mail acknowledged before any backup: delivered (250), appended (OK) with flags, flags stored."""
    for number in range(count):
        deliver(daemon, f"seed {number}")
        deliver(daemon, f"seed for alice {number}", USER)
    client = imap(daemon)
    try:
        for number in range(count):
            typ, _ = client.append("Archive", "(\\Flagged $Important)", None, message(f"kept {number}", OWNER))
            assert typ == "OK"
        client.select("INBOX")
        assert client.uid("STORE", "1:3", "+FLAGS", "(\\Seen \\Deleted)")[0] == "OK"
        assert client.uid("STORE", "2", "+FLAGS", "($Label1)")[0] == "OK"
    finally:
        client.logout()


def test_backup_during_smtp_and_imap_load_restores_every_acknowledged_message_with_its_uid_and_flags(
    fresh_daemon: Daemons, tmp_path: Path
) -> None:
    daemon = fresh_daemon()
    seed(daemon, 10)
    files = dav_files(daemon)
    for path, content in files.items():  # DAV files: a contact and a shared document
        assert dav(daemon, "PUT", path, content=content).status_code == 201
    home = site_home(daemon)
    remote = "partner@remote.example"  # waits in the outbound queue: remote delivery goes to a closed port
    submit(daemon, [remote], message("queued", remote))
    folders = ("INBOX", "Archive")
    before = uid_flags(daemon, folders)
    alice_before = uid_flags(daemon, ("INBOX",), USER, USER_PASSWORD)
    dest = tmp_path / "backups"
    with Load(daemon):
        output = backup(daemon, dest)
    assert "copied" in output
    assert "intact" in backup(daemon, dest, "verify")

    restored = restored_daemon(fresh_daemon, tmp_path / "restored", dest)
    after = uid_flags(restored, folders)
    for folder in folders:  # every message acknowledged before the backup, same UID, same flags
        kept = {uid: flags for uid, flags in without_load_flag(after)[folder].items() if uid in before[folder]}
        assert kept == without_load_flag(before)[folder]
    alice_after = uid_flags(restored, ("INBOX",), USER, USER_PASSWORD)
    assert {uid: alice_after["INBOX"][uid] for uid in alice_before["INBOX"]} == alice_before["INBOX"]
    assert remote in queue_list(restored)  # a submission acknowledged (250) is still on its way
    assert site_home(restored) == home
    for path, content in files.items():
        assert dav(restored, "GET", path).content == content
    deliver(restored, "after the restore")  # the restored server takes new mail
    assert len(uid_flags(restored, ("INBOX",))["INBOX"]) == len(after["INBOX"]) + 1


@pytest.fixture(scope="module")
def snapshot(start_daemon: Daemons, tmp_path_factory: pytest.TempPathFactory) -> tuple[Daemon, Path]:
    """A daemon with mail in two folders and one backup of it (tests damage copies of it, never it)."""
    daemon = start_daemon(name="backup")
    seed(daemon, 3)
    dest = tmp_path_factory.mktemp("backups") / "dest"
    backup(daemon, dest)
    return daemon, dest


def manifest_of(dest: Path) -> dict[str, dict[str, object]]:
    files: dict[str, dict[str, object]] = json.loads((dest / "latest" / "manifest.json").read_text())["files"]
    return files


def damaged_copy(dest: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "damaged"
    shutil.copytree(dest / "latest", copy, symlinks=True)
    return copy


def flip_a_byte(path: Path, offset: int = 0) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.unlink()  # never write through a hard link into another snapshot
    path.write_bytes(bytes(data))


def test_a_message_file_with_one_byte_changed_fails_verify_naming_the_file(
    snapshot: tuple[Daemon, Path], tmp_path: Path
) -> None:
    daemon, dest = snapshot
    name = next(name for name in manifest_of(dest) if "/new/" in name or "/cur/" in name)
    copy = damaged_copy(dest, tmp_path)
    flip_a_byte(copy / name, 10)
    result = daemon.cli("backup", "verify", str(copy), check=False)
    assert result.returncode == 1
    assert f"{name}: checksum differs" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_deleted_message_file_fails_verify_naming_the_file(snapshot: tuple[Daemon, Path], tmp_path: Path) -> None:
    daemon, dest = snapshot
    name = next(name for name in manifest_of(dest) if "/new/" in name or "/cur/" in name)
    copy = damaged_copy(dest, tmp_path)
    (copy / name).unlink()
    result = daemon.cli("backup", "verify", str(copy), check=False)
    assert result.returncode == 1
    assert f"{name}: missing from the backup" in result.stderr


def test_a_tampered_database_fails_verify_by_checksum_and_by_integrity_check(
    snapshot: tuple[Daemon, Path], tmp_path: Path
) -> None:
    daemon, dest = snapshot
    copy = damaged_copy(dest, tmp_path)
    database = copy / "smb-suite.db"
    data = bytearray(database.read_bytes())
    data[4096 + 8 : 4096 + 64] = b"\xff" * 56  # the header of the second page: a b-tree SQLite cannot read
    database.unlink()
    database.write_bytes(bytes(data))
    result = daemon.cli("backup", "verify", str(copy), check=False)
    assert result.returncode == 1
    assert "smb-suite.db: checksum differs" in result.stderr
    # a manifest rewritten to match the tampered file: the integrity check still catches it
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["files"]["smb-suite.db"]["sha256"] = hashlib.sha256(bytes(data)).hexdigest()
    (copy / "manifest.json").write_text(json.dumps(manifest))
    result = daemon.cli("backup", "verify", str(copy), check=False)
    assert result.returncode == 1
    assert "smb-suite.db" in result.stderr and "database copy" in result.stderr


def test_a_second_backup_copies_only_the_new_messages_and_links_the_rest(
    snapshot: tuple[Daemon, Path], tmp_path: Path
) -> None:
    daemon, shared = snapshot
    dest = tmp_path / "dest"
    shutil.copytree(shared, dest, symlinks=True)  # its own series of backups
    first = dest / "latest"
    first_files = manifest_of(dest)
    first_target = first.resolve()
    client = imap(daemon)
    client.select("INBOX")
    assert client.uid("STORE", "1:*", "+FLAGS", "(\\Answered)")[0] == "OK"  # renames every file, content unchanged
    client.logout()
    deliver(daemon, "new one")
    deliver(daemon, "new two")
    output = backup(daemon, dest)
    assert "2 file(s) copied" in output
    files = [name for name, entry in first_files.items() if "link" not in entry and name != "smb-suite.db"]
    assert f"{len(files)} unchanged file(s) linked" in output  # every file but the new database copy
    second = (dest / "latest").resolve()
    assert second != first_target and first_target.is_dir()
    assert "intact" in backup(daemon, dest, "verify")


def test_restore_refuses_a_data_folder_that_is_not_empty(snapshot: tuple[Daemon, Path], tmp_path: Path) -> None:
    _, dest = snapshot
    folder = tmp_path / "other"
    folder.mkdir()
    config = write_config(folder)
    (folder / "data").mkdir()
    (folder / "data" / "notes.txt").write_text("mine")
    result = run_cli(config, "restore", str(dest), check=False)
    assert result.returncode == 1
    assert "is not empty" in result.stderr
    assert [p.name for p in (folder / "data").iterdir()] == ["notes.txt"]


def two_messages_then_stopped(fresh_daemon: Daemons) -> tuple[Daemon, dict[str, dict[int, frozenset[str]]], Path]:
    """A daemon with two INBOX messages, the first \\Seen (its file renamed to :2,S), stopped; the first's file."""
    daemon = fresh_daemon()
    deliver(daemon, "first")
    deliver(daemon, "second")
    client = imap(daemon)
    client.select("INBOX")
    assert client.uid("STORE", "1", "+FLAGS", "(\\Seen)")[0] == "OK"
    client.logout()
    before = uid_flags(daemon, ("INBOX",))
    daemon.stop()
    (seen,) = (daemon.maildir(OWNER) / "cur").glob("*:2,S")
    return daemon, before, seen


def test_a_message_renamed_after_the_database_copy_is_found_by_its_key_and_kept_under_its_row_name(
    fresh_daemon: Daemons, tmp_path: Path
) -> None:
    daemon, before, seen = two_messages_then_stopped(fresh_daemon)
    # what the data folder looks like when a STORE renamed the file after the backup copied the database
    seen.rename(seen.with_name(seen.name.replace(":2,S", ":2,FS")))
    dest = tmp_path / "dest"
    output = backup(daemon, dest)
    assert "expunged" not in output
    names = [name for name in manifest_of(dest) if "/cur/" in name or "/new/" in name]
    assert any(name.endswith(f"/cur/{seen.name}") for name in names), names  # the name the database copy holds
    restored = restored_daemon(fresh_daemon, tmp_path / "restored", dest)
    assert uid_flags(restored, ("INBOX",)) == before


def test_a_message_expunged_after_the_database_copy_is_left_out_and_the_restore_drops_its_row(
    fresh_daemon: Daemons, tmp_path: Path
) -> None:
    daemon, before, seen = two_messages_then_stopped(fresh_daemon)
    seen.unlink()  # as an EXPUNGE after the backup copied the database removes it
    dest = tmp_path / "dest"
    assert "1 message(s) expunged during the backup were left out" in backup(daemon, dest)
    assert "intact" in backup(daemon, dest, "verify")
    restored = restored_daemon(fresh_daemon, tmp_path / "restored", dest)
    assert uid_flags(restored, ("INBOX",))["INBOX"] == {uid: f for uid, f in before["INBOX"].items() if uid != 1}


def test_verify_of_a_folder_without_a_backup_says_so(snapshot: tuple[Daemon, Path], tmp_path: Path) -> None:
    daemon, _ = snapshot
    result = daemon.cli("backup", "verify", str(tmp_path), check=False)
    assert result.returncode == 1
    assert "holds no backup" in result.stderr and "Traceback" not in result.stderr


def test_restore_refuses_a_backup_made_by_a_newer_schema(snapshot: tuple[Daemon, Path], tmp_path: Path) -> None:
    _, dest = snapshot
    copy = damaged_copy(dest, tmp_path)
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["schema"] = "9999"
    (copy / "manifest.json").write_text(json.dumps(manifest))
    folder = tmp_path / "other"
    folder.mkdir()
    result = run_cli(write_config(folder), "restore", str(copy), check=False)
    assert result.returncode == 1
    assert "schema 9999 is newer" in result.stderr
