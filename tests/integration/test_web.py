"""The web front end as browsers see it, against the real daemon: sites chosen by Host, admin sign-in, CSRF."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.adminweb import csrf_token, sign_in
from tests.daemon import DOMAIN, OWNER, OWNER_PASSWORD, USER, USER_PASSWORD, Daemon, Daemons

WEB_ONLY = ("http", "https")
SERVER_HOSTNAME = "mail.example.test"  # [server] hostname in tests/daemon.py
TRAVERSALS = [
    "/../../../../../../etc/passwd",
    "/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/static/..%2f..%2f..%2f..%2f..%2f..%2f..%2fetc%2fpasswd",
    "/static/%2e%2e/%2e%2e/%2e%2e/smb-suite.toml",
]


@pytest.fixture(scope="module")
def web(start_daemon: Daemons) -> Daemon:
    """A daemon serving only http and https for this module: its own sites to tamper with (a symlink test)
    and its own login throttle, so failed logins in other protocols' tests never slow these down."""
    return start_daemon(services=WEB_ONLY, name="web")


@pytest.fixture
def private_web(fresh_daemon: Daemons) -> Daemon:
    """A web daemon a test may restart."""
    return fresh_daemon(services=WEB_ONLY, name="private")


def site_url(web: Daemon, path: str = "/") -> str:
    return f"http://127.0.0.1:{web.ports['http']}{path}"


def live_docroot(web: Daemon) -> Path:
    return web.site_folder(DOMAIN) / "current"


@pytest.fixture
def admin(web: Daemon) -> Iterator[httpx.Client]:
    """A browser on the server itself: https://127.0.0.1/admin/ (self-signed certificate), keeping cookies."""
    with httpx.Client(base_url=f"https://127.0.0.1:{web.ports['https']}", verify=False) as client:
        yield client


