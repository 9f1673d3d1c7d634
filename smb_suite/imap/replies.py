"""Answering a command's tag: run its work, then OK, or NO/BAD from its error (RFC 3501 7.1).

Every handler answers through `run` (or `reply_error` for a failure of its own), so core errors are mapped to
the wire in one place (errors.response_for) and a client never sees a traceback. `Responder` is what this needs
from the server: twisted's IMAP4Server send methods, which every command module's server Protocol extends.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, Protocol

from twisted.internet.defer import Deferred, succeed
from twisted.python.failure import Failure

from smb_suite.imap.bridge import as_deferred
from smb_suite.imap.errors import response_for

Ok = bytes | Callable[[Any], bytes] | None


class Responder(Protocol):
    """twisted's IMAP4Server send methods (a tag of None or b"*" makes an untagged response)."""

    def sendPositiveResponse(self, tag: bytes | None = None, message: bytes = b"") -> None: ...
    def sendNegativeResponse(self, tag: bytes | None = None, message: bytes = b"") -> None: ...
    def sendBadResponse(self, tag: bytes | None = None, message: bytes = b"") -> None: ...
    def sendUntaggedResponse(self, message: bytes, isAsync: bool | None = None) -> None: ...


def reply_error(server: Responder, tag: bytes, failure: Failure, trycreate: bool = False) -> None:
    """Errback for a command: answer the tag from the failure; `trycreate` for APPEND and COPY."""
    error = failure.value
    assert error is not None  # a Failure always carries its exception
    state, text = response_for(error, trycreate)
    if state == b"BAD":
        server.sendBadResponse(tag, text)
    else:
        server.sendNegativeResponse(tag, text)


def run(server: Responder, tag: bytes, work: Callable[[], Any], ok: Ok, trycreate: bool = False) -> None:
    """Run a command's work (a value, Deferred or coroutine); answer OK with `ok` (text, or a function of the
    result), or NO/BAD from the error. `ok` None: the work answers by itself."""
    try:
        result = work()
    except Exception as exc:  # noqa: BLE001 - every failure becomes a tagged reply
        reply_error(server, tag, Failure(exc), trycreate)
        return
    if inspect.iscoroutine(result):
        deferred: Deferred[Any] = as_deferred(result)
    elif isinstance(result, Deferred):
        deferred = result
    else:
        deferred = succeed(result)
    if ok is not None:
        deferred.addCallback(lambda value: server.sendPositiveResponse(tag, ok(value) if callable(ok) else ok))
    deferred.addErrback(lambda failure: reply_error(server, tag, failure, trycreate))
