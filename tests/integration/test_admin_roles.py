"""Roles are enforced in the core: every admin route tried by every role; only the allowed ones succeed.

Roles: nobody (no session), a user, the owner of example.test, the partner agency.test (its customer
client-co) and the operator. A refusal is 403 with our page (303 to the sign-in page for nobody on a GET).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from smb_suite import config
from smb_suite.auth.recovery import CONFIRM
from smb_suite.dav import cards
from smb_suite.directory.model import OPERATOR as CLI
from smb_suite.directory.model import Principal, Role
from smb_suite.errors import PermissionDenied
from smb_suite.ops import contacts, tenants, tiers, users
from smb_suite.services import open_services
from smb_suite.web.app import AdminRoute, create_app
from tests.adminweb import BOB, CUSTOMER, CUSTOMER_OWNER, ROLES, browser, csrf_token, make_admin_daemon, signed_in
from tests.daemon import DOMAIN, Daemon

WEB = ("http", "https")
EVERYONE = frozenset(ROLES)
MANAGERS = frozenset({"owner", "operator"})
STEWARDS = frozenset({"partner", "operator"})
MEMBERS = MANAGERS | {"user"}  # the business's contacts: its users too (ops/contacts.py)
CRM = f"/admin/business/{DOMAIN}/contacts/"
GETS = [
    ("/admin/account", EVERYONE),
    ("/admin/account/mobileconfig", EVERYONE),
    (f"/admin/business/{DOMAIN}/", MANAGERS),
    (f"/admin/business/{CUSTOMER}/", STEWARDS),
    ("/admin/business/ops.test/", frozenset({"operator"})),
    (f"/admin/domains/{DOMAIN}/", MANAGERS),
    (f"/admin/domains/{DOMAIN}/zone", MANAGERS),
    ("/admin/domains/client.test/", STEWARDS),
    ("/admin/audit/", frozenset({"owner", "partner", "operator"})),
    (f"/admin/sites/{DOMAIN}/", MANAGERS),
    ("/admin/sites/client.test/", STEWARDS),
    ("/admin/sites/", MANAGERS | {"partner"}),
    (f"/admin/sites/{DOMAIN}/preview/", MANAGERS),
    ("/admin/", EVERYONE | {"nobody"}),  # nobody: the sign-in page
    ("/admin/statement?partner=agency.test", STEWARDS),  # a partner always gets its own
    ("/admin/statement.csv?partner=agency.test", STEWARDS),
    ("/admin/billing", frozenset({"operator"})),
    ("/admin/brand?partner=agency.test", STEWARDS),  # a partner always gets its own
    # Projects: every user reaches its own business's task lists ("tasks" is each one's default, "matrix.ics" is
    # put in each by the victims fixture); another business's project is 404 (test_projects).
    ("/admin/projects/", EVERYONE),
    ("/admin/tasks/", EVERYONE),
    ("/admin/projects/tasks/", EVERYONE),
    ("/admin/projects/tasks/tasks/matrix.ics", EVERYONE),
    # Calendars: everyone's own business's "Team" and its own calendar (all tiers here have the module)
    ("/admin/calendar/", EVERYONE),
    ("/admin/calendar/team/", EVERYONE),
    ("/admin/calendar/personal/?view=week", EVERYONE),
    ("/admin/calendar/team/new?day=2026-05-04", EVERYONE),
    (CRM, MEMBERS),
    (CRM + "new", MEMBERS),
    (CRM + "matrix.vcf", MEMBERS),
    (CRM + "export?format=csv", MEMBERS),
    (f"/admin/business/{CUSTOMER}/contacts/", STEWARDS),
]
# Each POST succeeds at most harmlessly (same tier, a fresh alias, suspend then resume).
POSTS = [
    (f"/admin/tenants/{CUSTOMER}/tier", {"tier": "starter"}, STEWARDS),
    (f"/admin/tenants/{DOMAIN}/tier", {"tier": "starter"}, frozenset({"operator"})),
    (f"/admin/tenants/{CUSTOMER}/suspend", {}, STEWARDS),
    (f"/admin/tenants/{CUSTOMER}/resume", {}, STEWARDS),
    (f"/admin/business/{DOMAIN}/aliases", {"alias": "matrix-{role}@example.test", "target": BOB}, MANAGERS),
    (f"/admin/mailboxes/{BOB}/password", {"password": "another long password"}, MANAGERS),
    (f"/admin/mailboxes/{CUSTOMER_OWNER}/password", {"password": "another long password"}, STEWARDS),
    (f"/admin/mailboxes/{BOB}/reset-link", {}, MANAGERS),  # queued for a server that never answers: harmless
    (f"/admin/business/{CUSTOMER}/domains", {"domain": "{role}.client.test"}, STEWARDS),
    (
        "/admin/tenants",
        {
            "name": "new-{role}",
            "domain": "{role}.new.test",
            "owner": "o@{role}.new.test",
            "password": "a long enough password",
        },
        STEWARDS,
    ),
    (
        f"/admin/business/{DOMAIN}/mailboxes",
        {"local": "made-by-{role}", "domain": DOMAIN, "password": "a long enough password"},
        MANAGERS,
    ),
    (f"/admin/business/{DOMAIN}/aliases/remove", {"alias": "rm-{role}@example.test", "target": BOB}, MANAGERS),
    ("/admin/mailboxes/victim-{role}@example.test/remove", {}, MANAGERS),
    (
        f"/admin/mailboxes/{BOB}/import",  # queued for the daemon, which then fails to reach port 9: harmless
        {"host": "127.0.0.1", "port": "9", "security": "none", "user": "old", "password": "old password"},
        MANAGERS,
    ),
    (f"/admin/sites/{DOMAIN}/publish", {}, MANAGERS),
    ("/admin/sites/client.test/publish", {}, STEWARDS),
    (f"/admin/sites/{DOMAIN}/info", {"business_name": "Example"}, MANAGERS),
    (f"/admin/tenants/{CUSTOMER}/partner", {"partner": "agency.test"}, frozenset({"operator"})),
    (f"/admin/domains/{DOMAIN}/catchall", {"off": "1"}, MANAGERS),
    ("/admin/domains/client.test/catchall", {"target": "boss@client.test"}, STEWARDS),
    ("/admin/brand", {"name": "Agency", "colour": "#123456", "partner": "agency.test"}, STEWARDS),
    (f"/admin/domains/{DOMAIN}/verify", {}, MANAGERS),
    (CRM + "new", {"first_name": "made-by-{role}"}, MEMBERS),
    (CRM + "matrix.vcf", {"first_name": "edited-by-{role}"}, MEMBERS),
    (CRM + "victim-{role}.vcf/delete", {}, MEMBERS),
    (CRM + "merge", {"id": ["merge-a-{role}.vcf", "merge-b-{role}.vcf"], "keep": "merge-a-{role}.vcf"}, MEMBERS),
    ("/admin/domains/client.test/verify", {}, STEWARDS),
    ("/admin/projects/", {"name": "matrix {role}"}, EVERYONE),
    ("/admin/projects/tasks/tasks", {"title": "matrix {role}"}, EVERYONE),
    ("/admin/projects/tasks/rename", {"name": "Tasks"}, EVERYONE),
    ("/admin/projects/tasks/archive", {"archived": "0"}, EVERYONE),
    ("/admin/projects/tasks/tasks/matrix.ics", {"title": "Matrix", "status": "NEEDS-ACTION"}, EVERYONE),
    ("/admin/projects/tasks/tasks/matrix.ics/status", {"status": "IN-PROCESS"}, EVERYONE),
    ("/admin/projects/tasks/tasks/victim-{role}.ics/delete", {}, EVERYONE),
    (
        "/admin/calendar/team/new",
        {"title": "by {role}", "all_day": "1", "start_date": "2026-05-04", "end_date": "2026-05-04"},
        EVERYONE,
    ),
    ("/admin/calendar/personal/feed", {}, EVERYONE),
]
# Routes that only ever act on the signed-in visitor's own account (nothing of anyone else can be named), or
# that need no session; tested in test_admin_security, test_admin_i18n and test_web.
OWN_OR_PUBLIC = {
    "/admin/login",
    "/admin/logout",
    "/admin/lang",
    "/admin/signup",
    "/admin/static/admin.css",
    "/admin/static/admin.js",
    "/admin/static/favicon.svg",
    "/admin/themes/{theme}/preview.svg",
    "/admin/account/password",
    "/admin/account/app-passwords",
    "/admin/account/app-passwords/{id}/revoke",
    "/admin/account/forwarding",
    "/admin/account/vacation",
    "/admin/account/recovery",  # tested in test_password_recovery, like the public pages below
    "/admin/forgot",
    "/admin/reset",
    "/admin/recovery/confirm",
    "/admin/brand/{key}/style.css",  # a brand's look is public: the sign-up page shows it too
    "/admin/brand/{key}/logo",
    "/admin/ics/{token}.ics",  # a calendar subscription: the secret token is the credential (test_calendar)
    "/admin/contacts/",  # to the visitor's own business's contacts (test_crm)
}
# Website editor routes: each goes through the same sites.site_domain check as publish and info above.
SAME_CHECK_AS_PUBLISH = {
    "/admin/sites/{domain}/theme",
    "/admin/sites/{domain}/logo",
    "/admin/sites/{domain}/pages",
    "/admin/sites/{domain}/pages/{page}",
    "/admin/sites/{domain}/pages/{page}/delete",
    "/admin/sites/{domain}/pages/{page}/move",
    "/admin/sites/{domain}/rollback",
    "/admin/sites/{domain}/upload",
    "/admin/sites/{domain}/media",  # ops/media.py: site_domain, like publish
    "/admin/sites/{domain}/media/{media}",
    "/admin/sites/{domain}/media/{media}/delete",
    "/admin/sites/{domain}/cover",
}

# A subscription change succeeds once per catalogue item, so each role's try needs its own business and item:
# tested role by role in test_admin_billing (owner, owner of another business, user, no CSRF token).
TRIED_IN_ADMIN_BILLING = {"/admin/business/{tenant}/subscription"}
# A logo upload is a multipart file: tried by the partner, an owner and a forged token in test_white_label.
TRIED_IN_WHITE_LABEL = {"/admin/brand/logo"}
# An event's pages name an item of the visitor's own calendars, which only exists once made; the import is a
# multipart file: tried by a colleague, another business and a business without the module in test_calendar.
TRIED_IN_CALENDAR = {
    "/admin/calendar/{calendar}/events/{event}",
    "/admin/calendar/{calendar}/events/{event}/delete",
    "/admin/calendar/{calendar}/import",
}
# A contacts file is a multipart upload: tried by a partner on its customer's and on another business, and with a
# forged token, in test_crm.
TRIED_IN_CRM = {"/admin/business/{tenant}/contacts/import"}


TODO = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//tests//EN\r\nBEGIN:VTODO\r\nUID:{uid}\r\nSUMMARY:Matrix\r\n"
TODO += "END:VTODO\r\nEND:VCALENDAR\r\n"
pytestmark = pytest.mark.daemon(services=WEB, make=make_admin_daemon)


@pytest.fixture(scope="module", autouse=True)
def victims(server: Daemon) -> None:
    """A mailbox and an alias per role, for the removal rows of the matrix; in each role's business's default
    task list, the task "matrix.ics" and one to delete, put there by a CalDAV client; a recovery address for bob
    (its reset links have somewhere to go); in example.test's contacts, "matrix.vcf" and, per role, one to delete and
    two to merge."""
    services = open_services(config.load(server.config))
    try:
        for role in ["nobody", *ROLES]:
            users.add_user(services, CLI, f"victim-{role}@{DOMAIN}", "a long enough password")
            services.directory.add_alias(CLI, f"rm-{role}@{DOMAIN}", BOB)
        tenants_of = {role: services.directory.find_user(address) for role, (address, _) in ROLES.items()}
        bob = services.directory.find_user(BOB)
        assert bob is not None
        services.recovery.set_pending(bob.id, "bob@outside.test", "en")
        services.recovery.confirm(services.recovery.issue(bob.id, CONFIRM, "bob@outside.test", 3600))
        kinds = ("victim", "merge-a", "merge-b")
        names = ["matrix", *(f"{kind}-{role}" for kind in kinds for role in ["nobody", *ROLES])]
        made = [(f"{name}.vcf", cards.write_card(cards.Contact(uid=name, first_name=name))) for name in names]
        contacts.address_book(services, services.tenants.get(CLI, DOMAIN).id).write(made)
    finally:
        services.close()
    for role, (address, password) in ROLES.items():
        user = tenants_of[role]
        assert user is not None
        for name in ("matrix", f"victim-{role}"):
            todo = TODO.format(uid=f"{name}-{user.tenant_id}")
            put = httpx.put(
                f"https://127.0.0.1:{server.ports['https']}/dav/t{user.tenant_id}/tasks/{name}.ics",
                content=todo, auth=(address, password), verify=False, timeout=30,
                headers={"Content-Type": "text/calendar"},
            )  # fmt: skip
            assert put.status_code in (201, 204), put.text


@pytest.fixture(scope="module")
def clients(server: Daemon) -> Iterator[dict[str, httpx.Client]]:
    sessions = {role: signed_in(server, role) for role in ROLES}
    sessions["nobody"] = browser(server)
    yield sessions
    for client in sessions.values():
        client.close()


@pytest.mark.parametrize("role", ["nobody", *ROLES])
@pytest.mark.parametrize(("path", "allowed"), GETS, ids=[path for path, _ in GETS])
def test_every_page_opens_only_for_the_roles_allowed_to_see_it(
    clients: dict[str, httpx.Client], role: str, path: str, allowed: frozenset[str]
) -> None:
    response = clients[role].get(path)
    if role in allowed:
        assert response.status_code == 200 or (  # or straight on to its only website
            response.status_code == 303 and response.headers["location"].startswith(path)
        ), (role, path, response.text[:500])
    elif role == "nobody":
        assert response.status_code == 303 and response.headers["location"] == "/admin/"
    else:
        assert response.status_code == 403, (role, path, response.status_code)


@pytest.mark.parametrize("role", ["nobody", *ROLES])
@pytest.mark.parametrize(("path", "data", "allowed"), POSTS, ids=[path for path, _, _ in POSTS])
def test_every_change_succeeds_only_for_the_roles_allowed_to_make_it(
    clients: dict[str, httpx.Client], role: str, path: str, data: dict[str, Any], allowed: frozenset[str]
) -> None:
    client = clients[role]
    token = csrf_token(client.get("/admin/account")) if role != "nobody" else "none"
    form = {
        key: [item.format(role=role) for item in value] if isinstance(value, list) else value.format(role=role)
        for key, value in data.items()
    }
    response = client.post(path.format(role=role), data={"csrf": token, **form})
    if role in allowed:
        assert response.status_code == 303, (role, path, response.text[:800])
        assert "done=" in response.headers["location"] or "/admin/sites/" in path
    else:
        assert response.status_code == 403, (role, path, response.status_code, response.text[:300])


def test_home_page_shows_each_role_its_own_view(clients: dict[str, httpx.Client]) -> None:
    assert "Your account" in clients["user"].get("/admin/").text
    assert "Mailboxes of your business" in clients["owner"].get("/admin/").text
    partner = clients["partner"].get("/admin/").text
    assert CUSTOMER in partner and "agency.test" in partner and DOMAIN not in partner
    operator = clients["operator"].get("/admin/").text
    assert CUSTOMER in operator and DOMAIN in operator and "ops.test" in operator


def test_operator_searches_businesses_by_name_or_domain(clients: dict[str, httpx.Client]) -> None:
    found = clients["operator"].get("/admin/", params={"q": "client.test"}).text
    assert f"/admin/business/{CUSTOMER}/" in found and f"/admin/business/{DOMAIN}/" not in found


def test_core_refuses_what_the_pages_would_never_offer(server: Daemon) -> None:
    """The rules live in the core: calling the use cases directly with a weaker principal is refused too."""
    services = open_services(config.load(server.config))
    try:
        alice = services.directory.find_user(ROLES["user"][0])
        owner = services.directory.find_user(ROLES["owner"][0])
        assert alice is not None and owner is not None
        as_user, as_owner = users.principal_of(alice, "test"), users.principal_of(owner, "test")
        with pytest.raises(PermissionDenied):
            tiers.set_tier(services, as_owner, DOMAIN, "plus")  # an owner sees its tier but does not set it
        with pytest.raises(PermissionDenied):
            tenants.set_suspended(services, as_owner, CUSTOMER, True)
        with pytest.raises(PermissionDenied):
            users.set_password(services, as_user, BOB, "a long enough password")
        with pytest.raises(PermissionDenied):
            users.set_password(services, as_owner, "root@ops.test", "a long enough password")  # not its business
        with pytest.raises(PermissionDenied):
            users.add_user(services, as_owner, f"boss2@{DOMAIN}", "a long enough password", Role.OPERATOR)
        with pytest.raises(PermissionDenied):
            tenants.audit_entries(services, as_user)
        stranger = Principal(Role.PARTNER, tenant_id=owner.tenant_id, name="x")
        with pytest.raises(PermissionDenied):
            tenants.set_suspended(services, stranger, CUSTOMER, True)  # not its customer
        assert tenants.tenant_rows(services, CLI)  # the operator at the command line sees them all
    finally:
        services.close()


def test_the_matrix_covers_every_admin_route(server: Daemon) -> None:
    services = open_services(config.load(server.config))
    try:
        admin = create_app(services).starlette.routes[0]
        assert isinstance(admin, AdminRoute)
        routes = admin.routes  # made at first use (web/routes.py)
    finally:
        services.close()
    registered = {re.sub(r"\{(\w+)(:\w+)?\}", r"{\1}", route.path) for route in routes}
    tried = {_template(path) for path, _ in GETS} | {_template(path) for path, _, _ in POSTS}
    assert (
        registered
        - tried
        - OWN_OR_PUBLIC
        - SAME_CHECK_AS_PUBLISH
        - TRIED_IN_ADMIN_BILLING
        - TRIED_IN_WHITE_LABEL
        - TRIED_IN_CALENDAR
        - TRIED_IN_CRM
        == set()
    )


def _template(path: str) -> str:
    """The route template a concrete path of the matrix tries."""
    path = path.partition("?")[0]
    for pattern, name in (
        (r"^/admin/business/[^/]+", "/admin/business/{tenant}"),
        (r"/contacts/(?!(new|merge|export|import)$)[^/]+", "/contacts/{contact}"),
        (r"^/admin/tenants/[^/]+/", "/admin/tenants/{tenant}/"),
        (r"^/admin/mailboxes/[^/]+", "/admin/mailboxes/{address}"),
        (r"^/admin/domains/[^/]+", "/admin/domains/{domain}"),
        (r"^/admin/sites/[^/]+/preview/", "/admin/sites/{domain}/preview/{path}"),
        (r"^/admin/sites/[^/]+/", "/admin/sites/{domain}/"),
        (r"^/admin/projects/[^/]+/tasks/[^/]+", "/admin/projects/{project}/tasks/{task}"),
        (r"^/admin/projects/[^/]+/", "/admin/projects/{project}/"),
        (r"^/admin/calendar/[^/]+/", "/admin/calendar/{calendar}/"),
    ):
        path = re.sub(pattern, name, path)
    return path
