"""Helpers for the provisioning API tests: two partners with a customer each, and API tokens of every kind,
made in-process through the use cases the commands call (before the daemon starts); a client per token."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from smb_suite.config import load as load_config
from smb_suite.directory.model import OPERATOR
from smb_suite.ops import api, billing, tenants, users
from smb_suite.services import open_services
from tests.daemon import Daemon

PASSWORD = "a long enough password"
PARTNER_A, PARTNER_B = "agency-a", "agency-b"
SHOP_A, SHOP_B = "a-shop", "b-shop"
BOB_B = "bob@b-shop.test"
TOKENS = {  # name -> (partner or None for the operator, scopes, revoked)
    "a": (PARTNER_A, (), False),
    "b": (PARTNER_B, (), False),
    "a-read": (PARTNER_A, ("businesses:read", "billing:read"), False),
    "a-revoked": (PARTNER_A, (), True),
    "a-burst": (PARTNER_A, (), False),
    "operator": (None, (), False),
}


def add_partners(server: Daemon) -> None:
    """agency-a and agency-b (partners), a-shop (agency-a's customer) and b-shop (agency-b's, with bob@), both on
    the suite plan; the tokens of TOKENS, their secrets written to tokens.json beside the configuration."""
    services = open_services(load_config(server.config))
    secrets: dict[str, str] = {}
    try:
        for partner, shop in ((PARTNER_A, SHOP_A), (PARTNER_B, SHOP_B)):
            for name in (partner, shop):
                tenants.create_tenant(services, OPERATOR, name, f"{name}.test", f"boss@{name}.test", PASSWORD)
            tenants.set_partner(services, OPERATOR, shop, partner)
            billing.set_subscription(services, OPERATOR, shop, billing.Edit(plan="suite"))
        users.add_user(services, OPERATOR, BOB_B, PASSWORD)
        for name, (partner, scopes, revoked) in TOKENS.items():
            row, secret = api.create_token(services, OPERATOR, partner, scopes)
            if revoked:
                api.revoke_token(services, OPERATOR, row.token.id)
            secrets[name] = secret
    finally:
        services.close()
    (server.folder / "tokens.json").write_text(json.dumps(secrets))


def token(server: Daemon, name: str) -> str:
    return str(json.loads((server.folder / "tokens.json").read_text())[name])


def base_url(server: Daemon) -> str:
    scheme = "https" if "https" in server.ports else "http"
    return f"{scheme}://127.0.0.1:{server.ports[scheme]}"


def client(server: Daemon, name: str | None) -> httpx.Client:
    """A client of the API with the named token (None: without one)."""
    headers = {} if name is None else {"Authorization": f"Bearer {token(server, name)}"}
    return httpx.Client(base_url=base_url(server) + "/api/v1", headers=headers, verify=False, timeout=60)


def tokens_file(server: Daemon) -> Path:
    return server.folder / "tokens.json"
