"""White label on a running daemon: the partner agency.test sets its brand; its customer client-co sees it on the
admin pages (name, logo, colour, support contacts), in its mail apps' settings (autoconfig, .mobileconfig) and
in the notices it is mailed; a business without a partner sees the operator's brand ([brand]); sign-ups through
the partner get names under the partner's platform domain and belong to it; the partner edits its brand with
CSRF, and nobody else can."""

from __future__ import annotations

import plistlib
import struct
import zlib
from contextlib import closing
from xml.etree import ElementTree

import httpx
import pytest

from smb_suite.config import load as load_config
from smb_suite.directory.model import OPERATOR
from smb_suite.ops import brands
from smb_suite.services import open_services
from tests import polling
from tests.adminweb import CUSTOMER, PASSWORD, browser, csrf_token, make_admin_daemon, post, sign_in, signed_in
from tests.daemon import DOMAIN, OWNER, Daemon

PARTNER_BUSINESS = "agency.test"
CUSTOMER_OWNER = "boss@client.test"
NAME = "Agency Cloud"
PLATFORM = "agency-host.test"


def _png() -> bytes:
    """A valid 1x1 PNG (RFC 2083)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\xaa\x33\x00"))
        + chunk(b"IEND", b"")
    )


LOGO = _png()


def brand_the_partner(server: Daemon) -> None:
    services = open_services(load_config(server.config))
    try:
        brands.set_brand(services, OPERATOR, PARTNER_BUSINESS, NAME, "#aa3300", "help@agency.test", "+33 1 23 45 67 89")
        brands.set_logo(services, OPERATOR, PARTNER_BUSINESS, LOGO)
        brands.set_platform_domain(services, OPERATOR, PARTNER_BUSINESS, PLATFORM)
    finally:
        services.close()


pytestmark = pytest.mark.daemon(make=make_admin_daemon, before_start=brand_the_partner)


def _owner_of_customer(server: Daemon) -> httpx.Client:
    client = browser(server)
    assert sign_in(client, CUSTOMER_OWNER, PASSWORD).status_code == 303
    return client


def test_a_partners_customer_sees_the_partners_brand_and_others_the_operators(server: Daemon) -> None:
    with closing(_owner_of_customer(server)) as owner:
        page = owner.get("/admin/").text
        assert f"{NAME}</span>" in page and "– Agency Cloud</title>" in page
        assert "Support: help@agency.test · +33 1 23 45 67 89" in page
        key = page.split("/admin/brand/")[1].split("/")[0]
        assert f'src="/admin/brand/{key}/logo"' in page
        style = owner.get(f"/admin/brand/{key}/style.css")
        assert style.headers["content-type"].startswith("text/css") and "--accent: #aa3300" in style.text
        logo = owner.get(f"/admin/brand/{key}/logo")
        assert logo.content == LOGO and logo.headers["content-type"] == "image/png"
    with closing(signed_in(server, "owner")) as other:  # demo@example.test: no partner
        page = other.get("/admin/").text
        assert NAME not in page, (
            page[page.find(NAME) - 300 : page.find(NAME) + 50]
            and "smb-suite</span>" in page
            and "/admin/brand/default/style.css" in page
        )
    with closing(signed_in(server, "partner")) as partner:  # the partner sees its own
        assert f"{NAME}</span>" in partner.get("/admin/").text


def _display_names(server: Daemon, address: str) -> tuple[str, str]:
    url = f"https://127.0.0.1:{server.ports['https']}/.well-known/autoconfig/mail/config-v1.1.xml"
    answer = httpx.get(url, params={"emailaddress": address}, verify=False, timeout=30)
    provider = ElementTree.fromstring(answer.content).find("emailProvider")
    assert provider is not None
    return provider.findtext("displayName", ""), provider.findtext("displayShortName", "")


def test_mail_apps_show_the_brand_of_the_business(server: Daemon) -> None:
    assert _display_names(server, CUSTOMER_OWNER) == (f"{NAME} (client.test)", NAME)
    assert _display_names(server, OWNER) == (f"smb-suite ({DOMAIN})", "smb-suite")
    with closing(_owner_of_customer(server)) as owner:
        profile = plistlib.loads(owner.get("/admin/account/mobileconfig").content)
    assert profile["PayloadOrganization"] == NAME
    assert profile["PayloadContent"][0]["EmailAccountDescription"] == f"{NAME} ({CUSTOMER_OWNER})"


def test_notices_to_a_partners_customer_come_under_the_partners_brand(server: Daemon) -> None:
    services = open_services(load_config(server.config))
    try:
        for tenant in (CUSTOMER, DOMAIN):
            services.notices.storage_warning(services.tenants.get(OPERATOR, tenant).id, 80)
    finally:
        services.close()
    notice = polling.wait_for(
        "the storage warning", lambda: [m for m in server.messages(CUSTOMER_OWNER) if b"80 %" in m]
    )
    assert f'From: "{NAME}" <postmaster@'.encode() in notice[0] or f"From: {NAME} <postmaster@".encode() in notice[0]
    assert b"help@agency.test" in notice[0]
    plain = polling.wait_for("the other warning", lambda: [m for m in server.messages(OWNER) if b"80 %" in m])
    assert NAME.encode() not in plain[0] and b"smb-suite" in plain[0]


def test_a_sign_up_through_the_partner_is_named_under_its_platform_domain_and_belongs_to_it(server: Daemon) -> None:
    with browser(server) as visitor:
        form = visitor.get("/admin/signup", params={"partner": PARTNER_BUSINESS})
        assert f"{NAME}</span>" in form.text and f"owner@IDENTIFIER.{PLATFORM}" in form.text
        data = {
            "csrf": csrf_token(form),
            "business": "Corner Shop",
            "identifier": "corner",
            "password": PASSWORD,
            "partner": PARTNER_BUSINESS,
        }
        made = visitor.post("/admin/signup", data=data)
        assert made.status_code == 303, made.text
        assert f"{NAME}</span>" in visitor.get("/admin/").text
    services = open_services(load_config(server.config))
    try:
        tenant = services.tenants.get(OPERATOR, "corner")
        assert services.tenants.names([tenant.partner_id or 0]) == {tenant.partner_id: PARTNER_BUSINESS}
        assert services.directory.find_domain(f"corner.{PLATFORM}") is not None
    finally:
        services.close()


def test_the_partner_edits_its_brand_and_nobody_else_can(server: Daemon) -> None:
    logo = {"logo": ("logo.png", LOGO[:-1] + b"!", "image/png")}
    with closing(signed_in(server, "owner")) as owner:
        assert owner.get("/admin/brand").status_code == 403
        refused = post(owner, "/admin/brand", {"name": "Hijack", "colour": "#000000", "partner": PARTNER_BUSINESS})
        assert refused.status_code == 403
        token = csrf_token(owner.get("/admin/account"))
        upload = owner.post("/admin/brand/logo", data={"csrf": token, "partner": PARTNER_BUSINESS}, files=logo)
        assert upload.status_code == 403
    with closing(signed_in(server, "partner")) as partner:
        page = partner.get("/admin/brand")
        assert f'value="{NAME}"' in page.text
        data = {"csrf": csrf_token(page), "name": "Agency Cloud Pro", "colour": "#113355", "support_email": ""}
        assert partner.post("/admin/brand", data={**data, "csrf": "forged"}).status_code == 403
        assert partner.post("/admin/brand", data={**data, "colour": "red"}).status_code == 400
        assert partner.post("/admin/brand", data=data).status_code == 303
        assert "Agency Cloud Pro</span>" in partner.get("/admin/").text
        token = csrf_token(partner.get("/admin/brand"))
        assert partner.post("/admin/brand/logo", data={"csrf": "forged"}, files=logo).status_code == 403
        svg = {"logo": ("logo.svg", b"<svg onload='x()'/>", "image/svg+xml")}
        assert partner.post("/admin/brand/logo", data={"csrf": token}, files=svg).status_code == 400
        assert partner.post("/admin/brand/logo", data={"csrf": token}, files=logo).status_code == 303
        key = partner.get("/admin/").text.split("/admin/brand/")[1].split("/")[0]
        assert partner.get(f"/admin/brand/{key}/logo").content == LOGO[:-1] + b"!"
    shown = server.cli("partner", "brand", PARTNER_BUSINESS).stdout
    assert "Agency Cloud Pro, colour #113355, logo yes" in shown and PLATFORM in shown
    restored = server.cli("partner", "brand", PARTNER_BUSINESS, "--name", NAME, "--colour", "#aa3300")
    assert NAME in restored.stdout
