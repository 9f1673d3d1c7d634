"""The postmaster's notices: to a business's owners (storage nearly full, an account locked), to its partner
and the operator (an owner changed its subscription), and to a user's recovery address (ops/recovery.py).

They go through `Delivery.accept_now` outside the quota (a full mailbox must still hear that it is full), with
the null envelope sender. `storage_warning` is subscribed to the quota's warning levels at composition
(services.py); both run on the writer thread.
"""

from __future__ import annotations

import datetime
import email.message
import email.policy
import email.utils
from collections.abc import Callable

from smb_suite.config import Config
from smb_suite.delivery.accept import Delivery
from smb_suite.directory.brands import Brand, Brands
from smb_suite.directory.core import Directory
from smb_suite.directory.model import Role, User
from smb_suite.errors import RelayDenied
from smb_suite.quota import Quota, format_bytes


class OwnerNotices:
    def __init__(
        self,
        delivery: Delivery,
        directory: Directory,
        quota: Quota,
        config: Config,
        clock: Callable[[], float],
        brands: Brands,
    ) -> None:
        self._delivery = delivery
        self._directory = directory
        self._quota = quota
        self._config = config
        self._clock = clock
        self._brands = brands

    def mail_owners(self, owners: list[User], subject: str, body: str, brand: Brand | None = None) -> None:
        """Deliver one automatic notice from the postmaster to a business's owners (outside the quota), under
        the brand its readers see (the first reader's business's, unless given), signed with its support."""
        brand = brand or self._brands.for_tenant(owners[0].tenant_id)
        to = ", ".join(str(owner.address) for owner in owners)
        self._delivery.accept_now(owners, self._notice(brand, to, subject, body), enforce=False)

    def mail_address(self, recipient: str, tenant_id: int, subject: str, body: str) -> None:
        """Deliver one notice to any address (a user's recovery address, usually elsewhere: through the outbound
        queue), under the brand the business `tenant_id` sees."""
        brand = self._brands.for_tenant(tenant_id)
        mailboxes: list[User] = []
        remote: list[str] = []
        try:
            resolution = self._delivery.resolve(recipient)
        except RelayDenied:
            remote.append(recipient)
        else:
            mailboxes += resolution.mailboxes
            remote += [str(address) for address in resolution.remote]
        data = self._notice(brand, recipient, subject, body)
        self._delivery.accept_now(mailboxes, data, enforce=False, remote=remote)

    def _notice(self, brand: Brand, to: str, subject: str, body: str) -> bytes:
        notice = email.message.EmailMessage(policy=email.policy.SMTP)
        postmaster = f"postmaster@{self._config.server.hostname}"
        notice["From"] = email.utils.formataddr((brand.name, postmaster))
        notice["To"] = to
        notice["Subject"] = subject
        notice["Date"] = email.utils.formatdate(self._clock(), localtime=True)
        notice["Message-ID"] = email.utils.make_msgid(domain=self._config.server.hostname)
        notice["Auto-Submitted"] = "auto-generated"  # RFC 3834 5
        signature = f"\r\n-- \r\n{brand.name}" + (f"\r\n{brand.support}" if brand.support else "") + "\r\n"
        notice.set_content(body + signature)
        return notice.as_bytes()

    def account_locked(self, username: str, client_ip: str) -> None:
        """Mail the owners of the business once when one of its accounts gets locked (nothing for unknown
        names)."""
        user = self._directory.find_user(username)
        if user is None:
            return
        owners = self._directory.owners(user.tenant_id)
        if not owners:
            return
        settings = self._config.login
        window, duration = int(settings.lock_window) // 60 or 1, int(settings.lock_duration) // 60 or 1
        body = (
            f"There were {settings.lock_after} failed logins to {user.address} within {window} minutes, the last "
            f"one from {client_ip or 'an unknown address'}.\r\n\r\n"
            f"To protect the account, every login to it (mail apps and the admin pages) is refused for the next "
            f"{duration} minutes, even with the right password; then it opens again by itself.\r\n\r\n"
            "If nobody in your business mistyped a password, someone may be guessing it: choose a long password "
            "that is used nowhere else.\r\n"
        )
        self.mail_owners(owners, f"Logins to {user.address} locked for {duration} minutes", body)

    def storage_warning(self, tenant_id: int, level: int) -> None:
        """Mail the owners of a business once when it crosses a warning level (runs after the writer's
        commit)."""
        usage = self._quota.current(tenant_id)
        owners = self._directory.owners(tenant_id)
        if not owners:
            return
        upgrades = [name for name, tier in self._config.tiers.items() if tier.storage_bytes > usage.limit]
        advice = f"Upgrade to {upgrades[0]} or delete old mail to make room." if upgrades else "Delete old mail."
        body = (
            f"Your storage for {usage.tenant} is {level} % full: {format_bytes(usage.used)} of "
            f"{format_bytes(usage.limit)} ({usage.tier} tier).\r\n\r\n{advice}\r\n"
            "When it is full, new mail waits at the senders' servers until there is room again.\r\n"
        )
        self.mail_owners(owners, f"Storage {level} % full", body)

    def subscription_changed(self, tenant_id: int, who: str, day: datetime.date, before: str, after: str) -> None:
        """Tell the business's partner (its partner users, else its owners) and the operator's users that an
        owner changed the business's subscription itself."""
        partner_id = self._directory.partner_of(tenant_id)
        told: list[User] = []
        if partner_id is not None:
            told += self._directory.with_role(Role.PARTNER, partner_id) or self._directory.owners(partner_id)
        told += [user for user in self._directory.with_role(Role.OPERATOR) if user not in told]
        if not told:
            return
        business = self._quota.current(tenant_id).tenant
        body = (
            f"{who} changed the subscription of {business} from {day.isoformat()}.\r\n\r\n"
            f"Before: {before or 'nothing'}\r\nNow: {after}\r\n\r\n"
            "It is recorded as a subscription change and billed from that day "
            "(smb-suite billing subscription show).\r\n"
        )
        self.mail_owners(told, f"{business} changed its subscription", body, self._brands.default)
