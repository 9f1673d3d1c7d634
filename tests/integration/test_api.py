"""The provisioning API on a running daemon, as a partner's billing system uses it: create a business with its
owner and subscription, add and remove users by kind, change the subscription, suspend and resume, read usage and
the statement; partner A never reaches partner B's businesses on any call; idempotent retries create nothing
twice; revoked tokens, missing scopes and too many calls are refused with JSON errors of stable codes; every
change is in the audit log under the token's name."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest

from smb_suite.config import load as load_config
from smb_suite.directory.model import OPERATOR
from smb_suite.ops import tenants
from smb_suite.services import open_services
from tests.apitest import BOB_B, PARTNER_A, PARTNER_B, SHOP_A, SHOP_B, add_partners, base_url, client
from tests.daemon import Daemon

LIMIT = 150
pytestmark = pytest.mark.daemon(f"[api]\nrequests_per_minute = {LIMIT}\n", before_start=add_partners)
NEW = {"name": "new-co", "domain": "new-co.test", "owner": "boss@new-co.test", "password": "a long password 1"}


def _error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.json()["error"]["code"] == code
    assert response.json()["error"]["message"]


def _audit(server: Daemon, business: str) -> list[tuple[str, str, str]]:
    services = open_services(load_config(server.config))
    try:
        return [(e.actor, e.action, e.target) for e in tenants.audit_entries(services, OPERATOR, business)]
    finally:
        services.close()


def test_a_partner_creates_a_business_with_its_owner_and_subscription(server: Daemon) -> None:
    with client(server, "a") as api:
        created = api.post("/businesses", json={**NEW, "plan": "suite"})
        assert created.status_code == 201, created.text
        assert created.json()["name"] == "new-co"
        assert created.json()["partner"] == PARTNER_A
        assert created.json()["domains"] == ["new-co.test"]
        listed = [b["name"] for b in api.get("/businesses").json()["businesses"]]
        assert sorted(listed) == [SHOP_A, "new-co"]
        users = api.get("/businesses/new-co/users").json()["users"]
        assert users == [{"address": "boss@new-co.test", "role": "owner", "kind": "standard"}]
        subscription = api.get("/businesses/new-co/subscription").json()
        assert subscription["sold_by"] == PARTNER_A
        assert subscription["current"] == {"plan": "suite", "modules": [], "extensions": []}
    actions = {(action, actor) for actor, action, _ in _audit(server, "new-co")}
    token_name = next(actor for actor, action, _ in _audit(server, "new-co") if action == "tenant.create")
    assert re.fullmatch(rf"api token \d+ \({PARTNER_A}\)", token_name)
    assert {("tenant.create", token_name), ("subscription.set", token_name)} <= actions


def test_a_partner_manages_users_subscription_and_suspension_of_its_customer(server: Daemon) -> None:
    with client(server, "a") as api:
        added = api.post(
            f"/businesses/{SHOP_A}/users",
            json={"address": "desk@a-shop.test", "password": "a long password 2", "kind": "deskless"},
        )
        assert added.status_code == 201, added.text
        usage = api.get(f"/businesses/{SHOP_A}/usage").json()
        assert usage["users"] == {"standard": 1, "deskless": 1}
        assert api.delete(f"/businesses/{SHOP_A}/users/desk@a-shop.test").status_code == 200
        assert api.get(f"/businesses/{SHOP_A}/usage").json()["users"] == {"standard": 1, "deskless": 0}
        changed = api.post(f"/businesses/{SHOP_A}/subscription", json={"add_extensions": ["storage-100"]})
        assert changed.status_code == 200, changed.text
        assert changed.json()["current"]["extensions"] == ["storage-100"]
        assert api.get(f"/businesses/{SHOP_A}").json()["tier"] == "plus"
        _error(api.post(f"/businesses/{SHOP_A}/subscription", json={"add_modules": ["nope"]}), 400, "invalid_input")
        assert api.post(f"/businesses/{SHOP_A}/suspend").json()["suspended"] is True
        assert api.post(f"/businesses/{SHOP_A}/resume").json()["suspended"] is False
        statement = api.get("/statement", params={"month": "2026-12"}).json()
        assert statement["partner"] == PARTNER_A
        assert {line["business"] for line in statement["lines"]} <= {SHOP_A, "new-co"}


def _calls(document: dict[str, Any]) -> list[tuple[str, str]]:
    return [(method.upper(), path) for path, methods in document["paths"].items() for method in methods]


BODIES = {
    "addUser": {"address": "eve@b-shop.test", "password": "a long password 3"},
    "changeSubscription": {"add_modules": []},
}


def test_partner_a_never_reaches_partner_b_businesses_on_any_call(server: Daemon) -> None:
    """Every call that names a business, with B's customer, B's own business, A's own business and one that does
    not exist: the same 404, and B's customer is unchanged."""
    with client(server, "b") as b_api:
        before = (b_api.get(f"/businesses/{SHOP_B}").json(), b_api.get(f"/businesses/{SHOP_B}/users").json())
    document = httpx.get(base_url(server) + "/api/v1/openapi.json", verify=False).json()
    named = [(method, path) for method, path in _calls(document) if "{business}" in path]
    assert len(named) >= 9
    with client(server, "a") as api:
        answers: dict[str, list[str]] = {}
        for business in (SHOP_B, PARTNER_B, PARTNER_A, "no-such-co"):
            for method, path in named:
                operation = document["paths"][path][method.lower()]["operationId"]
                url = path.removeprefix("/api/v1").format(business=business, address=BOB_B)
                body = BODIES.get(operation, {}) if method == "POST" else None
                response = api.request(method, url, json=body)
                _error(response, 404, "not_found")
                answers.setdefault(business, []).append(response.text.replace(business, "NAME"))
        assert answers[SHOP_B] == answers[PARTNER_B] == answers[PARTNER_A] == answers["no-such-co"]  # no probing
        _error(api.get("/statement", params={"month": "2026-12", "partner": PARTNER_B}), 404, "not_found")
        assert all(b["partner"] == PARTNER_A for b in api.get("/businesses").json()["businesses"])
    with client(server, "b") as b_api:
        after = (b_api.get(f"/businesses/{SHOP_B}").json(), b_api.get(f"/businesses/{SHOP_B}/users").json())
    assert after == before
    assert {u["address"] for u in after[1]["users"]} == {"boss@b-shop.test", BOB_B}


