"""Storage tiers as a business and its correspondents see them: 452 when full, upgrades let mail in."""

from __future__ import annotations

import imaplib
import re
import smtplib
import threading
from collections.abc import Callable

from tests.daemon import DOMAIN, OWNER, OWNER_PASSWORD, USER, USER_PASSWORD, Daemon
from tests.polling import wait_for


def message_of(lines: int) -> bytes:
    """A message of about `lines` kilobytes (RFC 5321 4.5.3.1.6: lines of at most 1000 octets)."""
    return b"Subject: filler\r\n\r\n" + (b"y" * 998 + b"\r\n") * lines


MEGABYTE_MESSAGE = message_of(1049)  # just over 1 MiB
SMALL_TIER = '[tiers.small]\nstorage_mb = 5\n[tiers.plus]\nstorage_mb = 100\n[quota]\ndefault_tier = "small"\n'


def send(daemon: Daemon, message: bytes, recipient: str = USER) -> tuple[int, bytes]:
    """Deliver over the inbound port; return the reply to RCPT if refused there, else the reply to DATA."""
    with smtplib.SMTP("127.0.0.1", daemon.ports["smtp"], timeout=60) as client:
        client.ehlo("remote.example")
        client.mail("sender@remote.example")
        code, text = client.rcpt(recipient)
        if code != 250:
            return code, text
        return client.data(message)


def fill(daemon: Daemon) -> int:
    """Send ever smaller messages until the tenant is full (452 at RCPT); return how many were accepted."""
    accepted = 0
    for message in (MEGABYTE_MESSAGE, message_of(200), message_of(40)):
        while (reply := send(daemon, message))[0] == 250:
            accepted += 1
        assert (reply[0], reply[1][:5]) in ((452, b"4.2.2"), (552, b"5.3.4")), reply
    assert send(daemon, b"Subject: tiny\r\n\r\nhi\r\n")[:2][0] == 452
    return accepted


def imap_login(daemon: Daemon, user: str = USER, password: str = USER_PASSWORD) -> imaplib.IMAP4:
    client = imaplib.IMAP4("127.0.0.1", daemon.ports["imap"])
    client.login(user, password)
    return client


def test_full_tenant_gets_452_then_expunge_makes_room(fresh_daemon: Callable[..., Daemon]) -> None:
    daemon = fresh_daemon()
    assert fill(daemon) >= 45
    code, text = send(daemon, b"Subject: small\r\n\r\nhello\r\n")
    assert (code, text[:5]) == (452, b"4.2.2")
    with imap_login(daemon) as client:
        client.select("INBOX")
        client.store("1:5", "+FLAGS", "\\Deleted")
        assert client.expunge()[0] == "OK"
    assert send(daemon, b"Subject: small\r\n\r\nhello again\r\n")[0] == 250


def test_message_that_cannot_fit_gets_552_5_3_4_at_data(fresh_daemon: Callable[..., Daemon]) -> None:
    daemon = fresh_daemon('[tiers.mini]\nstorage_mb = 1\n[quota]\ndefault_tier = "mini"\n')
    code, text = send(daemon, MEGABYTE_MESSAGE)
    assert (code, text[:5]) == (552, b"5.3.4")
    assert send(daemon, b"Subject: small\r\n\r\nfits\r\n")[0] == 250


def test_upgrade_lets_the_retrying_sender_in(fresh_daemon: Callable[..., Daemon]) -> None:
    daemon = fresh_daemon()
    fill(daemon)
    assert send(daemon, MEGABYTE_MESSAGE)[0] in (452, 552)
    daemon.cli("tenant", "tier", DOMAIN, "plus")
    assert send(daemon, MEGABYTE_MESSAGE)[0] == 250
    listing = daemon.cli("tenant", "list").stdout
    assert re.search(rf"{DOMAIN}\tplus\t5\d\.\d MB\t100\.0 MB", listing), listing


def test_downgrade_below_usage_is_refused_with_what_to_free(fresh_daemon: Callable[..., Daemon]) -> None:
    daemon = fresh_daemon()
    daemon.cli("tenant", "tier", DOMAIN, "plus")
    for _ in range(55):
        assert send(daemon, MEGABYTE_MESSAGE)[0] == 250
    refused = daemon.cli("tenant", "tier", DOMAIN, "starter", check=False)
    assert refused.returncode == 1
    assert "free 5." in refused.stderr and "MB first" in refused.stderr
    assert f"{DOMAIN}\tplus" in daemon.cli("tenant", "list").stdout


