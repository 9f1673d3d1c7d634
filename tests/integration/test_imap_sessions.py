"""IMAP over time: new mail reaches an idling client, sessions see each other's changes when RFC 3501 allows,
UIDs survive a restart, and passwords need TLS unless the client is on loopback."""

from __future__ import annotations

import asyncio
import secrets
import smtplib
import time
from collections.abc import Callable

import aioimaplib
import pytest

from tests.daemon import OWNER, OWNER_PASSWORD, Daemon
from tests.imapwire import Wire, untagged
from tests.integration.test_imap import connect, new_folder, plain
from tests.mailtest import imap_logout, insecure_context

DEADLINE = 30.0


pytestmark = pytest.mark.daemon(services=("smtp", "imap", "imaps"))


def test_idling_client_hears_of_mail_delivered_over_smtp(server: Daemon) -> None:
    subject = f"idle {secrets.token_hex(4)}"

    async def idle_until_exists() -> list[bytes]:
        client = aioimaplib.IMAP4_SSL("127.0.0.1", server.ports["imaps"], ssl_context=insecure_context())
        await client.wait_hello_from_server()
        await client.login(OWNER, OWNER_PASSWORD)
        selected = await client.select("INBOX")
        before = next(int(line.split()[0]) for line in selected.lines if line.endswith(b"EXISTS"))
        idle = await client.idle_start(timeout=DEADLINE)
        message = plain(subject)
        await asyncio.to_thread(smtp_send, server, message)
        pushed: list[bytes] = []
        deadline = time.monotonic() + DEADLINE
        while f"{before + 1} EXISTS".encode() not in pushed and time.monotonic() < deadline:
            pushed.extend(await client.wait_server_push(timeout=deadline - time.monotonic()))
        client.idle_done()
        await asyncio.wait_for(idle, DEADLINE)
        await imap_logout(client)
        return pushed

    assert any(line.endswith(b" EXISTS") for line in asyncio.run(idle_until_exists()))


def smtp_send(daemon: Daemon, message: bytes) -> None:
    with smtplib.SMTP("127.0.0.1", daemon.ports["smtp"], timeout=DEADLINE) as client:
        assert client.sendmail("alice@remote.example", [OWNER], message) == {}


def test_other_sessions_expunge_is_reported_at_noop_not_during_fetch(server: Daemon) -> None:
    with connect(server) as watcher, connect(server) as actor:
        folder = new_folder(actor)
        for n in range(3):
            actor.append(folder, None, None, plain(f"x{n}"))
        watcher.select(folder)
        actor.select(folder)
        actor.store("2", "+FLAGS", "(\\Deleted)")
        actor.expunge()
        _, data = watcher.fetch("1:*", "(UID)")  # RFC 3501 7.4.1: no EXPUNGE while answering FETCH
        assert watcher.response("EXPUNGE") == ("EXPUNGE", [None])
        assert b"1 (UID 1)" in data
        watcher.noop()
        assert watcher.response("EXPUNGE") == ("EXPUNGE", [b"2"])
        _, data = watcher.fetch("1:*", "(UID)")
        assert data == [b"1 (UID 1)", b"2 (UID 3)"]


def test_other_sessions_flag_change_is_reported(server: Daemon) -> None:
    with connect(server) as watcher, connect(server) as actor:
        folder = new_folder(actor)
        actor.append(folder, None, None, plain("flag me"))
        watcher.select(folder)
        actor.select(folder)
        actor.store("1", "+FLAGS", "(\\Flagged)")
        watcher.noop()
        assert watcher.response("FETCH") == ("FETCH", [b"1 (FLAGS (\\Flagged \\Recent))"])  # watcher selected first


def test_uidvalidity_and_uids_survive_a_restart(fresh_daemon: Callable[..., Daemon]) -> None:
    daemon = fresh_daemon()

    def state() -> tuple[bytes, list[bytes]]:
        with connect(daemon) as client:
            client.select("Archive")
            uidvalidity = client.response("UIDVALIDITY")[1][0]
            _, uids = client.uid("SEARCH", "ALL")
        return uidvalidity, uids

    with connect(daemon) as client:
        for n in range(3):
            client.append("Archive", None, None, plain(f"keep {n}"))
        client.select("Archive")
        client.store("1", "+FLAGS", "(\\Deleted)")
        client.expunge()
    before = state()
    daemon.restart()
    assert state() == before == (before[0], [b"2 3"])


