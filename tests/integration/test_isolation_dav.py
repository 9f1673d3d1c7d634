"""Each business against the others over CalDAV, CardDAV and WebDAV (tests/tenancy.py: the businesses): every
path of another business, and of a colleague's own data, is 404 for every method, MOVE and COPY cannot aim
there, a tenant's domain serves no DAV at all, and the victims' calendars, contacts and documents are intact."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import sqlalchemy as sa

from smb_suite.config import load as load_config
from smb_suite.storage import database, db
from tests.tenancy import BUSINESSES, PAIRS, PARTNER, Account, Business, Tenancy, pair_id

EVENT = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//tests//EN\r\nBEGIN:VEVENT\r\nUID:{uid}\r\n"
    "DTSTAMP:20261201T090000Z\r\nDTSTART:20261210T140000Z\r\nSUMMARY:{summary}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)
METHODS = ("PROPFIND", "GET", "PUT", "DELETE", "PROPPATCH", "MKCOL", "REPORT", "LOCK")


def client(tenancy: Tenancy, account: Account) -> httpx.Client:
    return httpx.Client(base_url=tenancy.https, auth=(account.address, account.password), verify=False, timeout=60)


def principals(tenancy: Tenancy) -> dict[str, tuple[str, str]]:
    """address -> (its user principal, its business principal), as DAV paths name them."""
    engine = database.create_engine(load_config(tenancy.daemon.config).database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.select(db.users.c.id, db.domains.c.tenant_id, db.users.c.local_part, db.domains.c.name).join(
                    db.domains, db.users.c.domain_id == db.domains.c.id
                )
            ).all()
    finally:
        engine.dispose()
    return {f"{row.local_part}@{row.name}": (f"u{row.id}", f"t{row.tenant_id}") for row in rows}


@pytest.fixture(scope="module")
def planted(tenancy: Tenancy) -> Iterator[dict[str, tuple[str, str]]]:
    """Every business's user stores a canary event in its Team calendar and in its own calendar, and a canary
    document in Shared and in its private folder."""
    found = principals(tenancy)
    for business in BUSINESSES:
        user, team = found[business.user.address]
        with client(tenancy, business.user) as dav:
            for path in (f"/dav/{team}/team/canary.ics", f"/dav/{user}/calendar/canary.ics"):
                body = EVENT.format(uid=f"{business.canary}{path}", summary=business.canary)
                assert dav.put(path, content=body, headers={"Content-Type": "text/calendar"}).status_code == 201
            for folder in ("Shared", business.user.address):
                assert dav.put(f"/dav/files/{folder}/canary.txt", content=business.canary).status_code == 201
    yield found


def victim_paths(victim: Business, found: dict[str, tuple[str, str]]) -> list[str]:
    user, team = found[victim.user.address]
    return [
        f"/dav/{team}/",
        f"/dav/{team}/team/",
        f"/dav/{team}/team/canary.ics",
        f"/dav/{team}/contacts/",
        f"/dav/{team}/tasks/",
        f"/dav/{user}/",
        f"/dav/{user}/calendar/canary.ics",
        f"/dav/files/{victim.user.address}/canary.txt",
    ]


@pytest.mark.parametrize("pair", PAIRS, ids=pair_id)
def test_every_method_on_another_business_is_404(
    tenancy: Tenancy, planted: dict[str, tuple[str, str]], pair: tuple[Business, Business]
) -> None:
    attacker, victim = pair
    with client(tenancy, attacker.owner) as dav:
        for path in victim_paths(victim, planted):
            for method in METHODS:
                answer = dav.request(method, path, content=EVENT.format(uid="x", summary="x"))
                assert answer.status_code == 404, (method, path, answer.status_code)
                assert victim.canary not in answer.text
        own_team = planted[attacker.user.address][1]
        for method in ("MOVE", "COPY"):
            target = f"{tenancy.https}/dav/{planted[victim.user.address][1]}/team/stolen.ics"
            answer = dav.request(method, f"/dav/{own_team}/team/canary.ics", headers={"Destination": target})
            assert answer.status_code == 404
        shared = dav.get("/dav/files/Shared/canary.txt")
        assert shared.text == attacker.canary  # "Shared" is always the attacker's own business's


def test_a_colleague_never_sees_a_user_own_calendar_or_private_folder(
    tenancy: Tenancy, planted: dict[str, tuple[str, str]]
) -> None:
    for business in BUSINESSES:
        user, team = planted[business.user.address]
        with client(tenancy, business.owner) as dav:
            assert dav.get(f"/dav/{team}/team/canary.ics").status_code == 200  # the business's, shared
            assert dav.get(f"/dav/{user}/calendar/canary.ics").status_code == 404
            assert dav.get(f"/dav/files/{business.user.address}/canary.txt").status_code == 404


def test_a_partner_sees_nothing_of_the_businesses_it_stewards(
    tenancy: Tenancy, planted: dict[str, tuple[str, str]]
) -> None:
    with client(tenancy, PARTNER) as dav:
        for business in BUSINESSES:
            for path in victim_paths(business, planted):
                assert dav.request("PROPFIND", path).status_code == 404


def test_a_tenant_domain_serves_no_dav(tenancy: Tenancy, planted: dict[str, tuple[str, str]]) -> None:
    for business in BUSINESSES:
        team = planted[business.user.address][1]
        with client(tenancy, business.user) as dav:
            answer = dav.request("PROPFIND", f"/dav/{team}/team/", headers={"Host": business.domain})
            assert answer.status_code != 207 and business.canary not in answer.text


def test_victims_calendars_and_documents_are_intact(tenancy: Tenancy, planted: dict[str, tuple[str, str]]) -> None:
    for business in BUSINESSES:
        user, team = planted[business.user.address]
        with client(tenancy, business.user) as dav:
            assert business.canary in dav.get(f"/dav/{team}/team/canary.ics").text
            assert business.canary in dav.get(f"/dav/{user}/calendar/canary.ics").text
            assert dav.get(f"/dav/files/{business.user.address}/canary.txt").text == business.canary
            assert dav.get(f"/dav/{team}/team/stolen.ics").status_code == 404
