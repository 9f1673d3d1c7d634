"""One user cannot freeze the daemon (issue 11): adversarial IMAP commands on one connection while a second
connection measures how long the event loop keeps a NOOP waiting; and the nesting/length limits answer BAD.

The heartbeat is the one timing threshold the issue asks for: a NOOP every 50 ms on a second connection; the
worst round trip during the attack must stay under BLOCKED_LIMIT (the reported LIST took 33 s).
"""

from __future__ import annotations

import smtplib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.daemon import USER, USER_PASSWORD, Daemon, Daemons
from tests.dnsserver import DnsServer
from tests.imapwire import Wire, untagged

BLOCKED_LIMIT = 0.5  # seconds a NOOP may wait for the loop


class Heartbeat:
    """A second client, in its own process (tests/heartbeat.py), sending NOOP every 50 ms; `worst` is its
    longest round trip once the block ends."""

    def __init__(self, daemon: Daemon) -> None:
        self.worst = 0.0
        self.beats = 0
        self._process = subprocess.Popen(
            [sys.executable, "-m", "tests.heartbeat", str(daemon.ports["imap"]), USER, USER_PASSWORD],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=Path(__file__).resolve().parents[2],
        )

    def __enter__(self) -> Heartbeat:
        assert self._process.stdout is not None
        assert self._process.stdout.readline() == b"ready\n"
        return self

    def __exit__(self, *_: object) -> None:
        out, _ = self._process.communicate(timeout=120)
        worst, beats = out.split()
        self.worst, self.beats = float(worst), int(beats)


@pytest.fixture(scope="module")
def daemon(start_daemon: Daemons, quiet_dns: DnsServer) -> Daemon:
    """A daemon of this module's own: the folders and the 20 MB message it leaves stay out of the shared one."""
    return start_daemon(nameservers=(quiet_dns.address,), name="event-loop")


@pytest.fixture
def attacker(daemon: Daemon) -> Iterator[Wire]:
    with Wire(daemon) as wire:
        yield wire


def _folder(wire: Wire, name: str) -> str:
    wire.command(f'DELETE "{name}"')
    wire.ok(f'CREATE "{name}"')
    return name


def test_a_backtracking_list_pattern_keeps_the_loop_responsive(daemon: Daemon, attacker: Wire) -> None:
    names = [_folder(attacker, f"loop-{i}-" + "a" * 40) for i in range(20)]
    with Heartbeat(daemon) as heartbeat:
        for pattern in ("*%*%*%*%*%Z", "%*" * 200 + "Z", "*a*a*a*a*a*a*a*a*a*a*a*a*b"):
            lines = attacker.ok(f'LIST "" "{pattern}"')
            assert untagged(lines, b"LIST") == []
        lines = attacker.ok('LIST "" "loop-*"')
        assert len(untagged(lines, b"LIST")) == len(names)
    assert heartbeat.beats > 0
    assert heartbeat.worst < BLOCKED_LIMIT, f"the event loop was blocked for {heartbeat.worst:.3f}s"


def test_deep_search_nesting_is_bad_and_keeps_the_loop_responsive(daemon: Daemon, attacker: Wire) -> None:
    attacker.ok("SELECT INBOX")
    with Heartbeat(daemon) as heartbeat:
        assert b"nested" in attacker.bad("SEARCH " + "NOT " * 5000 + "ALL")
        assert b"nested" in attacker.bad("SEARCH " + "OR ALL " * 3000 + "ALL")
        assert b"nested" in attacker.bad("SEARCH " + "(" * 3000 + "ALL" + ")" * 3000)
        assert b"nested" in attacker.bad("SEARCH " + "OR " * 3000 + "ALL " * 3001)
        assert b"search keys" in attacker.bad("SEARCH " + "ALL " * 5000)
        attacker.ok("SEARCH " + "NOT " * 50 + "ALL")  # ordinary nesting still works
    assert heartbeat.worst < BLOCKED_LIMIT, f"the event loop was blocked for {heartbeat.worst:.3f}s"


