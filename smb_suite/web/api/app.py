"""The provisioning API's HTTP side: every call is authenticated (Authorization: Bearer, RFC 6750), counted
against its token's limit, checked for its scope, parsed (spec.py), answered by its endpoint (views.py), and
logged; changes are in the audit log through the use cases. Core errors become JSON with a stable code here, in
one place: {"error": {"code": "...", "message": "..."}}.

POSTs take an Idempotency-Key: the first request with a key claims it with the hash of its method, path and body;
a retry with the same request answers the stored answer (Idempotent-Replayed: true) and changes nothing, another
request with the key is refused (422), and one arriving while the first still runs gets 409.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route, Router
from starlette.types import Receive, Scope, Send

from smb_suite import log
from smb_suite.auth.idempotency import MAX_KEY
from smb_suite.errors import (
    AlreadyExists,
    AuthenticationFailed,
    InvalidInput,
    NotFound,
    PermissionDenied,
    QuotaExceeded,
    RateLimited,
    SmbSuiteError,
    TemporaryFailure,
)
from smb_suite.ops import api
from smb_suite.services import Services
from smb_suite.web.api.document import PREFIX, openapi
from smb_suite.web.api.spec import MAX_BODY, Call, Endpoint, parse_body, parse_fields
from smb_suite.web.api.views import ApiViews

logger = logging.getLogger("smb_suite.api")
DOCUMENT = PREFIX + "/openapi.json"
CODES: tuple[tuple[type[SmbSuiteError], int, str], ...] = (
    (AuthenticationFailed, 401, "unauthorized"),
    (PermissionDenied, 403, "forbidden"),
    (NotFound, 404, "not_found"),
    (InvalidInput, 400, "invalid_input"),
    (AlreadyExists, 409, "already_exists"),
    (QuotaExceeded, 409, "quota_exceeded"),
    (RateLimited, 429, "rate_limited"),
    (TemporaryFailure, 503, "unavailable"),
)
NO_STORE = {"Cache-Control": "no-store"}


class ApiError(Exception):
    """A refusal of the API itself (not of the core): its status and stable code."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status, {**NO_STORE, **(headers or {})})


def core_error(exc: SmbSuiteError) -> JSONResponse:
    for kind, status, code in CODES:
        if isinstance(exc, kind):
            headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else {}
            if status == 401:
                headers["WWW-Authenticate"] = 'Bearer realm="smb-suite", error="invalid_token"'  # RFC 6750 3
            return error_response(status, code, str(exc), headers)
    logger.error("api.error %s", log.fields(error=type(exc).__name__), exc_info=exc)
    return error_response(500, "internal", "Something went wrong on our side. Please try again later.")


def _bearer(request: Request) -> str:
    scheme, _, secret = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise AuthenticationFailed("send your API token as Authorization: Bearer TOKEN")
    return secret.strip()


class Api:
    """The ASGI app of /api/v1/ (mounted on the admin host names only, see web/app.py)."""

    def __init__(self, services: Services) -> None:
        self._services = services
        self.endpoints = ApiViews(services).endpoints()
        routes: list[BaseRoute] = [Route(DOCUMENT, self.document, methods=["GET"])]
        by_path: dict[str, dict[str, Endpoint]] = {}
        for endpoint in self.endpoints:
            by_path.setdefault(PREFIX + endpoint.path, {})[endpoint.method] = endpoint
        for path, methods in by_path.items():
            routes.append(Route(path, self._handler(methods), methods=list(methods), max_body_size=MAX_BODY))
        self._router = Router(routes, default=self._not_found)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("scheme") == "http" and self._services.listening.get("https"):  # tokens never in clear text
            response = error_response(403, "https_required", "call the API over HTTPS")
            await response(scope, receive, send)
            return
        if not self._services.config.api.enabled:
            await self._not_found(scope, receive, send)
            return
        await self._router(scope, receive, send)

    async def _not_found(self, scope: Scope, receive: Receive, send: Send) -> None:
        await error_response(404, "not_found", "no such API call")(scope, receive, send)

    async def document(self, request: Request) -> Response:
        server = f"{request.url.scheme}://{request.url.netloc}"
        return JSONResponse(openapi(self.endpoints, server))

    def _handler(self, methods: dict[str, Endpoint]):  # type: ignore[no-untyped-def]
        async def handle(request: Request) -> Response:
            endpoint = methods[request.method if request.method != "HEAD" else "GET"]
            return await self._answer(request, endpoint)

        return handle

    async def _answer(self, request: Request, endpoint: Endpoint) -> Response:
        client = request.client.host if request.client else "unknown"
        token = "-"
        try:
            caller = await self._services.runner.read(api.authenticate, self._services, _bearer(request), client)
            token = str(caller.token.id)
            await self._services.runner.write(api.count_call, self._services, caller)
            if not caller.allowed(endpoint.scope):
                raise ApiError(403, "insufficient_scope", f"this call needs a token with the scope {endpoint.scope}")
            response = await self._run(request, endpoint, caller)
        except ApiError as exc:
            response = error_response(exc.status, exc.code, str(exc))
        except SmbSuiteError as exc:
            response = core_error(exc)
        log.event(logger, "api.call", token=token, ip=client, method=request.method, path=request.url.path,
                  status=response.status_code)  # fmt: skip
        return response

    async def _run(self, request: Request, endpoint: Endpoint, caller: api.Caller) -> Response:
        raw = await request.body() if endpoint.body is not None else b""
        values = parse_body(endpoint.body, raw) if endpoint.body else {}
        values.update(parse_fields(endpoint.query, request.query_params))
        call = Call(caller.actor, request.path_params, values)
        key = request.headers.get("idempotency-key")
        if not endpoint.idempotent or key is None:
            status, document = await endpoint.handler(call)
            return JSONResponse(document, status, NO_STORE)
        if not key or len(key) > MAX_KEY:
            raise ApiError(400, "invalid_input", f"an Idempotency-Key has 1 to {MAX_KEY} characters")
        canonical = json.dumps([request.method, request.url.path, values], sort_keys=True, separators=(",", ":"))
        # keyed by the token's secret: the stored hash of a body holding a password tells a copy of the database
        # nothing about that password
        request_hash = hmac.new(_bearer(request).encode(), canonical.encode(), hashlib.sha256).hexdigest()
        keys = self._services.idempotency
        claim = await self._services.runner.write(keys.claim, caller.token.id, key, request_hash)
        if not claim.mine:
            if claim.request_hash != request_hash:
                raise ApiError(422, "idempotency_key_reused", "this Idempotency-Key was used with another request")
            if claim.status is None:
                raise ApiError(409, "request_in_progress", "the first request with this Idempotency-Key still runs")
            headers = {**NO_STORE, "Idempotent-Replayed": "true", "Content-Type": "application/json"}
            return Response(claim.body, claim.status, headers)
        try:
            status, document = await endpoint.handler(call)
        except BaseException:
            await self._services.runner.write(keys.release, caller.token.id, key)
            raise
        response = JSONResponse(document, status, NO_STORE)
        await self._services.runner.write(keys.answer, caller.token.id, key, status, bytes(response.body).decode())
        return response
