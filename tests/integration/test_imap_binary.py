"""BINARY (RFC 3516): FETCH BINARY[part], BINARY.PEEK and BINARY.SIZE give a part's octets with its
Content-Transfer-Encoding undone (literal8 in the answer), an unknown encoding gets NO [UNKNOWN-CTE], and APPEND
takes a literal8. imaplib, a real client library, fetches a decoded attachment."""

from __future__ import annotations

import base64
import imaplib
import os
import quopri
import secrets

import pytest

from tests.daemon import OWNER, OWNER_PASSWORD, Daemon
from tests.imapwire import Wire, code, untagged
from tests.integration.test_imap_rfc3501 import literal_of

pytestmark = pytest.mark.daemon(services=("imap",))

ATTACHMENT = bytes(range(256)) * 4 + b"\x00 ends with NUL\x00"
TEXT = "Grüße, café = 3 € et voilà\r\n".encode() * 3


def multipart(attachment: bytes = ATTACHMENT, third: str = "7bit") -> bytes:
    b64 = base64.encodebytes(attachment).replace(b"\n", b"\r\n")
    qp = quopri.encodestring(TEXT.replace(b"\r\n", b"\n")).replace(b"\n", b"\r\n")
    return (
        b"From: a@example.test\r\nSubject: parts\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n'
        b"--b1\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n" + b64 + b"\r\n"
        b"--b1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
        + qp
        + b"\r\n--b1\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: "
        + third.encode()
        + b"\r\n\r\nplain third part\r\n--b1--\r\n"
    )


def folder_holding(wire: Wire, *messages: bytes) -> str:
    name = f"B{secrets.token_hex(4)}"
    wire.ok(f"CREATE {name}")
    for message in messages:
        wire.append(name, message)
    wire.ok(f"SELECT {name}")
    return name


def test_binary_is_offered(server: Daemon) -> None:
    with Wire(server) as wire:
        assert b"BINARY" in untagged(wire.ok("CAPABILITY"), b"CAPABILITY")[0].split()


def test_binary_peek_gives_decoded_parts_as_literal8_and_leaves_seen_alone(server: Daemon) -> None:
    """RFC 3516 4.2, 4.3: base64 and quoted-printable undone; 7bit as it is; NUL octets need literal8."""
    with Wire(server) as wire:
        folder_holding(wire, multipart())
        line = untagged(wire.ok("FETCH 1 (BINARY.PEEK[1] BINARY.PEEK[2] BINARY.PEEK[3] FLAGS)"), b"FETCH")[0]
        assert line.count(b"~{") == 3
        assert literal_of(line, b"BINARY[1]") == ATTACHMENT
        assert literal_of(line, b"BINARY[2]") == TEXT
        assert literal_of(line, b"BINARY[3]") == b"plain third part"
        assert b"\\Seen" not in line


def test_binary_size_is_the_decoded_size(server: Daemon) -> None:
    """RFC 3516 4.2: BINARY.SIZE[part] is the size of the part once decoded."""
    with Wire(server) as wire:
        folder_holding(wire, multipart())
        line = untagged(wire.ok("UID FETCH 1 (BINARY.SIZE[1] BINARY.SIZE[2])"), b"FETCH")[0]
        assert b"BINARY.SIZE[1] %d" % len(ATTACHMENT) in line and b"BINARY.SIZE[2] %d" % len(TEXT) in line


def test_binary_without_peek_sets_seen_and_a_partial_cuts_the_decoded_octets(server: Daemon) -> None:
    with Wire(server) as wire:
        folder_holding(wire, multipart())
        line = untagged(wire.ok("FETCH 1 (BINARY[1]<256.10>)"), b"FETCH")[0]
        assert literal_of(line, b"BINARY[1]<256>") == ATTACHMENT[256:266]
        assert b"\\Seen" in line  # RFC 3501 6.4.5: the flag change is reported


