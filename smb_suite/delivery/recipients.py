"""Recipient resolution for every route into a mailbox: address -> hosted mailboxes and remote addresses.

The recipient delimiter (user+tag@), aliases, catch-all and forwards are the directory's routing; here they are
checked against what delivery may do now: a suspended business answers 451, a full mailbox 452 (temporary:
the sender retries after a clean-up or an upgrade).
"""

from __future__ import annotations

from smb_suite.directory.core import Directory
from smb_suite.directory.model import Resolution
from smb_suite.errors import StorageFull, TenantSuspended
from smb_suite.storage.store import MailStore


def resolve(directory: Directory, store: MailStore, address: str, delimiter: str) -> Resolution:
    """Where mail for a hosted address goes; raises RelayDenied, UnknownRecipient, InvalidInput,
    TenantSuspended (451 4.7.1: the sender keeps the mail and retries) when the address's business, or the
    business of a mailbox it reaches, is suspended, or StorageFull when a mailbox has no room left."""
    resolution = directory.resolve_recipient(address, delimiter)
    if resolution.suspended:
        raise TenantSuspended(f"{address} is temporarily unavailable")
    if any(store.is_full(user) for user in resolution.mailboxes):
        raise StorageFull(f"the storage of {address} is full")
    return resolution
