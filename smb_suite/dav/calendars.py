"""CalDAV (RFC 4791) and CardDAV (RFC 6352) through Radicale used as a library, one storage folder per business.

Radicale loads its plugins from its configuration; a callable there is called with the configuration, so each
business's application gets plugins bound to that business:

- `ScopeAuth`: the login was verified by the front end (ops/login.py); the user Radicale sees is the id-based
  principal of the `DavUser` in the scope, and the business principal is its one group. Radicale never parses
  an Authorization header here (get_external_login always answers).
- `BusinessRights`: a user reads and writes its own principal's collections and the business's; nothing else
  (the front end answers 404 before Radicale for any other principal).
- `QuotaStorage`: Radicale's multifilesystem storage whose writes charge the business's quota first; a write
  that does not fit is reported to Radicale as ENOSPC, which it answers with 507 Insufficient Storage.

Discovery: a client finds collections in the user's calendar and address-book home (its principal); a PROPFIND
of depth 1 there also lists the business's collections, so phones and Outlook see "Contacts", "Team" and the
task lists without being told their URLs.
"""

from __future__ import annotations

import errno
import functools
import logging
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from http import client
from pathlib import Path
from typing import Any

from radicale import config as radicale_config
from radicale import httputils, pathutils
from radicale.app import Application
from radicale.auth import AuthContext, BaseAuth
from radicale.rights import BaseRights
from radicale.storage import multifilesystem

from smb_suite.dav.access import MAX_REQUEST_BYTES, DavUser, user_of
from smb_suite.dav.layout import tenant_principal, visible_bytes
from smb_suite.errors import QuotaExceeded

Charge = Callable[[int], None]

# The collections every user and every business has (created on first use); props as Radicale stores them.
PERSONAL = (
    (
        "calendar",
        {
            "tag": "VCALENDAR",
            "D:displayname": "Personal calendar",
            "C:supported-calendar-component-set": "VEVENT,VTODO",
        },
    ),
    ("contacts", {"tag": "VADDRESSBOOK", "D:displayname": "Personal contacts"}),
)
BUSINESS = (
    ("contacts", {"tag": "VADDRESSBOOK", "D:displayname": "Contacts"}),
    ("team", {"tag": "VCALENDAR", "D:displayname": "Team", "C:supported-calendar-component-set": "VEVENT"}),
    ("tasks", {"tag": "VCALENDAR", "D:displayname": "Tasks", "C:supported-calendar-component-set": "VTODO"}),
)


def item_name_ok(href: str) -> bool:
    """Whether an item's name a page gives back (its id in a URL) is one visible file name inside its collection,
    by Radicale's own rule for names; the pages then look it up with get_multi (a URL's text is no path)."""
    return pathutils.is_safe_filesystem_path_component(href) and not href.startswith(".")


def _size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except FileNotFoundError:
        return 0


class ScopeAuth(BaseAuth):
    def __init__(self, configuration: radicale_config.Configuration, tenant_id: int) -> None:
        super().__init__(configuration)
        self._business = tenant_principal(tenant_id)

    def get_external_login(self, environ: Mapping[str, Any]) -> tuple[str, str]:
        user = user_of(environ)
        return (user.principal if user is not None else "", "")

    def _login_ext_with_groups(self, login: str, password: str, context: AuthContext) -> tuple[str, set[str]]:
        return login, {self._business}


class BusinessRights(BaseRights):
    def __init__(self, configuration: radicale_config.Configuration, tenant_id: int) -> None:
        super().__init__(configuration)
        self._business = tenant_principal(tenant_id)

    def authorization(self, user: str, user_groups: set[str], path: str) -> str:
        if not user:
            return ""
        parts = [part for part in pathutils.strip_path(path).split("/") if part]
        if not parts:
            return "R"  # the root: where clients ask for their principal
        if parts[0] not in (user, self._business):
            return ""
        if len(parts) == 1:
            return "RW"  # a principal: its collections may be listed and created (a new project's task list)
        return "rw" if len(parts) == 2 else ""


class QuotaCollection(multifilesystem.Collection):
    _storage: QuotaStorage

    def upload(self, href: str, item: Any) -> Any:
        if not pathutils.is_safe_filesystem_path_component(href):
            return super().upload(href, item)  # refuses it
        path = pathutils.path_to_filesystem(self._filesystem_path, href, self._is_collision_free)
        growth = len(item.serialize().encode(self._encoding)) - _size(path)
        self._storage.charge(growth)
        try:
            return super().upload(href, item)
        except BaseException:
            self._storage.charge(-growth)
            raise

    def delete(self, href: str | None = None) -> None:
        if href is None:
            freed = visible_bytes(Path(self._filesystem_path))
        elif pathutils.is_safe_filesystem_path_component(href):
            freed = _size(pathutils.path_to_filesystem(self._filesystem_path, href, self._is_collision_free))
        else:
            freed = 0
        super().delete(href)
        self._storage.charge(-freed)


