"""The operator's metrics listener (`[listen] metrics`): GET /metrics in the Prometheus text format (0.0.4,
which every Prometheus version reads), nothing else. A listener of its own, never the public http/https ones,
so no site visitor can read it."""

from __future__ import annotations

from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from starlette.responses import PlainTextResponse, Response
from starlette.types import Receive, Scope, Send

from smb_suite.ops import metrics
from smb_suite.services import Services

METRICS_PATH = "/metrics"


class MetricsApp:
    def __init__(self, services: Services) -> None:
        self._services = services
        self._registry = metrics.page_registry(services)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        response: Response
        if scope["path"] != METRICS_PATH:
            response = PlainTextResponse("not found", 404)
        elif scope["method"] not in ("GET", "HEAD"):
            response = PlainTextResponse("method not allowed", 405, {"Allow": "GET, HEAD"})
        else:
            body = await self._services.runner.read(metrics.exposition, self._registry)
            response = Response(body, 200, {"Cache-Control": "no-store"}, media_type=CONTENT_TYPE_PLAIN_0_0_4)
        await response(scope, receive, send)
