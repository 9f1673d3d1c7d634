"""What RCPT learns in one look at the directory: where mail for an address goes, and whether a business it
reaches is suspended (the address's own, or that of a mailbox an alias leads to); what it keeps of earlier
look-ups never outlives a change made by another process (another worker, the command line, the admin pages)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from smb_suite.directory.core import Directory
from smb_suite.directory.model import OPERATOR
from smb_suite.directory.tenants import Tenants
from smb_suite.errors import UnknownRecipient
from smb_suite.storage import database, db


def test_a_suspended_business_is_seen_through_its_domain_and_through_aliases_to_its_mailboxes(
    database_url: str,
) -> None:
    engine = database.create_engine(database_url)
    database.migrate(engine)
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


def _stamp(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.select(db.directory_stamp.c.stamp)).scalar_one())


def test_a_kept_resolution_never_outlives_a_change_another_process_makes(database_url: str) -> None:
    engine = database.create_engine(database_url)
    database.migrate(engine)
    clock = lambda: 1_790_000_000.0  # noqa: E731
    delivering = Directory(engine, clock)  # the daemon's worker answering RCPT
    other = Directory(engine, clock)  # the command line, an admin page, another worker: its own process
    tenants = Tenants(engine, other, clock)
    other.add_domain(OPERATOR, "shop.test")
    other.add_user(OPERATOR, "anna@shop.test", "hash")
    other.add_user(OPERATOR, "bob@shop.test", "hash")

    def mailboxes(address: str) -> list[str]:
        return [str(user.address) for user in delivering.resolve_recipient(address).mailboxes]

    assert mailboxes("anna@shop.test") == ["anna@shop.test"]
    with pytest.raises(UnknownRecipient):
        mailboxes("sales@shop.test")
    other.add_alias(OPERATOR, "sales@shop.test", "bob@shop.test")
    assert mailboxes("sales@shop.test") == ["bob@shop.test"]
    other.set_forwarding(OPERATOR, "anna@shop.test", "bob@shop.test")
    assert mailboxes("anna@shop.test") == ["bob@shop.test"]
    other.set_forwarding(OPERATOR, "anna@shop.test", None)
    tenants.set_suspended(OPERATOR, "shop.test", True)
    assert delivering.resolve_recipient("anna@shop.test").suspended
    tenants.set_suspended(OPERATOR, "shop.test", False)
    assert not delivering.resolve_recipient("anna@shop.test").suspended
    other.remove_user(OPERATOR, "anna@shop.test")
    with pytest.raises(UnknownRecipient):
        mailboxes("anna@shop.test")
    with engine.begin() as conn:  # hand-written SQL is seen too: the stamp is the database's, set by triggers
        conn.execute(sa.delete(db.aliases))
    with pytest.raises(UnknownRecipient):
        mailboxes("sales@shop.test")

    before = _stamp(engine)  # what every delivery writes (usage counters) leaves the kept resolutions valid
    with engine.begin() as conn:
        conn.execute(sa.update(db.users).values(usage_bytes=db.users.c.usage_bytes + 100))
        conn.execute(sa.update(db.tenants).values(usage_bytes=db.tenants.c.usage_bytes + 100))
    assert _stamp(engine) == before
    engine.dispose()
