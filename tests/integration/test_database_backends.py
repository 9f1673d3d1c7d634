"""The daemon on each database backend (`[database] url`: SQLite, PostgreSQL from tests/pgserver.py): mail in over
SMTP, read over IMAP (and heard by an IDLE session), the quota, the outbound queue, a backup and its restore."""

from __future__ import annotations

import imaplib
import re
import secrets
import smtplib
from pathlib import Path

import pytest
import sqlalchemy as sa

from smb_suite.storage import database, db
from tests.daemon import USER, USER_PASSWORD, Daemon, make_daemon, run_cli, write_config
from tests.imapwire import Wire
from tests.mailtest import free_port, maildir, message, send_inbound, submit
from tests.pgserver import Postgres
from tests.polling import wait_for

PARTNER = "partner.test"
BOB = f"bob@{PARTNER}"
MINI_TIER = '[tiers.mini]\nstorage_mb = 1\n[quota]\ndefault_tier = "mini"\n'


@pytest.fixture(scope="module")
def partner(tmp_path_factory: pytest.TempPathFactory) -> Daemon:
    """The rest of the internet: B, hosting partner.test on SQLite, receiving what the queue sends."""
    port = free_port()
    b = make_daemon(tmp_path_factory.mktemp("partner"), services=("smtp",), ports={"smtp": port})
    b.cli("domain", "add", PARTNER)
    b.cli("user", "add", BOB, "--password-stdin", stdin="bob-password-1\n")
    yield b.start()
    b.stop()


@pytest.fixture(scope="module")
def server(module_database: str, partner: Daemon, tmp_path_factory: pytest.TempPathFactory) -> Daemon:
    outbound = (
        '[outbound]\nsmarthost = "127.0.0.1:9"\nretry_schedule = ["1s"]\nscan_interval = "1s"\n'
        f'[outbound.routes]\n"{PARTNER}" = "127.0.0.1:{partner.ports["smtp"]}"\n'
    )
    config = f'[database]\nurl = "{module_database}"\n{MINI_TIER}{outbound}'
    daemon = make_daemon(tmp_path_factory.mktemp("daemon"), config)
    yield daemon.start()
    daemon.stop()


def test_mail_delivered_over_smtp_is_read_back_over_imap(server: Daemon, module_database: str) -> None:
    subject = f"backend {secrets.token_hex(4)}"
    sent = message(subject, USER, sender="zoe@remote.example")
    send_inbound(server, "zoe@remote.example", [USER], sent)
    with imaplib.IMAP4("127.0.0.1", server.ports["imap"]) as client:
        client.login(USER, USER_PASSWORD)
        client.select("INBOX")
        _, found = client.uid("SEARCH", "SUBJECT", f'"{subject}"')
        _, data = client.uid("FETCH", found[0].split()[-1], "(BODY.PEEK[])")
    assert data[0][1].endswith(sent)
    engine = database.create_engine(module_database)  # the index is in the configured database, not a file beside
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(db.messages)).scalar_one() >= 1
    engine.dispose()
    if not module_database.startswith("sqlite"):
        assert not (server.folder / "data" / "smb-suite.db").exists()


def test_an_idle_session_hears_of_new_mail(server: Daemon) -> None:
    with Wire(server, user=USER, password=USER_PASSWORD) as idler:
        idler.ok("SELECT INBOX")
        idler.send(b"idle IDLE\r\n")
        assert idler.response().startswith(b"+")
        send_inbound(server, "zoe@remote.example", [USER], message("while idling", USER, "zoe@remote.example"))
        assert any(b"EXISTS" in line for line in idler.wait_for(b"EXISTS"))
        idler.send(b"DONE\r\n")
        assert idler.until(b"idle")[-1] == b"idle OK IDLE terminated\r\n"


def quota_reply(server: Daemon, data: bytes) -> int:
    """Deliver to alice over the inbound port; the reply code to RCPT if refused there, else to DATA."""
    with smtplib.SMTP("127.0.0.1", server.ports["smtp"], timeout=60) as client:
        client.ehlo("remote.example")
        client.mail("zoe@remote.example")
        code, _ = client.rcpt(USER)
        return code if code != 250 else client.data(data)[0]


def test_a_message_over_the_quota_is_refused_and_expunging_makes_room(server: Daemon) -> None:
    big = b"Subject: big\r\n\r\n" + (b"y" * 998 + b"\r\n") * 300  # 300 KB of a 1 MB tier
    accepted = 0
    while (code := quota_reply(server, big)) == 250:
        accepted += 1
    assert code in (452, 552) and 1 <= accepted <= 4
    with imaplib.IMAP4("127.0.0.1", server.ports["imap"]) as client:
        client.login(USER, USER_PASSWORD)
        client.select("INBOX")
        client.store("1:*", "+FLAGS", "\\Deleted")
        assert client.expunge()[0] == "OK"
    assert quota_reply(server, big) == 250


def test_submitted_mail_to_a_remote_domain_is_delivered_once_by_the_queue(server: Daemon, partner: Daemon) -> None:
    subject = f"queued {secrets.token_hex(4)}"
    submit(server, [BOB], message(subject, BOB))
    wait_for("the partner to receive the message", lambda: any(subject.encode() in m for m in maildir(partner, BOB)))
    wait_for("the queue to empty", lambda: "0 message(s) in the queue" in server.cli("queue", "list").stdout)
    assert sum(subject.encode() in m for m in maildir(partner, BOB)) == 1


