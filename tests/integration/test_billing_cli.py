"""Billing through the command line against a running daemon's data folder: subscriptions and their changes,
named users counted from the directory, deskless users' smaller mailboxes, statements and invoice lines as
CSV and JSON, and clear refusals that change nothing. Businesses are made before the daemon starts, through
the same use cases the commands call (each command run costs seconds of interpreter start-up)."""

from __future__ import annotations

import csv
import datetime
import imaplib
import io
import json
from decimal import Decimal

import pytest
import sqlalchemy as sa

from smb_suite.billing.money import Month, to_cents
from smb_suite.config import load as load_config
from smb_suite.directory.model import OPERATOR
from smb_suite.ops import billing, tenants
from smb_suite.services import open_services
from smb_suite.storage import database, db
from tests.daemon import DOMAIN, USER, USER_PASSWORD, Daemon, run_cli

PARTNER = "reseller"
BUSINESSES = ("bakery", "florist", "cafe", "shop")


def _today() -> datetime.date:
    return datetime.datetime.now(datetime.UTC).date()


def _this_month() -> Month:
    return Month(_today().year, _today().month)


def add_businesses(server: Daemon) -> None:
    """The partner's business and four businesses it manages (name.test, owner boss@name.test); shop subscribes
    to the website module from the first of the month, florist to the suite plan from today."""
    services = open_services(load_config(server.config))
    try:
        for name in (PARTNER, *BUSINESSES):
            tenants.create_tenant(services, OPERATOR, name, f"{name}.test", f"boss@{name}.test", "pw-1234")
            if name != PARTNER:
                tenants.set_partner(services, OPERATOR, name, PARTNER)
        first = _today().replace(day=1)
        billing.set_subscription(services, OPERATOR, "shop", billing.Edit(add_modules=["website"]), first)
        billing.set_subscription(services, OPERATOR, "florist", billing.Edit(plan="suite"))
        billing.set_subscription(services, OPERATOR, DOMAIN, billing.Edit(plan="suite"))
    finally:
        services.close()


pytestmark = pytest.mark.daemon(services=("imap",), before_start=add_businesses)


def _audit_rows(server: Daemon) -> int:
    engine = database.create_engine(load_config(server.config).database_url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(db.audit_log)).scalar_one())
    finally:
        engine.dispose()


def _invoice_lines(server: Daemon, business: str) -> list[dict[str, str]]:
    output = server.cli("billing", "invoice-lines", "--month", str(_this_month()), "--csv").stdout
    return [line for line in csv.DictReader(io.StringIO(output)) if line["business"] == business]


def test_a_subscription_records_its_partner_start_and_every_change(server: Daemon) -> None:
    first = _today().replace(day=1).isoformat()
    server.cli("billing", "subscription", "set", "bakery", "--module", "mail", "--module", "website", "--from", first)
    server.cli("billing", "subscription", "set", "bakery", "--no-module", "website")
    lines = server.cli("billing", "subscription", "show", "bakery").stdout.splitlines()
    shown = dict(line.split("\t", 1) for line in lines)
    assert (shown["sold by"], shown["started"], shown["users today"]) == (PARTNER, first, "1 standard, 0 deskless")
    assert lines[-2:] == [f"from {first}\tmodule mail, module website", f"from {_today()}\tmodule mail"]


def test_a_mailbox_counts_from_the_day_it_is_added_to_the_day_it_is_removed(server: Daemon) -> None:
    server.cli("user", "add", "ann@florist.test", "--password-stdin", stdin="pw-5678\n")
    server.cli("user", "remove", "boss@florist.test")
    month, remaining = _this_month(), _this_month().days - _today().day + 1
    lines = _invoice_lines(server, "florist")
    # ann counts from today to the end of the month; boss, added and removed today, not at all
    assert [(line["item"], line["unit"], line["quantity"], line["unit_price"]) for line in lines] == [
        ("plan suite", "standard", str(remaining), "15.00")
    ]
    assert Decimal(lines[0]["amount"]) == to_cents(Decimal("15.00") * remaining / month.days)


