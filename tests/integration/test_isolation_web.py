"""Each business against the others over HTTP: hosted sites (Host header games, traversal, the admin host),
admin routes for every role of one business on another's objects (the same 403 as for objects that do not
exist), the contact form, and site uploads with evil zip entries (tests/tenancy.py: the businesses)."""

from __future__ import annotations

import io
import re
import socket
import zipfile
from collections.abc import Iterator
from contextlib import closing

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.adminweb import csrf_token
from tests.imapwire import Wire
from tests.integration.test_web import curl_status_and_body
from tests.tenancy import (
    AGENCY,
    ALPHA,
    BRAVO,
    BUSINESSES,
    CHARLIE,
    HOSTNAME,
    PAIRS,
    PARTNER,
    PLATFORM,
    Account,
    Business,
    Tenancy,
    pair_id,
    subjects,
)

NEUTRAL_404 = "No website is published at this address"


def site_get(tenancy: Tenancy, host: str, path: str = "/") -> httpx.Response:
    return httpx.get(tenancy.http + path, headers={"Host": host}, timeout=30)


def welcome(business: Business) -> str:
    return f"Welcome to {business.name}."  # the starter page greets by the business name (sites/words.py)


def raw_http(tenancy: Tenancy, request: bytes) -> tuple[int, bytes]:
    """Send bytes as they are (no client normalises them); the status and the whole answer."""
    with socket.create_connection(("127.0.0.1", tenancy.daemon.ports["http"]), timeout=30) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    status = re.match(rb"HTTP/1\.[01] (\d{3})", answer)
    assert status is not None, answer[:200]
    return int(status.group(1)), answer


def curl_as_is(tenancy: Tenancy, host: str, path: str) -> tuple[int, str]:
    """curl --path-as-is sends '..' segments and encodings unchanged."""
    return curl_status_and_body(tenancy.http + path, host)


# -- hosted sites ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("business", BUSINESSES, ids=[b.name for b in BUSINESSES])
def test_each_site_is_served_on_its_own_names_only(tenancy: Tenancy, business: Business) -> None:
    for host in (business.domain, f"www.{business.domain}", f"{business.domain.upper()}.", f"{business.domain}:80"):
        page = site_get(tenancy, host)
        assert page.status_code == 200 and welcome(business) in page.text, host
        for other in BUSINESSES:
            if other is not business:
                assert welcome(other) not in page.text


