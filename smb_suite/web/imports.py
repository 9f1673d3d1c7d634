"""Bringing a mailbox's mail in from the previous provider, from the admin UI: a form per mailbox (server,
port, security, user name, password) that queues the import for the daemon (ops/imports.py), and the page that
shows its progress (messages and bytes done / total as a progress bar, refreshed while it runs, no script)."""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from smb_suite.imports.remote import DEFAULT_PORTS, Security, Source
from smb_suite.ops import imports
from smb_suite.web.admin import FORM_BYTES, Views, text_field

IMPORT_PATH = "/admin/mailboxes/{address}/import"
NOTICES = {"import-queued": "The import has started: this page follows it. You may close it; it goes on."}
BAD_PORT = "Choose a security and give the port as a number."
MISSING = "Give the server, its port, your user name and password there."
ERRORS = (BAD_PORT, MISSING)
SECURITIES = {
    Security.SSL: "SSL/TLS (port 993)",
    Security.STARTTLS: "STARTTLS (port 143)",
    Security.NONE: "None (only on a private network)",
}


class ImportViews(Views):
    notices = {**Views.notices, **NOTICES}

    def routes(self) -> list[BaseRoute]:
        return [
            Route(IMPORT_PATH, self.page, methods=["GET"]),
            Route(IMPORT_PATH, self.start, methods=["POST"], max_body_size=FORM_BYTES),
        ]

    async def page(self, request: Request, status: int = 200, error: str = "") -> Response:
        visitor = await self.require(request)
        address = request.path_params["address"]
        progress = await self.read(imports.latest, visitor.actor, address)
        running = progress is not None and progress.under_way(self.services.clock(), 2 * imports.LEASE)
        return self.render(
            request, "import.html", visitor, status, address=address, progress=progress, running=running,
            securities=SECURITIES, error=error,
        )  # fmt: skip

    async def start(self, request: Request) -> Response:
        visitor, form = await self.posted(request)
        address = request.path_params["address"]
        host, user, password = (
            text_field(form, "host").strip(),
            text_field(form, "user").strip(),
            text_field(form, "password"),
        )
        try:
            security = Security(text_field(form, "security"))
            port_text = text_field(form, "port").strip()
            port = int(port_text) if port_text else DEFAULT_PORTS[security]
        except ValueError:
            return await self.page(request, 422, BAD_PORT)
        if not host or not user or not password or not 0 < port < 65536:
            return await self.page(request, 422, MISSING)
        await imports.queue_import(self.services, visitor.actor, address, Source(host, port, security, user, password))
        return self.done(IMPORT_PATH.format(address=quote(address, safe="@")), "import-queued")
