"""Where DAV data lives: folders named after internal ids only, never after a user's or business's name.

    <data>/dav/<tenant id>/collection-root/u<user id>/...     a user's own address book and calendar (Radicale)
    <data>/dav/<tenant id>/collection-root/t<tenant id>/...   the business's Contacts, Team and task lists
    <data>/files/<tenant id>/shared/                          the business's "Shared" documents (wsgidav)
    <data>/files/<tenant id>/users/<user id>/                 one user's private documents
    <data>/files/<tenant id>/incoming/                        uploads being received (not yet charged)

Radicale names a collection's folder after its principal, so principals are made of ids (`u12`, `t3`): a name a
user chose never reaches a path. Each business has its own Radicale storage root and its own document root, so
no path of one business can name a file of another.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from smb_suite.storage.paths import inside

COLLECTION_ROOT = "collection-root"  # Radicale's fixed sub-folder of its storage folder
USER_PREFIX = "u"
TENANT_PREFIX = "t"
SHARED = "Shared"  # the business's shared documents folder under /dav/files/ (dav/files.py)


def _id(value: int) -> str:
    if type(value) is not int or value <= 0:
        raise ValueError(f"DAV ids are positive integers, not {value!r}")
    return str(value)


def user_principal(user_id: int) -> str:
    return USER_PREFIX + _id(user_id)


def tenant_principal(tenant_id: int) -> str:
    return TENANT_PREFIX + _id(tenant_id)


def visible_bytes(folder: Path) -> int:
    """Bytes of the regular files below `folder` outside hidden names (Radicale's own .Radicale.* metadata,
    caches and locks are not the business's data): what DAV charges to the quota, and `quota check` recounts."""
    total = 0
    if not folder.is_dir():
        return 0
    for directory, folders, files in os.walk(folder):
        folders[:] = [name for name in folders if not name.startswith(".")]
        for name in files:
            if name.startswith("."):
                continue
            path = os.path.join(directory, name)
            if not os.path.islink(path):
                total += os.stat(path).st_size
    return total


@dataclass(frozen=True, slots=True)
class DavLayout:
    """The DAV trees of one data folder."""

    data_dir: Path

    @property
    def calendars_root(self) -> Path:
        return self.data_dir / "dav"

    @property
    def files_root(self) -> Path:
        return self.data_dir / "files"

    def calendars(self, tenant_id: int) -> Path:
        """Radicale's storage folder of a business."""
        return self.calendars_root / _id(tenant_id)

    def files(self, tenant_id: int) -> Path:
        return self.files_root / _id(tenant_id)

    def shared(self, tenant_id: int) -> Path:
        return self.files(tenant_id) / "shared"

    def private(self, tenant_id: int, user_id: int) -> Path:
        return self.files(tenant_id) / "users" / _id(user_id)

    def incoming(self, tenant_id: int) -> Path:
        return self.files(tenant_id) / "incoming"

    def user_collections(self, tenant_id: int, user_id: int) -> Path:
        return self.calendars(tenant_id) / COLLECTION_ROOT / user_principal(user_id)

    def tenant_bytes(self, tenant_id: int) -> int:
        """What a business's DAV data weighs on disk (items and documents; uploads in progress excluded)."""
        items = visible_bytes(self.calendars(tenant_id) / COLLECTION_ROOT)
        documents = visible_bytes(self.shared(tenant_id)) + visible_bytes(self.files(tenant_id) / "users")
        return items + documents

    def user_bytes(self, tenant_id: int, user_id: int) -> int:
        """What one user's own collections and private documents weigh (freed when the user is removed)."""
        return visible_bytes(self.user_collections(tenant_id, user_id)) + visible_bytes(
            self.private(tenant_id, user_id)
        )

    def checked(self, root: Path, path: Path) -> Path:
        """`path` resolved, refused (UnsafePath) unless it lies below `root`."""
        return inside(root, path)
