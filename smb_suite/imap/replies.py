"""Answering a command's tag: run its work, then OK, or NO/BAD from its error (RFC 3501 7.1).

Every handler answers through `run` (or `reply_error` for a failure of its own), so core errors are mapped to
the wire in one place (errors.response_for) and a client never sees a traceback. `Responder` is what this needs
from the server: twisted's IMAP4Server send methods, which every command module's server Protocol extends.

A coroutine's work runs as an asyncio task whose completion answers the tag directly: no Deferred in between
(creating one, adapting the task's future to it and running its callbacks was ~10 % of the event loop under
the many-client mix). Work that returns a Deferred (twisted's, a literal being read) is answered from it.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from functools import partial
from typing import Any, Protocol

from twisted.internet.defer import Deferred
from twisted.python.failure import Failure

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
        asyncio.ensure_future(result).add_done_callback(partial(_answer_task, server, tag, ok, trycreate))
    elif isinstance(result, Deferred):
        if ok is not None:
            result.addCallback(lambda value: _answer(server, tag, ok, value))
        result.addErrback(lambda failure: reply_error(server, tag, failure, trycreate))
    else:
        _answer_value(server, tag, ok, result, trycreate)


def _answer(server: Responder, tag: bytes, ok: Ok, value: Any) -> None:
    if ok is not None:
        server.sendPositiveResponse(tag, ok(value) if callable(ok) else ok)


def _answer_value(server: Responder, tag: bytes, ok: Ok, value: Any, trycreate: bool) -> None:
    """OK from the work's result, or NO/BAD when making the OK's text fails."""
    try:
        _answer(server, tag, ok, value)
    except Exception as exc:  # noqa: BLE001 - every failure becomes a tagged reply
        reply_error(server, tag, Failure(exc), trycreate)


def _answer_task(server: Responder, tag: bytes, ok: Ok, trycreate: bool, task: asyncio.Future[Any]) -> None:
    """The task's outcome as the tag's answer (a cancelled task, the connection gone, answers NO)."""
    if task.cancelled():
        reply_error(server, tag, Failure(asyncio.CancelledError()), trycreate)
        return
    error = task.exception()
    if error is not None:
        reply_error(server, tag, Failure(error), trycreate)
    else:
        _answer_value(server, tag, ok, task.result(), trycreate)
