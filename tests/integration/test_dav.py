"""Contacts, calendars, tasks and documents over CalDAV, CardDAV and WebDAV, as real clients use them: the python
caldav library, vdirsyncer, curl and cadaver; each business sees only its own (404 otherwise), a write that does
not fit the tier gets 507 and changes nothing, and a business without the collaboration module has no DAV."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import caldav
import httpx
import pytest
import sqlalchemy as sa

from smb_suite.config import load as load_config
from smb_suite.dav.layout import DavLayout
from smb_suite.directory.model import OPERATOR, Role
from smb_suite.ops import domains, tiers, users
from smb_suite.services import open_services
from smb_suite.storage import database, db
from tests.daemon import OWNER, OWNER_PASSWORD, USER, USER_PASSWORD, Daemon, Daemons

TIERS = """
[tiers.starter]
storage_mb = 50
[tiers.plus]
storage_mb = 100
[tiers.tiny]
storage_mb = 1
[tiers.nodav]
storage_mb = 50
modules = ["mail", "site"]
"""
OTHER = ("bob@other.test", "bob of other, long secret")
TINY = ("tina@tiny.test", "tina of tiny, long secret")
NODAV = ("nora@nodav.test", "nora of nodav, long secret")
EVENT = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//smb-suite tests//EN
BEGIN:VEVENT
UID:review-2026@example.test
DTSTAMP:20261201T090000Z
DTSTART:20261210T140000Z
DTEND:20261210T150000Z
SUMMARY:Quarterly review
END:VEVENT
END:VCALENDAR
"""
TODO = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//smb-suite tests//EN
BEGIN:VTODO
UID:paper-2026@example.test
DTSTAMP:20261201T090000Z
DUE:20261215T170000Z
SUMMARY:Order paper
STATUS:NEEDS-ACTION
END:VTODO
END:VCALENDAR
"""


WIN32_PROPS = (
    '<?xml version="1.0" encoding="utf-8"?><D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:schemas-microsoft-com:">'
    "<D:set><D:prop><Z:Win32CreationTime>Tue, 01 Dec 2026 08:00:00 GMT</Z:Win32CreationTime>"
    "<Z:Win32LastAccessTime>Tue, 01 Dec 2026 08:00:00 GMT</Z:Win32LastAccessTime>"
    "<Z:Win32LastModifiedTime>Tue, 01 Dec 2026 08:00:00 GMT</Z:Win32LastModifiedTime>"
    "<Z:Win32FileAttributes>00000020</Z:Win32FileAttributes></D:prop></D:set></D:propertyupdate>"
)


def vcard(uid: str, name: str) -> str:
    lines = ("BEGIN:VCARD", "VERSION:3.0", f"UID:{uid}", f"FN:{name}", f"N:{name};;;;", f"EMAIL:{uid}@client.test")
    return "\r\n".join((*lines, "END:VCARD", ""))


def add_businesses(daemon: Daemon) -> None:
    """Three more businesses beside example.test: other.test, tiny.test on a 1 MiB tier, nodav.test without the
    collaboration module."""
    services = open_services(load_config(daemon.config))
    try:
        for (address, password), tier in ((OTHER, "starter"), (TINY, "tiny"), (NODAV, "nodav")):
            domain = domains.add_domain(services, OPERATOR, address.partition("@")[2])
            users.add_user(services, OPERATOR, address, password, Role.OWNER)
            tiers.set_tier(services, OPERATOR, domain.tenant_name, tier)
    finally:
        services.close()


pytestmark = pytest.mark.daemon(TIERS, services=("smtp", "imap", "http"), before_start=add_businesses)


def url(server: Daemon, path: str = "/dav/") -> str:
    return f"http://127.0.0.1:{server.ports['http']}{path}"


def dav(server: Daemon, method: str, path: str, account: tuple[str, str], **options: object) -> httpx.Response:
    return httpx.request(method, url(server, path), auth=account, timeout=60, **options)  # type: ignore[arg-type]


def business(server: Daemon, domain: str) -> str:
    """The business's principal in DAV paths: t<tenant id>."""
    engine = database.create_engine(load_config(server.config).database_url)
    try:
        with engine.connect() as conn:
            tenant = conn.execute(sa.select(db.domains.c.tenant_id).where(db.domains.c.name == domain)).scalar_one()
    finally:
        engine.dispose()
    return f"t{tenant}"


