"""A data folder written by an old version (mail under <domain>/<local part>/, folders named after their names)
moves to the id layout once, at start: mail is there over IMAP with the same UIDs and flags, a second start
moves nothing, and a start killed half-way is completed by the next one (storage/legacy.py)."""

from __future__ import annotations

import contextlib
import imaplib
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from smb_suite.config import load as load_config
from smb_suite.directory.model import OPERATOR
from smb_suite.services import open_services
from smb_suite.storage import database, legacy
from smb_suite.storage.legacy import old_folder_path
from smb_suite.storage.paths import FOLDER_PREFIX, MailLayout
from tests.daemon import OWNER, OWNER_PASSWORD, USER, USER_PASSWORD, Daemon, make_daemon

FOLDERS = ("INBOX", "Work", "Work/Réunions", "a.b")
ACCOUNTS = ((OWNER, OWNER_PASSWORD), (USER, USER_PASSWORD))

Expected = dict[tuple[str, str], list[tuple[int, str, frozenset[str]]]]


def fill(daemon: Daemon) -> Expected:
    """Mail in every folder of both users, some flagged and some expunged (UIDs with gaps), in-process."""
    services = open_services(load_config(daemon.config))
    expected: Expected = {}
    try:
        for address, _ in ACCOUNTS:
            user = services.directory.get_user(OPERATOR, address)
            for folder in FOLDERS:
                if folder != "INBOX":
                    with contextlib.suppress(Exception):
                        services.store.create_with_parents(user, folder)
                kept = []
                for n in range(4):
                    subject = f"{address} {folder} {n}"
                    flags = ["\\Seen", "$Work"] if n % 2 else ["\\Flagged"] if n == 2 else []
                    data = f"From: x@remote.example\r\nSubject: {subject}\r\n\r\nbody {n}\r\n".encode()
                    mailbox, uid = services.store.append(user, folder, data, flags)
                    kept.append((uid, subject, frozenset(flags)))
                services.store.store_flags(user, mailbox, [kept[0][0]], ["\\Deleted"], 1)
                services.store.expunge(user, mailbox)
                expected[(address, folder)] = kept[1:]
    finally:
        services.close()
    return expected


def ids(data_dir: Path) -> Iterator[tuple[int, str, str, int, str]]:
    """(user id, domain, local part, mailbox id, folder name) of every folder."""
    query = (
        "SELECT users.id, domains.name, users.local_part, mailboxes.id, mailboxes.name FROM users "
        "JOIN domains ON domains.id = users.domain_id JOIN mailboxes ON mailboxes.user_id = users.id "
        "ORDER BY users.id, mailboxes.name DESC"
    )
    with contextlib.closing(sqlite3.connect(data_dir / "smb-suite.db")) as conn:
        yield from conn.execute(query).fetchall()


def to_old_layout(data_dir: Path) -> None:
    """Rewrite the mail tree as the old code laid it out (root/domain/local, '.Name' folders), no marker."""
    layout = MailLayout(data_dir / "mail")
    layout.marker.unlink()
    for user_id, _, _, mailbox_id, name in ids(data_dir):
        if name != "INBOX" and (layout.users / str(user_id)).exists():
            old_root = layout.users / str(user_id)
            os.rename(old_root / f"{FOLDER_PREFIX}{mailbox_id}", old_folder_path(old_root, name))
    for user_id, domain, local_part, _, name in ids(data_dir):
        if name == "INBOX" and (layout.users / str(user_id)).exists():
            (layout.root / domain).mkdir(exist_ok=True)
            os.rename(layout.users / str(user_id), layout.root / domain / local_part)
    layout.users.rmdir()


def tree(path: Path) -> dict[str, int]:
    return {str(p.relative_to(path)): p.lstat().st_ino for p in path.rglob("*")}