def test_a_single_part_message_has_its_body_as_part_1_and_the_whole_message_as_binary_empty(server: Daemon) -> None:
    data = os.urandom(300) + b"\x00"
    message = (
        b"From: a@example.test\r\nSubject: one part\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + base64.encodebytes(data).replace(b"\n", b"\r\n")
    )
    with Wire(server) as wire:
        folder_holding(wire, message)
        line = untagged(wire.ok("FETCH 1 (BINARY.PEEK[1] BINARY.PEEK[])"), b"FETCH")[0]
        assert literal_of(line, b"BINARY[1]") == data
        assert literal_of(line, b"BINARY[]") == message


def test_an_unknown_transfer_encoding_gets_no_unknown_cte(server: Daemon) -> None:
    """RFC 3516 4.3: the server cannot decode it: NO [UNKNOWN-CTE]."""
    with Wire(server) as wire:
        folder_holding(wire, multipart(third="x-uuencode"))
        assert code(wire.no("FETCH 1 (BINARY.PEEK[3])")) == b"UNKNOWN-CTE"
        assert code(wire.no("FETCH 1 (BINARY.SIZE[3])")) == b"UNKNOWN-CTE"
        assert literal_of(untagged(wire.ok("FETCH 1 (BINARY.PEEK[1])"), b"FETCH")[0], b"BINARY[1]") == ATTACHMENT


def test_malformed_binary_sections_are_bad(server: Daemon) -> None:
    """RFC 3516 4.2: section-binary holds part numbers only."""
    with Wire(server) as wire:
        folder_holding(wire, multipart())
        for item in ("BINARY[1.HEADER]", "BINARY[TEXT]", "BINARY.SIZE[1.MIME]", "BINARY[0]", "BINARY.SIZE[1]<0.5>"):
            wire.bad(f"FETCH 1 ({item})")


def test_append_takes_a_literal8_and_keeps_every_octet(server: Daemon) -> None:
    """RFC 3516 4.4: APPEND with ~{n}, synchronizing or not; a binary part with NUL octets comes back whole."""
    raw = bytes(range(256)) * 2
    message = (
        b"From: a@example.test\r\nSubject: binary\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="b2"\r\n\r\n'
        b"--b2\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n\r\n"
        + raw
        + b"\r\n--b2--\r\n"
    )
    with Wire(server) as wire:
        name = folder_holding(wire)
        wire.ok(b"APPEND %b ~{%d+}\r\n" % (name.encode(), len(message)) + message)
        tag = wire.tag()
        wire.send(b"%b APPEND %b (\\Seen) ~{%d}\r\n" % (tag, name.encode(), len(message)))
        assert wire.response().startswith(b"+ ")
        wire.send(message + b"\r\n")
        assert wire.until(tag)[-1].startswith(tag + b" OK [APPENDUID ")
        lines = untagged(wire.ok("FETCH 1:2 (BINARY.PEEK[] BINARY.PEEK[1])"), b"FETCH")
        assert [literal_of(line, b"BINARY[]") for line in lines] == [message, message]
        assert literal_of(lines[0], b"BINARY[1]") == raw


def test_a_large_attachment_is_decoded_whole(server: Daemon) -> None:
    """A message far beyond what is read in one piece: its attachment still decodes to the original octets."""
    attachment = os.urandom(3 * 1024 * 1024)
    with Wire(server) as wire:
        folder_holding(wire, multipart(attachment))
        line = untagged(wire.ok("FETCH 1 (BINARY.SIZE[1] BINARY.PEEK[1])"), b"FETCH")[0]
        assert b"BINARY.SIZE[1] %d" % len(attachment) in line
        assert literal_of(line, b"BINARY[1]") == attachment


def test_imaplib_fetches_a_decoded_attachment(server: Daemon) -> None:
    with Wire(server) as wire:
        name = folder_holding(wire, multipart())
    with imaplib.IMAP4("127.0.0.1", server.ports["imap"], timeout=30) as client:
        client.login(OWNER, OWNER_PASSWORD)
        client.select(name, readonly=True)
        typ, data = client.uid("FETCH", "1", "(BINARY.PEEK[1])")
        assert typ == "OK"
        head, body = data[0]  # type: ignore[misc]
        assert b"BINARY[1] ~{%d}" % len(ATTACHMENT) in head and body == ATTACHMENT
