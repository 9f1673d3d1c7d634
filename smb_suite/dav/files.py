"""The document space of a business (WebDAV, RFC 4918) through wsgidav: "Shared" for everyone of the business,
and one private folder per user, named after its address in URLs and after its id on disk (layout.py).

One wsgidav application per business, so its locks (LOCK for Windows Explorer, Finder, davfs2, office apps;
kept in the database by locks.py, so every worker process knows them) and its dead properties (in memory, per
process) never mix two businesses' URLs. `ScopeController` is the domain controller: the
front end verified the login (ops/login.py) and put the `DavUser` in the scope; Basic credentials are accepted
for exactly that user and no other. An upload is received into `incoming/`, charged to the quota once its size
is known, then renamed into place: a write that does not fit answers 507 and leaves the old file (or nothing)
where it was.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path
from typing import Any, BinaryIO

from wsgidav import util
from wsgidav.dav_error import HTTP_FORBIDDEN, HTTP_INSUFFICIENT_STORAGE, HTTP_NOT_FOUND, DAVError
from wsgidav.dav_provider import DAVCollection, DAVNonCollection
from wsgidav.dc.base_dc import BaseDomainController
from wsgidav.fs_dav_provider import FileResource, FilesystemProvider, FolderResource
from wsgidav.wsgidav_app import WsgiDAVApp

from smb_suite.dav.access import DavUser, user_of
from smb_suite.dav.layout import SHARED, visible_bytes
from smb_suite.dav.locks import DatabaseLocks
from smb_suite.dav.store import DavStore
from smb_suite.durable import fsync_dir
from smb_suite.errors import QuotaExceeded
from smb_suite.quota import Usage

FILES_MOUNT = "/dav/files"  # where web/dav.py mounts the document space
REALM = "smb-suite"


def _fsync(path: str) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def _size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except FileNotFoundError:
        return 0


class ScopeController(BaseDomainController):
    """Accepts the Basic credentials of the user the front end verified, and nobody else's."""

    def get_domain_realm(self, path_info: str, environ: dict[str, Any] | None) -> str:
        return REALM

    def require_authentication(self, realm: str, environ: dict[str, Any] | None) -> bool:
        return True

    def basic_auth_user(self, realm: str, user_name: str, password: str, environ: dict[str, Any]) -> bool:
        user = user_of(environ)
        return user is not None and user_name.lower() == user.address.lower()

    def supports_http_digest_auth(self) -> bool:
        return False


class BusinessRoot(DAVCollection):
    """/dav/files/: "Shared" and the user's own folder, nothing to write at this level."""

    def __init__(self, path: str, environ: dict[str, Any], names: list[str]) -> None:
        super().__init__(path, environ)
        self._names = names

    def get_member_names(self) -> list[str]:
        return list(self._names)

    def get_member(self, name: str) -> Any:
        return self.provider.get_resource_inst(util.join_uri(self.path, name), self.environ)

    def get_display_name(self) -> str:
        return "Documents"


class QuotaFile(FileResource):
    """A document; `exists=False` for a PUT to a new name (nothing on disk until the upload is charged)."""

    provider: BusinessFiles

    def __init__(self, path: str, environ: dict[str, Any], file_path: str, exists: bool = True) -> None:
        if exists:
            super().__init__(path, environ, file_path)
        else:
            DAVNonCollection.__init__(self, path, environ)  # FileResource's would stat a file not there yet
            self._file_path = file_path
            self.name = os.path.basename(file_path)
        self._incoming: str | None = None

    def begin_write(self, *, content_type: str | None = None) -> BinaryIO:
        """507 before the body is read when its announced length cannot fit, counting the bytes it replaces (a
        document saved again at the same size always fits); a chunked body is judged at end_write."""
        length = str(self.environ.get("CONTENT_LENGTH") or "")
        if length.isdigit() and int(length) - _size(self._file_path) > self.provider.usage().free:
            raise DAVError(HTTP_INSUFFICIENT_STORAGE, "storage full")  # RFC 4918 11.5
        descriptor, self._incoming = tempfile.mkstemp(dir=self.provider.incoming)
        return os.fdopen(descriptor, "wb")

    def end_write(self, *, with_errors: bool) -> None:
        incoming, self._incoming = self._incoming, None
        if incoming is None:
            return
        try:
            if with_errors:
                return
            growth = os.stat(incoming).st_size - _size(self._file_path)
            try:
                self.provider.charge(growth)
            except QuotaExceeded as error:
                raise DAVError(HTTP_INSUFFICIENT_STORAGE, str(error)) from error  # RFC 4918 11.5
            try:
                _fsync(incoming)
                os.replace(incoming, self._file_path)
                fsync_dir(Path(self._file_path).parent)
            except BaseException:
                self.provider.charge(-growth)
                raise
            incoming = None
            self.file_stat = os.stat(self._file_path)
        finally:
            if incoming is not None:
                os.unlink(incoming)

    def delete(self) -> None:
        freed = _size(self._file_path)
        super().delete()
        self.provider.charge(-freed)

    def copy_move_single(self, dest_path: str, *, is_move: bool) -> None:
        replaced = _size(self.provider._loc_to_file_path(dest_path, self.environ))
        self.provider.charge_dav(_size(self._file_path) - replaced)
        super().copy_move_single(dest_path, is_move=is_move)