def test_owner_is_warned_once_at_80_and_once_at_95_percent(fresh_daemon: Callable[..., Daemon]) -> None:
    daemon = fresh_daemon(SMALL_TIER)
    fill(daemon)
    with imap_login(daemon, OWNER, OWNER_PASSWORD) as client:
        client.select("INBOX", readonly=True)
        _, at80 = client.search(None, "SUBJECT", '"Storage 80 % full"')
        _, at95 = client.search(None, "SUBJECT", '"Storage 95 % full"')
    assert len(at80[0].split()) == 1
    assert len(at95[0].split()) == 1


def test_kill_9_during_deliveries_leaves_no_drift(fresh_daemon: Callable[..., Daemon]) -> None:
    daemon = fresh_daemon()
    stop = threading.Event()

    def keep_sending() -> None:
        while not stop.is_set():
            try:
                send(daemon, message_of(50))
            except (OSError, smtplib.SMTPException):
                return

    senders = [threading.Thread(target=keep_sending) for _ in range(4)]
    for sender in senders:
        sender.start()
    try:
        wait_for("deliveries before the kill", lambda: daemon.log_text().count("smtp.delivered") >= 20, 60)
        daemon.kill()
    finally:
        stop.set()
        for sender in senders:
            sender.join(timeout=60)
    daemon.start()
    assert "matches the disk" in daemon.cli("quota", "check").stdout


def test_deleting_works_over_quota(fresh_daemon: Callable[..., Daemon]) -> None:
    daemon = fresh_daemon(SMALL_TIER)
    fill(daemon)
    with imap_login(daemon) as client:
        client.select("INBOX")
        _, count = client.search(None, "ALL")
        client.store("1:*", "+FLAGS", "\\Deleted")
        assert client.expunge()[0] == "OK"
        client.select("INBOX")
        _, left = client.search(None, "ALL")
    assert count[0] and not left[0]
    assert "matches the disk" in daemon.cli("quota", "check").stdout


def test_imap_getquotaroot_matches_tenant_list(fresh_daemon: Callable[..., Daemon]) -> None:
    daemon = fresh_daemon()
    for _ in range(3):
        assert send(daemon, MEGABYTE_MESSAGE)[0] == 250
    with imap_login(daemon) as client:
        assert "QUOTA" in client.capabilities and "QUOTA=RES-STORAGE" in client.capabilities
        typ, data = client.getquotaroot("INBOX")
    assert typ == "OK"
    assert data[0] == [b'"INBOX" ""']
    used_kib, limit_kib = map(int, re.fullmatch(rb'"" \(STORAGE (\d+) (\d+)\)', data[1][0]).groups())  # type: ignore[union-attr]
    listing = daemon.cli("tenant", "list").stdout
    used_mb, limit_mb = re.search(rf"{DOMAIN}\tstarter\t([\d.]+) MB\t([\d.]+) MB", listing).groups()  # type: ignore[union-attr]
    assert limit_kib == 50 * 1024 and float(limit_mb) == 50.0
    assert abs(used_kib / 1024 - float(used_mb)) < 0.06


def test_imap_append_and_copy_over_quota_get_overquota(fresh_daemon: Callable[..., Daemon]) -> None:
    daemon = fresh_daemon('[tiers.mini]\nstorage_mb = 2\n[quota]\ndefault_tier = "mini"\n')
    with imap_login(daemon) as client:
        assert client.append("INBOX", None, None, MEGABYTE_MESSAGE)[0] == "OK"
        typ, data = client.append("INBOX", None, None, MEGABYTE_MESSAGE)
        assert typ == "NO" and data[0].startswith(b"[OVERQUOTA]")
        client.select("INBOX")
        typ, data = client.copy("1", "Archive")
        assert typ == "NO" and data[0].startswith(b"[OVERQUOTA]")
        client.select("Archive")
        _, found = client.search(None, "ALL")
    assert found == [b""]


def test_mailbox_limit_inside_the_tenant_quota(fresh_daemon: Callable[..., Daemon]) -> None:
    daemon = fresh_daemon()
    daemon.cli("user", "quota", USER, "1")
    assert send(daemon, MEGABYTE_MESSAGE)[0] == 552
    assert send(daemon, MEGABYTE_MESSAGE, OWNER)[0] == 250
    with imap_login(daemon) as client:
        _, data = client.getquotaroot("INBOX")
    assert data[0] == [b'"INBOX" "" "mailbox"']


def test_daily_usage_is_recorded_per_tenant(daemon: Daemon) -> None:
    lines = daemon.cli("tenant", "usage", DOMAIN).stdout.splitlines()
    assert lines[0] == "day\tused\tlimit"
    day, used, limit = lines[1].split("\t")
    assert re.fullmatch(r"\d{4}-\d\d-\d\d", day)
    assert int(used) > 0 and int(limit) == 50 * 1024 * 1024
