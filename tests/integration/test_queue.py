"""The outbound queue between two real daemons: A (example.test) delivers to B (partner.test) by a static route."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.daemon import OWNER, OWNER_PASSWORD, USER, Daemon, make_daemon
from tests.dnsserver import DnsServer
from tests.mailtest import SMOKE, free_port, maildir, message, queue_list, send_inbound, submit
from tests.polling import wait_for

PARTNER = "partner.test"
BOB = f"bob@{PARTNER}"
Pair = Callable[..., tuple[Daemon, Daemon]]
QUEUED_AS = re.compile(r"queued as ([0-9a-f]+)")


def outbound(port: int, **settings: str) -> str:
    """[outbound] routing partner.test to B's inbound port; fast retries unless overridden."""
    values = {"retry_schedule": '["1s"]', "scan_interval": '"1s"', **settings}
    lines = "".join(f"{key} = {value}\n" for key, value in values.items())
    return f'[outbound]\nsmarthost = "127.0.0.1:9"\n{lines}\n[outbound.routes]\n"{PARTNER}" = "127.0.0.1:{port}"\n'


@pytest.fixture
def pair(tmp_path: Path, quiet_dns: DnsServer) -> Iterator[Pair]:
    """make(**outbound settings) -> (A started, B created but not started, on a fixed port)."""
    made: list[Daemon] = []

    def make(**settings: str) -> tuple[Daemon, Daemon]:
        port = free_port()
        dns = (quiet_dns.address,)
        b = make_daemon(tmp_path / "b", services=("smtp",), ports={"smtp": port}, nameservers=dns)
        b.cli("domain", "add", PARTNER)
        b.cli("user", "add", BOB, "--password-stdin", stdin="bob-password-1\n")
        a = make_daemon(tmp_path / "a", outbound(port, **settings), services=SMOKE, nameservers=dns).start()
        made.extend((a, b))
        return a, b

    yield make
    for server in made:
        if server.process is not None:
            server.kill()


def dsns(daemon: Daemon) -> list[str]:
    return [m.decode() for m in maildir(daemon, OWNER) if b"report-type=delivery-status" in m]


def queue_empty(daemon: Daemon) -> bool:
    return "0 message(s) in the queue" in queue_list(daemon)


def test_submitted_mail_for_a_partner_domain_is_delivered_by_the_queue_over_starttls(pair: Pair) -> None:
    a, b = pair()
    b.start()
    reply = submit(a, [BOB, USER], message("to the partner", f"{BOB}, {USER}"))
    assert QUEUED_AS.search(reply)
    assert len(maildir(a, USER)) == 1  # the hosted recipient has its copy before the 250
    delivered = wait_for("delivery at B", lambda: maildir(b, BOB))
    assert b"Subject: to the partner" in delivered[0]
    assert b"with ESMTPS id" in delivered[0]  # B's Received field: A used STARTTLS
    wait_for("an empty queue at A", lambda: queue_empty(a))


def test_a_smarthost_with_authentication_carries_all_remote_mail(tmp_path: Path, quiet_dns: DnsServer) -> None:
    b = make_daemon(tmp_path / "b", services=("smtp", "submission"), nameservers=(quiet_dns.address,))
    b.cli("domain", "add", PARTNER)
    b.cli("user", "add", BOB, "--password-stdin", stdin="bob-password-1\n")
    b.start()
    try:
        # B knows demo@example.test too (every test daemon has it): the relay account may send as our sender.
        relay = (
            f'[outbound]\nsmarthost = "127.0.0.1:{b.ports["submission"]}"\nsmarthost_username = "{OWNER}"\n'
            f'smarthost_password = "{OWNER_PASSWORD}"\n'
        )
        a = make_daemon(tmp_path / "a", relay, services=SMOKE, nameservers=(quiet_dns.address,)).start()
        try:
            submit(a, [BOB], message("via the smarthost", BOB))
            delivered = wait_for("delivery at B", lambda: maildir(b, BOB))
            assert b"with ESMTPSA id" in delivered[0]  # STARTTLS and AUTH at the smarthost
        finally:
            a.kill()
    finally:
        b.kill()


