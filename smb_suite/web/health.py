"""/healthz for load balancers: 200 `ok` while this node serves and its database answers, 503 and a short reason
otherwise (draining after SIGTERM, database unreachable), so the balancer sends clients to another node.

Answered before Host routing, on every name (an IP literal included): a hosted site's page of that path never
shadows it. The database query runs in the storage pool, never on the event loop, and is bounded in time.
"""

from __future__ import annotations

import asyncio
import logging

import sqlalchemy as sa
from starlette.responses import PlainTextResponse
from starlette.types import Receive, Scope, Send

from smb_suite import log
from smb_suite.services import Services

HEALTH_PATH = "/healthz"
DATABASE_SECONDS = 5.0
NO_CACHE = {"Cache-Control": "no-store"}
logger = logging.getLogger("smb_suite.web.health")


def ping(engine: sa.Engine) -> None:
    """A trivial query: the database accepts a connection and answers."""
    with engine.connect() as connection:
        connection.execute(sa.text("SELECT 1"))


async def problem(services: Services) -> str | None:
    """Why this node should get no traffic now, or None when it serves."""
    if services.draining:
        return "draining"
    try:
        await asyncio.wait_for(services.runner.read(ping, services.engine), DATABASE_SECONDS)
    except Exception as error:  # noqa: BLE001 - any failure means unhealthy; the reason goes to the log
        log.event(logger, "healthz.database_failed", error=type(error).__name__)
        return "database unavailable"
    return None


async def answer(services: Services, scope: Scope, receive: Receive, send: Send) -> None:
    """GET/HEAD /healthz (HEAD: same status and headers, no body); other methods 405."""
    if scope["method"] not in ("GET", "HEAD"):
        response = PlainTextResponse("method not allowed", 405, {**NO_CACHE, "Allow": "GET, HEAD"})
    else:
        reason = await problem(services)
        response = PlainTextResponse(reason or "ok", 503 if reason else 200, NO_CACHE)
    await response(scope, receive, send)
