"""What RCPT learns in one look at the directory: where mail for an address goes, and whether a business it
reaches is suspended (the address's own, or that of a mailbox an alias leads to)."""

from __future__ import annotations

from smb_suite.directory.core import Directory
from smb_suite.directory.model import OPERATOR
from smb_suite.directory.tenants import Tenants
from smb_suite.storage import db


def test_a_suspended_business_is_seen_through_its_domain_and_through_aliases_to_its_mailboxes(
    database_url: str,
) -> None:
    engine = db.create_engine(database_url)
    db.migrate(engine)
    directory = Directory(engine, lambda: 1_790_000_000.0)
    tenants = Tenants(engine, directory, lambda: 1_790_000_000.0)
    for domain in ("shop.test", "bakery.test"):
        directory.add_domain(OPERATOR, domain)
        directory.add_user(OPERATOR, f"anna@{domain}", "hash")
    directory.add_alias(OPERATOR, "orders@shop.test", "anna@bakery.test")

    assert not directory.resolve_recipient("orders@shop.test").suspended
    tenants.set_suspended(OPERATOR, "bakery.test", True)
    resolution = directory.resolve_recipient("orders@shop.test")
    assert [str(user.address) for user in resolution.mailboxes] == ["anna@bakery.test"] and resolution.suspended
    assert not directory.resolve_recipient("anna@shop.test").suspended
    tenants.set_suspended(OPERATOR, "bakery.test", False)
    tenants.set_suspended(OPERATOR, "shop.test", True)
    assert directory.resolve_recipient("orders@shop.test").suspended
    assert not directory.resolve_recipient("anna@bakery.test").suspended
    engine.dispose()