def test_queued_mail_survives_kill_9_and_arrives_exactly_once(pair: Pair) -> None:
    a, b = pair()
    submit(a, [BOB], message("survivor", BOB))
    wait_for("a failed attempt", lambda: "queue.temporary" in a.log_text())
    assert BOB in queue_list(a)
    a.kill()
    a.start()
    b.start()
    wait_for("delivery at B", lambda: maildir(b, BOB))
    wait_for("an empty queue at A", lambda: queue_empty(a))
    assert len(maildir(b, BOB)) == 1


def test_a_recipient_refused_by_the_partner_gets_one_report_and_the_other_is_delivered(
    pair: Pair,
) -> None:
    a, b = pair()
    b.start()
    nobody = f"nobody@{PARTNER}"
    submit(a, [BOB, nobody], message("half of it", f"{BOB}, {nobody}"))
    wait_for("delivery at B", lambda: maildir(b, BOB))
    report = wait_for("a report to the sender", lambda: dsns(a))[0]
    wait_for("an empty queue at A", lambda: queue_empty(a))
    assert len(dsns(a)) == 1
    assert "multipart/report; report-type=delivery-status" in report
    assert f"Final-Recipient: rfc822; {nobody}" in report
    assert "Action: failed" in report and "Status: 5.1.1" in report
    assert re.search(r"Diagnostic-Code: smtp; 550 5\.1\.1 .*no such user", report)
    assert f"Final-Recipient: rfc822; {BOB}" not in report
    assert "Subject: half of it" in report  # the original header comes back
    assert len(maildir(b, BOB)) == 1


def test_queue_list_shows_waiting_mail_and_retry_and_delete_work(pair: Pair) -> None:
    a, b = pair(retry_schedule='["1h"]')
    first = QUEUED_AS.search(submit(a, [BOB], message("deleted one", BOB)))
    second = QUEUED_AS.search(submit(a, [BOB], message("retried one", BOB)))
    assert first and second
    wait_for("two failed attempts", lambda: a.log_text().count("queue.temporary") >= 2)
    listing = queue_list(a)
    assert first[1] in listing and second[1] in listing
    assert "2 message(s) in the queue" in listing
    assert re.search(rf"{BOB}\s+queued, 1 attempt\(s\), next try in \d+m", listing)
    b.start()
    assert "deleted " + first[1] in a.cli("queue", "delete", first[1]).stdout
    a.cli("queue", "retry")
    delivered = wait_for("delivery at B", lambda: maildir(b, BOB))
    wait_for("an empty queue at A", lambda: queue_empty(a))
    assert len(maildir(b, BOB)) == 1 and b"Subject: retried one" in delivered[0]
    assert a.cli("queue", "delete", "feedfacefeedface", check=False).returncode == 1


def test_the_sender_hears_of_a_delay_and_then_of_expiry(pair: Pair) -> None:
    a, _ = pair(delay_notice='"1s"', max_age='"4s"')
    submit(a, [BOB], message("never arrives", BOB))
    wait_for("an empty queue at A", lambda: queue_empty(a))
    reports = wait_for("two reports", lambda: (r := dsns(a)) and len(r) >= 2 and r)
    assert len(reports) == 2
    assert "Action: delayed" in reports[0] and "Action: failed" in reports[1]
    assert f"Final-Recipient: rfc822; {BOB}" in reports[1]
    assert re.search(r"Status: 4\.\d+\.\d+", reports[1])


def test_no_report_for_a_message_with_the_null_sender(pair: Pair) -> None:
    a, b = pair()
    b.start()
    a.cli("user", "forward", "alice@example.test", f"nobody@{PARTNER}")
    send_inbound(a, "", ["alice@example.test"], message("a bounce", "alice@example.test"))
    wait_for("an empty queue at A", lambda: queue_empty(a))
    wait_for("the suppressed report", lambda: "queue.dsn_suppressed" in a.log_text())
    assert dsns(a) == []


def test_forwarding_to_a_remote_address_goes_through_the_queue(pair: Pair) -> None:
    a, b = pair()
    b.start()
    a.cli("user", "forward", "alice@example.test", BOB)
    send_inbound(a, "someone@elsewhere.example", ["alice@example.test"], message("forward me", "alice@example.test"))
    delivered = wait_for("delivery at B", lambda: maildir(b, BOB))
    assert b"Subject: forward me" in delivered[0]
    assert maildir(a, "alice@example.test") == []
