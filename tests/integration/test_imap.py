"""IMAP as mail clients see it: folders, messages, flags, search, and refusals that name the problem.

One daemon (SMTP and both IMAP listeners) serves this module; each test works in its own folder or with its
own subject so tests do not see each other's mail. Sessions, IDLE and restarts: tests/integration/test_imap_sessions.py.
"""

from __future__ import annotations

import asyncio
import base64
import imaplib
import re
import secrets
import socket
import subprocess

import aioimaplib
import pytest

from tests.daemon import OWNER, OWNER_PASSWORD, Daemon
from tests.mailtest import imap_logout, insecure_context

EIGHT_BIT = (
    "From: Zoé <zoe@remote.example>\r\nTo: demo@example.test\r\nSubject: {subject}\r\n"
    "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=XYZ\r\n\r\n"
    "--XYZ\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
    "Bonjour, ça marche ? 日本語\r\n"
    '--XYZ\r\nContent-Type: application/pdf; name="Report.PDF"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
    "AAECAwQFBgcICQ==\r\n--XYZ--\r\n"
)
PLAIN = (
    "From: Alice Example <alice@remote.example>\r\nTo: demo@example.test, Bob <bob@remote.example>\r\n"
    "Subject: {subject}\r\nDate: Mon, 7 Feb 1994 21:52:25 -0800\r\nMessage-ID: <{subject}@remote.example>\r\n"
    "\r\nFirst line of the body.\r\nSecond line.\r\n"
)


def eight_bit(subject: str) -> bytes:
    return EIGHT_BIT.format(subject=subject).encode()


def plain(subject: str) -> bytes:
    return PLAIN.format(subject=subject).encode()


pytestmark = pytest.mark.daemon(services=("smtp", "imap", "imaps"))


def connect(daemon: Daemon) -> imaplib.IMAP4_SSL:
    """The owner, logged in over implicit TLS."""
    client = imaplib.IMAP4_SSL("127.0.0.1", daemon.ports["imaps"], ssl_context=insecure_context(), timeout=30)
    client.login(OWNER, OWNER_PASSWORD)
    return client


def new_folder(client: imaplib.IMAP4) -> str:
    name = f"T{secrets.token_hex(4)}"
    assert client.create(name)[0] == "OK"
    return name


def fetched(data: list[object]) -> bytes:
    """One FETCH response flattened: prefixes and literals in order."""
    parts = []
    for item in data:
        parts.extend(item if isinstance(item, tuple) else [item])
    return b"".join(part for part in parts if isinstance(part, bytes))


class RawSession:
    """A line-level client over TLS, for responses imaplib hides (tagged NO vs BAD, response codes)."""

    def __init__(self, port: int) -> None:
        self.sock = insecure_context().wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=30))
        self.file = self.sock.makefile("rb")
        self.greeting = self.file.readline()
        self.tags = iter(range(1, 10**6))

    def command(self, text: bytes) -> list[bytes]:
        tag = b"t%d" % next(self.tags)
        self.sock.sendall(tag + b" " + text + b"\r\n")
        return self.read_until(tag + b" ")

    def read_until(self, prefix: bytes) -> list[bytes]:
        lines = []
        while not (lines and lines[-1].startswith(prefix)):
            line = self.file.readline()
            assert line, f"connection closed; got {lines}"
            lines.append(line)
        return lines

    def close(self) -> None:
        self.file.close()
        self.sock.close()


# -- reading mail back exactly ------------------------------------------------------------------------------


def test_appended_message_reads_back_byte_for_byte_with_imaplib(server: Daemon) -> None:
    message = eight_bit(f"imaplib {secrets.token_hex(4)}")
    with connect(server) as client:
        folder = new_folder(client)
        assert client.append(folder, None, None, message)[0] == "OK"
        client.select(folder)
        _, data = client.fetch("1", "(BODY.PEEK[])")
    assert data[0][1] == message


def test_appended_message_reads_back_byte_for_byte_with_aioimaplib(server: Daemon) -> None:
    message = eight_bit(f"aioimaplib {secrets.token_hex(4)}")

    async def roundtrip() -> bytes:
        client = aioimaplib.IMAP4_SSL("127.0.0.1", server.ports["imaps"], ssl_context=insecure_context())
        await client.wait_hello_from_server()
        assert (await client.login(OWNER, OWNER_PASSWORD)).result == "OK"
        folder = f"A{secrets.token_hex(4)}"
        assert (await client.create(folder)).result == "OK"
        assert (await client.append(message, mailbox=folder)).result == "OK"
        assert (await client.select(folder)).result == "OK"
        response = await client.fetch("1", "(BODY.PEEK[])")
        await imap_logout(client)
        return bytes(response.lines[1])

    assert asyncio.run(roundtrip()) == message


