"""A folder deleted and created again (by the same user or by another) is a new folder: new UIDVALIDITY, no old
messages, no stale flags, STATUS and SELECT agree; kept folder states never outlive a DELETE or RENAME, and a
random mix of concurrent folder and message operations by several users always leaves each user exactly its
own messages (issue 11, "IMAP folder state reused across folders and users")."""

from __future__ import annotations

import imaplib
import random
import re
import threading
from pathlib import Path

import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from smb_suite.config import load as load_config
from smb_suite.directory.model import OPERATOR
from smb_suite.ops import tenants, users
from smb_suite.services import open_services
from tests.daemon import OWNER, OWNER_PASSWORD, USER, USER_PASSWORD, Daemon

BOB, CAROL, PASSWORD = "bob@example.test", "carol@other.test", "a-long-enough-password-1"
ACCOUNTS = {OWNER: OWNER_PASSWORD, USER: USER_PASSWORD, BOB: PASSWORD, CAROL: PASSWORD}
_STATUS = re.compile(rb"\((.*)\)")


def add_accounts(daemon: Daemon) -> None:
    services = open_services(load_config(daemon.config))
    try:
        users.add_user(services, OPERATOR, BOB, PASSWORD)
        tenants.create_tenant(services, OPERATOR, "Other business", "other.test", CAROL, PASSWORD)
    finally:
        services.close()


pytestmark = pytest.mark.daemon(services=("imap",), before_start=add_accounts)


def login(server: Daemon, address: str) -> imaplib.IMAP4:
    client = imaplib.IMAP4("127.0.0.1", server.ports["imap"])
    client.login(address, ACCOUNTS[address])
    return client


def message(subject: str) -> bytes:
    return f"From: x@remote.example\r\nSubject: {subject}\r\n\r\nbody of {subject}\r\n".encode()


def status(client: imaplib.IMAP4, folder: str) -> dict[str, int]:
    typ, data = client.status(folder, "(MESSAGES UIDNEXT UIDVALIDITY UNSEEN)")
    assert typ == "OK", data
    match = _STATUS.search(data[0])  # type: ignore[arg-type]
    assert match is not None
    words = match.group(1).decode().split()
    return {words[i]: int(words[i + 1]) for i in range(0, len(words), 2)}