def test_the_operator_token_reaches_every_business(server: Daemon) -> None:
    with client(server, "operator") as api:
        names = {b["name"] for b in api.get("/businesses").json()["businesses"]}
        assert {SHOP_A, SHOP_B, PARTNER_A, PARTNER_B} <= names
        assert api.get("/statement", params={"month": "2026-12", "partner": PARTNER_B}).json()["partner"] == PARTNER_B
        _error(api.get("/statement", params={"month": "2026-12"}), 400, "invalid_input")


def test_a_retried_create_with_its_idempotency_key_creates_nothing_twice(server: Daemon) -> None:
    body = {**NEW, "name": "retry-co", "domain": "retry-co.test", "owner": "boss@retry-co.test"}
    with client(server, "a") as api:
        first = api.post("/businesses", json=body, headers={"Idempotency-Key": "order-1"})
        again = api.post("/businesses", json=body, headers={"Idempotency-Key": "order-1"})
        assert first.status_code == again.status_code == 201
        assert again.json() == first.json()
        assert again.headers["idempotent-replayed"] == "true"
        other = api.post("/businesses", json={**body, "name": "retry-co2"}, headers={"Idempotency-Key": "order-1"})
        _error(other, 422, "idempotency_key_reused")
        user = {"address": "ann@retry-co.test", "password": "a long password 4"}
        for _ in range(2):
            added = api.post("/businesses/retry-co/users", json=user, headers={"Idempotency-Key": "u1"})
            assert added.status_code == 201
        names = [b["name"] for b in api.get("/businesses").json()["businesses"]]
        assert names.count("retry-co") == 1 and "retry-co2" not in names
        addresses = [u["address"] for u in api.get("/businesses/retry-co/users").json()["users"]]
        assert sorted(addresses) == ["ann@retry-co.test", "boss@retry-co.test"]
    with client(server, "b") as b_api:  # keys are the token's own: B's order-1 is a new request
        _error(b_api.post("/businesses", json=body, headers={"Idempotency-Key": "order-1"}), 409, "already_exists")


