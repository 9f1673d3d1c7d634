"""Projects in the admin UI are the business's CalDAV task lists, one source of truth: a task made on the pages is
what the python caldav client syncs (with a new sync token and ETag), a task a client writes is what the pages
show, a status changed on either side is seen on the other; the open tasks per person come overdue first;
another business's project is 404 and a business without the collaboration module has no projects at all."""

from __future__ import annotations

import html
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import caldav
import httpx
import pytest

from smb_suite.config import load as load_config
from smb_suite.directory.model import OPERATOR, Role
from smb_suite.ops import domains, tiers, users
from smb_suite.services import open_services
from tests.adminweb import (
    BOB,
    CUSTOMER_OWNER,
    PASSWORD,
    browser,
    csrf_token,
    make_admin_daemon,
    post,
    sign_in,
    signed_in,
)
from tests.daemon import OWNER, USER, USER_PASSWORD, Daemon

NODAV = "nora@nodav.test"
NODAV_TIER = '[tiers.nodav]\nstorage_mb = 50\nmodules = ["mail", "site"]\n'
TASK_LINK = re.compile(r'href="/admin/projects/[^/]+/tasks/([^"]+)">([^<]+)</a>')
CLIENT_TODO = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//smb-suite tests//EN
BEGIN:VTODO
UID:ladder-2026@example.test
DTSTAMP:20261201T090000Z
SUMMARY:Borrow a ladder
PRIORITY:2
DESCRIPTION:the tall one
ATTENDEE;CN=Bob:mailto:bob@example.test
END:VTODO
END:VCALENDAR
"""


def add_business_without_module(daemon: Daemon) -> None:
    services = open_services(load_config(daemon.config))
    try:
        domain = domains.add_domain(services, OPERATOR, "nodav.test")
        users.add_user(services, OPERATOR, NODAV, PASSWORD, Role.OWNER)
        tiers.set_tier(services, OPERATOR, domain.tenant_name, "nodav")
    finally:
        services.close()


pytestmark = [
    pytest.mark.daemon(
        NODAV_TIER, services=("http", "https"), make=make_admin_daemon, before_start=add_business_without_module
    ),
    pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning"),  # the test certificate
]


@pytest.fixture(scope="module")
def owner(server: Daemon) -> Iterator[httpx.Client]:
    client = signed_in(server, "owner")
    yield client
    client.close()


@pytest.fixture(scope="module")
def project(owner: httpx.Client) -> str:
    """The id of a project the owner of example.test made on the pages."""
    form = owner.get("/admin/projects/")
    made = owner.post("/admin/projects/", data={"csrf": csrf_token(form), "name": "Kitchen remodel"})
    assert made.status_code == 303 and "done=project-created" in made.headers["location"]
    page = owner.get(made.headers["location"])
    assert "Kitchen remodel" in page.text
    return made.headers["location"].split("/")[3]


def caldav_client(server: Daemon, address: str, password: str) -> caldav.DAVClient:
    url = f"https://127.0.0.1:{server.ports['https']}/dav/"
    return caldav.DAVClient(url=url, username=address, password=password, ssl_verify_cert=False)


def task_list(client: caldav.DAVClient, name: str) -> caldav.Calendar:
    return next(calendar for calendar in client.principal().calendars() if calendar.get_display_name() == name)


def add_task(client: httpx.Client, project: str, **fields: str) -> httpx.Response:
    return post(client, f"/admin/projects/{project}/tasks", {"priority": "normal", **fields})


def tasks_shown(client: httpx.Client, path: str) -> dict[str, str]:
    """Title -> item name of the tasks a page lists."""
    return {title: href for href, title in TASK_LINK.findall(client.get(path).text)}


def test_a_task_made_on_the_pages_syncs_to_a_caldav_client_and_back(
    server: Daemon, owner: httpx.Client, project: str
) -> None:
    with caldav_client(server, USER, USER_PASSWORD) as alice:
        kitchen = task_list(alice, "Kitchen remodel")
        shown = owner.get(f"/admin/projects/{project}/").text  # the address to give Outlook or Thunderbird
        assert f"https://mail.example.test:{server.ports['https']}{urlsplit(str(kitchen.url)).path}<" in shown
        synced = kitchen.objects_by_sync_token(load_objects=True)
        added = add_task(owner, project, title="Order tiles", assignee=USER, due="2026-12-20", priority="high")
        assert added.status_code == 303 and "done=task-added" in added.headers["location"]
        updated, deleted = synced.sync()  # a new sync token lists the page's task
        assert [item.icalendar_component["SUMMARY"] for item in updated] == ["Order tiles"] and not deleted
        todo = updated[0].icalendar_component
        assert str(todo["SUMMARY"]) == "Order tiles" and int(todo["PRIORITY"]) == 1
        assert str(todo["ATTENDEE"]) == f"mailto:{USER}" and todo["DUE"].dt.isoformat() == "2026-12-20"
        assert "ORGANIZER" not in todo  # nobody is sent an invitation

        href = tasks_shown(owner, f"/admin/projects/{project}/")["Order tiles"]
        changed = post(owner, f"/admin/projects/{project}/tasks/{href}/status", {"status": "IN-PROCESS"})
        assert changed.status_code == 303
        updated, _ = synced.sync()
        assert str(updated[0].icalendar_component["STATUS"]) == "IN-PROCESS"

        kitchen.todo_by_uid(str(todo["UID"])).complete()  # the phone ticks it off
        done = owner.get(f"/admin/projects/{project}/", params={"status": "COMPLETED"}).text
        assert "Order tiles" in done and 'data-status="COMPLETED"' in done
        assert "Order tiles" not in owner.get(f"/admin/projects/{project}/").text  # open tasks only, by default
    server.cli("quota", "check")


def test_a_task_a_caldav_client_writes_shows_on_the_pages_and_an_edit_keeps_what_the_pages_do_not_show(
    server: Daemon, owner: httpx.Client, project: str
) -> None:
    with caldav_client(server, USER, USER_PASSWORD) as alice:
        kitchen = task_list(alice, "Kitchen remodel")
        kitchen.save_todo(CLIENT_TODO)
        page = owner.get(f"/admin/projects/{project}/", params={"assignee": BOB}).text
        assert "Borrow a ladder" in page and "High" in page  # PRIORITY:2 is high
        href = tasks_shown(owner, f"/admin/projects/{project}/")["Borrow a ladder"]
        form = owner.get(f"/admin/projects/{project}/tasks/{href}")
        found = re.search(r'name="etag" value="([^"]+)"', form.text)
        assert found is not None
        etag = html.unescape(found.group(1))
        fields = {"title": "Borrow the tall ladder", "assignee": BOB, "due": "", "priority": "high", "etag": etag}
        saved = post(owner, f"/admin/projects/{project}/tasks/{href}", {**fields, "status": "NEEDS-ACTION"})
        assert saved.status_code == 303, saved.text[:500]
        todo = kitchen.todo_by_uid("ladder-2026@example.test")
        data = todo.data
        assert "SUMMARY:Borrow the tall ladder" in data and "PRIORITY:2" in data and "DESCRIPTION:the tall one" in data
        todo.icalendar_component["SUMMARY"] = "Borrow two ladders"
        todo.save()  # meanwhile, on a phone
        stale = post(owner, f"/admin/projects/{project}/tasks/{href}", {**fields, "status": "COMPLETED"})
        assert stale.status_code == 409 and "Borrow two ladders" in stale.text
        assert "STATUS:COMPLETED" not in kitchen.todo_by_uid("ladder-2026@example.test").data


def test_open_tasks_per_person_come_overdue_first_across_projects(owner: httpx.Client, project: str) -> None:
    for title, assignee, due in (
        ("Paint the wall", USER, "2099-01-01"),
        ("Pay the plumber", USER, "2020-01-01"),
        ("Sweep", "", ""),
    ):
        add_task(owner, project, title=title, assignee=assignee, due=due)
    add_task(owner, "tasks", title="Renew the lease", assignee=USER, due="2030-01-01")  # the default list
    page = owner.get("/admin/tasks/").text
    alice = page[page.index(f">{USER} <") : page.index("Nobody yet")]
    order = [title for title in ("Pay the plumber", "Renew the lease", "Paint the wall") if title in alice]
    assert order == sorted(order, key=alice.index) and len(order) == 3
    assert "overdue" in alice[: alice.index("Renew the lease")]
    assert "Sweep" in page[page.index("Nobody yet") :]


def test_another_business_gets_404_for_our_projects_and_tasks(
    server: Daemon, owner: httpx.Client, project: str
) -> None:
    add_task(owner, project, title="Count the spoons")
    href = tasks_shown(owner, f"/admin/projects/{project}/")["Count the spoons"]
    with browser(server) as other:
        assert sign_in(other, CUSTOMER_OWNER, PASSWORD).status_code == 303
        assert "Kitchen remodel" not in other.get("/admin/projects/").text
        assert "Count the spoons" not in other.get("/admin/tasks/").text
        assert other.get(f"/admin/projects/{project}/").status_code == 404
        assert other.get(f"/admin/projects/{project}/tasks/{href}").status_code == 404
        for path, fields in (
            (f"/admin/projects/{project}/tasks", {"title": "intruder"}),
            (f"/admin/projects/{project}/tasks/{href}/status", {"status": "CANCELLED"}),
            (f"/admin/projects/{project}/tasks/{href}/delete", {}),
            (f"/admin/projects/{project}/rename", {"name": "mine now"}),
        ):
            assert post(other, path, fields).status_code == 404, path
    assert "Count the spoons" in owner.get(f"/admin/projects/{project}/").text
    assert "Kitchen remodel" in owner.get("/admin/projects/").text


def test_archived_projects_leave_the_lists_but_keep_syncing(server: Daemon, owner: httpx.Client) -> None:
    made = post(owner, "/admin/projects/", {"name": "Old fair"})
    project = made.headers["location"].split("/")[3]
    add_task(owner, project, title="Return the stand", assignee=OWNER)
    assert post(owner, f"/admin/projects/{project}/archive", {"archived": "1"}).status_code == 303
    listing = owner.get("/admin/projects/").text
    assert "Old fair" in listing[listing.index("Archived projects") :]
    assert "Return the stand" not in owner.get("/admin/tasks/").text
    with caldav_client(server, USER, USER_PASSWORD) as alice:
        assert any("Return the stand" in todo.data for todo in task_list(alice, "Old fair").todos())


def test_a_business_without_the_collaboration_module_has_no_projects_and_no_menu_entry(
    server: Daemon, owner: httpx.Client
) -> None:
    with browser(server) as nora:
        assert sign_in(nora, NODAV, PASSWORD).status_code == 303
        assert "/admin/projects/" not in nora.get("/admin/").text
        assert nora.get("/admin/projects/").status_code == 404
        assert nora.get("/admin/tasks/").status_code == 404
        assert post(nora, "/admin/projects/", {"name": "sneaky"}).status_code == 404
    assert "/admin/projects/" in owner.get("/admin/").text


def test_vdirsyncer_syncs_a_project_both_ways(server: Daemon, owner: httpx.Client, tmp_path: Path) -> None:
    made = post(owner, "/admin/projects/", {"name": "Synced"})
    project = made.headers["location"].split("/")[3]
    address = re.search(r'id="project-url">([^<]+)<', owner.get(f"/admin/projects/{project}/").text)
    assert address is not None
    local = tmp_path / "tasks"
    local.mkdir()
    (local / "laptop.ics").write_text(CLIENT_TODO.replace("ladder-2026", "laptop-2026").replace("ladder", "laptop"))
    config = tmp_path / "config"
    config.write_text(
        f'[general]\nstatus_path = "{tmp_path}/status/"\n\n'
        '[pair tasks]\na = "local"\nb = "server"\ncollections = null\n\n'
        f'[storage local]\ntype = "filesystem"\npath = "{local}/"\nfileext = ".ics"\n\n'
        f'[storage server]\ntype = "caldav"\nurl = "https://localhost:{server.ports["https"]}/dav/'
        f'{address.group(1).split("/dav/", 1)[1]}"\nusername = "{USER}"\npassword = "{USER_PASSWORD}"\n'
        f'verify = "{server.folder / "data" / "tls" / "cert.pem"}"\n'  # the daemon's own, for localhost too
    )

    def vdirsyncer(*args: str) -> None:
        result = subprocess.run(["vdirsyncer", "-c", str(config), *args], capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stdout + result.stderr

    vdirsyncer("discover")
    vdirsyncer("sync")
    assert "Borrow a laptop" in owner.get(f"/admin/projects/{project}/").text  # up from the laptop
    add_task(owner, project, title="Charge the laptop", assignee=USER)
    vdirsyncer("sync")
    assert any("SUMMARY:Charge the laptop" in path.read_text() for path in local.glob("*.ics"))  # down to it
