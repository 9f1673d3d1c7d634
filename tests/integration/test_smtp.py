"""SMTP as MTAs and mail clients see it: no relay, AUTH only over TLS, clear enhanced status codes."""

from __future__ import annotations

import re
import smtplib
import socket
import subprocess

import pytest

from tests.daemon import DOMAIN, OWNER, OWNER_PASSWORD, USER, Daemon
from tests.mailtest import MESSAGE, inbound, insecure_context, rcpt_reply, submission

SUBMITTED = b"From: Demo <demo@example.test>\r\nTo: alice@example.test\r\nSubject: hello\r\n\r\nHi there.\r\n"


def test_inbound_accepts_mail_for_a_hosted_user(daemon: Daemon) -> None:
    with inbound(daemon) as client:
        assert client.sendmail("someone@remote.example", [OWNER], MESSAGE) == {}


def test_inbound_refuses_to_relay_to_a_domain_we_do_not_host(daemon: Daemon) -> None:
    with inbound(daemon) as client:
        code, text = rcpt_reply(client, "victim@elsewhere.example")
    assert code == 554
    assert text.startswith(b"5.7.1")


def test_inbound_refuses_an_unknown_user_of_a_hosted_domain_with_550_5_1_1(daemon: Daemon) -> None:
    with inbound(daemon) as client:
        code, text = rcpt_reply(client, f"nobody@{DOMAIN}")
    assert code == 550
    assert text.startswith(b"5.1.1")


