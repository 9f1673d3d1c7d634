"""Storage tiers and usage: a business's tier, a mailbox's limit, usage history, the drift check."""

from __future__ import annotations

import datetime

from smb_suite.directory.model import OPERATOR, Principal, Role, User
from smb_suite.errors import PermissionDenied
from smb_suite.quota import Drift, Usage, format_bytes, maildir_bytes
from smb_suite.services import Services


def tenant_usage(services: Services, actor: Principal) -> list[Usage]:
    """Tier, usage and limit of every business the actor may see."""
    visible = {tenant.id for tenant in services.directory.list_tenants(actor)}
    return [usage for usage in services.quota.current_all() if usage.tenant_id in visible]


def set_tier(services: Services, actor: Principal, tenant: str, tier: str) -> Usage:
    """Upgrade or downgrade a business; a downgrade below its usage is refused with what to free."""
    found = services.tenants.get(actor, tenant)
    services.tenants.require_steward(actor, found)
    usage = services.quota.change_tier(found.id, tier)
    services.audit.record(actor, "tier.set", f"{found.name}: {tier}", found.id)
    return usage


def set_mailbox_limit(services: Services, actor: Principal, address: str, limit: int | None) -> User:
    """An owner caps one mailbox inside the business's quota (None: only the business's limit applies)."""
    user = services.directory.get_user(actor, address)
    if actor.role is Role.USER:
        raise PermissionDenied("only the owner of the business sets mailbox limits")
    services.quota.set_mailbox_limit(user.id, limit)
    shown = "none" if limit is None else format_bytes(limit)
    services.audit.record(actor, "mailbox.limit", f"{user.address}: {shown}", user.tenant_id)
    return user


def usage_history(services: Services, actor: Principal, tenant: str, days: int) -> list[tuple[str, int, int]]:
    """Daily usage records of a business, newest first (for reports and billing)."""
    return services.quota.daily_history(services.directory.get_tenant(actor, tenant).id, days)


def record_daily_usage(services: Services) -> int:
    """Record today's usage of every business (billing and reports)."""
    today = datetime.datetime.fromtimestamp(services.clock(), datetime.UTC).date()
    return services.quota.record_today(today)


COLLABORATION = "collaboration"  # contacts, calendars, task lists and documents (smb_suite/dav/)


def has_module(services: Services, tenant_id: int, module: str) -> bool:
    """Whether the business's tier includes a module (`[tiers.NAME] modules`): without "collaboration", no DAV."""
    tier = services.config.tiers.get(services.quota.current(tenant_id).tier)
    return tier is not None and module in tier.modules


def check_drift(services: Services) -> list[Drift]:
    """Compare each tenant's counter with its Maildirs, its site versions and pictures, and its DAV data."""
    on_disk: dict[int, int] = {}
    for user in services.directory.list_users(OPERATOR):
        bytes_ = maildir_bytes(services.store.user_root(user))
        on_disk[user.tenant_id] = on_disk.get(user.tenant_id, 0) + bytes_
    for domain in services.directory.list_domains(OPERATOR):
        kept = services.sites.disk_usage(domain.id) + services.media.total(domain.id)  # pictures: in the database
        on_disk[domain.tenant_id] = on_disk.get(domain.tenant_id, 0) + kept
    for usage in services.quota.current_all():
        on_disk[usage.tenant_id] = on_disk.get(usage.tenant_id, 0) + services.dav.disk_usage(usage.tenant_id)
    return [
        Drift(usage.tenant, usage.used, on_disk.get(usage.tenant_id, 0))
        for usage in services.quota.current_all()
        if usage.used != on_disk.get(usage.tenant_id, 0)
    ]
