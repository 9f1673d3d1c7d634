"""ACME HTTP-01 answers (RFC 8555 8.3): GET /.well-known/acme-challenge/TOKEN on any Host, before site routing,
so a hosted site can never shadow them. The answers are read from the database (ops/certificates.py publishes
them there), so any worker or node that receives the CA's request answers it."""

from __future__ import annotations

import re

from starlette.responses import PlainTextResponse
from starlette.types import Receive, Scope, Send

from smb_suite.ops import certificates
from smb_suite.services import Services

CHALLENGE_PREFIX = "/.well-known/acme-challenge/"
TOKEN = re.compile(r"[A-Za-z0-9_-]{1,200}")  # base64url (RFC 8555 8.3: at least 128 bits of entropy)
NO_CACHE = {"Cache-Control": "no-store"}


async def answer(services: Services, scope: Scope, receive: Receive, send: Send) -> None:
    token = scope["path"].removeprefix(CHALLENGE_PREFIX)
    found = None
    if scope["method"] in ("GET", "HEAD") and TOKEN.fullmatch(token):
        found = await services.runner.read(certificates.key_authorization, services, token)
    response = PlainTextResponse(found or "not found", 200 if found else 404, NO_CACHE)
    await response(scope, receive, send)
