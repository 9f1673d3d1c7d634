"""`smb-suite quota check`: recompute every business's usage from what is on disk and report any drift.

The counters are updated in the writers' own transactions, so they should never drift; this is the proof an
operator can run (and the property tests assert) rather than a repair step that would hide a bug.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from smb_suite.directory import OPERATOR
from smb_suite.ops import Services


@dataclass(frozen=True, slots=True)
class Drift:
    tenant: str
    counted: int
    on_disk: int

    @property
    def difference(self) -> int:
        return self.counted - self.on_disk


def _maildir_bytes(root: Path) -> int:
    """Bytes of the messages (new/ and cur/ of every folder) under a user's Maildir root."""
    total = 0
    if not root.is_dir():
        return 0
    for folder in [root, *(entry for entry in root.iterdir() if entry.name.startswith(".") and entry.is_dir())]:
        for sub in ("new", "cur"):
            directory = folder / sub
            if directory.is_dir():
                total += sum(entry.stat().st_size for entry in os.scandir(directory) if entry.is_file())
    return total


def check(services: Services) -> list[Drift]:
    """Compare each tenant's counter with its Maildirs plus its site versions on disk."""
    on_disk: dict[int, int] = {}
    for user in services.directory.list_users(OPERATOR):
        bytes_ = _maildir_bytes(services.store.user_root(user))
        on_disk[user.tenant_id] = on_disk.get(user.tenant_id, 0) + bytes_
    for domain in services.directory.list_domains(OPERATOR):
        on_disk[domain.tenant_id] = on_disk.get(domain.tenant_id, 0) + services.sites.disk_usage(domain.id)
    return [
        Drift(usage.tenant, usage.used, on_disk.get(usage.tenant_id, 0))
        for usage in services.quota.current_all()
        if usage.used != on_disk.get(usage.tenant_id, 0)
    ]
