"""aiosmtpd looks up commands, AUTH mechanisms and hooks by name at every connection; the short `dir()` our
protocol and handlers give it must still name every one of them, or a command would silently vanish."""

from __future__ import annotations

from typing import Any

import pytest

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
