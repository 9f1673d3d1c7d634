"""Mail that gets through: instance A signs what its users submit; instance B, an MX on "the internet" whose DNS
is a twisted.names server serving what `smb-suite dns` told A's owner to publish, checks SPF, DKIM and DMARC.

Until the outbound queue exists, A delivers to a hosted mailbox and the test replays the exact signed bytes into
B's MX from 127.0.0.1, which the published SPF allows (the MX host of shop.test resolves to 127.0.0.1).
"""

from __future__ import annotations

import smtplib
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import authres
import authres.dmarc
import dkim as dkimpy
import pytest

from smb_suite.mail import dkim
from smb_suite.mail import message as message_fields
from tests import polling
from tests.daemon import OWNER, START_DEADLINE, Daemon, Daemons, make_daemon
from tests.dnsserver import DnsServer, parse_zone
from tests.mailtest import insecure_context

SHOP = "shop.test"
BOB = f"bob@{SHOP}"
BOB_PASSWORD = "bob-secret-password"
SALES = f"sales@{SHOP}"
A_HOST, B_HOST, C_HOST = "mail.a.test", "mail.b.test", "mail.c.test"
# The rest of the internet: the MX host of shop.test, a domain whose SPF allows us (evil.test), and a bank
# that publishes p=reject and does not send from here.
INTERNET = f"""
{A_HOST}.\t3600\tIN\tA\t127.0.0.1
evil.test.\t3600\tIN\tTXT\t"v=spf1 ip4:127.0.0.1 -all"
bank.test.\t3600\tIN\tTXT\t"v=spf1 ip4:192.0.2.1 -all"
_dmarc.bank.test.\t3600\tIN\tTXT\t"v=DMARC1; p=reject"
"""


@dataclass
class World:
    a: Daemon
    b: Daemon
    c: Daemon
    zone: str

    def key_records(self) -> dict[str, bytes]:
        return {
            name: "".join(rdata).encode()
            for name, _, rdtype, rdata in parse_zone(self.zone)
            if rdtype == "TXT" and "._domainkey." in name
        }


def add_shop(daemon: Daemon) -> None:
    daemon.cli("domain", "add", SHOP)
    daemon.cli("user", "add", BOB, "--password-stdin", stdin=BOB_PASSWORD + "\n")
    daemon.cli("alias", "add", SALES, BOB)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, start_daemon: Daemons) -> Iterator[World]:
    a = start_daemon(services=("submission",), hostname=A_HOST, before_start=add_shop, name="a")
    zone = a.cli("dns", SHOP).stdout + INTERNET
    zone_file = tmp_path_factory.mktemp("internet") / "internet.zone"
    zone_file.write_text(zone)
    dns = DnsServer(zone_file).start()
    b = start_daemon(services=("smtp",), hostname=B_HOST, nameservers=(dns.address,), name="b")
    c = start_daemon(
        '[inbound]\ndmarc_reject = "quarantine"\n',
        services=("smtp",),
        hostname=C_HOST,
        nameservers=(dns.address,),
        name="c",
    )
    yield World(a, b, c, zone)
    start_daemon.close()
    dns.stop()


def message(marker: str, sender: str = BOB, body: str = "Your order ships today.") -> bytes:
    return (f"From: Bob <{sender}>\r\nTo: {OWNER}\r\nSubject: {marker}\r\n\r\n{body}\r\n-- \r\nBob\r\n").encode()


def submit(daemon: Daemon, data: bytes, sender: str = BOB, recipient: str = BOB) -> None:
    with smtplib.SMTP("127.0.0.1", daemon.ports["submission"], timeout=30) as client:
        client.starttls(context=insecure_context())
        client.login(BOB, BOB_PASSWORD)
        assert client.sendmail(sender, [recipient], data) == {}


def wait_for(daemon: Daemon, address: str, marker: str, folder: str = "INBOX") -> bytes:
    """Poll (with a deadline) for the message of `address` whose text holds `marker`."""
    found = polling.wait_for(
        f"a message with {marker!r} in {address} {folder}",
        lambda: [data for data in daemon.messages(address, folder) if marker.encode() in data],
        START_DEADLINE,
        interval=0.02,
    )
    return found[-1]