def expunge_first_of_three(watcher: Wire, actor: Wire, subject: str) -> str:
    """A new folder of three messages, both sessions in it, the actor expunges the first; return its name."""
    folder = f"S{secrets.token_hex(4)}"
    actor.ok(f"CREATE {folder}")
    for n in range(3):
        actor.append(folder, plain(f"{subject}{n}"))
    watcher.ok(f"SELECT {folder}")
    actor.ok(f"SELECT {folder}")
    actor.ok("STORE 1 +FLAGS.SILENT (\\Deleted)")
    actor.ok("EXPUNGE")
    return folder


def test_no_expunge_is_sent_during_store_or_search_only_after(server: Daemon) -> None:
    with Wire(server) as watcher, Wire(server) as actor:
        expunge_first_of_three(watcher, actor, "s")
        assert untagged(watcher.ok("STORE 3 +FLAGS (\\Seen)"), b"EXPUNGE") == []
        assert untagged(watcher.ok("SEARCH ALL"), b"SEARCH") == [b"* SEARCH 1 2 3"]  # still its old numbering
        lines = watcher.ok("UID SEARCH ALL")  # a UID command may carry it (RFC 3501 7.4.1)
        assert untagged(lines, b"EXPUNGE") == [b"* 1 EXPUNGE"]
        assert untagged(lines, b"SEARCH") == [b"* SEARCH 2 3"]


def test_a_pending_expunge_never_shifts_the_numbers_a_copy_used(server: Daemon) -> None:
    with Wire(server) as watcher, Wire(server) as actor:
        target = f"D{secrets.token_hex(4)}"
        actor.ok(f"CREATE {target}")
        expunge_first_of_three(watcher, actor, "copy")
        lines = watcher.ok(f"COPY 3 {target}")  # 3 is still "copy2" for the watcher
        assert untagged(lines, b"EXPUNGE") == [b"* 1 EXPUNGE"]
        actor.ok(f"SELECT {target}")
        assert b"Subject: copy2" in actor.ok("FETCH 1 BODY.PEEK[HEADER.FIELDS (SUBJECT)]")[0]


def test_an_idling_session_hears_flag_changes_at_once(server: Daemon) -> None:
    with Wire(server) as idler, Wire(server) as actor:
        folder = f"I{secrets.token_hex(4)}"
        actor.ok(f"CREATE {folder}")
        actor.append(folder, plain("watched"))
        idler.ok(f"SELECT {folder}")
        idler.send(b"idle IDLE\r\n")
        assert idler.response().startswith(b"+")
        actor.ok(f"SELECT {folder}")
        actor.ok("STORE 1 +FLAGS (\\Flagged)")
        assert b"* 1 FETCH (FLAGS (\\Flagged \\Recent))\r\n" in idler.wait_for(b"FETCH")  # idler selected first
        idler.send(b"DONE\r\n")
        assert idler.until(b"idle")[-1] == b"idle OK IDLE terminated\r\n"


def test_a_folder_selected_again_shows_every_change_made_while_nobody_had_it_open(server: Daemon) -> None:
    """The server keeps a left folder's state to catch it up at the next SELECT: it must never show a stale one."""
    with connect(server) as first, connect(server) as other:
        folder = new_folder(first)
        first.append(folder, "(\\Seen)", None, plain("one"))
        for n in (2, 3):
            first.append(folder, None, None, plain(f"m{n}"))
        first.select(folder)
        first.unselect()
        other.append(folder, None, None, plain("four"))  # nobody has the folder selected now
        other.select(folder)
        other.store("2", "+FLAGS", "(\\Deleted)")
        other.expunge()
        other.store("1", "+FLAGS", "(\\Flagged)")
        other.unselect()
        assert first.select(folder) == ("OK", [b"3"])
        _, data = first.fetch("1:*", "(UID FLAGS)")
        assert data == [b"1 (UID 1 FLAGS (\\Flagged \\Seen))", b"2 (UID 3 FLAGS ())", b"3 (UID 4 FLAGS ())"]
        _, validity = first.response("UIDVALIDITY")
        first.unselect()
        renamed = f"{folder}-renamed"
        assert other.rename(folder, renamed)[0] == "OK"
        assert first.select(folder)[0] == "NO"
        assert first.select(renamed) == ("OK", [b"3"])
        first.unselect()
        assert other.delete(renamed)[0] == "OK"
        assert other.create(renamed)[0] == "OK"
        other.append(renamed, None, None, plain("anew"))
        assert first.select(renamed) == ("OK", [b"1"])
        assert first.response("UIDVALIDITY")[1] != validity