def test_curl_fetches_an_appended_message_over_imaps(server: Daemon) -> None:
    message = plain(f"curl{secrets.token_hex(4)}")
    with connect(server) as client:
        folder = new_folder(client)
        client.append(folder, None, None, message)
    result = subprocess.run(
        ["curl", "-sS", "--insecure", "--user", f"{OWNER}:{OWNER_PASSWORD}"]
        + [f"imaps://127.0.0.1:{server.ports['imaps']}/{folder};UID=1"],
        capture_output=True,
        timeout=60,
        check=True,
    )
    assert result.stdout == message


def test_partial_fetch_returns_the_requested_octets_at_their_origin(server: Daemon) -> None:
    message = plain(f"partial{secrets.token_hex(4)}")
    with connect(server) as client:
        folder = new_folder(client)
        client.append(folder, None, None, message)
        client.select(folder)
        _, data = client.fetch("1", "(BODY.PEEK[]<6.20> BODY.PEEK[1])")
    assert data[0][0].endswith(b"BODY[]<6> {20}")
    assert data[0][1] == message[6:26]
    assert data[1][1] == b"First line of the body.\r\nSecond line.\r\n"


# -- logging in -----------------------------------------------------------------------------------------------


def test_login_works_after_starttls(server: Daemon) -> None:
    with imaplib.IMAP4("127.0.0.1", server.ports["imap"], timeout=30) as client:
        assert "STARTTLS" in client.capabilities
        client.starttls(ssl_context=insecure_context())
        assert client.login(OWNER, OWNER_PASSWORD)[0] == "OK"


def test_authenticate_plain_works_over_implicit_tls(server: Daemon) -> None:
    with imaplib.IMAP4_SSL("127.0.0.1", server.ports["imaps"], ssl_context=insecure_context()) as client:
        assert "AUTH=PLAIN" in client.capabilities
        typ, _ = client.authenticate("PLAIN", lambda _: f"\0{OWNER}\0{OWNER_PASSWORD}".encode())
        assert typ == "OK"


def test_wrong_password_gets_a_tagged_no(server: Daemon) -> None:
    session = RawSession(server.ports["imaps"])
    try:
        reply = session.command(f'LOGIN {OWNER} "not the password"'.encode())
        assert reply[-1].startswith(b"t1 NO ")
        assert session.command(b"SELECT INBOX")[-1].startswith(b"t2 BAD")  # still not logged in
    finally:
        session.close()


def test_passwords_never_reach_the_log(server: Daemon) -> None:
    plain_blob = base64.b64encode(f"\0{OWNER}\0{OWNER_PASSWORD}".encode()).decode()
    with imaplib.IMAP4_SSL("127.0.0.1", server.ports["imaps"], ssl_context=insecure_context()) as client:
        with pytest.raises(imaplib.IMAP4.error):
            client.login(OWNER, "wrong-password-in-log?")
        client.authenticate("PLAIN", lambda _: f"\0{OWNER}\0{OWNER_PASSWORD}".encode())
    log = server.log_text()
    assert "imap.auth_ok" in log
    for secret in (OWNER_PASSWORD, "wrong-password-in-log?", plain_blob):
        assert secret not in log


# -- folders --------------------------------------------------------------------------------------------------


def test_list_shows_the_default_folders_with_special_use_attributes(server: Daemon) -> None:
    with connect(server) as client:
        _, lines = client.list('""', "%")
    listing = b"\n".join(line for line in lines if isinstance(line, bytes))
    assert b'"/" "INBOX"' in listing
    for name, attribute in (("Sent", "Sent"), ("Drafts", "Drafts"), ("Trash", "Trash"), ("Junk", "Junk")):
        assert re.search(rb"\(.*\\" + attribute.encode() + rb"\) \"/\" \"" + name.encode() + b'"', listing)


def test_folders_can_be_created_renamed_subscribed_and_deleted(server: Daemon) -> None:
    with connect(server) as client:
        parent = f"P{secrets.token_hex(4)}"
        assert client.create(f"{parent}/Child")[0] == "OK"  # the parent is created too (RFC 3501 6.3.3)
        assert client.lsub('""', f"{parent}*")[1] == [None]  # CREATE subscribes nothing (RFC 3501 6.3.6)
        assert client.subscribe(parent)[0] == client.subscribe(f"{parent}/Child")[0] == "OK"
        assert client.rename(parent, f"{parent}x")[0] == "OK"  # subscriptions follow the folders
        _, lines = client.list('""', f"{parent}x*")
        assert [line.split(b'"/" ')[-1] for line in lines] == [f'"{parent}x"'.encode(), f'"{parent}x/Child"'.encode()]
        assert client.unsubscribe(f"{parent}x/Child")[0] == "OK"
        assert client.lsub('""', f"{parent}x*")[1] == [f'(\\HasChildren) "/" "{parent}x"'.encode()]
        assert client.delete(f"{parent}x/Child")[0] == "OK"
        assert client.list('""', f"{parent}x/*")[1] == [None]
        assert client.create(f"{parent}x")[1][0].startswith(b"[ALREADYEXISTS]")


