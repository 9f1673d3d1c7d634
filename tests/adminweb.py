"""Helpers for the admin UI tests: a daemon with every role, browsers signed in as each, forms posted with
their CSRF token like a browser does."""

from __future__ import annotations

import imaplib
import re
from pathlib import Path
from typing import Any

import httpx

from smb_suite.config import load as load_config
from smb_suite.directory.model import OPERATOR, Role
from smb_suite.ops import domains, tenants
from smb_suite.services import open_services
from tests.daemon import DOMAIN, OWNER, OWNER_PASSWORD, USER, USER_PASSWORD, Daemon, add_account, make_daemon
from tests.dnsserver import publish
from tests.mailtest import insecure_context

CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')
OPERATOR_ADDRESS = "root@ops.test"
PARTNER = "pat@agency.test"
CUSTOMER_OWNER = "boss@client.test"
BOB = f"bob@{DOMAIN}"
PASSWORD = "a long enough password"
CUSTOMER = "client-co"
ROLES = {
    "user": (USER, USER_PASSWORD),
    "owner": (OWNER, OWNER_PASSWORD),
    "partner": (PARTNER, PASSWORD),
    "operator": (OPERATOR_ADDRESS, PASSWORD),
}
TIERS = (
    '[tiers.starter]\nstorage_mb = 50\nprice = "3 EUR/month"\n'
    '[tiers.plus]\nstorage_mb = 100\nprice = "6 EUR/month"\n'
    "[signup]\nenabled = true\nper_hour = 50\n"
    '[sites]\nplatform_domain = "sites.test"\n'
)


def make_admin_daemon(folder: Path, extra: str = "", **options: Any) -> Daemon:
    """example.test (owner demo@, users alice@ and bob@), the operator's business ops.test (root@), the partner
    agency.test (pat@) and its customer client-co (client.test, owner boss@). Prepared in-process through the
    use cases the commands call (test_suspension runs `tenant create` and `tenant partner` themselves)."""
    server = make_daemon(folder, TIERS + extra, **options)
    core = open_services(load_config(server.config))
    try:
        add_account(core, BOB, PASSWORD)
        domains.add_domain(core, OPERATOR, "ops.test")
        add_account(core, OPERATOR_ADDRESS, PASSWORD, Role.OPERATOR)
        domains.add_domain(core, OPERATOR, "agency.test")
        add_account(core, PARTNER, PASSWORD, Role.PARTNER)
        tenants.create_tenant(core, OPERATOR, CUSTOMER, "client.test", CUSTOMER_OWNER, PASSWORD)
        tenants.set_partner(core, OPERATOR, CUSTOMER, "agency.test")
    finally:
        core.close()
    return server


def csrf_token(page: httpx.Response) -> str:
    match = CSRF_FIELD.search(page.text)
    assert match, page.text
    return match.group(1)


def sign_in(client: httpx.Client, address: str, password: str) -> httpx.Response:
    """Open the login form, submit it like a browser, and return the response to the POST."""
    form = client.get("/admin/")
    return client.post("/admin/login", data={"csrf": csrf_token(form), "username": address, "password": password})


def browser(server: Daemon) -> httpx.Client:
    return httpx.Client(base_url=f"https://127.0.0.1:{server.ports['https']}", verify=False, timeout=30)


def signed_in(server: Daemon, role: str) -> httpx.Client:
    client = browser(server)
    address, password = ROLES[role]
    response = sign_in(client, address, password)
    assert response.status_code == 303, response.text
    return client


def post(client: httpx.Client, path: str, data: dict[str, str] | None = None) -> httpx.Response:
    """Post a form like a browser: with the CSRF token of the signed-in session (from the account page)."""
    token = csrf_token(client.get("/admin/account"))
    return client.post(path, data={"csrf": token, **(data or {})})


def imap_login(server: Daemon, address: str, password: str) -> str:
    """'OK' or 'NO' for a LOGIN after STARTTLS."""
    with imaplib.IMAP4("127.0.0.1", server.ports["imap"], timeout=30) as client:
        client.starttls(ssl_context=insecure_context())
        try:
            return str(client.login(address, password)[0])
        except imaplib.IMAP4.error:
            return "NO"


VERIFICATION_RECORD = re.compile(r'id="verification-record">(smb-suite-verification=[0-9a-f]+)<')


def verification_record(client: httpx.Client, domain: str) -> str:
    """The TXT record a pending domain's page asks to publish."""
    found = VERIFICATION_RECORD.search(client.get(f"/admin/domains/{domain}/").text)
    assert found is not None, f"{domain} shows no verification record"
    return found.group(1)


def prove_ownership(client: httpx.Client, zone: Path, domain: str) -> httpx.Response:
    """Publish the domain's verification TXT record in the test DNS zone and press "Check now"."""
    publish(zone, f'{domain}.\t300\tIN\tTXT\t"{verification_record(client, domain)}"')
    return post(client, f"/admin/domains/{domain}/verify")
