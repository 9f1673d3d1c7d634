"""Local delivery: recipient address -> hosted mailboxes (following aliases) -> durable INBOX copies."""

from __future__ import annotations

from collections.abc import Iterable

from smb_suite.directory import Directory, User
from smb_suite.storage.store import MailStore


def resolve(directory: Directory, address: str) -> list[User]:
    """Mailboxes that receive mail for `address`; raises RelayDenied, UnknownRecipient or InvalidInput."""
    return directory.resolve_recipient(address)


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