def test_two_daemons_sharing_a_postgresql_database_hear_each_others_deliveries(
    postgres: Postgres, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Two nodes, one PostgreSQL index and one storage folder: an IDLE session on one hears mail delivered through
    the other (LISTEN/NOTIFY, storage/pgbus.py), and reads it."""
    url = postgres.create_database(migrated=True)
    first = make_daemon(tmp_path_factory.mktemp("node1"), f'[database]\nurl = "{url}"\n').start()
    folder = tmp_path_factory.mktemp("node2")
    (folder / "data").symlink_to(first.folder / "data")  # the shared file system of a cluster
    second = Daemon(folder, write_config(folder, f'[database]\nurl = "{url}"\n')).start()
    try:
        with Wire(second, user=USER, password=USER_PASSWORD) as idler:
            idler.ok("SELECT INBOX")
            idler.send(b"idle IDLE\r\n")
            assert idler.response().startswith(b"+")
            sent = message("through the other node", USER, "zoe@remote.example")
            send_inbound(first, "zoe@remote.example", [USER], sent)
            assert any(b"1 EXISTS" in line for line in idler.wait_for(b"EXISTS"))
            idler.send(b"DONE\r\n")
            idler.until(b"idle")
            assert idler.ok("FETCH 1 BODY.PEEK[]")[0].endswith(sent + b")\r\n")
    finally:
        second.stop()
        first.stop()


def test_a_backup_taken_while_serving_verifies_and_restores_into_a_new_server(
    server: Daemon, backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """SQLite: the online backup API; PostgreSQL: pg_dump of an exported snapshot (docs/ARCHITECTURE.md)."""
    subject = f"backed up {secrets.token_hex(4)}"
    send_inbound(server, "zoe@remote.example", [USER], message(subject, USER, "zoe@remote.example"))
    dest = tmp_path / "backups"
    taken = server.cli("backup", str(dest))
    assert "database schema" in taken.stdout
    assert "is intact" in server.cli("backup", "verify", str(dest)).stdout
    folder = tmp_path / "restored"
    folder.mkdir()
    url = request.getfixturevalue("postgres").create_database() if backend == "postgresql" else ""
    config = write_config(folder, f'[database]\nurl = "{url}"\n' if url else "")
    run_cli(config, "restore", str(dest))
    restored = Daemon(folder, config).start()
    try:
        with imaplib.IMAP4("127.0.0.1", restored.ports["imap"]) as client:
            client.login(USER, USER_PASSWORD)
            client.select("INBOX")
            _, found = client.uid("SEARCH", "SUBJECT", f'"{subject}"')
        assert found[0].split()
    finally:
        restored.stop()


def test_a_message_whose_subject_decodes_to_a_nul_is_stored_and_found(server: Daemon) -> None:
    """An encoded word may decode to NUL (RFC 2047 allows =00), which PostgreSQL text cannot hold: the index keeps
    U+FFFD in its place, the message file keeps every byte."""
    subject = f"nul {secrets.token_hex(4)}"
    sent = f"From: zoe@remote.example\r\nTo: {USER}\r\nSubject: {subject} =?utf-8?q?a=00b?=\r\n\r\nbody\r\n".encode()
    send_inbound(server, "zoe@remote.example", [USER], sent)
    with imaplib.IMAP4("127.0.0.1", server.ports["imap"]) as client:
        client.login(USER, USER_PASSWORD)
        client.select("INBOX")
        _, found = client.uid("SEARCH", "SUBJECT", f'"{subject}"')
        _, data = client.uid("FETCH", found[0].split()[-1], "(BODY.PEEK[])")
    assert data[0][1].endswith(sent)


def test_two_workers_on_the_backend_send_each_queued_message_exactly_once(
    backend: str, partner: Daemon, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Both workers scan the queue; each message is claimed by one (SKIP LOCKED on PostgreSQL)."""
    url = request.getfixturevalue("postgres").create_database(migrated=True) if backend == "postgresql" else ""
    route = '[outbound]\nsmarthost = "127.0.0.1:9"\nretry_schedule = ["1s"]\nscan_interval = "1s"\n'
    route += f'[outbound.routes]\n"{PARTNER}" = "127.0.0.1:{partner.ports["smtp"]}"\n'
    database = f'[database]\nurl = "{url}"\n' if url else ""
    daemon = make_daemon(tmp_path / "workers", database + route, services=("submission",), workers=2).start()
    try:
        tag = secrets.token_hex(4)
        for n in range(20):
            submit(daemon, [BOB], message(f"{tag} once {n}", BOB))
        wanted = sorted(f"{tag} once {n}".encode() for n in range(20))

        def arrived() -> list[bytes]:
            return sorted(
                m[1]
                for m in re.finditer(rb"Subject: (" + tag.encode() + rb" once \d+)", b"".join(maildir(partner, BOB)))
            )

        wait_for("20 messages at the partner", lambda: len(arrived()) >= 20)
        wait_for("the queue to empty", lambda: "0 message(s) in the queue" in daemon.cli("queue", "list").stdout)
        assert arrived() == wanted
    finally:
        daemon.stop()