class QuotaFolder(FolderResource):
    provider: BusinessFiles

    def create_empty_resource(self, name: str) -> Any:
        """A PUT's new file exists once charged (QuotaFile.end_write); a LOCK's is empty (RFC 4918 7.3)."""
        if self.environ.get("REQUEST_METHOD") == "PUT":
            path = util.join_uri(self.path, name)
            return QuotaFile(path, self.environ, self.provider._loc_to_file_path(path, self.environ), exists=False)
        return super().create_empty_resource(name)

    def get_display_name(self) -> str:
        return str(util.get_uri_name(self.path))  # "Shared" and the address, not the folders' id names

    def get_used_bytes(self) -> int:
        """RFC 4331: the business's storage, as its tier counts it (not the server's disk)."""
        return self.provider.usage().used

    def get_available_bytes(self) -> int:
        return self.provider.usage().free

    def delete(self) -> None:
        freed = visible_bytes(Path(self._file_path))
        super().delete()
        self.provider.charge(-freed)


class BusinessFiles(FilesystemProvider):
    """The documents of one business: the roots come from ids and the requesting user (never from the URL)."""

    def __init__(self, store: DavStore, tenant_id: int) -> None:
        layout = self._layout = store.layout
        self._store = store
        self._tenant_id = tenant_id
        for folder in (layout.shared(tenant_id), layout.incoming(tenant_id)):
            folder.mkdir(parents=True, exist_ok=True)
        self.incoming = str(layout.incoming(tenant_id))
        super().__init__(str(layout.files(tenant_id)), fs_opts={"follow_symlinks": False})

    def charge(self, delta: int) -> None:
        self._store.charge(self._tenant_id, delta)

    def usage(self) -> Usage:
        return self._store.usage(self._tenant_id)

    def charge_dav(self, delta: int) -> None:
        """charge, over quota as the DAV error 507."""
        try:
            self.charge(delta)
        except QuotaExceeded as error:
            raise DAVError(HTTP_INSUFFICIENT_STORAGE, str(error)) from error

    def _roots(self, environ: dict[str, Any] | None) -> dict[str, Path]:
        user: DavUser | None = user_of(environ or {})
        if user is None or user.tenant_id != self._tenant_id:
            return {}
        private = self._layout.private(self._tenant_id, user.user_id)
        private.mkdir(parents=True, exist_ok=True)
        return {SHARED: self._layout.shared(self._tenant_id), user.address: private}

    def _loc_to_file_path(self, path: str, environ: dict[str, Any] | None = None) -> str:
        parts = [part for part in path.strip("/").split("/") if part]
        root = self._roots(environ).get(parts[0]) if parts else None
        if root is None:
            raise DAVError(HTTP_NOT_FOUND)
        file_path = os.path.abspath(os.path.join(root, *parts[1:]))
        real_root = os.path.realpath(root)
        if os.path.commonpath([real_root, os.path.realpath(file_path)]) != real_root:
            raise DAVError(HTTP_FORBIDDEN, "outside the document space")
        return file_path

    def get_resource_inst(self, path: str, environ: dict[str, Any]) -> Any:
        self._count_get_resource_inst += 1
        roots = self._roots(environ)
        parts = [part for part in path.strip("/").split("/") if part]
        if not parts:
            return BusinessRoot(path, environ, list(roots)) if roots else None
        if parts[0] not in roots:
            return None
        file_path = self._loc_to_file_path(path, environ)
        if os.path.islink(file_path) or not os.path.exists(file_path):
            return None
        if os.path.isdir(file_path):
            return QuotaFolder(path, environ, file_path)
        return QuotaFile(path, environ, file_path)


def application(store: DavStore, tenant_id: int) -> WsgiDAVApp:
    """A wsgidav application serving one business's documents (locks and properties kept per business)."""
    logging.getLogger("wsgidav").setLevel(logging.WARNING)
    config = {
        "provider_mapping": {"/": BusinessFiles(store, tenant_id)},
        "http_authenticator": {
            "domain_controller": ScopeController,
            "accept_basic": True,
            "accept_digest": False,
            "default_to_digest": False,
        },
        "mount_path": FILES_MOUNT,
        "lock_storage": DatabaseLocks(store.engine, tenant_id),
        "property_manager": True,
        "dir_browser": {"enable": False},
        "verbose": 1,
        "logging": {"enable": False},
        "hotfixes": {"emulate_win32_lastmod": True},
    }
    return WsgiDAVApp(config)