def signed_by_a(world: World, marker: str, **options: str) -> bytes:
    submit(world.a, message(marker, **options), sender=options.get("sender", BOB))
    return wait_for(world.a, BOB, marker)


def replay(daemon: Daemon, data: bytes, sender: str = BOB, recipient: str = OWNER) -> None:
    """What A's queue will do: hand the exact bytes to the recipient's MX."""
    with smtplib.SMTP("127.0.0.1", daemon.ports["smtp"], timeout=30) as client:
        client.ehlo(A_HOST)
        assert client.sendmail(sender, [recipient], data) == {}


def results(data: bytes) -> authres.AuthenticationResultsHeader:
    """The topmost Authentication-Results field, right under the receiving server's Received field."""
    fields, _ = message_fields.split(data)
    assert [field.name for field in fields[:2]] == ["received", "authentication-results"]
    return authres.FeatureContext(authres.dmarc).parse(fields[1].raw.decode().rstrip("\r\n"))


def methods(header: authres.AuthenticationResultsHeader) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for result in header.results:
        found.setdefault(result.method, []).append(result.result)
    return found


def test_mail_signed_by_a_passes_dkim_spf_and_dmarc_at_b(world: World) -> None:
    signed = signed_by_a(world, "order-42")
    replay(world.b, signed)
    header = results(wait_for(world.b, OWNER, "order-42"))
    assert header.authserv_id == B_HOST
    assert methods(header) == {"dkim": ["pass", "pass"], "spf": ["pass"], "dmarc": ["pass"]}
    dkim_results = [result for result in header.results if result.method == "dkim"]
    assert sorted(result.header_a for result in dkim_results) == ["ed25519-sha256", "rsa-sha256"]
    assert {result.header_d for result in dkim_results} == {SHOP}
    assert [result.header_from for result in header.results if result.method == "dmarc"] == [SHOP]


def test_a_signatures_verify_with_dkimpy_against_the_published_records(world: World) -> None:
    signed = signed_by_a(world, "invoice-7")
    records = world.key_records()

    def dnsfunc(name: bytes, timeout: int = 5) -> bytes | None:
        return records.get(name.decode().rstrip("."))

    assert dkimpy.DKIM(signed).verify(idx=0, dnsfunc=dnsfunc)
    assert dkimpy.DKIM(signed).verify(idx=1, dnsfunc=dnsfunc)


def test_a_changed_body_fails_dkim_at_b(world: World) -> None:
    signed = signed_by_a(world, "tamper-1")
    tampered = signed.replace(b"ships today", b"ships never")
    replay(world.b, tampered)
    header = results(wait_for(world.b, OWNER, "tamper-1"))
    assert methods(header)["dkim"] == ["fail", "fail"]


def test_a_forged_from_of_a_p_reject_domain_is_refused_with_550_5_7_1(world: World) -> None:
    forged = b"From: CEO <ceo@bank.test>\r\nTo: demo@example.test\r\nSubject: wire transfer\r\n\r\nPay now.\r\n"
    with pytest.raises(smtplib.SMTPDataError) as refused:
        replay(world.b, forged, sender="attacker@evil.test")
    assert refused.value.smtp_code == 550
    assert refused.value.smtp_error.startswith(b"5.7.1")
    assert "dmarc=fail" in world.b.all_logs()


def test_with_dmarc_reject_quarantine_the_forgery_lands_in_junk(world: World) -> None:
    forged = b"From: CEO <ceo@bank.test>\r\nTo: demo@example.test\r\nSubject: wire-2\r\n\r\nPay now.\r\n"
    replay(world.c, forged, sender="attacker@evil.test")
    header = results(wait_for(world.c, OWNER, "wire-2", folder="Junk"))
    assert header.authserv_id == C_HOST
    assert methods(header) == {"dkim": ["none"], "spf": ["pass"], "dmarc": ["fail"]}
    assert not [data for data in world.c.messages(OWNER) if b"wire-2" in data]


