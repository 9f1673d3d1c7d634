"""Bad input gets the right BAD or NO, never a crash, never a file outside the user's store, and the session
goes on where RFC 3501 says it should: unknown commands, wrong states, over-long lines, literals that are
too big or malformed, hostile folder names, INBOX in odd cases, another user's folders, STARTTLS injection."""

from __future__ import annotations

import secrets
import socket
import ssl

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.daemon import USER, USER_PASSWORD, Daemon
from tests.imapwire import Wire, code, untagged
from tests.integration.test_imap import plain

LIMIT = 100_000  # this daemon's APPENDLIMIT


pytestmark = pytest.mark.daemon(f"[smtp]\nmax_message_size = {LIMIT}\n", services=("smtp", "imap"))


def files_outside_the_stores(daemon: Daemon) -> set[str]:
    data = daemon.folder / "data"
    return {
        str(p.relative_to(daemon.folder))
        for p in daemon.folder.rglob("*")
        if (data / "mail") not in p.parents and p != data / "mail" and not p.name.endswith(("-wal", "-shm"))
    }


def test_unknown_and_misplaced_commands_are_bad_and_the_session_goes_on(server: Daemon) -> None:
    with Wire(server, login=False) as wire:
        assert b"unknown command" in wire.bad("FROBNICATE now")
        assert b"not valid in this state" in wire.bad("SELECT INBOX")
        wire.send(b"\r\n")
        assert wire.response() == b"* BAD a command starts with a tag\r\n"
        wire.send(b"a\r\n")
        assert wire.response() == b"a BAD missing command\r\n"
        wire.ok("NOOP")
        wire.ok(f'LOGIN {USER} "{USER_PASSWORD}"')
        assert b"not valid in this state" in wire.bad("FETCH 1 FLAGS")
        assert b"not valid in this state" in wire.bad("LOGIN again please")
        wire.ok("SELECT INBOX")
        wire.bad("FETCH 0 FLAGS")
        wire.bad("FETCH 1:x FLAGS")
        wire.bad("UID FROB 1")
        wire.ok("FETCH 1:* FLAGS")  # nothing there: no error


def test_an_overlong_line_gets_bad_and_the_next_command_runs(server: Daemon) -> None:
    with Wire(server) as wire:
        wire.send(b"long SELECT " + b"x" * 200_000 + b"\r\nafter NOOP\r\n")
        assert wire.until(b"long") == [b"long BAD command line too long\r\n"]
        assert wire.until(b"after") == [b"after OK NOOP completed\r\n"]


def test_a_literal_over_the_limit_is_refused_before_its_octets_are_sent(server: Daemon) -> None:
    with Wire(server) as wire:
        assert wire.bad("CREATE {9999999}") == b"w2 BAD literal too long\r\n"
        assert code(wire.no(f"APPEND INBOX {{{LIMIT + 1}}}")).startswith(b"TOOBIG")
        wire.ok("NOOP")


