"""A new version started on the data folder of the last release migrates it and keeps everything: mail with its
UIDs, UIDVALIDITY, flags and keywords, folders and subscriptions, the owner's password, aliases and the site.

The folder (tests/releases/release-0.1.0.tar.gz) was made by release 0.1.0's own CLI and daemon with real clients
(tests/releases/make_release_data.py); what it holds is in the .json beside it."""

from __future__ import annotations

import email
import imaplib
import json
import re
import smtplib
import tarfile
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from alembic.config import Config as AlembicConfig
from alembic.script import ScriptDirectory

from smb_suite.config import load as load_config
from smb_suite.storage import database, db
from tests.daemon import Daemon, Daemons, run_cli, write_config
from tests.mailtest import message
from tests.polling import wait_for

RELEASE = Path(__file__).resolve().parents[1] / "releases" / "release-0.1.0.tar.gz"
EXPECTED = json.loads(RELEASE.with_suffix("").with_suffix(".json").read_text())
OWNER, PASSWORD = EXPECTED["owner"], EXPECTED["password"]


def release_daemon(folder: Path, extra_config: str = "", **options: object) -> Daemon:
    """The released data folder under a configuration of today's version (nothing prepared: it is all there)."""
    folder.mkdir(parents=True, exist_ok=True)
    config = write_config(folder, extra_config, **options)  # type: ignore[arg-type]
    with tarfile.open(RELEASE) as archive:
        archive.extractall(folder, filter="data")
    return Daemon(folder, config)


@pytest.fixture(scope="module")
def upgraded(start_daemon: Daemons) -> Daemon:
    return start_daemon(make=release_daemon, name="upgraded")


def schema_revision(daemon: Daemon) -> str:
    engine = database.create_engine(load_config(daemon.config).database_url)
    try:
        with engine.connect() as conn:
            return str(conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one())
    finally:
        engine.dispose()


def head_revision() -> str:
    scripts = AlembicConfig()
    scripts.set_main_option("script_location", str(Path(db.__file__).parent / "migrations"))
    head = ScriptDirectory.from_config(scripts).get_current_head()
    assert head is not None
    return head


def test_the_released_folder_is_migrated_to_the_current_schema(upgraded: Daemon) -> None:
    assert schema_revision(upgraded) == head_revision()
    assert run_cli(upgraded.config, "quota", "check").returncode == 0


def test_every_message_keeps_its_uid_uidvalidity_and_flags(upgraded: Daemon) -> None:
    with imaplib.IMAP4("127.0.0.1", upgraded.ports["imap"], timeout=30) as imap:
        imap.starttls()
        imap.login(OWNER, PASSWORD)
        for name, folder in EXPECTED["folders"].items():
            imap.select(f'"{name}"')
            assert int(imap.response("UIDVALIDITY")[1][0]) == folder["uidvalidity"], name
            _, data = imap.uid("FETCH", "1:*", "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
            found = {}
            for item in data:
                if isinstance(item, tuple):
                    uid = re.search(rb"UID (\d+)", item[0])
                    flags = re.search(rb"FLAGS \(([^)]*)\)", item[0])
                    assert uid and flags
                    listed = sorted(flag.decode() for flag in flags[1].split() if flag != rb"\Recent")
                    subject = email.message_from_bytes(item[1])["Subject"]
                    found[uid[1].decode()] = {"subject": subject, "flags": listed}
            assert found == folder["messages"], name
        _, subscribed = imap.lsub()
        assert sorted(line.decode().rpartition(" ")[2].strip('"') for line in subscribed) == EXPECTED["subscribed"]


def test_new_mail_to_the_released_alias_gets_the_next_uid(upgraded: Daemon) -> None:
    with smtplib.SMTP("127.0.0.1", upgraded.ports["smtp"], timeout=30) as smtp:
        smtp.sendmail(
            "client@elsewhere.example",
            ["info@example.test"],
            message("After the upgrade", to=OWNER, sender="client@elsewhere.example"),
        )
    with imaplib.IMAP4("127.0.0.1", upgraded.ports["imap"], timeout=30) as imap:
        imap.starttls()
        imap.login(OWNER, PASSWORD)
        imap.select("INBOX")

        def newest_uid() -> int:
            imap.noop()
            _, data = imap.uid("SEARCH", "SUBJECT", '"After the upgrade"')
            return int(data[0]) if data[0] else 0

        last_released = max(int(uid) for uid in EXPECTED["folders"]["INBOX"]["messages"])
        assert wait_for("the new message", newest_uid, 30) > last_released


def test_the_released_site_is_still_served(upgraded: Daemon) -> None:
    page = httpx.get(f"http://127.0.0.1:{upgraded.ports['http']}/", headers={"Host": "example.test"}, timeout=30)
    assert page.status_code == 200 and "<html" in page.text.lower()