def test_an_incoming_authentication_results_claiming_our_name_is_removed(world: World) -> None:
    data = (
        f"Authentication-Results: {B_HOST}; dkim=pass header.d=bank.test; dmarc=pass\r\n"
        "Authentication-Results: relay.example; spf=pass smtp.mailfrom=evil.test\r\n"
        "From: someone@evil.test\r\nTo: demo@example.test\r\nSubject: strip-1\r\n\r\nhello\r\n"
    ).encode()
    replay(world.b, data, sender="someone@evil.test")
    stored = wait_for(world.b, OWNER, "strip-1")
    assert stored.count(b"Authentication-Results:") == 2
    assert b"relay.example; spf=pass" in stored
    assert results(stored).authserv_id == B_HOST
    assert b"header.d=bank.test" not in stored


def test_swaks_gets_553_5_7_1_for_a_forged_from_on_submission(world: World) -> None:
    swaks = subprocess.run(
        [
            "swaks", "--server", f"127.0.0.1:{world.a.ports['submission']}", "--tls",
            "--auth", "PLAIN", "--auth-user", BOB, "--auth-password", BOB_PASSWORD,
            "--from", BOB, "--to", BOB, "--header", "From: CEO <ceo@bank.test>", "--header", "Subject: swaks-forged",
        ],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert swaks.returncode != 0
    assert "553 5.7.1 From: header rejected" in swaks.stdout
    assert not [data for data in world.a.messages(BOB) if b"swaks-forged" in data]


def test_submission_refuses_a_sender_that_is_not_the_users_at_mail_from(world: World) -> None:
    with smtplib.SMTP("127.0.0.1", world.a.ports["submission"], timeout=30) as client:
        client.starttls(context=insecure_context())
        client.login(BOB, BOB_PASSWORD)
        code, text = client.mail("ceo@bank.test")
        assert (code, text[:5]) == (553, b"5.7.1")
        code, text = client.mail(OWNER)  # another user of the same server is not bob either
        assert (code, text[:5]) == (553, b"5.7.1")


def test_an_alias_of_the_user_may_send_and_is_signed(world: World) -> None:
    signed = signed_by_a(world, "from-sales", sender=SALES)
    assert signed.count(b"DKIM-Signature:") == 2
    assert b"From: Bob <sales@shop.test>" in signed


def test_submission_removes_authentication_results_that_claim_the_servers_name(world: World) -> None:
    forged = f"Authentication-Results: {A_HOST}; dmarc=pass header.from=bank.test\r\n".encode()
    submit(world.a, forged + message("submitted-ar"))
    stored = wait_for(world.a, BOB, "submitted-ar")
    assert b"Authentication-Results" not in stored


def test_submitted_mail_is_not_copied_to_sent_by_the_server(world: World) -> None:
    signed_by_a(world, "no-sent-copy")
    assert world.a.messages(BOB, "Sent") == []


def test_submission_adds_message_id_and_date_when_missing(world: World) -> None:
    signed = signed_by_a(world, "ids-added")
    assert b"\r\nMessage-ID: <" in signed and b"@shop.test>\r\n" in signed
    assert b"\r\nDate: " in signed


def test_dkim_rotate_signs_with_the_new_selectors_at_once_and_keeps_the_old_ones_published(
    tmp_path: Path,
) -> None:
    daemon = make_daemon(tmp_path / "rotating", services=("submission",), hostname=A_HOST)
    add_shop(daemon)
    before = daemon.cli("dns", SHOP).stdout
    daemon.start()
    try:
        submit(daemon, message("before-rotation"))
        old_selectors = selectors(wait_for(daemon, BOB, "before-rotation"))
        daemon.cli("dkim", "rotate", SHOP)
        submit(daemon, message("after-rotation"))
        new_selectors = selectors(wait_for(daemon, BOB, "after-rotation"))
    finally:
        daemon.stop()
    assert len(old_selectors) == len(new_selectors) == 2 and not old_selectors & new_selectors
    after = daemon.cli("dns", SHOP).stdout
    assert all(f"{selector}._domainkey.{SHOP}." in before for selector in old_selectors)
    assert all(f"{selector}._domainkey.{SHOP}." in after for selector in old_selectors | new_selectors)


def selectors(data: bytes) -> set[str]:
    return {reference.selector for reference in dkim.signatures(data)}
