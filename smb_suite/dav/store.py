"""DAV bytes in the business's quota: the one place calendars, contacts and documents charge and free space.

There is no index row for a DAV file: the file is the record. A write charges its growth first (quota.py
`reserve`, in its own transaction: QuotaExceeded leaves everything as it was), then writes; a write that then
fails gives the bytes back. A crash between the two leaves the counter above the disk, never below it, and
`smb-suite quota check` shows it.
"""

from __future__ import annotations

import shutil
import threading
from functools import partial
from typing import TYPE_CHECKING

import sqlalchemy as sa

from smb_suite.dav import feeds
from smb_suite.dav.layout import DavLayout
from smb_suite.directory.model import User
from smb_suite.quota import Quota, Usage

if TYPE_CHECKING:
    from radicale.app import Application

    from smb_suite.dav.calendars import QuotaStorage


class DavStore:
    def __init__(self, engine: sa.Engine, quota: Quota, layout: DavLayout) -> None:
        self.engine = engine
        self._quota = quota
        self.layout = layout
        self.feeds = feeds.Feeds(engine)
        self._lock = threading.Lock()
        self._calendars: dict[int, tuple[Application, QuotaStorage]] = {}

    def calendars(self, tenant_id: int) -> tuple[Application, QuotaStorage]:
        """The business's Radicale application and storage, made on first use and kept: CalDAV requests
        (dav/apps.py), the admin pages (dav/tasklists.py, dav/calendar_items.py) and the invitations
        (dav/scheduling.py) go through the same storage, so quota, ETags and sync tokens stay right whichever side
        writes."""
        from smb_suite.dav import calendars  # Radicale only in processes that serve or show DAV data

        with self._lock:
            found = self._calendars.get(tenant_id)
            if found is None:
                folder = self.layout.calendars(tenant_id)
                folder.mkdir(parents=True, exist_ok=True)
                found = calendars.application(folder, tenant_id, partial(self.charge, tenant_id))
                self._calendars[tenant_id] = found
            return found

    def charge(self, tenant_id: int, delta: int) -> None:
        """Charge `delta` bytes (raises QuotaExceeded, nothing charged, when they do not fit) or free them."""
        if not delta:
            return
        levels: list[int] = []
        with self.engine.begin() as conn:
            if delta > 0:
                levels = self._quota.reserve(conn, tenant_id, delta)
            else:
                self._quota.release(conn, tenant_id, -delta)
        self._quota.announce(tenant_id, levels)

    def usage(self, tenant_id: int) -> Usage:
        return self._quota.current(tenant_id)

    def forget_user(self, conn: sa.Connection, user: User) -> None:
        """A removed user's own calendar, address book and private documents: their bytes are freed in the
        directory's transaction that removes the user (files: remove_files, after the commit); its calendar
        subscription URLs stop working."""
        feeds.forget_user(conn, user.id)
        self._quota.release(conn, user.tenant_id, self.layout.user_bytes(user.tenant_id, user.id))

    def remove_files(self, user: User) -> None:
        for folder in (
            self.layout.user_collections(user.tenant_id, user.id),
            self.layout.private(user.tenant_id, user.id),
        ):
            shutil.rmtree(folder, ignore_errors=True)

    def disk_usage(self, tenant_id: int) -> int:
        """What the business's DAV data weighs on disk, for `quota check`."""
        return self.layout.tenant_bytes(tenant_id)
