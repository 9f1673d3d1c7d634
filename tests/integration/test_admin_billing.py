"""Billing in the admin UI, through a browser-like client with CSRF tokens: an owner upgrades its storage and adds
a module itself (a subscription change; its partner and the operator get a mail), a partner reads its statement
of a month and downloads it as CSV (the numbers of `smb-suite billing statement`), the operator reads every
partner's totals; forged and foreign requests change nothing."""

from __future__ import annotations

import datetime
from contextlib import closing

import pytest

from smb_suite.billing import export
from smb_suite.billing.contract import Contract
from smb_suite.billing.money import Month
from smb_suite.config import load as load_config
from smb_suite.directory.model import OPERATOR
from smb_suite.ops import billing
from smb_suite.services import open_services
from tests import polling
from tests.adminweb import (
    CUSTOMER,
    OPERATOR_ADDRESS,
    PARTNER,
    PASSWORD,
    browser,
    csrf_token,
    make_admin_daemon,
    post,
    sign_in,
    signed_in,
)
from tests.daemon import DOMAIN, Daemon

PARTNER_BUSINESS = "agency.test"
CUSTOMER_OWNER = "boss@client.test"
SUBJECT = f"{CUSTOMER} changed its subscription"


def _month() -> Month:
    today = datetime.datetime.now(datetime.UTC).date()
    return Month(today.year, today.month)


def subscribe(server: Daemon) -> None:
    """client-co (agency.test's customer) subscribes to the mail module from the first of the month."""
    services = open_services(load_config(server.config))
    try:
        first = datetime.datetime.now(datetime.UTC).date().replace(day=1)
        billing.set_subscription(services, OPERATOR, CUSTOMER, billing.Edit(add_modules=["mail"]), first)
    finally:
        services.close()


pytestmark = pytest.mark.daemon(make=make_admin_daemon, before_start=subscribe)


def _contract(server: Daemon) -> Contract:
    services = open_services(load_config(server.config))
    try:
        return billing.show_subscription(services, OPERATOR, CUSTOMER)
    finally:
        services.close()


def _statement(server: Daemon) -> billing.Statement:
    services = open_services(load_config(server.config))
    try:
        return billing.statement(services, OPERATOR, PARTNER_BUSINESS, _month())
    finally:
        services.close()


def _subjects(server: Daemon, address: str) -> list[bytes]:
    return [message for message in server.messages(address) if SUBJECT.encode() in message]


def test_a_forged_or_foreign_change_changes_nothing(server: Daemon) -> None:
    before = _contract(server)
    with closing(signed_in(server, "owner")) as stranger:  # demo@example.test owns another business
        refused = post(
            stranger, f"/admin/business/{CUSTOMER}/subscription", {"action": "add-module", "item": "website"}
        )
        assert refused.status_code in (403, 404)
    with closing(signed_in(server, "user")) as user:
        path = f"/admin/business/{DOMAIN}/subscription"
        assert post(user, path, {"action": "add-module", "item": "website"}).status_code == 403
    with closing(signed_in(server, "operator")) as operator:
        no_token = operator.post(
            f"/admin/business/{CUSTOMER}/subscription", data={"action": "add-module", "item": "website"}
        )
        assert no_token.status_code == 403
    assert _contract(server) == before


def test_an_owner_upgrades_storage_and_adds_a_module_and_its_partner_and_the_operator_are_told(
    server: Daemon,
) -> None:
    with browser(server) as owner:
        assert sign_in(owner, CUSTOMER_OWNER, PASSWORD).status_code == 303
        home = owner.get("/admin/")
        assert "Upgrade storage" in home.text and "Storage 50 MB to 100 MB" in home.text
        token = csrf_token(home)
        upgraded = owner.post(
            f"/admin/business/{CUSTOMER}/subscription",
            data={"csrf": token, "action": "add-extension", "item": "storage-100"},
        )
        assert upgraded.status_code == 303 and "done=subscription" in upgraded.headers["location"]
        added = owner.post(
            f"/admin/business/{CUSTOMER}/subscription", data={"csrf": token, "action": "add-module", "item": "website"}
        )
        assert added.status_code == 303
        page = owner.get("/admin/").text
        assert "Tier plus" in page and "Back to the smaller storage" in page
        plan = owner.post(f"/admin/business/{CUSTOMER}/subscription", data={"csrf": token, "action": "plan"})
        assert plan.status_code == 400
    state = _contract(server).changes[-1].state
    assert state.modules == {"mail", "website"} and state.extensions == {"storage-100"}
    for address in (PARTNER, OPERATOR_ADDRESS):
        told = polling.wait_for(f"two notices for {address}", lambda a=address: len(_subjects(server, a)) >= 2)
        assert told
        assert b"Now: module mail, module website, extension storage-100" in _subjects(server, address)[-1]
    assert not _subjects(server, CUSTOMER_OWNER)


def test_a_partner_reads_its_statement_and_downloads_the_same_numbers_as_csv(server: Daemon) -> None:
    month = str(_month())
    expected = _statement(server)
    assert expected.lines, "client-co is billed this month"
    with closing(signed_in(server, "partner")) as partner:
        page = partner.get("/admin/statement", params={"month": month})
        assert page.status_code == 200
        for line in expected.lines:
            assert f"<td>{line.business}</td><td>{line.contract_year}</td>" in page.text
            assert f"<td>{line.billed}</td>" in page.text and f"<td>{line.share}</td>" in page.text
        download = partner.get("/admin/statement.csv", params={"month": month})
        assert download.headers["content-type"].startswith("text/csv")
        assert "attachment" in download.headers["content-disposition"]
        assert download.text == export.statement_csv(expected.lines, expected.totals)
        other = partner.get("/admin/statement.csv", params={"month": month, "partner": "ops.test"})
        assert other.text == download.text  # a partner's statement is always its own
        assert partner.get("/admin/billing", params={"month": month}).status_code == 403


def test_the_operator_reads_every_partners_totals_and_any_statement(server: Daemon) -> None:
    month = str(_month())
    expected = _statement(server)
    with closing(signed_in(server, "operator")) as operator:
        page = operator.get("/admin/billing", params={"month": month})
        assert page.status_code == 200
        assert f'partner={PARTNER_BUSINESS}">{PARTNER_BUSINESS}</a>' in page.text
        for total in expected.totals:
            assert f"<td>{total.billed}</td><td>{total.share}</td>" in page.text
        one = operator.get("/admin/statement.csv", params={"month": month, "partner": PARTNER_BUSINESS})
        assert one.text == export.statement_csv(expected.lines, expected.totals)
    with closing(signed_in(server, "owner")) as owner:
        assert owner.get("/admin/billing", params={"month": month}).status_code == 403