def test_huge_sets_and_lists_are_bounded(daemon: Daemon, attacker: Wire) -> None:
    folder = _folder(attacker, "loop-sets")
    for number in range(5):
        attacker.append(folder, b"Subject: s%d\r\n\r\nbody\r\n" % number)
    attacker.ok(f'SELECT "{folder}"')
    huge_set = ",".join(["1:4294967295"] * 5000)  # 65,000 octets, each range the whole 32-bit space
    with Heartbeat(daemon) as heartbeat:
        lines = attacker.ok(f"FETCH {huge_set} (FLAGS)")
        assert len(untagged(lines, b"FETCH")) == 5
        lines = attacker.ok(f"UID SEARCH UID {huge_set}")
        assert untagged(lines, b"SEARCH")[0].count(b" ") == 6
        assert b"FETCH items" in attacker.bad("FETCH 1:* (" + "UID " * 500 + "FLAGS)")
        assert b"flags" in attacker.bad("STORE 1:* +FLAGS (" + " ".join(f"k{i}" for i in range(500)) + ")")
        assert b"patterns" in attacker.bad('LIST "" (' + " ".join(f'"p{i}*"' for i in range(100)) + ")")
        assert b"limited" in attacker.bad('LIST "" "' + "%" * 2000 + '"')
        assert b"nested" in attacker.bad("ID " + "(" * 500 + ")" * 500)
    assert heartbeat.worst < BLOCKED_LIMIT, f"the event loop was blocked for {heartbeat.worst:.3f}s"


def test_large_messages_and_body_search_keep_the_loop_responsive(daemon: Daemon, attacker: Wire) -> None:
    folder = _folder(attacker, "loop-bodies")
    body = b"Lorem ipsum dolor sit amet, consectetur adipiscing elit.\r\n" * 400  # ~23 KB of text
    big = b"Subject: big\r\nContent-Type: text/plain\r\n\r\n" + b"x" * 78 + b"\r\n" + body * 400  # ~9 MB
    with Heartbeat(daemon) as heartbeat:
        attacker.append(folder, big)
        for number in range(300):
            attacker.append(folder, b"Subject: m%d\r\nContent-Type: text/plain\r\n\r\n%b" % (number, body))
        attacker.ok(f'SELECT "{folder}"')
        lines = attacker.ok('SEARCH BODY "needle-not-there"')
        assert untagged(lines, b"SEARCH") == [b"* SEARCH"]
        lines = attacker.ok('SEARCH TEXT "consectetur"')
        assert untagged(lines, b"SEARCH")[0].count(b" ") == 302
        lines = attacker.ok("FETCH 1 BODY.PEEK[]")
        assert len(lines[0]) > len(big)
    assert heartbeat.beats > 0
    assert heartbeat.worst < BLOCKED_LIMIT, f"the event loop was blocked for {heartbeat.worst:.3f}s"


def test_large_and_malformed_mail_over_smtp_keeps_the_loop_responsive(daemon: Daemon) -> None:
    """A 20 MB message with DKIM signatures, and a header of 60,000 continuation lines (quadratic to parse for
    dkimpy), arrive at the MX while the heartbeat runs."""
    signatures = b"".join(
        b"DKIM-Signature: v=1; a=rsa-sha256; d=sig%d.example; s=s; h=from; bh=x; b=y\r\n" % i for i in range(8)
    )
    big = (
        signatures
        + b"From: a@remote.example\r\nTo: "
        + USER.encode()
        + b"\r\nSubject: big\r\n\r\n"
        + (b"z" * 78 + b"\r\n") * 250_000
    )
    folded = b"From: a@remote.example\r\nSubject: x\r\n" + b" y\r\n" * 60_000 + b"\r\nbody\r\n"
    with Heartbeat(daemon) as heartbeat, smtplib.SMTP("127.0.0.1", daemon.ports["smtp"], timeout=120) as client:
        client.ehlo("client.example.org")
        client.sendmail("a@remote.example", [USER], big)
        with pytest.raises(smtplib.SMTPDataError) as refused:
            client.sendmail("a@remote.example", [USER], folded)
        assert refused.value.smtp_code == 552
        assert b"header too large" in refused.value.smtp_error
    assert heartbeat.beats > 0
    assert heartbeat.worst < BLOCKED_LIMIT, f"the event loop was blocked for {heartbeat.worst:.3f}s"
