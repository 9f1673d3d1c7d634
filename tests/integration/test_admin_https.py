"""The admin pages over HTTPS: plain HTTP redirects there (308) when HTTPS is served, cookies are Secure, and the
server's own host name sends HSTS, which tenant sites never get from us."""

from __future__ import annotations

import httpx
import pytest

from tests.adminweb import csrf_token, sign_in
from tests.daemon import DOMAIN, OWNER, OWNER_PASSWORD, Daemon, Daemons
from tests.integration.test_web import SERVER_HOSTNAME, WEB_ONLY


@pytest.fixture(scope="module")
def web(start_daemon: Daemons) -> Daemon:
    return start_daemon(services=WEB_ONLY, name="https")


def http(web: Daemon, path: str) -> str:
    return f"http://127.0.0.1:{web.ports['http']}{path}"


def https(web: Daemon, path: str) -> str:
    return f"https://127.0.0.1:{web.ports['https']}{path}"


def test_admin_over_http_redirects_to_the_same_page_over_https(web: Daemon) -> None:
    response = httpx.get(http(web, "/admin/account?tab=1"))
    assert response.status_code == 308
    assert response.headers["location"] == f"https://127.0.0.1:{web.ports['https']}/admin/account?tab=1"
    named = httpx.get(http(web, "/admin/"), headers={"Host": SERVER_HOSTNAME})
    assert named.status_code == 308
    assert named.headers["location"] == f"https://{SERVER_HOSTNAME}:{web.ports['https']}/admin/"
    posted = httpx.post(http(web, "/admin/login"), data={"username": OWNER, "password": OWNER_PASSWORD})
    assert posted.status_code == 308 and "set-cookie" not in posted.headers  # a 308 keeps the POST for HTTPS
    with httpx.Client(verify=False, follow_redirects=True) as browser:
        page = browser.get(http(web, "/admin/"))
        assert page.status_code == 200 and str(page.url).startswith("https://") and "/admin/login" in page.text


def test_tenant_sites_stay_on_http_and_never_get_hsts(web: Daemon) -> None:
    site = httpx.get(http(web, "/"), headers={"Host": DOMAIN})
    assert site.status_code == 200 and "strict-transport-security" not in site.headers
    secure_site = httpx.get(https(web, "/"), headers={"Host": DOMAIN}, verify=False)
    assert secure_site.status_code == 200 and "strict-transport-security" not in secure_site.headers
    assert httpx.get(http(web, "/admin/"), headers={"Host": DOMAIN}).status_code == 404


def test_the_admin_host_sends_hsts_over_https_only(web: Daemon) -> None:
    ours = httpx.get(https(web, "/admin/"), headers={"Host": SERVER_HOSTNAME}, verify=False)
    assert ours.status_code == 200 and ours.headers["strict-transport-security"] == "max-age=2592000"
    assert "includesubdomains" not in ours.headers["strict-transport-security"].lower()
    loopback = httpx.get(https(web, "/admin/"), verify=False)  # an IP literal: browsers ignore HSTS there
    assert loopback.status_code == 200 and "strict-transport-security" not in loopback.headers


def test_admin_cookies_are_secure_and_http_only(web: Daemon) -> None:
    with httpx.Client(base_url=https(web, ""), verify=False) as browser:
        form = browser.get("/admin/")
        assert "secure" in form.headers["set-cookie"].lower()
        response = sign_in(browser, OWNER, OWNER_PASSWORD)
        assert response.status_code == 303
        session = [value for value in response.headers.get_list("set-cookie") if value.startswith("smb_session=")]
        assert session and "; secure" in session[0].lower() and "; httponly" in session[0].lower()
        assert csrf_token(browser.get("/admin/account"))


def test_without_an_https_listener_the_admin_pages_work_over_http(fresh_daemon: Daemons) -> None:
    server = fresh_daemon(services=("http",), name="plain")
    with httpx.Client(base_url=http(server, ""), timeout=30) as browser:
        assert browser.get("/admin/").status_code == 200
        response = sign_in(browser, OWNER, OWNER_PASSWORD)
        assert response.status_code == 303 and "secure" not in response.headers["set-cookie"].lower()