@pytest.mark.parametrize(
    "recipient",
    [
        f"victim%elsewhere.example@{DOMAIN}",
        "elsewhere.example!victim@example.test",
        '"victim@elsewhere.example"@example.test',
        "@example.test:victim@elsewhere.example",
        "victim@[192.0.2.1]",
        "victim@elsewhere.example.",
    ],
)
def test_swaks_relay_tricks_are_refused_on_the_inbound_port(daemon: Daemon, recipient: str) -> None:
    swaks = subprocess.run(
        ["swaks", "--server", f"127.0.0.1:{daemon.ports['smtp']}", "--from", "someone@remote.example"]
        + ["--to", recipient, "--quit-after", "RCPT", "--timeout", "30"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert swaks.returncode != 0
    assert re.search(r"^<\*\* +5\d\d ", swaks.stdout, re.MULTILINE), swaks.stdout


def test_inbound_does_not_offer_auth(daemon: Daemon) -> None:
    with inbound(daemon) as client:
        assert not client.has_extn("auth")


def test_submission_refuses_auth_before_starttls(daemon: Daemon) -> None:
    with smtplib.SMTP("127.0.0.1", daemon.ports["submission"], timeout=30) as client:
        client.ehlo("laptop")
        assert not client.has_extn("auth")
        code, _ = client.docmd("AUTH", "PLAIN AGRlbW9AZXhhbXBsZS50ZXN0AHNlY3JldA==")
    assert code in (530, 538)


def test_submission_after_starttls_authenticates_and_delivers(daemon: Daemon) -> None:
    with submission(daemon) as client:
        assert "PLAIN" in client.esmtp_features["auth"]
        client.login(OWNER, OWNER_PASSWORD)
        assert client.sendmail(OWNER, [USER], SUBMITTED) == {}


def test_submission_over_implicit_tls_authenticates(daemon: Daemon) -> None:
    with smtplib.SMTP_SSL("127.0.0.1", daemon.ports["submissions"], context=insecure_context(), timeout=30) as client:
        client.ehlo("laptop")
        client.login(OWNER, OWNER_PASSWORD)
        assert client.sendmail(OWNER, [USER], SUBMITTED) == {}


def test_submission_wrong_password_is_535_5_7_8(daemon: Daemon) -> None:
    with submission(daemon) as client, pytest.raises(smtplib.SMTPAuthenticationError) as refused:
        client.login(USER, "not the password")
    assert refused.value.smtp_code == 535
    assert refused.value.smtp_error.startswith(b"5.7.8")


def test_submission_requires_authentication_before_mail(daemon: Daemon) -> None:
    with submission(daemon) as client:
        code, _ = client.mail(OWNER)
    assert code == 530


def test_submission_to_a_remote_recipient_is_queued(daemon: Daemon) -> None:
    with submission(daemon) as client:
        client.login(OWNER, OWNER_PASSWORD)
        client.mail(OWNER)
        code, _ = client.rcpt("partner@elsewhere.example")
        assert code == 250
        code, text = client.data(MESSAGE.replace(b"From: someone@remote.example", f"From: {OWNER}".encode()))
    assert code == 250
    assert text.startswith(b"2.0.0 Ok: queued as")


def test_oversized_message_is_refused_with_552(daemon: Daemon) -> None:
    huge = b"Subject: big\r\n\r\n" + (b"x" * 998 + b"\r\n") * 27_000
    with inbound(daemon) as client, pytest.raises(smtplib.SMTPException) as refused:
        client.sendmail("someone@remote.example", [OWNER], huge)
    assert "552" in str(refused.value)


def test_passwords_never_reach_the_log(daemon: Daemon) -> None:
    with submission(daemon) as client:
        client.login(OWNER, OWNER_PASSWORD)
    with submission(daemon) as client, pytest.raises(smtplib.SMTPAuthenticationError):
        client.login(OWNER, "a-wrong-guess-xyz")
    log = daemon.all_logs()
    assert "smtp.auth_ok" in log
    assert OWNER_PASSWORD not in log and "a-wrong-guess-xyz" not in log


def read_replies(sock: socket.socket, count: int) -> list[str]:
    """Read `count` complete replies (multi-line ones joined), waiting at most the socket timeout for each."""
    buffer = b""
    replies: list[str] = []
    current: list[str] = []
    while len(replies) < count:
        while b"\r\n" not in buffer:
            chunk = sock.recv(4096)
            assert chunk, f"connection closed after {replies}"
            buffer += chunk
        line, buffer = buffer.split(b"\r\n", 1)
        text = line.decode()
        current.append(text)
        if text[3:4] != "-":
            replies.append("\n".join(current))
            current = []
    return replies


def test_ehlo_advertises_the_extensions_mail_clients_look_for(daemon: Daemon) -> None:
    with inbound(daemon) as client:
        for extension in ("size", "pipelining", "8bitmime", "smtputf8", "enhancedstatuscodes"):
            assert client.has_extn(extension), extension
        assert client.esmtp_features["size"] == str(25 * 1024 * 1024)


def test_pipelined_mail_rcpt_data_get_their_replies_in_order(daemon: Daemon) -> None:
    """RFC 2920: the client sends MAIL, both RCPTs and DATA in one write, then reads four replies."""
    with socket.create_connection(("127.0.0.1", daemon.ports["smtp"]), timeout=30) as sock:
        read_replies(sock, 1)
        sock.sendall(b"EHLO client.remote.example\r\n")
        assert "PIPELINING" in read_replies(sock, 1)[0]
        sock.sendall(
            b"MAIL FROM:<someone@remote.example>\r\nRCPT TO:<demo@example.test>\r\n"
            b"RCPT TO:<nobody@example.test>\r\nDATA\r\n"
        )
        mail, good, bad, data = read_replies(sock, 4)
        assert mail.startswith("250 2.") and good.startswith("250 2.1.5") and bad.startswith("550 5.1.1")
        assert data.startswith("354")
        sock.sendall(MESSAGE + b".\r\nQUIT\r\n")
        delivered, bye = read_replies(sock, 2)
    assert delivered.startswith("250 2.0.0")
    assert bye.startswith("221 2.0.0")


@pytest.mark.parametrize(
    ("command", "reply"),
    [("NOOP", "250 2.0.0"), ("RSET", "250 2.0.0"), ("FROB", "500 5.5.2"), ("RCPT TO:<demo@example.test>", "503 5.5.1")],
)
def test_every_reply_carries_an_enhanced_status_code(daemon: Daemon, command: str, reply: str) -> None:
    with inbound(daemon) as client:
        code, text = client.docmd(command)
    assert f"{code} {text.decode()}".startswith(reply)


def test_a_looping_message_is_refused_with_554_5_4_6(daemon: Daemon) -> None:
    looping = b"".join(b"Received: from a (b) by c; Mon, 1 Jan 2024 00:00:00 +0000\r\n" for _ in range(60)) + MESSAGE
    with inbound(daemon) as client, pytest.raises(smtplib.SMTPDataError) as refused:
        client.sendmail("someone@remote.example", [OWNER], looping)
    assert refused.value.smtp_code == 554 and refused.value.smtp_error.startswith(b"5.4.6")
