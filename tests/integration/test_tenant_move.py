"""Moving a business between servers (issue 17): `smb-suite tenant export TENANT FILE` on a daemon that keeps
serving, `tenant import FILE` into another daemon (a new data folder hosting another business, so every id differs);
what users had is there, as it was.

IMAP must show the same folders, messages, flags and keywords under the same UIDVALIDITY and UIDs (RFC 3501
2.3.1.1: a client keeps its cache only if both are unchanged), the old password must work (the argon2 hash moved
as it is), and the site, contacts, calendar and documents must be served.
"""

from __future__ import annotations

import imaplib
import smtplib
from pathlib import Path
from typing import Any

import httpx

from smb_suite.config import load as load_config
from smb_suite.directory.model import OPERATOR, Role
from smb_suite.ops import accounts, domains, tiers, users
from smb_suite.services import Services, initialise, open_services
from tests.daemon import DOMAIN, OWNER, OWNER_PASSWORD, Daemon, Daemons, write_config
from tests.integration.test_backup import uid_flags
from tests.integration.test_dav import business
from tests.mailtest import message
from tests.polling import wait_for

SERVICES = ("smtp", "imap", "http")
FOLDERS = ("INBOX", "Projects", "Projects/2026")
DEMO = (OWNER, OWNER_PASSWORD)
CONTACT = "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:ada\r\nFN:Ada Lovelace\r\nN:Lovelace;Ada;;;\r\nEND:VCARD\r\n"
EVENT = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//smb-suite tests//EN\r\nBEGIN:VEVENT\r\nUID:review@example.test\r\n"
    "DTSTAMP:20261201T090000Z\r\nDTSTART:20261210T140000Z\r\nDTEND:20261210T150000Z\r\nSUMMARY:Quarterly review\r\n"
    "END:VEVENT\r\nEND:VCALENDAR\r\n"
)


def other_daemon(folder: Path, extra_config: str = "", **options: Any) -> Daemon:
    """A server hosting another business only, so every id the import assigns differs from the source's."""
    folder.mkdir(parents=True, exist_ok=True)
    config = write_config(folder, extra_config, **options)
    initialise(load_config(config))

    def other_business(services: Services) -> None:
        domains.add_domain(services, OPERATOR, "other.test")
        users.add_user(services, OPERATOR, "bob@other.test", "bob of other, long secret", Role.OWNER)

    operator(Daemon(folder, config), other_business)
    return Daemon(folder, config)


def operator(server: Daemon, action: Any) -> Any:
    """A use case run as the operator against the server's data folder (in-process: a command line costs seconds
    of interpreter start-up on a busy machine; the export and import themselves run as the command line)."""
    services: Services = open_services(load_config(server.config))
    try:
        return action(services)
    finally:
        services.close()


def audited(server: Daemon) -> list[str]:
    return operator(server, lambda services: [entry.action for entry in services.audit.entries(OPERATOR)])


def dav(server: Daemon, method: str, path: str, **options: Any) -> httpx.Response:
    url = f"http://127.0.0.1:{server.ports['http']}{path}"
    return httpx.request(method, url, auth=DEMO, timeout=60, **options)


def site_home(server: Daemon) -> bytes:
    answer = httpx.get(f"http://127.0.0.1:{server.ports['http']}/", headers={"Host": DOMAIN}, timeout=30)
    assert answer.status_code == 200
    return answer.content


def seed(server: Daemon) -> None:
    """Mail in nested folders with flags and keywords (and a UID gap), an alias, a contact, an event, a document."""
    with smtplib.SMTP("127.0.0.1", server.ports["smtp"], timeout=30) as client:
        client.sendmail("someone@remote.example", [OWNER], message("delivered", OWNER, "someone@remote.example"))
    client = imaplib.IMAP4("127.0.0.1", server.ports["imap"], timeout=30)
    try:
        client.login(*DEMO)
        for folder in ("Projects", "Projects/2026"):
            assert client.create(folder)[0] == "OK"
        assert client.append("Projects", "(\\Seen)", None, message("plan", OWNER))[0] == "OK"
        for number in range(3):
            flags = "(\\Flagged $Important)" if number else "(\\Deleted)"
            assert client.append("Projects/2026", flags, None, message(f"budget {number}", OWNER))[0] == "OK"
        client.select("Projects/2026")
        assert client.expunge()[0] == "OK"  # UID 1 gone: the UIDs left are 2 and 3, kept as they are
        client.select("INBOX")
        assert client.uid("STORE", "1", "+FLAGS", "(\\Answered $Label1)")[0] == "OK"
    finally:
        client.logout()
    operator(server, lambda services: accounts.add_alias(services, OPERATOR, f"info@{DOMAIN}", OWNER))
    assert dav(server, "PROPFIND", "/dav/", headers={"Depth": "1"}).status_code == 207  # makes the collections
    team = business(server, DOMAIN)
    assert dav(server, "PUT", f"/dav/{team}/contacts/ada.vcf", content=CONTACT).status_code == 201
    assert dav(server, "PUT", f"/dav/{team}/team/review.ics", content=EVENT).status_code == 201
    assert dav(server, "PUT", "/dav/files/Shared/offer.txt", content=b"our offer\n").status_code == 201
    assert dav(server, "PUT", f"/dav/files/{OWNER}/notes.txt", content=b"mine\n").status_code == 201


def test_a_business_exported_while_serving_is_imported_on_another_server_under_new_ids_with_its_mail_uids_site_and_dav(
    fresh_daemon: Daemons, tmp_path: Path
) -> None:
    old = fresh_daemon(name="a", services=SERVICES)
    seed(old)
    before = uid_flags(old, FOLDERS)
    archive = tmp_path / "example.tar.zst"

    exported = old.cli("tenant", "export", DOMAIN, str(archive))  # the daemon serves meanwhile
    assert "exported example.test" in exported.stdout

    new = fresh_daemon(name="b", make=other_daemon, services=SERVICES)
    imported = new.cli("tenant", "import", str(archive))
    assert "imported example.test" in imported.stdout, imported.stdout + imported.stderr

    assert uid_flags(new, FOLDERS) == before  # same UIDVALIDITY, UIDs, flags, keywords; logged in with the old password
    assert set(before["Projects/2026"]) == {0, 2, 3}
    assert site_home(new) == site_home(old)
    team = business(new, DOMAIN)
    assert team != business(old, DOMAIN)  # new ids: the files were placed by them
    assert "Ada Lovelace" in dav(new, "GET", f"/dav/{team}/contacts/ada.vcf").text
    assert "Quarterly review" in dav(new, "GET", f"/dav/{team}/team/review.ics").text
    assert dav(new, "GET", "/dav/files/Shared/offer.txt").text == "our offer\n"
    assert dav(new, "GET", f"/dav/files/{OWNER}/notes.txt").text == "mine\n"
    assert operator(new, tiers.check_drift) == []  # what `quota check` reports

    with smtplib.SMTP("127.0.0.1", new.ports["smtp"], timeout=30) as client:  # the alias moved too
        client.sendmail("someone@remote.example", [f"info@{DOMAIN}"], message("to info", f"info@{DOMAIN}"))
    wait_for("the alias's mail in the owner's INBOX", lambda: len(uid_flags(new, ("INBOX",))["INBOX"]) == 3)

    assert "tenant.export" in audited(old)
    assert "tenant.import" in audited(new)
