"""aiosmtpd looks up commands, AUTH mechanisms and hooks by name at every connection; the short `dir()` our
protocol and handlers give it must still name every one of them, or a command would silently vanish."""

from __future__ import annotations

import inspect
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP

from smb_suite.smtp.handlers import AIOSMTPD_NAMES, InboundHandler, SubmissionHandler
from smb_suite.smtp.server import SmbSMTP, _timed_commands


@pytest.mark.parametrize("cls", [SmbSMTP, InboundHandler, SubmissionHandler])
def test_every_command_mechanism_and_hook_stays_visible(cls: type[Any]) -> None:
    instance = object.__new__(cls)
    everything = {name for name in object.__dir__(instance) if name.startswith(AIOSMTPD_NAMES)}
    assert everything and set(dir(instance)) == everything


def test_each_timed_command_keeps_its_help_syntax() -> None:
    commands = _timed_commands(SmbSMTP)
    assert {"EHLO", "HELO", "MAIL", "RCPT", "DATA", "QUIT", "AUTH", "STARTTLS"} <= set(commands)
    assert commands["MAIL"].__smtp_syntax__ == SmbSMTP.smtp_MAIL.__smtp_syntax__  # type: ignore[attr-defined]


def test_mail_and_rcpt_paths_parse_as_aiosmtpd_parses_them() -> None:
    session = object.__new__(SmbSMTP)
    session.local_part_limit = 64
    paths = ["<a@example.test>", "<a@example.test> SIZE=10", "a@example.test", "<>", "", "<a@b", "<@x:a@b.test>"]
    paths += ["<" + "x" * 65 + "@example.test>", '<"q t"@example.test> BODY=8BITMIME', "garbage <"]
    for path in paths:
        assert session._getaddr(path) == SMTP._getaddr(session, path), path


def test_the_ehlo_hook_is_seen_with_its_five_arguments() -> None:
    """aiosmtpd takes a hook of four arguments for the deprecated form: the kept signature must be the hook's."""
    for cls in (InboundHandler, SubmissionHandler):
        handler = object.__new__(cls)
        dir(handler)
        assert "__signature__" in vars(cls.handle_EHLO)
        assert list(inspect.signature(handler.handle_EHLO).parameters) == [
            "server",
            "session",
            "envelope",
            "hostname",
            "responses",
        ]