BAD_NAMES = [b"../x", b"/abs", b"a\x00b", b"a/../../../escape", b".."]


@pytest.mark.parametrize("name", BAD_NAMES, ids=["dotdot", "absolute", "nul", "escape", "parent"])
def test_bad_folder_names_are_refused_and_write_nothing_outside_the_store(server: Daemon, name: bytes) -> None:
    before = set(server.folder.parent.iterdir()) | set(server.folder.rglob("*"))
    with connect(server) as client:
        for command in ("create", "select", "delete"):
            client.literal = name  # a literal carries NUL and anything else
            typ, detail = getattr(client, command)(None)
            assert typ == "NO", (command, detail)
    after = set(server.folder.parent.iterdir()) | set(server.folder.rglob("*"))
    store = server.maildir(OWNER)
    created = {p for p in after - before if store not in p.parents and not p.name.endswith(("-journal", "-wal"))}
    assert created == set()


# -- messages -------------------------------------------------------------------------------------------------


def test_select_reports_counts_uidvalidity_and_uidnext(server: Daemon) -> None:
    with connect(server) as client:
        folder = new_folder(client)
        for n in range(2):
            client.append(folder, None, None, plain(f"s{n}"))
        client.select(folder)
        assert client.response("EXISTS")[1] == [b"2"]
        assert client.response("UIDNEXT")[1] == [b"3"]
        assert client.response("UIDVALIDITY")[1][0].isdigit()
        assert client.response("UNSEEN")[1] == [b"1"]
        assert b"\\*" in client.response("PERMANENTFLAGS")[1][0]


def test_fetch_envelope_and_bodystructure_describe_the_message(server: Daemon) -> None:
    subject = f"structure{secrets.token_hex(3)}"
    with connect(server) as client:
        folder = new_folder(client)
        client.append(folder, None, None, plain(subject))
        client.append(folder, None, None, eight_bit(subject))
        client.select(folder)
        _, first = client.fetch("1", "(ENVELOPE BODYSTRUCTURE RFC822.SIZE)")
        _, second = client.fetch("2", "(BODYSTRUCTURE)")
    envelope = fetched(first)
    assert b'ENVELOPE ("Mon, 7 Feb 1994 21:52:25 -0800" "' + subject.encode() + b'" (("Alice Example" NIL' in envelope
    assert b'((NIL NIL "demo" "example.test")("Bob" NIL "bob" "remote.example"))' in envelope  # RFC 3501 9: 1*address
    assert b'BODYSTRUCTURE ("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 39 2 ' in envelope
    assert b"RFC822.SIZE %d" % len(plain(subject)) in envelope
    structure = fetched(second)
    assert b'(("text" "plain" ("charset" "utf-8") NIL NIL "8bit" ' in structure
    assert b'("application" "pdf" ("name" "Report.PDF") NIL NIL "base64" 16 ' in structure
    assert b'"mixed" ("boundary" "XYZ")' in structure


def test_flags_are_stored_and_found_by_search(server: Daemon) -> None:
    with connect(server) as client:
        folder = new_folder(client)
        for subject in ("apples", "pears", "apple pie"):
            client.append(folder, None, None, plain(subject))
        client.select(folder)
        _, changed = client.store("2", "+FLAGS", "(\\Flagged $Important)")
        assert changed == [b"2 (FLAGS ($Important \\Flagged \\Recent))"]  # recent in this first session
        assert client.search(None, "FLAGGED")[1] == [b"2"]
        assert client.search(None, "KEYWORD", "$Important")[1] == [b"2"]
        assert client.search(None, "SUBJECT", "APPLE")[1] == [b"1 3"]
        assert client.search(None, "NOT", "SUBJECT", "apple")[1] == [b"2"]
        assert client.search(None, "OR", "FLAGGED", "SUBJECT", "pie")[1] == [b"2 3"]
        assert client.search(None, "BODY", '"second line"', "UID", "2:*")[1] == [b"2 3"]
        assert client.uid("SEARCH", "SUBJECT", "pears")[1] == [b"2"]


