"""Submission: every originator field (From:, Sender:, Resent-From:, Resent-Sender:) names only the user's own
addresses (553 5.7.1); a display name that is itself another address is refused (550 5.7.1); NUL bytes are
refused on every SMTP port (RFC 5321 2.3.8)."""

from __future__ import annotations

import base64
import smtplib

import pytest

from tests.daemon import OWNER, OWNER_PASSWORD, USER, Daemon
from tests.mailtest import inbound, insecure_context

OTHER = "boss@bank.test"


def submit(daemon: Daemon, headers: str, body: bytes = b"Hello.\r\n") -> tuple[int, str]:
    data = f"{headers}To: {USER}\r\nSubject: headers\r\n\r\n".encode() + body
    with smtplib.SMTP("127.0.0.1", daemon.ports["submission"], timeout=30) as client:
        client.starttls(context=insecure_context())
        client.login(OWNER, OWNER_PASSWORD)
        assert client.mail(OWNER)[0] == 250
        assert client.rcpt(USER)[0] == 250
        try:
            code, text = client.data(data)
        except smtplib.SMTPDataError as exc:
            code, text = exc.smtp_code, exc.smtp_error
    return code, text.decode()


@pytest.mark.parametrize("field", ["Sender", "Resent-From", "Resent-Sender"])
def test_an_originator_field_naming_someone_else_is_refused_with_553(daemon: Daemon, field: str) -> None:
    code, text = submit(daemon, f"From: {OWNER}\r\n{field}: Someone <{OTHER}>\r\n")
    assert code == 553 and text.startswith("5.7.1") and f"{field}: header rejected" in text, text


@pytest.mark.parametrize("field", ["Sender", "Resent-From", "Resent-Sender"])
def test_an_originator_field_naming_the_user_is_accepted(daemon: Daemon, field: str) -> None:
    code, text = submit(daemon, f"From: Demo <{OWNER}>\r\n{field}: Demo <{OWNER.upper()}>\r\n")
    assert code == 250, text


@pytest.mark.parametrize(
    "display",
    [f'"{OTHER}"', f"=?utf-8?b?{base64.b64encode(OTHER.encode()).decode()}?=", f'"Boss ({OTHER})"'],
)
def test_a_display_name_that_is_another_address_is_refused_with_550(daemon: Daemon, display: str) -> None:
    code, text = submit(daemon, f"From: {display} <{OWNER}>\r\n")
    assert code == 550 and text.startswith("5.7.1") and "display name" in text and OTHER in text, text


def test_a_display_name_that_is_the_real_address_is_accepted(daemon: Daemon) -> None:
    code, text = submit(daemon, f'From: "{OWNER}" <{OWNER}>\r\n')
    assert code == 250, text


def test_a_display_name_spoof_in_sender_is_refused_too(daemon: Daemon) -> None:
    code, text = submit(daemon, f'From: {OWNER}\r\nSender: "{OTHER}" <{OWNER}>\r\n')
    assert code == 550 and "Sender: header rejected" in text, text


def test_a_submitted_message_with_a_nul_byte_is_refused(daemon: Daemon) -> None:
    code, text = submit(daemon, f"From: {OWNER}\r\n", b"before\x00after\r\n")
    assert code == 554 and text.startswith("5.6.0") and "NUL" in text, text


def test_an_inbound_message_with_a_nul_byte_is_refused(daemon: Daemon) -> None:
    data = f"From: someone@remote.example\r\nTo: {USER}\r\nSubject: nul\r\n\r\nbefore\x00after\r\n".encode()
    with inbound(daemon) as client:
        assert client.mail("someone@remote.example")[0] == 250
        assert client.rcpt(USER)[0] == 250
        code, text = client.data(data)
    assert code == 554 and text.startswith(b"5.6.0"), text