def test_refused_without_a_token_with_a_revoked_one_or_without_the_scope(server: Daemon) -> None:
    with client(server, None) as anonymous:
        response = anonymous.get("/businesses")
        _error(response, 401, "unauthorized")
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert anonymous.get("/openapi.json").status_code == 200
    with client(server, "a-revoked") as revoked:
        _error(revoked.get("/businesses"), 401, "unauthorized")
    with httpx.Client(base_url=base_url(server) + "/api/v1", verify=False) as forged:
        _error(forged.get("/businesses", headers={"Authorization": "Bearer smb_forged"}), 401, "unauthorized")
    with client(server, "a-read") as reader:
        assert reader.get(f"/businesses/{SHOP_A}").status_code == 200
        _error(reader.post(f"/businesses/{SHOP_A}/suspend"), 403, "insufficient_scope")
        _error(reader.post("/businesses", json=NEW), 403, "insufficient_scope")
        assert reader.get(f"/businesses/{SHOP_A}").json()["suspended"] is False


def test_errors_are_json_with_stable_codes(server: Daemon) -> None:
    with client(server, "a") as api:
        _error(api.get("/nothing-here"), 404, "not_found")
        _error(api.post("/businesses", content=b"{not json", headers={"content-type": "application/json"}), 400,
               "invalid_input")  # fmt: skip
        _error(api.post("/businesses", json={**NEW, "extra": "x"}), 400, "invalid_input")
        _error(api.post("/businesses", json={**NEW, "name": SHOP_B, "domain": "x-b.test", "owner": "a@x-b.test"}),
               409, "already_exists")  # fmt: skip
        _error(api.get("/statement", params={"month": "2026-13"}), 400, "invalid_input")


def test_a_token_over_its_calls_per_minute_gets_429_with_retry_after(server: Daemon) -> None:
    """Windows are whole minutes, so a burst may straddle two: the calls go on until one window holds more than
    LIMIT (the exact counts per window are in tests/unit/auth/test_apitokens.py, with a clock)."""
    with client(server, "a-burst") as api:
        statuses = [api.get("/businesses").status_code for _ in range(LIMIT)]
        assert set(statuses) == {200}
        refused = next(
            (answer for answer in (api.get("/businesses") for _ in range(2 * LIMIT + 1)) if answer.status_code != 200),
            None,
        )
        assert refused is not None, "no call was refused"
        _error(refused, 429, "rate_limited")
        assert 1 <= int(refused.headers["retry-after"]) <= 60
    with client(server, "a") as other:  # the limit is per token
        assert other.get("/businesses").status_code == 200


def test_tokens_are_made_listed_and_revoked_at_the_command_line(server: Daemon) -> None:
    made = server.cli("api", "token", "create", PARTNER_B, "--scope", "businesses:read")
    token_id = int(made.stdout.split()[1])
    secret = made.stdout.splitlines()[1]
    assert "cannot be shown again" in made.stderr
    headers = {"Authorization": f"Bearer {secret}"}
    with httpx.Client(base_url=base_url(server) + "/api/v1", headers=headers, verify=False) as api:
        assert [b["name"] for b in api.get("/businesses").json()["businesses"]] == [SHOP_B]
        listed = server.cli("api", "token", "list").stdout
        assert re.search(rf"^{token_id}\t{PARTNER_B}\tbusinesses:read\t.*\tactive$", listed, re.M)
        assert secret not in listed
        server.cli("api", "token", "revoke", str(token_id))
        _error(api.get("/businesses"), 401, "unauthorized")
    database = json.dumps(_audit(server, PARTNER_B))
    assert "api.token.create" in database and "api.token.revoke" in database
