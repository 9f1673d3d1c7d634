"""The WSGI side of DAV: one Radicale (kept by dav/store.py) and one wsgidav application per business, made on
first use and kept (each holds its business's locks), and the dispatch between them. Runs in a2wsgi's threads
(web/dav.py), never on the event loop: Radicale and wsgidav block on files."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any, cast

from wsgidav.wsgidav_app import WsgiDAVApp

from smb_suite.dav import files
from smb_suite.dav.access import user_of
from smb_suite.dav.store import DavStore

StartResponse = Callable[..., Any]
FILES_PATH = files.FILES_MOUNT.removeprefix("/dav")  # below the /dav mount


class DavApps:
    def __init__(self, store: DavStore) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._files: dict[int, WsgiDAVApp] = {}

    def _files_app(self, tenant_id: int) -> WsgiDAVApp:
        with self._lock:
            found = self._files.get(tenant_id)
            if found is None:
                found = files.application(self._store, tenant_id)
                self._files[tenant_id] = found
            return found

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """PATH_INFO is below /dav (SCRIPT_NAME): /files/... are documents, the rest calendars and contacts."""
        user = user_of(environ)
        if user is None:  # web/dav.py lets no request through without one
            start_response("404 Not Found", [("Content-Length", "0")])
            return []
        path = environ.get("PATH_INFO", "")
        if path == FILES_PATH or path.startswith(FILES_PATH + "/"):
            environ["SCRIPT_NAME"] = files.FILES_MOUNT
            environ["PATH_INFO"] = path[len(FILES_PATH) :] or "/"
            return cast(Iterable[bytes], self._files_app(user.tenant_id)(environ, start_response))
        app, storage = self._store.calendars(user.tenant_id)
        storage.ensure_collections(user)
        return app(environ, start_response)