def test_search_takes_a_non_ascii_term_as_a_literal(server: Daemon) -> None:
    with connect(server) as client:
        folder = new_folder(client)
        client.append(folder, None, None, eight_bit("Grüße aus Köln"))
        client.append(folder, None, None, plain("plain ascii"))
        client.select(folder)
        client.literal = "KÖLN".encode()
        assert client.search("UTF-8", "SUBJECT")[1] == [b"1"]
        client.literal = "ça marche".encode()
        assert client.search("UTF-8", "TEXT")[1] == [b"1"]


def test_fetching_a_body_marks_the_message_seen_but_peek_does_not(server: Daemon) -> None:
    with connect(server) as client:
        folder = new_folder(client)
        client.append(folder, None, None, plain("seen"))
        client.select(folder)
        client.fetch("1", "(BODY.PEEK[TEXT])")
        assert client.search(None, "UNSEEN")[1] == [b"1"]
        _, data = client.fetch("1", "(BODY[TEXT])")
        assert b"FLAGS (\\Recent \\Seen)" in fetched(data)
        assert client.search(None, "SEEN")[1] == [b"1"]


def test_expunge_removes_deleted_messages_and_reports_their_numbers(server: Daemon) -> None:
    with connect(server) as client:
        folder = new_folder(client)
        for n in range(4):
            client.append(folder, None, None, plain(f"e{n}"))
        client.select(folder)
        client.store("2,4", "+FLAGS", "(\\Deleted)")
        _, numbers = client.expunge()
        assert numbers == [b"4", b"2"]  # highest first: each number is valid when the client reads it
        _, data = client.fetch("1:*", "(UID)")
        assert data == [b"1 (UID 1)", b"2 (UID 3)"]


def test_copy_puts_a_copy_in_another_folder_and_asks_to_create_a_missing_one(server: Daemon) -> None:
    with connect(server) as client:
        source, target = new_folder(client), new_folder(client)
        client.append(source, "(\\Flagged)", None, plain("copy me"))
        client.select(source)
        assert client.copy("1", target)[0] == "OK"
        typ, detail = client.copy("1", f"{target}-missing")
        assert (typ, detail[0][:11]) == ("NO", b"[TRYCREATE]")
        _, status = client.status(target, "(MESSAGES UNSEEN)")
        assert status == [f'"{target}" (MESSAGES 1 UNSEEN 1)'.encode()]
        client.select(target)
        _, data = client.fetch("1", "(FLAGS BODY.PEEK[])")
        assert data[0][1] == plain("copy me")
        assert b"\\Flagged" in fetched(data)


def test_examine_opens_a_folder_read_only(server: Daemon) -> None:
    with connect(server) as client:
        folder = new_folder(client)
        client.append(folder, None, None, plain("read only"))
        typ, _ = client.select(folder, readonly=True)
        assert typ == "OK"
        assert client.store("1", "+FLAGS", "(\\Deleted)")[0] == "NO"
        client.fetch("1", "(BODY[])")
        assert client.search(None, "UNSEEN")[1] == [b"1"]  # EXAMINE never sets \Seen


def test_append_larger_than_the_limit_is_refused_before_the_data_is_sent(server: Daemon) -> None:
    session = RawSession(server.ports["imaps"])
    try:
        session.command(f'LOGIN {OWNER} "{OWNER_PASSWORD}"'.encode())
        assert b"APPENDLIMIT=26214400" in session.command(b"CAPABILITY")[0]
        reply = session.command(b"APPEND INBOX {26214401}")
        assert reply == [b"t3 NO [TOOBIG] messages are limited to 26214400 octets\r\n"]
        assert session.command(b"NOOP")[-1] == b"t4 OK NOOP completed\r\n"
    finally:
        session.close()


def test_append_to_a_missing_folder_asks_the_client_to_create_it(server: Daemon) -> None:
    with connect(server) as client:
        typ, detail = client.append("NoSuchFolder", None, None, plain("lost"))
    assert (typ, detail[0][:11]) == ("NO", b"[TRYCREATE]")


def test_store_path_is_inside_the_data_folder(server: Daemon) -> None:
    """The Maildir++ layout other tools (Dovecot, mutt) can read, named by ids: INBOX at the user's root
    mail/users/<user id>, other folders as .~<folder id> below it; no name the user chose appears."""
    with connect(server) as client:
        folder = new_folder(client)
        client.append(folder, None, None, plain("on disk"))
    store = server.maildir(OWNER, folder)
    root = server.maildir(OWNER)
    assert root.parent == (server.folder / "data" / "mail" / "users").resolve() and root.name.isdigit()
    assert store.parent == root and store.name.startswith(".~") and store.name[2:].isdigit()
    assert [p.read_bytes() for p in (store / "new").iterdir()] == [plain("on disk")]