def check_mail(daemon: Daemon, expected: Expected) -> None:
    for address, password in ACCOUNTS:
        client = imaplib.IMAP4("127.0.0.1", daemon.ports["imap"])
        try:
            client.login(address, password)
            for folder in FOLDERS:
                quoted = '"' + folder.replace("é", "&AOk-") + '"'
                assert client.select(quoted, readonly=True)[0] == "OK", folder
                status, data = client.uid("FETCH", "1:*", "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
                assert status == "OK"
                got = []
                for item in data:
                    if isinstance(item, tuple):
                        head = item[0].decode()
                        uid = int(head.split("UID ")[1].split()[0])
                        # \Recent: no session has selected these folders yet (RFC 3501 2.3.2), not part of the move
                        flags = frozenset(head.split("FLAGS (")[1].split(")")[0].split()) - {"\\Recent"}
                        subject = item[1].decode().split("Subject: ")[1].strip()
                        got.append((uid, subject, flags))
                assert sorted(got) == expected[(address, folder)], (address, folder)
        finally:
            client.logout()


@pytest.fixture
def old_daemon(tmp_path: Path) -> Iterator[tuple[Daemon, Expected]]:
    daemon = make_daemon(tmp_path / "d", services=("imap",))
    expected = fill(daemon)
    to_old_layout(daemon.folder / "data")
    yield daemon, expected
    if daemon.process is not None:
        daemon.stop()


def test_an_old_data_folder_moves_to_the_id_layout_once_with_the_same_uids_and_flags(
    old_daemon: tuple[Daemon, Expected],
) -> None:
    daemon, expected = old_daemon
    mail = daemon.folder / "data" / "mail"
    assert (mail / "example.test" / "demo" / ".Work.R%C3%A9unions" / "cur").is_dir()  # the old layout
    daemon.start()
    check_mail(daemon, expected)
    assert sorted(p.name for p in mail.iterdir()) == ["LAYOUT", "users"]  # the old domain folder is gone
    daemon.stop()
    before = tree(mail)
    daemon.start()
    check_mail(daemon, expected)
    assert tree(mail) == before  # the second start moved nothing


def test_a_start_killed_half_way_through_the_move_is_completed_by_the_next(
    old_daemon: tuple[Daemon, Expected],
) -> None:
    daemon, expected = old_daemon
    data = daemon.folder / "data"
    layout = MailLayout(data / "mail")
    layout.users.mkdir()
    rows = list(ids(data))
    # the owner's folders were renamed inside its old root, but the root itself not yet moved
    owner_id = next(r[0] for r in rows if r[2] == "demo")
    for _, domain, local_part, mailbox_id, name in (r for r in rows if r[0] == owner_id and r[4] != "INBOX"):
        if name != "a.b":  # and not all of them
            old_root = data / "mail" / domain / local_part
            os.rename(old_folder_path(old_root, name), old_root / f"{FOLDER_PREFIX}{mailbox_id}")
    # alice's root was moved, but none of its folders renamed yet
    alice_id = next(r[0] for r in rows if r[2] == "alice")
    os.rename(data / "mail" / "example.test" / "alice", layout.users / str(alice_id))
    assert not layout.marker.exists()
    daemon.start()
    check_mail(daemon, expected)
    assert layout.marker.read_text() == "2\n"
    assert sorted(p.name for p in layout.user_root(alice_id).iterdir() if p.name.startswith(".")) == sorted(
        f"{FOLDER_PREFIX}{r[3]}" for r in rows if r[0] == alice_id and r[4] != "INBOX"
    )


def test_an_old_mailbox_whose_name_pointed_at_another_business_takes_nothing_with_it(tmp_path: Path) -> None:
    """Under the old layout a local part with '/' named another business's Maildir; the move leaves that
    mailbox empty and gives the victim its own mail."""
    daemon = make_daemon(tmp_path / "d", services=("imap",))
    data = daemon.folder / "data"
    services = open_services(load_config(daemon.config))
    try:
        victim = services.directory.get_user(OPERATOR, OWNER)
        services.store.deliver([victim], b"Subject: the victim's\r\n\r\nmine\r\n")
    finally:
        services.close()
    with contextlib.closing(sqlite3.connect(data / "smb-suite.db")) as conn, conn:
        conn.execute(  # the attacker's row, as the old code let it in: <mail>/other.test/../example.test/demo
            "INSERT INTO users (domain_id, local_part, password_hash, created_at) "
            "SELECT id, '../example.test/demo', 'x', 0 FROM domains WHERE name = 'example.test'"
        )
        attacker = conn.execute("SELECT max(id) FROM users").fetchone()[0]
        conn.execute("INSERT INTO mailboxes (user_id, name, uidvalidity) VALUES (?, 'INBOX', 1)", (attacker,))
    to_old_layout(data)
    assert len(list((data / "mail" / "example.test" / "demo" / "new").iterdir())) == 1
    engine = database.create_engine(f"sqlite:///{data / 'smb-suite.db'}")
    try:
        assert legacy.migrate(engine, data / "mail") > 0
        layout = MailLayout(data / "mail")
        victim_root = daemon.maildir(OWNER)
        assert [p.read_bytes() for p in (victim_root / "new").iterdir()] == [b"Subject: the victim's\r\n\r\nmine\r\n"]
        assert not layout.user_root(attacker).exists()
        assert legacy.migrate(engine, data / "mail") == 0
    finally:
        engine.dispose()
