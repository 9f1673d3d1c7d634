"""An error no SMTP handler expected (a database driver's, say) is answered like any local trouble: 451 4.3.0,
so the client retries, and nothing of the error reaches it (aiosmtpd's own reply would be "500 Error: (Type)
text", with the SQL and its parameters); the log keeps the traceback."""

from __future__ import annotations

import asyncio
import logging

import pytest

from smb_suite.smtp import replies
from smb_suite.smtp.handlers import InboundHandler, SubmissionHandler


@pytest.mark.parametrize("handler_type", [InboundHandler, SubmissionHandler])
def test_an_unexpected_error_is_a_temporary_reply_without_details(
    handler_type: type[InboundHandler], caplog: pytest.LogCaptureFixture
) -> None:
    handler = handler_type.__new__(handler_type)  # the hook uses nothing of the services
    error = RuntimeError("INSERT INTO messages VALUES ('secret subject')")
    with caplog.at_level(logging.INFO):
        reply = asyncio.run(handler.handle_exception(error))
    assert reply == replies.LOCAL_ERROR and reply.startswith("451 4.3.0")
    assert "secret" not in reply and "INSERT" not in reply
    assert "smtp.unexpected_error" in caplog.text and "secret subject" in caplog.text  # the operator sees it