def test_a_non_synchronizing_literal_over_the_limit_is_read_and_thrown_away(server: Daemon) -> None:
    with Wire(server) as wire:
        junk = b"x NOOP\r\n" * (LIMIT // 8 + 1)  # would be commands if the server took them for lines
        wire.send(b"big APPEND INBOX {%d+}\r\n%b\r\nnext NOOP\r\n" % (len(junk), junk))
        assert code(wire.until(b"big")[-1]).startswith(b"TOOBIG")
        assert wire.until(b"next") == [b"next OK NOOP completed\r\n"]


@pytest.mark.parametrize("literal", [b"{5x}", b"{-1}", b"{99999999999}", b"{1"])
def test_malformed_literals_are_bad(server: Daemon, literal: bytes) -> None:
    with Wire(server) as wire:
        assert wire.bad(b"CREATE " + literal).split(b" ", 2)[1] == b"BAD"
        wire.ok("NOOP")


def test_a_client_leaving_inside_a_literal_harms_nobody(server: Daemon) -> None:
    with Wire(server) as quitter:
        quitter.send(b"q APPEND INBOX {1000+}\r\nonly part of it")
    with Wire(server) as wire:
        wire.ok("NOOP")


BAD_NAMES = ["..", "../escape", "a/../../b", "/leading", "trailing//double", "a\x00b", "dot/./dot", " padded"]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_hostile_folder_names_are_refused_and_create_nothing(server: Daemon, name: str) -> None:
    before = files_outside_the_stores(server)
    encoded = name.encode()
    with Wire(server) as wire:
        for command in (b"CREATE", b"SELECT", b"DELETE", b"STATUS", b"APPEND"):
            tail = b" (MESSAGES)" if command == b"STATUS" else b" {5+}\r\nhello" if command == b"APPEND" else b""
            line = wire.command(command + b" {%d+}\r\n%b%b" % (len(encoded), encoded, tail))[-1]
            assert line.split(b" ")[1] in (b"NO", b"BAD"), (command, line)
        line = wire.command(b"RENAME Archive {%d+}\r\n%b" % (len(encoded), encoded))[-1]
        assert line.split(b" ")[1] in (b"NO", b"BAD")
    assert files_outside_the_stores(server) == before


def test_inbox_is_inbox_in_any_case(server: Daemon) -> None:
    with Wire(server) as wire:
        assert code(wire.no("CREATE Inbox")).startswith(b"ALREADYEXISTS")
        wire.no("DELETE inBOX")
        wire.ok("SELECT inbox")
        assert untagged(wire.ok('LIST "" "*"'), b"LIST").count(b'* LIST (\\HasNoChildren) "/" "INBOX"') <= 1
        wire.ok("CREATE iNbOx/Sub")
        assert any(line.endswith(b'"INBOX/Sub"') for line in untagged(wire.ok('LIST "" "INBOX/*"'), b"LIST"))


def test_one_user_never_reaches_another_users_folders(server: Daemon) -> None:
    secret = f"Secret{secrets.token_hex(3)}"
    with Wire(server, user=USER, password=USER_PASSWORD) as alice:
        alice.ok(f"CREATE {secret}")
        alice.append(secret, plain("alice only"))
    with Wire(server) as demo:
        assert not any(secret.encode() in line for line in demo.ok('LIST "" "*"'))
        for name in (secret, f"../alice/{secret}", f"../../example.test/alice/.{secret}", f"~alice/{secret}"):
            demo.command(f'SELECT "{name}"')
            assert demo.command(f'APPEND "{name}" {{5+}}\r\nhello')[-1].split(b" ")[1] in (b"NO", b"BAD")
    with Wire(server, user=USER, password=USER_PASSWORD) as alice:
        assert b"MESSAGES 1" in alice.ok(f"STATUS {secret} (MESSAGES)")[0]


def test_quoted_strings_keep_escaped_quotes_and_backslashes(server: Daemon) -> None:
    password = 'pa"ss\\word'
    server.cli("user", "add", "quoted@example.test", "--password-stdin", stdin=password + "\n")
    with Wire(server, login=False) as wire:
        wire.ok(b'LOGIN "quoted@example.test" "pa\\"ss\\\\word"')
        wire.ok('CREATE "with \\"quotes\\""')
        assert any(line.endswith(b'"with \\"quotes\\""') for line in untagged(wire.ok('LIST "" "with*"'), b"LIST"))


def test_commands_sent_in_the_clear_with_starttls_are_dropped(server: Daemon) -> None:
    """RFC 3501 6.2.1: nothing the client sent before the TLS handshake may count (CVE-2011-0411)."""
    sock = socket.create_connection(("127.0.0.1", server.ports["imap"]), timeout=30)
    reader = sock.makefile("rb")
    reader.readline()
    sock.sendall(b"s STARTTLS\r\ninjected CAPABILITY\r\n")
    assert reader.readline() == b"s OK Begin TLS negotiation now\r\n"
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with context.wrap_socket(sock) as tls:
        tls.sendall(b"after NOOP\r\n")
        answer = tls.makefile("rb").readline()
    assert answer == b"after OK NOOP completed\r\n"


def test_pipelined_commands_are_answered_in_order(server: Daemon) -> None:
    with Wire(server) as wire:
        wire.send(b"".join(b"p%d NOOP\r\n" % n for n in range(50)) + b"last SELECT INBOX\r\n")
        tagged = [line for line in wire.until(b"last") if not line.startswith(b"*")]
        assert [line.split(b" ")[0] for line in tagged] == [b"p%d" % n for n in range(50)] + [b"last"]


SAFE = st.binary(max_size=120).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b"").replace(b"{", b"("))
WORDS = st.sampled_from(
    [b"FETCH", b"STORE", b"SEARCH", b"UID", b"(", b")", b"1:*", b"BODY[", b"]", b'"', b"\\", b"*", b"CHARSET"]
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(SAFE, st.lists(st.one_of(WORDS, SAFE), max_size=8).map(b" ".join)))
def test_random_command_lines_get_an_answer_and_the_session_survives(server: Daemon, rest: bytes) -> None:
    with Wire(server) as wire:
        wire.ok("SELECT INBOX")
        wire.send(b"fz " + rest + b"\r\nok NOOP\r\n")
        answers = wire.until(b"ok")
        assert answers[-1] == b"ok OK NOOP completed\r\n"
        assert not any(b"SERVERBUG" in line for line in answers), answers