def contents(client: imaplib.IMAP4, folder: str) -> dict[str, frozenset[str]]:
    """Subject -> flags of every message, read from a fresh SELECT (\\Recent left out)."""
    typ, data = client.select(folder)
    assert typ == "OK", (folder, data)
    typ, data = client.uid("FETCH", "1:*", "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    assert typ == "OK", data
    found: dict[str, frozenset[str]] = {}
    for item in data:
        if isinstance(item, tuple):
            flags = re.search(rb"FLAGS \(([^)]*)\)", item[0])
            assert flags is not None, item
            subject = item[1].decode().split("Subject: ", 1)[1].strip()
            found[subject] = frozenset(flags.group(1).decode().split()) - {"\\Recent"}
    return found


def uids(client: imaplib.IMAP4) -> list[int]:
    """The UIDs of the selected folder."""
    typ, data = client.uid("SEARCH", "ALL")
    assert typ == "OK", data
    return [int(uid) for uid in data[0].split()]


@pytest.mark.parametrize("watching", [False, True], ids=["state kept unused", "state shown by a session"])
def test_a_folder_deleted_and_created_again_is_a_new_empty_folder(server: Daemon, watching: bool) -> None:
    client, watcher = login(server, OWNER), login(server, OWNER)
    try:
        assert client.delete("Reused")[0] in ("OK", "NO")  # left by the other parameter
        assert client.create("Reused")[0] == "OK"
        for n in range(5):
            client.append("Reused", "(\\Flagged)" if n % 2 else None, None, message(f"old {n}"))
        client.select("Reused")
        client.store("2", "+FLAGS", "(\\Deleted)")
        client.expunge()  # UIDs 1, 3, 4, 5 left, some \Flagged
        if watching:
            watcher.select("Reused")  # a session that stays on the old folder through the DELETE
        client.select("INBOX")  # the state of Reused is kept after the last session left it
        before = status(client, "Reused")
        assert client.delete("Reused")[0] == "OK"
        assert client.create("Reused")[0] == "OK"
        after = status(client, "Reused")
        assert after["MESSAGES"] == 0 and after["UIDNEXT"] == 1 and after["UNSEEN"] == 0
        assert after["UIDVALIDITY"] > before["UIDVALIDITY"]
        # as many new messages as the old folder had: a kept state of the old one would look in step
        assert before["MESSAGES"] == 4
        new = {f"new {n}": frozenset() for n in range(4)}
        for subject in new:
            client.append("Reused", None, None, message(subject))
        assert contents(client, "Reused") == new
        assert uids(client) == [1, 2, 3, 4]
        assert status(client, "Reused") == {**after, "MESSAGES": 4, "UIDNEXT": 5, "UNSEEN": 4}
        watcher.noop()
        assert contents(watcher, "Reused") == new  # selecting again shows the new folder
    finally:
        client.logout()
        watcher.logout()


@pytest.mark.parametrize("other", [USER, CAROL], ids=["same business", "other business"])
def test_another_user_creating_a_folder_after_a_delete_never_sees_the_first_users_messages(
    server: Daemon, other: str
) -> None:
    first, second = login(server, OWNER), login(server, other)
    name = f"Gone{other[:3]}"
    try:
        assert first.create(name)[0] == "OK"
        for n in range(3):
            first.append(name, "(\\Flagged \\Seen)", None, message(f"secret {n}"))
        first.select(name)
        first.select("INBOX")  # kept state of the folder
        assert first.delete(name)[0] == "OK"
        assert second.create("Fresh" + name)[0] == "OK"
        assert contents(second, "Fresh" + name) == {}
        second.select("INBOX")
        typ, data = second.uid("FETCH", "1:*", "(FLAGS RFC822.SIZE)")
        assert typ == "OK" and data == [None]
        mine = {f"mine {n}": frozenset() for n in range(3)}  # as many as the deleted folder had
        for subject in mine:
            second.append("Fresh" + name, None, None, message(subject))
        assert contents(second, "Fresh" + name) == mine
        typ, _ = second.uid("STORE", "1:3", "+FLAGS", "(\\Flagged)")
        assert typ == "OK"
        assert contents(second, "Fresh" + name) == {subject: frozenset({"\\Flagged"}) for subject in mine}
        folder = server.maildir(other, "Fresh" + name)
        assert folder.parent == server.maildir(other) and len(list((folder / "cur").iterdir())) == 3
    finally:
        first.logout()
        second.logout()


def test_a_renamed_folder_keeps_its_messages_and_its_old_name_starts_empty(server: Daemon) -> None:
    client = login(server, BOB)
    try:
        assert client.create("Before/Child")[0] == "OK"
        client.append("Before/Child", "(\\Flagged)", None, message("moved along"))
        assert contents(client, "Before/Child") == {"moved along": frozenset({"\\Flagged"})}
        client.select("INBOX")
        assert client.rename("Before", "After")[0] == "OK"
        assert contents(client, "After/Child") == {"moved along": frozenset({"\\Flagged"})}
        assert client.select("Before/Child")[0] == "NO"
        assert client.create("Before/Child")[0] == "OK"
        assert contents(client, "Before/Child") == {}
    finally:
        client.logout()


# -- the property: each user sees exactly its own messages -------------------------------------------------


class UserModel:
    """One user's folders as the model says they must be: name -> subject -> flags (INBOX left out)."""

    def __init__(self, server: Daemon, address: str, prefix: str, rng: random.Random) -> None:
        self.server, self.address, self.rng = server, address, rng
        self.names = [f"{prefix}A", f"{prefix}B", f"{prefix}A/s", f"{prefix}C"]
        self.folders: dict[str, dict[str, frozenset[str]]] = {}
        self.counter = 0
        self.log: list[str] = []

    def token(self) -> str:
        self.counter += 1
        return f"{self.address}-n{self.counter}."

    def _parents(self, name: str) -> None:
        parts = name.split("/")
        for depth in range(1, len(parts)):
            self.folders.setdefault("/".join(parts[:depth]), {})

    def step(self, writer: imaplib.IMAP4, reader: imaplib.IMAP4) -> None:
        op = self.rng.choice(
            ["create", "delete", "rename", "recreate", "append", "append", "modify", "modify", "status"]
        )
        name = self.rng.choice(self.names)
        self.log.append(f"{op} {name}")
        if op == "create":
            typ, _ = writer.create(name)
            assert typ == ("NO" if name in self.folders else "OK"), self.log
            self._parents(name)
            self.folders.setdefault(name, {})
        elif op == "delete":
            has_children = any(other.startswith(name + "/") for other in self.folders)
            typ, _ = writer.delete(name)
            assert typ == ("OK" if name in self.folders and not has_children else "NO"), self.log
            if typ == "OK":
                del self.folders[name]
        elif op == "rename":
            target = self.rng.choice(self.names)
            self.log[-1] += f" -> {target}"
            possible = (
                name in self.folders
                and target not in self.folders
                and target != name
                and not target.startswith(name + "/")
            )
            typ, _ = writer.rename(name, target)
            assert typ == ("OK" if possible else "NO"), self.log
            if possible:
                moving = [n for n in self.folders if n == name or n.startswith(name + "/")]
                self._parents(target)
                for old in moving:
                    self.folders[target + old[len(name) :]] = self.folders.pop(old)
        elif op == "append":
            subject, flags = self.token(), frozenset(self.rng.sample(["\\Flagged", "\\Seen", "$Work"], 1))
            typ, _ = writer.append(name, f"({' '.join(flags)})", None, message(subject))
            assert typ == ("OK" if name in self.folders else "NO"), self.log
            if typ == "OK":
                self.folders[name][subject] = flags
        elif op == "modify":
            if name not in self.folders:
                assert reader.select(name)[0] == "NO", self.log
                return
            self.check(reader, name)  # reader now has it selected (its state stays kept after it leaves)
            if self.folders[name]:
                subject = self.rng.choice(sorted(self.folders[name]))
                typ, data = reader.uid("SEARCH", "SUBJECT", f'"{subject}"')
                assert typ == "OK" and data[0], (self.log, data)
                uid = data[0].split()[-1].decode()
                flag = self.rng.choice(["\\Flagged", "\\Deleted"])
                assert reader.uid("STORE", uid, "+FLAGS", f"({flag})")[0] == "OK", self.log
                if flag == "\\Deleted":
                    assert reader.expunge()[0] == "OK"
                    del self.folders[name][subject]
                else:
                    self.folders[name][subject] |= {flag}
        elif op == "recreate":  # DELETE and CREATE with a state of the old folder kept, as many messages again
            if name not in self.folders or any(other.startswith(name + "/") for other in self.folders):
                return
            self.check(reader, name)
            assert reader.select("INBOX")[0] == "OK"
            assert writer.delete(name)[0] == "OK" and writer.create(name)[0] == "OK", self.log
            count = len(self.folders[name]) or self.rng.randint(1, 3)
            self.folders[name] = {}
            for _ in range(count):
                subject = self.token()
                assert writer.append(name, None, None, message(subject))[0] == "OK", self.log
                self.folders[name][subject] = frozenset()
            self.check(reader, name)
        elif op == "status":
            if name in self.folders:
                assert status(writer, name)["MESSAGES"] == len(self.folders[name]), self.log
            else:
                assert writer.status(name, "(MESSAGES)")[0] == "NO", self.log

    def check(self, client: imaplib.IMAP4, name: str) -> None:
        seen = contents(client, name)
        assert all(subject.startswith(self.address + "-") for subject in seen), (self.address, seen, self.log)
        assert seen == self.folders[name], (self.address, name, self.log)

    def check_all(self, client: imaplib.IMAP4) -> None:
        typ, listed = client.list('""', f"{self.names[0][:-1]}*")
        assert typ == "OK"
        names = {line.decode().rsplit(' "/" ', 1)[1].strip('"') for line in listed if isinstance(line, bytes)}
        assert names == set(self.folders), (names, self.log)
        for name in self.folders:
            self.check(client, name)


def run_user(server: Daemon, model: UserModel, steps: int, failures: list[BaseException]) -> None:
    writer, reader = login(server, model.address), login(server, model.address)
    try:
        for _ in range(steps):
            model.step(writer, reader)
        model.check_all(writer)
    except BaseException as error:  # noqa: BLE001 - handed to the test's thread
        failures.append(error)
    finally:
        writer.logout()
        reader.logout()


_examples = iter(range(1_000_000))
STEPS = 60


@settings(max_examples=4, deadline=None, database=None, phases=[Phase.generate])
@given(seed=st.integers(0, 2**32 - 1))
def test_concurrent_users_creating_deleting_renaming_folders_each_see_exactly_their_own_messages(
    server: Daemon, seed: int
) -> None:
    prefix = f"p{next(_examples)}"
    models = [UserModel(server, address, prefix, random.Random(seed + n)) for n, address in enumerate(ACCOUNTS)]
    failures: list[BaseException] = []
    threads = [threading.Thread(target=run_user, args=(server, model, STEPS, failures)) for model in models]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not any(thread.is_alive() for thread in threads), "a client hung"
    if failures:
        raise failures[0]
    for model in models:  # and nothing of one user's ever lies in another's store on disk
        for name in model.folders:
            folder: Path = server.maildir(model.address, name)
            assert folder.parent == server.maildir(model.address)
            for file in (p for sub in ("new", "cur") for p in (folder / sub).iterdir()):
                assert model.address.encode() + b"-" in file.read_bytes()