def no_drift(server: Daemon) -> None:
    result = server.cli("quota", "check", check=False)
    assert result.returncode == 0, result.stdout + result.stderr


ALICE = (USER, USER_PASSWORD)
DEMO = (OWNER, OWNER_PASSWORD)


def test_caldav_client_saves_an_event_and_a_todo_that_a_colleague_reads_back(server: Daemon) -> None:
    with caldav.DAVClient(url=url(server), username=USER, password=USER_PASSWORD) as client:
        calendars = {calendar.get_display_name(): calendar for calendar in client.principal().calendars()}
        assert {"Team", "Tasks", "Personal calendar"} <= set(calendars)
        calendars["Team"].add_event(EVENT)
        calendars["Tasks"].add_todo(TODO)
    with caldav.DAVClient(url=url(server), username=OWNER, password=OWNER_PASSWORD) as client:
        calendars = {calendar.get_display_name(): calendar for calendar in client.principal().calendars()}
        assert any("Quarterly review" in event.data for event in calendars["Team"].events())
        assert any("Order paper" in todo.data for todo in calendars["Tasks"].todos())
        assert not calendars["Personal calendar"].events()  # alice's own calendar is not the owner's
    no_drift(server)


def test_vdirsyncer_syncs_the_business_contacts_both_ways(server: Daemon, tmp_path: Path) -> None:
    local = tmp_path / "contacts"
    local.mkdir()
    (local / "ada.vcf").write_text(vcard("ada", "Ada Lovelace"))
    collection = url(server, f"/dav/{business(server, 'example.test')}/contacts/")
    config = tmp_path / "config"
    config.write_text(
        f'[general]\nstatus_path = "{tmp_path}/status/"\n\n'
        '[pair contacts]\na = "local"\nb = "server"\ncollections = null\nconflict_resolution = "a wins"\n\n'
        f'[storage local]\ntype = "filesystem"\npath = "{local}/"\nfileext = ".vcf"\n\n'
        f'[storage server]\ntype = "carddav"\nurl = "{collection}"\nusername = "{USER}"\npassword = "{USER_PASSWORD}"\n'
    )

    def vdirsyncer(*args: str) -> None:
        result = subprocess.run(["vdirsyncer", "-c", str(config), *args], capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stdout + result.stderr

    vdirsyncer("discover")
    vdirsyncer("sync")
    listing = dav(
        server, "PROPFIND", f"/dav/{business(server, 'example.test')}/contacts/", DEMO, headers={"Depth": "1"}
    )
    stored = [href for href in re.findall(r"<href>([^<]+\.vcf)</href>", listing.text)]
    assert len(stored) == 1
    assert "Ada Lovelace" in dav(server, "GET", stored[0], DEMO).text  # the owner sees what alice's laptop sent
    put = dav(
        server,
        "PUT",
        stored[0].rsplit("/", 1)[0] + "/grace.vcf",
        DEMO,
        content=vcard("grace", "Grace Hopper"),
        headers={"Content-Type": "text/vcard"},
    )
    assert put.status_code == 201
    vdirsyncer("sync")
    assert any("Grace Hopper" in path.read_text() for path in local.glob("*.vcf"))
    no_drift(server)


def test_curl_puts_gets_lists_moves_locks_sets_windows_times_and_deletes_documents(
    server: Daemon, tmp_path: Path
) -> None:
    document = tmp_path / "minutes.txt"
    document.write_bytes(b"minutes of the meeting\n" * 100)
    base = url(server, "/dav/files/")
    auth = f"{USER}:{USER_PASSWORD}"

    def curl(*args: str) -> tuple[int, str]:
        result = subprocess.run(
            ["curl", "-s", "-u", auth, "-w", "\\n%{http_code}", *args], capture_output=True, text=True, timeout=60
        )
        body, _, code = result.stdout.rpartition("\n")
        return int(code), body

    assert curl("-T", str(document), base + "Shared/minutes.txt")[0] == 201
    assert curl(base + "Shared/minutes.txt") == (200, document.read_text())
    code, listing = curl("-X", "PROPFIND", "-H", "Depth: 1", base)
    assert code == 207 and "/dav/files/Shared/" in listing and f"/dav/files/{USER.replace('@', '%40')}/" in listing
    mine = base + USER.replace("@", "%40") + "/"
    assert curl("-X", "MOVE", "-H", f"Destination: {mine}minutes.txt", base + "Shared/minutes.txt")[0] == 201
    assert curl(base + "Shared/minutes.txt")[0] == 404
    lock = (
        '<?xml version="1.0"?><lockinfo xmlns="DAV:"><lockscope><exclusive/></lockscope><locktype><write/></locktype>'
        "<owner>alice</owner></lockinfo>"
    )
    result = subprocess.run(
        [
            "curl",
            "-s",
            "-i",
            "-u",
            auth,
            "-X",
            "LOCK",
            "-H",
            "Timeout: Second-600",
            "--data",
            lock,
            mine + "minutes.txt",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    token = re.search(r"(?im)^lock-token: <([^>]+)>", result.stdout)
    assert token is not None, result.stdout
    colleague = f"{OWNER}:{OWNER_PASSWORD}"
    assert curl("-T", str(document), mine + "minutes.txt")[0] == 423  # locked: a PUT without the token is refused
    assert curl("-T", str(document), "-H", f"If: (<{token.group(1)}>)", mine + "minutes.txt")[0] == 204
    assert curl("-X", "UNLOCK", "-H", f"Lock-Token: <{token.group(1)}>", mine + "minutes.txt")[0] == 204
    code, patched = curl("-X", "PROPPATCH", "-H", "Content-Type: text/xml", "--data", WIN32_PROPS, mine + "minutes.txt")
    assert code == 207 and "200 OK" in patched and "403" not in patched  # what Windows Explorer sets after a copy
    code, found = curl("-X", "PROPFIND", "-H", "Depth: 0", mine + "minutes.txt")
    assert code == 207 and "Tue, 01 Dec 2026 08:00:00 GMT" in found  # Win32LastModifiedTime is the file's mtime
    owner_view = subprocess.run(
        ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-u", colleague, mine + "minutes.txt"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert owner_view.stdout == "404"  # a colleague never sees alice's private folder
    assert curl("-X", "DELETE", mine + "minutes.txt")[0] == 204
    no_drift(server)


def test_cadaver_session_makes_a_folder_uploads_moves_locks_and_fetches_documents(
    server: Daemon, tmp_path: Path
) -> None:
    (tmp_path / ".netrc").write_text(f"machine 127.0.0.1 login {USER} password {USER_PASSWORD}\n")
    (tmp_path / "offer.txt").write_text("our offer\n")
    result = subprocess.run(
        ["cadaver", url(server, "/dav/files/Shared/")],
        input=(
            "mkcol Offers\nput offer.txt Offers/offer.txt\nmove Offers/offer.txt Offers/final.txt\n"
            "lock Offers/final.txt\nunlock Offers/final.txt\nget Offers/final.txt back.txt\n"
            f"cd ../{USER}/\nput offer.txt\nls\nquit\n"
        ),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    assert "failed" not in result.stdout and "offer.txt" in result.stdout, result.stdout + result.stderr
    assert (tmp_path / "back.txt").read_text() == "our offer\n"
    assert dav(server, "GET", "/dav/files/Shared/Offers/final.txt", DEMO).text == "our offer\n"
    assert dav(server, "GET", f"/dav/files/{USER}/offer.txt", DEMO).status_code == 404  # alice's own folder
    assert shutil.which("cadaver")


@pytest.mark.parametrize(
    "path",
    [
        "/dav/{business}/",
        "/dav/{business}/team/",
        "/dav/{business}/contacts/",
        "/dav/{business}/team/review-2026.ics",
        "/dav/{user}/",
        "/dav/{user}/calendar/",
    ],
)
def test_another_business_gets_404_on_our_calendars_and_contacts(server: Daemon, path: str) -> None:
    target = path.format(business=business(server, "example.test"), user="u2")
    for method in ("PROPFIND", "GET", "PUT", "DELETE"):
        answer = dav(server, method, target, OTHER, content=EVENT if method == "PUT" else None)
        assert answer.status_code == 404, (method, answer.status_code, answer.text)


def test_another_business_gets_404_on_our_documents_and_its_own_shared_folder(server: Daemon) -> None:
    assert dav(server, "PUT", "/dav/files/Shared/plan.txt", ALICE, content=b"our plan").status_code == 201
    assert dav(server, "GET", "/dav/files/Shared/plan.txt", OTHER).status_code == 404
    assert dav(server, "GET", f"/dav/files/{USER}/", OTHER).status_code == 404
    assert dav(server, "PROPFIND", f"/dav/files/{USER}/", DEMO).status_code == 404  # a colleague's private folder
    moved = dav(
        server,
        "MOVE",
        "/dav/files/Shared/plan.txt",
        ALICE,
        headers={"Destination": url(server, f"/dav/{business(server, 'other.test')}/contacts/plan.txt")},
    )
    assert moved.status_code == 404
    assert dav(server, "GET", "/dav/files/Shared/plan.txt", ALICE).text == "our plan"


def test_a_write_beyond_the_tier_gets_507_and_changes_nothing_with_or_without_a_length(server: Daemon) -> None:
    listing = dav(server, "PROPFIND", "/dav/files/Shared/", TINY, headers={"Depth": "0"})
    free = int(re.search(r"quota-available-bytes>(\d+)<", listing.text).group(1))  # type: ignore[union-attr]
    assert dav(server, "PUT", "/dav/files/Shared/big.bin", TINY, content=b"x" * (free + 1)).status_code == 507

    def chunks() -> object:
        yield b"y" * (free + 1)

    assert dav(server, "PUT", "/dav/files/Shared/big.bin", TINY, content=chunks()).status_code == 507  # no length
    assert dav(server, "GET", "/dav/files/Shared/big.bin", TINY).status_code == 404
    assert dav(server, "PUT", "/dav/files/Shared/filler.bin", TINY, content=b"z" * (free - 100)).status_code == 201
    saved_again = dav(server, "PUT", "/dav/files/Shared/filler.bin", TINY, content=b"w" * (free - 100))
    assert saved_again.status_code == 204  # what a document replaces is counted: saving it again always fits
    team = f"/dav/{business(server, 'tiny.test')}/team/"
    assert dav(server, "PROPFIND", team, TINY, headers={"Depth": "0"}).status_code == 207
    assert (
        dav(
            server, "PUT", team + "review.ics", TINY, content=EVENT, headers={"Content-Type": "text/calendar"}
        ).status_code
        == 507
    )

    def event() -> object:  # a chunked body (curl -T -): Radicale is handed it with its length
        yield EVENT.encode()

    assert dav(server, "PUT", team + "review.ics", TINY, content=event()).status_code == 507
    whole = dav(server, "PUT", team, TINY, content=EVENT, headers={"Content-Type": "text/calendar"})
    assert whole.status_code == 507  # a whole calendar PUT at once (RFC 4791 has none; Radicale takes it) too
    assert dav(server, "GET", team + "review.ics", TINY).status_code == 404
    assert dav(server, "DELETE", "/dav/files/Shared/filler.bin", TINY).status_code == 204
    assert dav(server, "PUT", team + "review.ics", TINY, content=event()).status_code == 201
    assert "Quarterly review" in dav(server, "GET", team + "review.ics", TINY).text
    no_drift(server)


def test_quota_check_sees_documents_written_behind_the_servers_back(server: Daemon) -> None:
    tenant = int(business(server, "other.test").removeprefix("t"))
    services = open_services(load_config(server.config))
    stray = DavLayout(services.config.server.data_dir).shared(tenant) / "stray.bin"
    stray.parent.mkdir(parents=True, exist_ok=True)
    stray.write_bytes(b"s" * 5000)
    try:  # tiers.check_drift is what `quota check` runs and prints (no_drift runs the command itself)
        assert [(drift.tenant, drift.difference) for drift in tiers.check_drift(services)] == [("other.test", -5000)]
        stray.unlink()
        assert tiers.check_drift(services) == []
    finally:
        stray.unlink(missing_ok=True)
        services.close()


@pytest.mark.parametrize("path", ["/dav/", "/dav/files/", "/dav/files/Shared/", "/dav/{business}/team/"])
def test_a_business_without_the_collaboration_module_gets_404(server: Daemon, path: str) -> None:
    target = path.format(business=business(server, "nodav.test"))
    assert dav(server, "PROPFIND", target, NODAV, headers={"Depth": "1"}).status_code == 404


def test_wrong_password_gets_401_and_well_known_and_root_redirect_to_dav(server: Daemon) -> None:
    assert dav(server, "PROPFIND", "/dav/", (USER, "wrong")).status_code == 401
    assert httpx.request("PROPFIND", url(server)).status_code == 401
    for name in ("caldav", "carddav"):
        answer = httpx.get(url(server, f"/.well-known/{name}"))
        assert (answer.status_code, answer.headers["location"]) == (301, "/dav/")
        hosted = httpx.get(url(server, f"/.well-known/{name}"), headers={"Host": "example.test"})
        assert hosted.headers["location"].endswith("/dav/")
    root = dav(server, "PROPFIND", "/", ALICE, headers={"Depth": "0"})  # an app given only our name finds /dav/
    assert (root.status_code, root.headers["location"]) == (301, "/dav/")


def test_dns_records_tell_calendar_apps_where_dav_is_only_with_the_module(server: Daemon) -> None:
    zone = server.cli("dns", "example.test").stdout
    assert re.search(r"_caldavs\._tcp\.example\.test\.\s+3600\s+IN\s+SRV\s+0 1 \d+ mail\.example\.test\.", zone)
    assert re.search(r'_carddavs\._tcp\.example\.test\.\s+3600\s+IN\s+TXT\s+"path=/dav/"', zone)
    assert "_caldav" not in server.cli("dns", "nodav.test").stdout


def test_removing_a_user_removes_and_frees_its_own_calendar_contacts_and_documents(server: Daemon) -> None:
    leaver = ("leo@other.test", "leo of other, long secret")
    server.cli("user", "add", leaver[0], "--password-stdin", stdin=f"{leaver[1]}\n")
    assert dav(server, "PUT", f"/dav/files/{leaver[0]}/notes.txt", leaver, content=b"n" * 5000).status_code == 201
    home = dav(server, "PROPFIND", "/dav/", leaver, headers={"Depth": "0"}).text
    principal = re.search(r"<current-user-principal><href>(/dav/u\d+/)</href>", home).group(1)  # type: ignore[union-attr]
    put = dav(
        server,
        "PUT",
        principal + "calendar/review.ics",
        leaver,
        content=EVENT,
        headers={"Content-Type": "text/calendar"},
    )
    assert put.status_code == 201
    assert dav(server, "PUT", "/dav/files/Shared/kept.txt", leaver, content=b"kept").status_code == 201
    server.cli("user", "remove", leaver[0])
    data = server.folder / "data"
    user_id = principal.strip("/").removeprefix("dav/u")
    assert not list(data.glob(f"dav/*/collection-root/u{user_id}")) and not list(data.glob(f"files/*/users/{user_id}"))
    assert dav(server, "GET", "/dav/files/Shared/kept.txt", OTHER).text == "kept"  # the business keeps its own
    no_drift(server)


def test_a_lock_holds_on_every_worker_process(start_daemon: Daemons) -> None:
    """Locks live in the database: with two workers, each PUT (a new connection, either worker) without the lock
    token is refused and each with it is accepted."""
    server = start_daemon(TIERS, name="workers", services=("smtp", "imap", "http"), workers=2)
    path = "/dav/files/Shared/offer.odt"
    assert dav(server, "PUT", path, ALICE, content=b"v1").status_code == 201
    lock = (
        '<?xml version="1.0"?><lockinfo xmlns="DAV:"><lockscope><exclusive/></lockscope>'
        "<locktype><write/></locktype><owner>alice</owner></lockinfo>"
    )
    locked = dav(server, "LOCK", path, ALICE, content=lock, headers={"Timeout": "Second-600"})
    assert locked.status_code == 200, locked.text
    token = locked.headers["lock-token"]
    for attempt in range(6):
        assert dav(server, "PUT", path, DEMO, content=b"theirs").status_code == 423
        assert (
            dav(server, "PUT", path, ALICE, content=b"v%d" % attempt, headers={"If": f"({token})"}).status_code == 204
        )
    assert dav(server, "UNLOCK", path, ALICE, headers={"Lock-Token": token}).status_code == 204
    assert dav(server, "PUT", path, DEMO, content=b"after").status_code == 204
