"""Mail lives at paths made of ids (storage/paths.py): no name a user chose reaches the file system, and every
path the store opens is checked to lie inside its owner's root (issue 11).

The store is driven in-process here, below the directory's own checks of names, with owners whose local parts
hold '/' and '..': the layer must be safe even if a bad name got into the database.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from smb_suite.config import load as load_config
from smb_suite.errors import UnsafePath
from smb_suite.mail.address import Address
from smb_suite.services import Services, initialise, open_services
from smb_suite.storage import database, db
from smb_suite.storage.paths import MailLayout, inside, message_file
from tests.daemon import OWNER, make_daemon, write_config

MESSAGE = b"From: a@b.test\r\nSubject: kept\r\n\r\nbody\r\n"


@dataclass(frozen=True)
class Owner:
    id: int
    tenant_id: int
    address: Address


@pytest.fixture
def services(tmp_path: Path, database_url: str) -> Iterator[Services]:
    """The store on each database backend (the paths come from its ids, whichever hands them out)."""
    (tmp_path / "d").mkdir()
    config = load_config(write_config(tmp_path / "d", f'[database]\nurl = "{database_url}"\n', services=("imap",)))
    initialise(config)
    opened = open_services(config)
    yield opened
    opened.close()


def add_owner(services: Services, local_part: str, domain: str = "example.test") -> Owner:
    """A user row written straight into the database, as if a bad name had slipped past every check."""
    with services.engine.begin() as conn:
        tenant = conn.execute(sa.select(db.tenants.c.id).where(db.tenants.c.name == domain)).scalar()
        if tenant is None:
            tenant = database.inserted_id(conn.execute(sa.insert(db.tenants).values(name=domain, created_at=0)))
            conn.execute(sa.insert(db.domains).values(name=domain, tenant_id=tenant, created_at=0))
        domain_id = conn.execute(sa.select(db.domains.c.id).where(db.domains.c.name == domain)).scalar_one()
        user = database.inserted_id(
            conn.execute(
                sa.insert(db.users).values(domain_id=domain_id, local_part=local_part, password_hash="x", created_at=0)
            )
        )
    owner = Owner(user, tenant, Address(local_part, domain))
    services.store.create_user_store(owner)
    return owner


def everything_under(path: Path) -> set[Path]:
    return {p.resolve() for p in path.rglob("*") if not p.name.endswith(("-wal", "-shm", "-journal"))}


@pytest.mark.parametrize("local_part", ["/abs/elsewhere", "../../escape", "..", "a/../../b", "x\\y", "nul\x00"])
def test_a_local_part_with_slashes_or_dots_cannot_place_mail_outside_the_users_id_folder(
    services: Services, tmp_path: Path, local_part: str
) -> None:
    victim = add_owner(services, "victim")
    services.store.deliver([victim], MESSAGE)
    before = everything_under(tmp_path)
    owner = add_owner(services, local_part)
    services.store.deliver([owner], MESSAGE)
    services.store.append(owner, "Sent", MESSAGE, ["\\Seen"])
    root = services.store.layout.users / str(owner.id)
    created = everything_under(tmp_path) - before
    assert created and all(p == root or root in p.parents for p in created), created - {root}
    assert not Path("/abs").exists() and not (tmp_path.parent / "escape").exists()
    services.store.remove_files(owner)
    assert everything_under(tmp_path) - before == set()  # only the id folder went
    assert len(services.store.messages(services.store.mailbox(victim, "INBOX"))) == 1
    assert [p.name for p in (services.store.layout.users / str(victim.id) / "new").iterdir()]


def test_renaming_a_folder_changes_no_path(services: Services) -> None:
    owner = add_owner(services, "renamer")
    services.store.create_mailbox(owner, "Projects")
    services.store.append(owner, "Projects", MESSAGE)
    folder = services.store.folder(owner, services.store.mailbox(owner, "Projects"))
    services.store.rename_mailbox(owner, "Projects", "Archive/2025")
    renamed = services.store.mailbox(owner, "Archive/2025")
    assert services.store.folder(owner, renamed) == folder and folder.name == f".~{renamed.id}"
    assert len(list((folder / "new").iterdir())) == 1


def test_a_folder_of_another_user_is_refused_whatever_the_caller_holds(services: Services) -> None:
    alice, mallory = add_owner(services, "alice2"), add_owner(services, "mallory")
    services.store.deliver([alice], MESSAGE)
    theirs = services.store.mailbox(alice, "INBOX")
    with pytest.raises(UnsafePath):
        services.store.folder(mallory, theirs)
    for attempt in (
        lambda: services.store.store_flags(mallory, theirs, [1], ["\\Deleted"], 1),
        lambda: services.store.expunge(mallory, theirs),
        lambda: services.store.copy(mallory, theirs, [1], "INBOX"),
        lambda: services.store.move(mallory, theirs, [1], "INBOX"),
    ):
        with pytest.raises(UnsafePath):
            attempt()
    [message] = services.store.messages(theirs)
    assert message.flags == frozenset() and (services.store.folder(alice, theirs) / message.filename).is_file()


def test_a_symbolic_link_planted_in_a_store_leads_nowhere(services: Services, tmp_path: Path) -> None:
    alice, mallory = add_owner(services, "alice3"), add_owner(services, "mallory3")
    services.store.deliver([alice], MESSAGE)
    services.store.create_mailbox(mallory, "Loot")
    loot = services.store.mailbox(mallory, "Loot")
    folder = services.store.folder(mallory, loot)
    os.rename(folder, tmp_path / "moved-away")
    folder.symlink_to(services.store.user_root(alice))  # a tampered data folder: Loot is alice's INBOX
    with pytest.raises(UnsafePath):
        services.store.folder(mallory, loot)
    services.store.reconcile()  # logs the folder and leaves it alone
    assert services.store.messages(loot) == []
    folder.unlink()
    outside = tmp_path / "outside"
    (outside / "cur").mkdir(parents=True)
    (outside / "cur" / "1.M1P1.x,S=3:2,").write_bytes(b"abc")
    os.rename(tmp_path / "moved-away", folder)
    (folder / "cur" / "1.M1P1.x,S=3:2,").symlink_to(outside / "cur" / "1.M1P1.x,S=3:2,")
    services.store.reconcile()
    assert services.store.messages(loot) == []  # a link in cur/ is no message


@pytest.mark.parametrize(
    "filename",
    ["../x", "new/../../x", "cur/../../../etc/passwd", "tmp/1.M1P1.x", "new/a/b", "cur/.hidden", "cur/..", "new/", "x"],
)
def test_message_file_names_from_the_index_are_checked(tmp_path: Path, filename: str) -> None:
    with pytest.raises(UnsafePath):
        message_file(tmp_path, filename)


def test_ids_must_be_positive_integers(tmp_path: Path) -> None:
    layout = MailLayout(tmp_path)
    for bad in ("../1", "1/../../x", -1, 0, True, 1.0):
        with pytest.raises(UnsafePath):
            layout.user_root(bad)  # type: ignore[arg-type]
        with pytest.raises(UnsafePath):
            layout.folder(1, bad, False)  # type: ignore[arg-type]
    assert layout.folder(7, 9, False) == tmp_path.resolve() / "users" / "7" / ".~9"
    assert layout.folder(7, 9, True) == tmp_path.resolve() / "users" / "7"


@settings(max_examples=200)
@given(st.text(max_size=40))
def test_inside_refuses_whatever_leads_out_of_the_root(tmp_path_factory: pytest.TempPathFactory, name: str) -> None:
    root = tmp_path_factory.getbasetemp() / "inside-root"
    candidate = root / name
    try:
        resolved = inside(root, candidate)
    except (UnsafePath, ValueError):  # ValueError: NUL in a path
        return
    assert resolved.is_relative_to(root.resolve()) and resolved != root.resolve()


@pytest.mark.parametrize("local_part", ["/abs/x", "../../escape", "a/../../../b", "x/y"])
def test_the_command_line_cannot_make_a_mailbox_whose_files_leave_the_data_folder(
    tmp_path: Path, local_part: str
) -> None:
    """Refused at the directory boundary (names), or stored under its id: either way nothing is created outside
    mail/users/<id>, and removing it removes nothing else."""
    daemon = make_daemon(tmp_path / "d", services=("imap",))
    victim = daemon.maildir(OWNER)
    kept = everything_under(victim)
    before = everything_under(tmp_path)
    address = f"{local_part}@example.test"
    added = daemon.cli("user", "add", address, "--password-stdin", stdin="a-long-enough-password-1\n", check=False)
    created = everything_under(tmp_path) - before
    assert not Path("/abs").exists()
    if added.returncode != 0:
        assert "not a valid" in added.stderr or "must not" in added.stderr, added.stderr
        assert created == set()
        return
    root = daemon.maildir(address)
    assert created and all(p == root or root in p.parents for p in created), created
    daemon.cli("user", "remove", address)
    assert everything_under(victim) == kept


def test_a_users_folder_linked_to_another_users_is_refused(services: Services, tmp_path: Path) -> None:
    alice, mallory = add_owner(services, "alice4"), add_owner(services, "mallory4")
    services.store.deliver([alice], MESSAGE)
    inbox = services.store.mailbox(mallory, "INBOX")
    root = services.store.user_root(mallory)
    os.rename(root, tmp_path / "mallory-away")
    root.symlink_to(services.store.user_root(alice))  # users/<mallory> -> users/<alice>: inside users/, not its own
    with pytest.raises(UnsafePath):
        services.store.folder(mallory, inbox)
    with pytest.raises(UnsafePath):
        services.store.remove_files(mallory)
    assert len(list((services.store.user_root(alice) / "new").iterdir())) == 1
