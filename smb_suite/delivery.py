"""Local delivery: recipient address -> hosted mailboxes (following aliases) -> durable INBOX copies."""

from __future__ import annotations

from collections.abc import Iterable

from smb_suite.directory import Directory, User
from smb_suite.errors import StorageFull, TenantSuspended
from smb_suite.storage.store import MailStore


def resolve(directory: Directory, store: MailStore, address: str) -> list[User]:
    """Mailboxes that receive mail for `address`.

    Raises RelayDenied, UnknownRecipient, InvalidInput, TenantSuspended (451: its business is suspended), or
    StorageFull when a mailbox has no room left (a temporary failure: the sender retries, and an upgrade or
    clean-up lets the mail in).
    """
    users = directory.resolve_recipient(address)
    if any(directory.tenant_suspended(tenant) for tenant in {user.tenant_id for user in users}):
        raise TenantSuspended(f"{address} is temporarily unavailable")
    if any(store.is_full(user) for user in users):
        raise StorageFull(f"the storage of {address} is full")
    return users


def deliver(store: MailStore, users: Iterable[User], data: bytes) -> int:
    """Store one copy per distinct mailbox, durably (fsync before return); returns the number of copies."""
    distinct = list({user.id: user for user in users}.values())
    store.deliver(distinct, data)
    return len(distinct)


def deliver_to_junk(store: MailStore, users: Iterable[User], data: bytes) -> int:
    """Store one copy per distinct mailbox in its Junk folder (DMARC quarantine), durably; returns the count."""
    distinct = list({user.id: user for user in users}.values())
    for user in distinct:
        store.append(user, "Junk", data)
    return len(distinct)