class QuotaStorage(multifilesystem.Storage):
    _collection_class = QuotaCollection

    def __init__(self, configuration: radicale_config.Configuration, tenant_id: int, charge: Charge) -> None:
        super().__init__(configuration)
        self._tenant_id = tenant_id
        self._charge = charge
        self._business = tenant_principal(tenant_id)

    def charge(self, delta: int) -> None:
        """Charge or free bytes; over quota, an ENOSPC that Radicale answers with 507 (app/put.py)."""
        try:
            self._charge(delta)
        except QuotaExceeded as error:
            _put.full = True
            raise ValueError(f"[Errno {errno.ENOSPC}] {error}") from error

    def create_collection(self, href: str, items: Iterable[Any] | None = None, props: Any = None) -> Any:
        """A whole calendar or address book PUT at once replaces the collection: charge the difference."""
        if items is None or not props:
            return super().create_collection(href, items, props)
        items = list(items)
        folder = self._get_collection_root_folder()
        old = visible_bytes(Path(pathutils.path_to_filesystem(folder, pathutils.strip_path(href))))
        encoding = self.configuration.get("encoding", "stock")
        growth = sum(len(item.serialize().encode(encoding)) for item in items) - old
        self.charge(growth)
        try:
            return super().create_collection(href, items, props)
        except BaseException:
            self.charge(-growth)
            raise

    def move(self, item: Any, to_collection: Any, to_href: str) -> None:
        """A move within the business changes nothing, unless it replaces an item at the destination."""
        replaced = 0
        if pathutils.is_safe_filesystem_path_component(to_href):
            replaced = _size(pathutils.path_to_filesystem(to_collection._filesystem_path, to_href))
        super().move(item, to_collection, to_href)
        self.charge(-replaced)

    def discover(
        self,
        path: str,
        depth: str = "0",
        child_context_manager: Any = None,
        user_groups: set[str] = set(),  # noqa: B006 - Radicale's signature
    ) -> Iterator[Any]:
        """Radicale's discovery, plus the business's collections in a depth-1 listing of a user's home."""
        yield from super().discover(path, depth, child_context_manager)
        parts = [part for part in pathutils.strip_path(path).split("/") if part]
        if depth == "0" or len(parts) != 1 or parts[0] == self._business or self._business not in user_groups:
            return
        shared = super().discover(f"/{self._business}/", "1")
        next(shared, None)  # the business principal itself
        yield from (collection for collection in shared if getattr(collection, "tag", ""))

    def ensure_collections(self, user: DavUser) -> None:
        """The user's and the business's default collections, made on first use."""
        self._ensure(((user.principal, PERSONAL), (user.business, BUSINESS)), user.principal)

    def ensure_business(self) -> None:
        """The business's default collections (the admin pages may come before any DAV client)."""
        self._ensure(((self._business, BUSINESS),), self._business)

    def _ensure(self, defaults: Iterable[tuple[str, Iterable[tuple[str, Mapping[str, str]]]]], locker: str) -> None:
        root = Path(self._get_collection_root_folder())
        wanted = [
            (principal, name, props)
            for principal, collections in defaults
            if not (root / principal).is_dir()
            for name, props in collections
        ]
        if not wanted:
            return
        with self.acquire_lock("w", locker):
            for principal, name, props in wanted:
                if not (root / principal / name).is_dir():
                    self.create_collection(f"/{principal}/{name}/", props=dict(props))


_put = threading.local()  # .full: this thread's PUT was refused by the quota (a2wsgi runs one request a thread)


class BusinessApplication(Application):
    """Radicale, answering 507 to a whole-collection PUT that does not fit, as it does for an item: Radicale
    answers 400 to any error of create_collection (RFC 4918 11.5)."""

    def do_PUT(self, environ: Any, base_prefix: str, path: str, user: str, *args: Any) -> Any:
        _put.full = False
        answer = super().do_PUT(environ, base_prefix, path, user, *args)
        if answer[0] == client.BAD_REQUEST and _put.full:
            return httputils.INSUFFICIENT_STORAGE
        return answer


def application(folder: Path, tenant_id: int, charge: Charge) -> tuple[Application, QuotaStorage]:
    """A Radicale application storing one business's collections in `folder` (made of its id)."""
    logging.getLogger("radicale").setLevel(logging.WARNING)  # one line per request is ours (web/dav.py)
    configuration = radicale_config.load()
    configuration.update(
        {
            "server": {"max_content_length": str(MAX_REQUEST_BYTES)},
            "auth": {"type": functools.partial(ScopeAuth, tenant_id=tenant_id), "delay": "0"},
            "rights": {
                "type": functools.partial(BusinessRights, tenant_id=tenant_id),
                "permit_delete_collection": "False",
            },
            "storage": {
                "type": functools.partial(QuotaStorage, tenant_id=tenant_id, charge=charge),
                "filesystem_folder": str(folder),
            },
            "web": {"type": "none"},
        },
        "smb-suite",
        privileged=True,
    )
    app = BusinessApplication(configuration)
    storage = app._storage
    assert isinstance(storage, QuotaStorage)
    return app, storage