def curl_status_and_body(url: str, host: str) -> tuple[int, str]:
    """Fetch with curl --path-as-is, which sends '..' segments unchanged (httpx would normalise them)."""
    result = subprocess.run(
        ["curl", "-s", "--path-as-is", "-H", f"Host: {host}", "-w", "\n%{http_code}", url],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    body, _, status = result.stdout.rpartition("\n")
    return int(status), body


# -- hosted sites -------------------------------------------------------------------------------------------


def test_hosted_domain_serves_its_published_page_unchanged(web: Daemon) -> None:
    response = httpx.get(site_url(web), headers={"Host": DOMAIN})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.content == (live_docroot(web) / "index.html").read_bytes()
    assert "Welcome to example.test" in response.text


def test_www_name_and_port_in_host_serve_the_same_site(web: Daemon) -> None:
    apex = httpx.get(site_url(web), headers={"Host": DOMAIN})
    www = httpx.get(site_url(web), headers={"Host": f"WWW.{DOMAIN.upper()}:8080"})
    assert www.status_code == 200
    assert www.content == apex.content


def test_site_stylesheet_is_served_as_css(web: Daemon) -> None:
    response = httpx.get(site_url(web, "/static/site.css"), headers={"Host": DOMAIN})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/css")


def test_directory_without_slash_redirects_and_never_lists(web: Daemon) -> None:
    redirect = httpx.get(site_url(web, "/static"), headers={"Host": DOMAIN})
    assert redirect.status_code == 301
    assert redirect.headers["location"] == "/static/"
    listing = httpx.get(site_url(web, "/static/"), headers={"Host": DOMAIN})
    assert listing.status_code == 404
    assert listing.content == (live_docroot(web) / "404.html").read_bytes()


def test_missing_page_gets_the_sites_own_404_page(web: Daemon) -> None:
    response = httpx.get(site_url(web, "/no-such-page"), headers={"Host": DOMAIN})
    assert response.status_code == 404
    assert response.content == (live_docroot(web) / "404.html").read_bytes()


def test_unknown_host_gets_a_neutral_404_without_tenant_content(web: Daemon) -> None:
    response = httpx.get(site_url(web), headers={"Host": "not-hosted.test"})
    assert response.status_code == 404
    assert "No website is published at this address" in response.text
    assert DOMAIN not in response.text
    assert "Welcome" not in response.text


def test_head_returns_the_headers_of_get_without_a_body(web: Daemon) -> None:
    get = httpx.get(site_url(web), headers={"Host": DOMAIN})
    head = httpx.head(site_url(web), headers={"Host": DOMAIN})
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == get.headers["content-length"]
    assert head.headers["content-type"] == get.headers["content-type"]


@pytest.mark.parametrize("path", TRAVERSALS)
def test_path_traversal_never_serves_a_file_outside_the_site(web: Daemon, path: str) -> None:
    status, body = curl_status_and_body(site_url(web, path), DOMAIN)
    assert status in (400, 404)
    assert "root:" not in body
    assert "[listen]" not in body


@pytest.fixture
def symlink_out_of_the_site(web: Daemon) -> Iterator[str]:
    """A symlink inside the live site pointing at a secret file outside it; removed afterwards."""
    secret = web.folder / "outside-secret.txt"
    secret.write_text("top secret outside the docroot")
    link = live_docroot(web) / "leak.txt"
    link.symlink_to(secret)
    yield "/leak.txt"
    link.unlink()


def test_symlink_pointing_outside_the_site_is_not_followed(web: Daemon, symlink_out_of_the_site: str) -> None:
    response = httpx.get(site_url(web, symlink_out_of_the_site), headers={"Host": DOMAIN})
    assert response.status_code == 404
    assert "top secret" not in response.text


def test_post_to_a_site_is_refused_with_405(web: Daemon) -> None:
    response = httpx.post(site_url(web), headers={"Host": DOMAIN}, data={"x": "1"})
    assert response.status_code == 405


# -- admin --------------------------------------------------------------------------------------------------


def test_admin_shows_a_labelled_login_form_with_security_headers(admin: httpx.Client) -> None:
    response = admin.get("/admin/")
    assert response.status_code == 200
    assert '<html lang="en">' in response.text
    assert '<label for="username">' in response.text and '<label for="password">' in response.text
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"]


def test_admin_answers_on_the_server_hostname_but_not_on_a_tenant_domain(web: Daemon) -> None:
    secure = f"https://127.0.0.1:{web.ports['https']}/admin/"
    ours = httpx.get(secure, headers={"Host": SERVER_HOSTNAME}, verify=False)
    tenant = httpx.get(site_url(web, "/admin/"), headers={"Host": DOMAIN})
    assert ours.status_code == 200 and 'action="/admin/login"' in ours.text
    assert tenant.status_code == 404 and "/admin/login" not in tenant.text


def test_owner_signs_in_and_sees_the_mailboxes_of_the_business(admin: httpx.Client) -> None:
    response = sign_in(admin, OWNER, OWNER_PASSWORD)
    assert response.status_code == 303
    page = admin.get(response.headers["location"])
    assert page.status_code == 200
    assert "Mailboxes of your business" in page.text
    assert OWNER in page.text and USER in page.text


def test_plain_user_sees_only_its_own_account(admin: httpx.Client) -> None:
    assert sign_in(admin, USER, USER_PASSWORD).status_code == 303
    page = admin.get("/admin/")
    assert "Your account" in page.text
    assert USER in page.text
    assert OWNER not in page.text


def test_wrong_password_shows_the_form_again_and_no_mailboxes(admin: httpx.Client) -> None:
    response = sign_in(admin, OWNER, "not the password")
    assert response.status_code == 401
    assert "wrong user name or password" in response.text
    assert 'name="password"' in response.text
    assert USER not in response.text
    assert "smb_session" not in admin.cookies
    assert "Sign in" in admin.get("/admin/").text


def test_session_cookie_is_httponly_samesite_lax_secure_and_expires(admin: httpx.Client) -> None:
    response = sign_in(admin, OWNER, OWNER_PASSWORD)
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("smb_session="))
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "secure", "max-age", "path"} <= attributes
    assert "samesite=lax" in cookie.lower()