@pytest.mark.parametrize(("attacker", "victim"), PAIRS, ids=[pair_id(pair) for pair in PAIRS])
def test_host_header_games_never_serve_another_business_site(
    tenancy: Tenancy, attacker: Business, victim: Business
) -> None:
    """Names that mix both businesses serve one of them whole or nothing: never the victim's site on a
    name of the attacker's, never a file of one in a page of the other."""
    for host in (f"{victim.domain}.{attacker.domain}", f"{attacker.domain}.{victim.domain}",
                 f"{victim.name}.{attacker.domain}", f"{attacker.domain}@{victim.domain}",
                 f"{attacker.domain}/../{victim.domain}", f"{victim.domain}%2f..%2f{attacker.domain}",
                 f"{attacker.domain}\\{victim.domain}", f"x.{victim.domain}"):  # fmt: skip
        status, answer = raw_http(tenancy, f"GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        assert status in (400, 404), (host, status)
        assert welcome(victim).encode() not in answer and welcome(attacker).encode() not in answer, host


@pytest.mark.parametrize(("attacker", "victim"), PAIRS, ids=[pair_id(pair) for pair in PAIRS])
def test_two_host_headers_or_an_absolute_target_serve_no_mix(
    tenancy: Tenancy, attacker: Business, victim: Business
) -> None:
    twice = f"GET / HTTP/1.1\r\nHost: {attacker.domain}\r\nHost: {victim.domain}\r\nConnection: close\r\n\r\n"
    status, answer = raw_http(tenancy, twice.encode())
    assert status == 400 or (welcome(attacker).encode() in answer) != (welcome(victim).encode() in answer)
    absolute = f"GET http://{victim.domain}/ HTTP/1.1\r\nHost: {attacker.domain}\r\nConnection: close\r\n\r\n"
    status, answer = raw_http(tenancy, absolute.encode())
    assert status in (200, 400) and (welcome(attacker).encode() in answer) != (welcome(victim).encode() in answer)


@pytest.mark.parametrize(("attacker", "victim"), PAIRS, ids=[pair_id(pair) for pair in PAIRS])
def test_path_traversal_from_one_site_never_reaches_another(
    tenancy: Tenancy, attacker: Business, victim: Business
) -> None:
    sites = tenancy.daemon.folder / "data" / "sites"
    for path in (f"/../{victim.domain}/current/index.html", f"/../../sites/{victim.domain}/current/index.html",
                 f"/%2e%2e/{victim.domain}/current/index.html", f"/..%2f{victim.domain}%2fcurrent%2findex.html",
                 f"/static/..%2f..%2f..%2f{victim.domain}/current/index.html", f"/{sites}/{victim.domain}/current/",
                 f"//{victim.domain}/", "/../../../../smb-suite.toml", "/%2e%2e/%2e%2e/%2e%2e/data/smb-suite.db",
                 "/..%5c..%5c..%5csmb-suite.toml"):  # fmt: skip
        status, body = curl_as_is(tenancy, attacker.domain, path)
        assert status in (301, 400, 404), (path, status)
        assert welcome(victim) not in body and "[listen]" not in body and "SQLite" not in body, path


@pytest.mark.parametrize("business", BUSINESSES, ids=[b.name for b in BUSINESSES])
def test_admin_pages_are_never_served_on_a_tenant_name(tenancy: Tenancy, business: Business) -> None:
    for host in (business.domain, f"www.{business.domain}", f"{business.name}.{PLATFORM}"):
        page = site_get(tenancy, host, "/admin/")
        assert page.status_code == 404 and "/admin/login" not in page.text, host
        login = httpx.post(tenancy.http + "/admin/login", headers={"Host": host}, data={"username": "x"})
        assert login.status_code in (404, 405), host


@pytest.mark.parametrize("business", BUSINESSES, ids=[b.name for b in BUSINESSES])
def test_the_admin_host_never_serves_a_tenant_site(tenancy: Tenancy, business: Business) -> None:
    for host in (HOSTNAME, "127.0.0.1", "localhost"):
        for path in ("/", "/index.html", f"/{business.domain}/", "/static/site.css", "/thanks/"):
            page = site_get(tenancy, host, path)
            assert welcome(business) not in page.text, (host, path)
            assert page.status_code in (303, 404), (host, path, page.status_code)


@pytest.mark.parametrize("business", BUSINESSES, ids=[b.name for b in BUSINESSES])
def test_platform_subdomain_serves_only_its_own_business(tenancy: Tenancy, business: Business) -> None:
    page = site_get(tenancy, f"{business.name}.{PLATFORM}")
    assert page.status_code == 200 and welcome(business) in page.text
    for other in BUSINESSES:
        if other is not business:
            assert welcome(other) not in page.text


# -- admin routes x roles --------------------------------------------------------------------------------------


def sign_in(tenancy: Tenancy, account: Account) -> httpx.Client:
    client = httpx.Client(base_url=tenancy.https, verify=False, timeout=30)
    form = client.get("/admin/")
    answer = client.post(
        "/admin/login", data={"csrf": csrf_token(form), "username": account.address, "password": account.password}
    )
    assert answer.status_code == 303, answer.text[:300]
    return client


def post(client: httpx.Client, path: str, data: dict[str, str] | None = None, **kwargs: object) -> httpx.Response:
    token = csrf_token(client.get("/admin/account"))
    return client.post(path, data={"csrf": token, **(data or {})}, **kwargs)  # type: ignore[arg-type]


ATTACKERS = {"owner": ALPHA.owner, "user": ALPHA.user, "partner": PARTNER}


@pytest.fixture(scope="module")
def browsers(tenancy: Tenancy) -> Iterator[dict[str, httpx.Client]]:
    clients = {role: sign_in(tenancy, account) for role, account in ATTACKERS.items()}
    clients["victim"] = sign_in(tenancy, BRAVO.owner)
    yield clients
    for client in clients.values():
        client.close()


@pytest.fixture(scope="module")
def bravo_page(browsers: dict[str, httpx.Client]) -> int:
    """The id of a page of bravo's site (the victim's owner adds it)."""
    added = post(browsers["victim"], f"/admin/sites/{BRAVO.domain}/pages", {"slug": "prices", "title": "Prices"})
    assert added.status_code == 303, added.text[:300]
    found = re.search(r"/pages/(\d+)", added.headers["location"])
    assert found is not None, added.headers["location"]
    return int(found.group(1))


FOREIGN = {"tenant": BRAVO.name, "domain": BRAVO.domain, "mailbox": BRAVO.user.address}
MISSING = {"tenant": "ghost-co", "domain": "ghost.test", "mailbox": "ghost@ghost.test"}
MISSING_IN_FOREIGN = {"tenant": BRAVO.name, "domain": BRAVO.domain, "mailbox": f"ghost@{BRAVO.domain}"}
PASSWORD = "a long enough password"
GETS = [
    "/admin/business/{tenant}/",
    "/admin/domains/{domain}/",
    "/admin/domains/{domain}/zone",
    "/admin/sites/{domain}/",
    "/admin/sites/{domain}/preview/",
    "/admin/sites/{domain}/pages/{page}",
]
POSTS = [
    ("/admin/business/{tenant}/mailboxes", {"local": "spy", "domain": "{domain}", "password": PASSWORD}),
    ("/admin/business/{tenant}/aliases", {"alias": "spy@{domain}", "target": ALPHA.owner.address}),
    ("/admin/business/{tenant}/aliases/remove", {"alias": "sales@{domain}", "target": "{mailbox}"}),
    ("/admin/business/{tenant}/domains", {"domain": "shop.{domain}"}),
    ("/admin/mailboxes/{mailbox}/password", {"password": PASSWORD}),
    ("/admin/mailboxes/{mailbox}/remove", {}),
    ("/admin/domains/{domain}/catchall", {"target": ALPHA.owner.address}),
    ("/admin/sites/{domain}/publish", {}),
    ("/admin/sites/{domain}/info", {"business_name": "Owned", "email": ALPHA.owner.address}),
    ("/admin/sites/{domain}/theme", {"theme": "classic", "colour": "blue"}),
    ("/admin/sites/{domain}/pages", {"slug": "owned", "title": "Owned"}),
    ("/admin/sites/{domain}/pages/{page}", {"title": "Owned", "body": "owned"}),
    ("/admin/sites/{domain}/pages/{page}/move", {"direction": "up"}),
    ("/admin/sites/{domain}/pages/{page}/delete", {}),
    ("/admin/sites/{domain}/rollback", {}),
    ("/admin/tenants/{tenant}/tier", {"tier": "starter"}),
    ("/admin/tenants/{tenant}/suspend", {}),
    ("/admin/tenants/{tenant}/resume", {}),
    ("/admin/tenants/{tenant}/partner", {"partner": AGENCY}),
]


def _fill(template: str, names: dict[str, str], page: int) -> str:
    return template.format(page=page, **names)


def _without_names(text: str, *names: dict[str, str]) -> str:
    """The page with the objects' names taken out (longest first), so a foreign and a missing one compare."""
    for name in sorted({value for group in names for value in group.values()}, key=len, reverse=True):
        text = text.replace(name, "<name>")
    return text


def matrix(paths: list[str]) -> list[object]:
    return [pytest.param(role, path, id=f"{role}:{path}") for role in sorted(ATTACKERS) for path in paths]


@pytest.mark.parametrize(("role", "path"), matrix(GETS))
def test_foreign_and_missing_objects_get_the_same_403_page(
    browsers: dict[str, httpx.Client], bravo_page: int, role: str, path: str
) -> None:
    client = browsers[role]
    foreign = client.get(_fill(path, FOREIGN, bravo_page))
    missing = client.get(_fill(path, MISSING, bravo_page))
    assert foreign.status_code == 403, (role, path, foreign.status_code)
    assert BRAVO.owner.address not in foreign.text and "Prices" not in foreign.text
    assert missing.status_code == 403, (role, path, missing.status_code)
    assert _without_names(foreign.text, FOREIGN) == _without_names(missing.text, MISSING)


@pytest.mark.parametrize(("role", "path"), matrix([path for path, _ in POSTS]))
def test_foreign_and_missing_objects_refuse_every_change_with_the_same_403(
    browsers: dict[str, httpx.Client], bravo_page: int, role: str, path: str
) -> None:
    client = browsers[role]
    data = dict(POSTS)[path]
    answers = []
    for names in (FOREIGN, MISSING_IN_FOREIGN, MISSING):
        form = {key: value.format(**names) for key, value in data.items()}
        answers.append(post(client, _fill(path, names, bravo_page), form).status_code)
    assert answers == [403, 403, 403], (role, path)


def test_the_victim_business_is_untouched_by_the_admin_attacks(
    tenancy: Tenancy, browsers: dict[str, httpx.Client], bravo_page: int
) -> None:
    """Run last in this module's admin part: bravo's mailboxes, passwords, site and pages are as they were."""
    tenancy.assert_intact(BRAVO)
    page = browsers["victim"].get(f"/admin/sites/{BRAVO.domain}/pages/{bravo_page}")
    assert page.status_code == 200 and "Prices" in page.text
    assert site_get(tenancy, BRAVO.domain).status_code == 200
    business = browsers["victim"].get(f"/admin/business/{BRAVO.name}/").text
    assert "spy@" not in business and ALPHA.owner.address not in business


@pytest.mark.parametrize(("attacker", "victim"), PAIRS, ids=[pair_id(pair) for pair in PAIRS])
def test_an_owner_cannot_put_another_business_names_in_its_own_business(
    tenancy: Tenancy, attacker: Business, victim: Business
) -> None:
    with closing(sign_in(tenancy, attacker.owner)) as client:
        base = f"/admin/business/{attacker.name}"
        answers = [
            post(client, base + "/mailboxes", {"local": "spy", "domain": victim.domain, "password": PASSWORD}),
            post(client, base + "/aliases", {"alias": f"spy@{victim.domain}", "target": attacker.owner.address}),
            post(client, base + "/aliases/remove", {"alias": victim.user.address, "target": victim.user.address}),
        ]
        statuses = [answer.status_code for answer in answers]
        assert statuses == [403, 403, 403], statuses
    with Wire(tenancy.daemon, login=False) as imap:
        assert b" NO " in imap.command(f'LOGIN spy@{victim.domain} "{PASSWORD}"')[-1]


@pytest.mark.parametrize(("attacker", "victim"), PAIRS, ids=[pair_id(pair) for pair in PAIRS])
def test_an_owner_cannot_claim_names_of_another_business_or_of_the_server(
    tenancy: Tenancy, attacker: Business, victim: Business
) -> None:
    """www., autoconfig., mta-sts., sub-domains and the parent's names of another business's domain, the server's
    host name and the platform domain: all refused (tests/test_domain_verification.py has each case)."""
    claims = [
        f"www.{victim.domain}",
        f"autoconfig.{victim.domain}",
        f"mta-sts.{victim.domain}",
        f"shop.{victim.domain}",
        HOSTNAME,
        f"www.{HOSTNAME}",
        PLATFORM,
        f"{victim.name}-shop.{PLATFORM}",
    ]
    with closing(sign_in(tenancy, attacker.owner)) as client:
        for name in claims:
            answer = post(client, f"/admin/business/{attacker.name}/domains", {"domain": name})
            assert answer.status_code == 403, (name, answer.status_code)
    listing = tenancy.daemon.cli("domain", "list").stdout
    assert not any(f"\n{name}\t" in "\n" + listing for name in claims)
    assert site_get(tenancy, f"www.{victim.domain}").status_code == 200  # still the victim's own site


def test_an_app_password_of_another_account_cannot_be_revoked(tenancy: Tenancy) -> None:
    with closing(sign_in(tenancy, BRAVO.user)) as victim, closing(sign_in(tenancy, ALPHA.user)) as attacker:
        made = post(victim, "/admin/account/app-passwords", {"label": "phone"})
        secret = re.search(r'<code id="app-password">([^<]+)</code>', made.text)
        revoke = re.search(r'action="(/admin/account/app-passwords/\d+/revoke)"', victim.get("/admin/account").text)
        assert secret is not None and revoke is not None
        answer = post(attacker, revoke.group(1))
        assert answer.status_code in (403, 404), answer.status_code
    with Wire(tenancy.daemon, user=BRAVO.user.address, password=secret.group(1)) as imap:
        imap.ok("SELECT INBOX")


def test_session_cookie_never_reaches_a_tenant_site(tenancy: Tenancy) -> None:
    """The admin cookie is host-only (no Domain=), so a business's site on another name never receives it."""
    with httpx.Client(base_url=tenancy.https, verify=False, timeout=30) as client:
        form = client.get("/admin/")
        answer = client.post("/admin/login", data={"csrf": csrf_token(form), "username": ALPHA.owner.address,
                                                   "password": ALPHA.owner.password})  # fmt: skip
        cookies = answer.headers.get_list("set-cookie")
    assert answer.status_code == 303 and cookies
    assert not any("domain=" in cookie.lower() for cookie in cookies), cookies
    for business in BUSINESSES:
        assert "set-cookie" not in site_get(tenancy, business.domain).headers


def test_what_an_owner_writes_never_runs_as_script_on_the_admin_origin(tenancy: Tenancy) -> None:
    """alpha's page text and logo are shown by the preview on the admin origin (where an operator may look):
    no script, no event handler, no image that is really HTML."""
    evil = '<script>steal()</script><img src=x onerror="steal()"><a href="javascript:steal()">x</a>'
    with closing(sign_in(tenancy, ALPHA.owner)) as owner:
        added = post(owner, f"/admin/sites/{ALPHA.domain}/pages", {"slug": "evil", "title": "Evil"})
        assert added.status_code == 303
        page = added.headers["location"].split("?")[0]
        saved = post(owner, page, {"title": "Evil", "body": evil, "layout": "", "in_navigation": "on"})
        assert saved.status_code == 303
        token = csrf_token(owner.get(f"/admin/sites/{ALPHA.domain}/"))
        fake = b"\x89PNG\r\n\x1a\n<html><script>steal()</script>"
        logo = owner.post(f"/admin/sites/{ALPHA.domain}/logo", data={"csrf": token},
                          files={"logo": ("logo.svg", b"<svg onload='steal()'/>", "image/svg+xml")})  # fmt: skip
        assert logo.status_code == 400
        owner.post(f"/admin/sites/{ALPHA.domain}/logo", data={"csrf": token},
                   files={"logo": ("logo.png", fake, "image/png")})  # fmt: skip
        preview = owner.get(f"/admin/sites/{ALPHA.domain}/preview/evil/")
        assert preview.status_code == 200, preview.status_code
        assert "<script" not in preview.text.lower()  # only as text: &lt;script&gt;
        assert not re.search(r"<[^<>]*\son\w+\s*=", preview.text), "an event handler in a tag"
        assert not re.search(r"<[^<>]*\b(href|src)\s*=\s*[\"']?\s*javascript:", preview.text, re.I)
        for media in re.findall(r'src="([^"]*media/logo[^"]*)"', preview.text):
            shown = owner.get(media)
            assert shown.headers["x-content-type-options"] == "nosniff"
            assert shown.headers["content-type"].startswith("image/")
        post(owner, f"{page}/delete")
        token = csrf_token(owner.get(f"/admin/sites/{ALPHA.domain}/"))
        owner.post(f"/admin/sites/{ALPHA.domain}/logo", data={"csrf": token, "remove": "1"})


# -- contact form ----------------------------------------------------------------------------------------------


def inbox_subjects(tenancy: Tenancy, account: Account) -> set[str]:
    with Wire(tenancy.daemon, user=account.address, password=account.password) as imap:
        imap.ok("EXAMINE INBOX")
        return subjects(imap.ok("FETCH 1:* (BODY.PEEK[HEADER.FIELDS (SUBJECT)])"))


def test_contact_form_never_delivers_to_another_business(tenancy: Tenancy) -> None:
    """alpha's owner puts bravo's address on alpha's site; a visitor's message reaches alpha, never bravo."""
    with closing(sign_in(tenancy, ALPHA.owner)) as owner:
        saved = post(owner, f"/admin/sites/{ALPHA.domain}/info",
                     {"business_name": "Alpha", "email": BRAVO.owner.address, "contact_form": "on"})  # fmt: skip
        assert saved.status_code in (303, 400), saved.status_code
        sent = httpx.post(
            tenancy.http + "/_contact",
            headers={"Host": ALPHA.domain},
            data={
                "name": "Vera",
                "email": "vera@visitor.test",
                "phone": "",
                "subject": "contact-to-bravo",
                "message": "Hello.",
            },  # fmt: skip
        )
        post(owner, f"/admin/sites/{ALPHA.domain}/info", {"business_name": "Alpha", "email": "", "contact_form": "on"})
    assert "contact-to-bravo" not in inbox_subjects(tenancy, BRAVO.owner)
    assert sent.status_code == 303 and "contact-to-bravo" in inbox_subjects(tenancy, ALPHA.owner)


# -- site uploads ----------------------------------------------------------------------------------------------


def zip_of(entries: list[tuple[str | zipfile.ZipInfo, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries:
            archive.writestr(name, data)
    return buffer.getvalue()


def symlink_entry(name: str, target: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.external_attr = (0o120777 << 16) | 0x20  # a symbolic link (S_IFLNK), as zip -y stores one
    info.create_system = 3
    return info


def upload(client: httpx.Client, domain: str, data: bytes) -> httpx.Response:
    token = csrf_token(client.get(f"/admin/sites/{domain}/"))
    return client.post(f"/admin/sites/{domain}/upload", data={"csrf": token}, files={"site": ("s.zip", data)})


def evil_entries(tenancy: Tenancy, victim: Business) -> list[list[tuple[str | zipfile.ZipInfo, bytes]]]:
    owned = b"<h1>owned</h1>"
    sites = tenancy.daemon.folder / "data" / "sites"
    return [
        [("index.html", b"x"), (f"../{victim.domain}/current/index.html", owned)],
        [("index.html", b"x"), (f"../../sites/{victim.domain}/current/index.html", owned)],
        [("index.html", b"x"), (f"{sites}/{victim.domain}/current/index.html", owned)],
        [("index.html", b"x"), (f"..\\{victim.domain}\\current\\index.html", owned)],
        [
            ("index.html", b"x"),
            (symlink_entry("evil", f"../../{victim.domain}/current"), b"x"),
            ("evil/index.html", owned),
        ],
        [("index.html", b"x"), (symlink_entry("leak.html", f"{sites}/{victim.domain}/current/index.html"), b"x")],
    ]


@pytest.mark.parametrize(("attacker", "victim"), PAIRS[:2], ids=[pair_id(pair) for pair in PAIRS[:2]])
def test_evil_zip_entries_are_refused_and_touch_no_other_site(
    tenancy: Tenancy, attacker: Business, victim: Business
) -> None:
    before_victim = site_get(tenancy, victim.domain).content
    before_own = site_get(tenancy, attacker.domain).content
    with closing(sign_in(tenancy, attacker.owner)) as owner:
        for entries in evil_entries(tenancy, victim):
            answer = upload(owner, attacker.domain, zip_of(entries))
            assert answer.status_code == 400, (entries, answer.status_code)
    assert site_get(tenancy, victim.domain).content == before_victim
    assert site_get(tenancy, attacker.domain).content == before_own
    assert site_get(tenancy, attacker.domain, "/leak.html").status_code == 404


ZIP_NAME = st.lists(
    st.sampled_from(["..", ".", "/", "\\", "a", "index.html", "bravo.test", "current", "~", "%2e", "\x01", "C:", "é"]),
    min_size=1,
    max_size=8,
).map("".join)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(names=st.lists(ZIP_NAME, min_size=1, max_size=4, unique=True).filter(lambda n: "index.html" not in n))
def test_any_zip_entry_name_stays_inside_the_uploaders_site(
    tenancy: Tenancy, charlie_owner: httpx.Client, names: list[str]
) -> None:
    """charlie uploads zips with generated entry names: refused (400) or published inside charlie's site only."""
    before = {business.name: site_get(tenancy, business.domain).content for business in (ALPHA, BRAVO)}
    entries: list[tuple[str | zipfile.ZipInfo, bytes]] = [("index.html", b"<p>charlie upload</p>")]
    entries += [(name, b"CANARY-charlie-zip") for name in names]
    answer = upload(charlie_owner, CHARLIE.domain, zip_of(entries))
    assert answer.status_code in (303, 400), answer.status_code
    for business in (ALPHA, BRAVO):
        assert site_get(tenancy, business.domain).content == before[business.name]
    assert not written_outside_sites(tenancy, b"CANARY-charlie-zip")


def written_outside_sites(tenancy: Tenancy, marker: bytes) -> list[str]:
    """Files of the data folder, outside the sites folder and the database, that contain `marker`."""
    data = tenancy.daemon.folder / "data"
    found = []
    for path in data.rglob("*"):
        outside = "sites" not in path.relative_to(data).parts[:1] and ".db" not in path.name
        if outside and path.is_file() and not path.is_symlink() and marker in path.read_bytes():
            found.append(str(path))
    return found


@pytest.fixture(scope="module")
def charlie_owner(tenancy: Tenancy) -> Iterator[httpx.Client]:
    with closing(sign_in(tenancy, CHARLIE.owner)) as client:
        yield client
