"""Local delivery as users see it: plus-addressing, catch-all, forwarding and vacation replies (RFC 3834).

Replies to hosted senders are stored before the 250, so a test can look at the Maildir right after sending.
"""

from __future__ import annotations

import smtplib

import pytest

from tests.daemon import DOMAIN, OWNER, USER, Daemon, Daemons
from tests.dnsserver import DnsServer
from tests.mailtest import SMOKE, maildir, message, send_inbound, submit

CAROL = f"carol@{DOMAIN}"


@pytest.fixture(scope="module")
def daemon(start_daemon: Daemons, quiet_dns: DnsServer) -> Daemon:
    """One daemon for this module; alice is on vacation, carol is a third local user."""

    def before_start(server: Daemon) -> None:
        server.cli("user", "add", CAROL, "--password-stdin", stdin="carol-password-1\n")
        server.cli("user", "vacation", USER, "--subject", "Away until Monday", "--message-stdin", stdin="I am away.\n")

    return start_daemon(services=SMOKE, nameservers=(quiet_dns.address,), before_start=before_start, name="delivery")


def replies_in(daemon: Daemon, address: str) -> list[bytes]:
    return [m for m in maildir(daemon, address) if b"Auto-Submitted: auto-replied" in m]


def test_plus_addressing_delivers_to_the_user(daemon: Daemon) -> None:
    before = len(maildir(daemon, CAROL))
    send_inbound(daemon, "someone@elsewhere.example", [f"carol+news@{DOMAIN}"], message("plus", "carol+news"))
    assert len(maildir(daemon, CAROL)) == before + 1


def test_vacation_replies_once_per_sender_with_rfc_3834_headers(daemon: Daemon) -> None:
    submit(daemon, [USER], message("first question", USER))
    replies = replies_in(daemon, OWNER)
    assert len(replies) == 1
    reply = replies[0]
    assert b"Subject: Away until Monday" in reply
    assert b"In-Reply-To: <first-question@test>" in reply
    assert b"References: <first-question@test>" in reply
    assert b"I am away." in reply
    assert b"DKIM-Signature: v=1; a=rsa-sha256" in reply and f"d={DOMAIN};".encode() in reply
    submit(daemon, [USER], message("second question", USER))
    assert len(replies_in(daemon, OWNER)) == 1


def test_vacation_does_not_answer_a_mailing_list(daemon: Daemon) -> None:
    listed = message("list post", USER, sender=CAROL, extra="List-Id: <team.lists.example>\r\n")
    send_inbound(daemon, CAROL, [USER], listed)
    bulk = message("bulk post", USER, sender=CAROL, extra="Precedence: bulk\r\n")
    send_inbound(daemon, CAROL, [USER], bulk)
    assert replies_in(daemon, CAROL) == []


def test_vacation_does_not_answer_a_bounce_or_an_autoreply(daemon: Daemon) -> None:
    before = len(maildir(daemon, USER))
    send_inbound(daemon, "", [USER], message("a bounce", USER, sender="MAILER-DAEMON@example.test"))
    automatic = message("automatic", USER, sender=CAROL, extra="Auto-Submitted: auto-generated\r\n")
    send_inbound(daemon, CAROL, [USER], automatic)
    assert len(maildir(daemon, USER)) == before + 2
    assert replies_in(daemon, CAROL) == []
    assert "queue.dsn" not in daemon.log_text() and "0 message(s)" in daemon.cli("queue", "list").stdout


def test_catch_all_takes_mail_for_unknown_addresses_once_set(daemon: Daemon) -> None:
    unknown = f"sales-2024@{DOMAIN}"
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        send_inbound(daemon, "someone@elsewhere.example", [unknown], message("lost", unknown))
    daemon.cli("domain", "catchall", DOMAIN, CAROL)
    before = len(maildir(daemon, CAROL))
    send_inbound(daemon, "someone@elsewhere.example", [unknown], message("caught", unknown))
    assert len(maildir(daemon, CAROL)) == before + 1
    daemon.cli("domain", "catchall", DOMAIN, "--off")
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        send_inbound(daemon, "someone@elsewhere.example", [unknown], message("lost again", unknown))


def test_forwarding_to_a_local_address_with_and_without_a_copy(daemon: Daemon) -> None:
    daemon.cli("user", "forward", CAROL, OWNER, "--keep-copy")
    carol, owner = len(maildir(daemon, CAROL)), len(maildir(daemon, OWNER))
    send_inbound(daemon, "someone@elsewhere.example", [CAROL], message("copied", CAROL))
    assert (len(maildir(daemon, CAROL)), len(maildir(daemon, OWNER))) == (carol + 1, owner + 1)
    daemon.cli("user", "forward", CAROL, OWNER)
    send_inbound(daemon, "someone@elsewhere.example", [CAROL], message("moved", CAROL))
    assert (len(maildir(daemon, CAROL)), len(maildir(daemon, OWNER))) == (carol + 1, owner + 2)
    daemon.cli("user", "forward", CAROL, "--off")


def test_forward_and_vacation_commands_explain_mistakes(daemon: Daemon) -> None:
    both = daemon.cli("user", "forward", CAROL, OWNER, "--off", check=False)
    assert both.returncode == 2 and "TARGET" in both.stderr
    itself = daemon.cli("user", "forward", CAROL, CAROL, check=False)
    assert itself.returncode == 1 and "itself" in itself.stderr
    empty = daemon.cli("user", "vacation", CAROL, "--message-stdin", stdin="", check=False)
    assert empty.returncode == 1 and "empty" in empty.stderr