def test_admin_over_plain_http_sets_no_cookie_and_goes_to_https(web: Daemon) -> None:
    response = httpx.get(site_url(web, "/admin/"), headers={"Host": "localhost"})
    assert response.status_code == 308 and response.headers["location"].startswith("https://localhost:")
    assert "set-cookie" not in response.headers  # tests/integration/test_admin_https.py: without HTTPS, plain cookies


def test_login_without_csrf_token_is_refused_with_403(admin: httpx.Client) -> None:
    admin.get("/admin/")  # has the login-form cookie, but the form's token is left out
    response = admin.post("/admin/login", data={"username": OWNER, "password": OWNER_PASSWORD})
    assert response.status_code == 403
    assert "nothing was changed" in response.text
    assert "smb_session" not in admin.cookies


def test_login_with_a_wrong_csrf_token_is_refused_with_403(admin: httpx.Client) -> None:
    admin.get("/admin/")
    data = {"csrf": "forged", "username": OWNER, "password": OWNER_PASSWORD}
    response = admin.post("/admin/login", data=data)
    assert response.status_code == 403
    assert "smb_session" not in admin.cookies


def test_login_form_token_from_another_browser_is_refused(admin: httpx.Client, web: Daemon) -> None:
    with httpx.Client(base_url=f"https://127.0.0.1:{web.ports['https']}", verify=False) as attacker:
        stolen = csrf_token(attacker.get("/admin/"))
    admin.get("/admin/")
    data = {"csrf": stolen, "username": OWNER, "password": OWNER_PASSWORD}
    assert admin.post("/admin/login", data=data).status_code == 403


def test_sign_out_without_csrf_token_keeps_the_session(admin: httpx.Client) -> None:
    sign_in(admin, OWNER, OWNER_PASSWORD)
    assert admin.post("/admin/logout", data={}).status_code == 403
    assert "Mailboxes of your business" in admin.get("/admin/").text


def test_sign_out_ends_the_session(admin: httpx.Client) -> None:
    sign_in(admin, OWNER, OWNER_PASSWORD)
    token = csrf_token(admin.get("/admin/"))
    response = admin.post("/admin/logout", data={"csrf": token})
    assert response.status_code == 303
    page = admin.get("/admin/")
    assert "Sign in" in page.text
    assert USER not in page.text


def test_session_survives_a_restart_of_the_daemon(private_web: Daemon) -> None:
    with httpx.Client(base_url=f"https://127.0.0.1:{private_web.ports['https']}", verify=False) as browser:
        sign_in(browser, OWNER, OWNER_PASSWORD)
        cookie = browser.cookies["smb_session"]
    private_web.restart()
    key = private_web.folder / "data" / "session.key"
    assert key.stat().st_mode & 0o777 == 0o600
    with httpx.Client(base_url=f"https://127.0.0.1:{private_web.ports['https']}", verify=False) as browser:
        browser.cookies.set("smb_session", cookie, domain="127.0.0.1", path="/admin")
        assert "Mailboxes of your business" in browser.get("/admin/").text


def test_passwords_typed_into_the_login_form_never_reach_the_log(web: Daemon, admin: httpx.Client) -> None:
    sign_in(admin, USER, "typo-" + USER_PASSWORD)
    sign_in(admin, USER, USER_PASSWORD)
    log = web.all_logs()
    assert f"web.login user={USER}" in log
    assert USER_PASSWORD not in log


def test_sign_up_is_closed_unless_the_operator_opens_it(admin: httpx.Client) -> None:
    assert admin.get("/admin/signup").status_code == 404
    assert "/admin/signup" not in admin.get("/admin/").text
