"""Automatic notices from the postmaster to a business's owners: an account locked, storage nearly full."""

from __future__ import annotations

import email.message
import email.policy
import email.utils
from typing import TYPE_CHECKING

from smb_suite.directory.model import User
from smb_suite.quota import format_bytes

if TYPE_CHECKING:
    from smb_suite.services import Services


def mail_owners(services: Services, owners: list[User], subject: str, body: str) -> None:
    """Deliver one automatic notice from the postmaster to a business's owners (outside the quota)."""
    notice = email.message.EmailMessage(policy=email.policy.SMTP)
    notice["From"] = f"postmaster@{services.config.server.hostname}"
    notice["To"] = ", ".join(str(owner.address) for owner in owners)
    notice["Subject"] = subject
    notice["Date"] = email.utils.formatdate(services.clock(), localtime=True)
    notice["Auto-Submitted"] = "auto-generated"  # RFC 3834 5
    notice.set_content(body)
    services.store.deliver(owners, notice.as_bytes(), enforce=False)


def send_lock_notice(services: Services, username: str, client_ip: str) -> None:
    """Mail the owners of the business once when one of its accounts gets locked (nothing for unknown names)."""
    user = services.directory.find_user(username)
    if user is None:
        return
    owners = services.directory.owners(user.tenant_id)
    if not owners:
        return
    settings = services.config.login
    window, duration = int(settings.lock_window) // 60 or 1, int(settings.lock_duration) // 60 or 1
    body = (
        f"There were {settings.lock_after} failed logins to {user.address} within {window} minutes, the last one "
        f"from {client_ip or 'an unknown address'}.\r\n\r\n"
        f"To protect the account, every login to it (mail apps and the admin pages) is refused for the next "
        f"{duration} minutes, even with the right password; then it opens again by itself.\r\n\r\n"
        "If nobody in your business mistyped a password, someone may be guessing it: choose a long password "
        "that is used nowhere else.\r\n"
    )
    mail_owners(services, owners, f"Logins to {user.address} locked for {duration} minutes", body)


# -- demo -----------------------------------------------------------------------------------------------------


def send_storage_warning(services: Services, tenant_id: int, level: int) -> None:
    """Mail the owners of a business once when it crosses a warning level (runs after the writer's commit)."""
    usage = services.quota.current(tenant_id)
    owners = services.directory.owners(tenant_id)
    if not owners:
        return
    upgrades = [name for name, tier in services.config.tiers.items() if tier.storage_bytes > usage.limit]
    advice = f"Upgrade to {upgrades[0]} or delete old mail to make room." if upgrades else "Delete old mail."
    body = (
        f"Your storage for {usage.tenant} is {level} % full: {format_bytes(usage.used)} of "
        f"{format_bytes(usage.limit)} ({usage.tier} tier).\r\n\r\n{advice}\r\n"
        "When it is full, new mail waits at the senders' servers until there is room again.\r\n"
    )
    mail_owners(services, owners, f"Storage {level} % full", body)