def test_a_deskless_user_costs_less_and_gets_the_smaller_mailbox(server: Daemon) -> None:
    server.cli("user", "kind", USER, "deskless")
    units = {line["unit"]: line["unit_price"] for line in _invoice_lines(server, DOMAIN)}
    assert units == {"standard": "15.00", "deskless": "5.00"}
    client = imaplib.IMAP4("127.0.0.1", server.ports["imap"])
    try:
        client.login(USER, USER_PASSWORD)
        typ, data = client.getquotaroot("INBOX")
    finally:
        client.logout()
    # RFC 9208 4.3: the mailbox's own quota root holds the deskless limit, 10 MiB in KiB
    assert typ == "OK" and b'"mailbox" (STORAGE 0 10240)' in data[1]


def test_a_storage_extension_moves_the_business_to_the_larger_tier(server: Daemon) -> None:
    server.cli("billing", "subscription", "set", "cafe", "--module", "mail", "--extension", "storage-100")
    assert "cafe\tplus\t" in server.cli("tenant", "list").stdout


def test_the_partner_statement_in_csv_and_json_applies_the_first_year_rate(server: Daemon) -> None:
    month = str(_this_month())
    output = server.cli("billing", "statement", PARTNER, "--month", month, "--csv").stdout
    rows = list(csv.DictReader(io.StringIO(output)))
    # shop: the website module, 9.00 USD per business, for the whole month since the contract began on the 1st
    shop = next(row for row in rows if row["business"] == "shop")
    assert (shop["month"], shop["contract_year"], shop["currency"], shop["billed"]) == (month, "1", "USD", "9.00")
    assert (shop["rate_percent"], shop["share"]) == ("12", "1.08")  # 12 % of 9.00
    document = json.loads(server.cli("billing", "statement", PARTNER, "--month", month, "--json").stdout)
    assert (document["partner"], document["month"]) == (PARTNER, month)
    lines = document["lines"]
    assert {line["business"] for line in lines} <= set(BUSINESSES) and "shop" in {line["business"] for line in lines}
    usd = next(total for total in document["totals"] if total["currency"] == "USD")
    assert Decimal(usd["billed"]) == sum(Decimal(line["billed"]) for line in lines if line["currency"] == "USD")
    assert (
        next(row for row in rows if row["business"] == "TOTAL" and row["currency"] == "USD")["billed"] == usd["billed"]
    )


def test_the_operator_summary_gives_each_partner_its_totals_per_currency(server: Daemon) -> None:
    month = str(_this_month())
    rows = list(csv.DictReader(io.StringIO(server.cli("billing", "summary", "--month", month, "--csv").stdout)))
    reseller = next(row for row in rows if row["partner"] == PARTNER and row["currency"] == "USD")
    assert int(reseller["businesses"]) >= 1 and Decimal(reseller["share"]) >= Decimal("1.08")  # shop's share at least
    # example.test was sold by the operator itself: billed, no share
    operator = next(row for row in rows if row["partner"] == "")
    assert (operator["currency"], operator["businesses"], operator["share"]) == ("USD", "1", "0.00")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("billing", "subscription", "set", DOMAIN, "--plan", "gold"), "no plan 'gold' in the catalogue"),
        (("billing", "subscription", "set", "shop", "--from", "2020-01-01", "--module", "mail"), "already changed"),
        (("billing", "statement", PARTNER, "--month", "2025-13"), "expected a month as YYYY-MM"),
        (("user", "kind", "nobody@example.test", "deskless"), "unknown user"),
    ],
)
def test_bad_billing_input_is_one_clear_line_and_changes_nothing(
    server: Daemon, args: tuple[str, ...], message: str
) -> None:
    before = _audit_rows(server)
    result = server.cli(*args, check=False)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert _audit_rows(server) == before


def test_a_bad_catalogue_stops_the_command_with_exit_status_2(server: Daemon) -> None:
    bad = server.folder / "bad.toml"
    bad.write_text(server.config.read_text() + '\n[billing.plans.suite]\nprice = 15.0\ncurrency = "USD"\n')
    result = run_cli(bad, "billing", "invoice-lines", "--month", "2026-01", check=False)
    assert result.returncode == 2
    assert f"{bad}: [billing.plans.suite] price: write it as a string" in result.stderr
