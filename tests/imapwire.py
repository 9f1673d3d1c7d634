"""A line-level IMAP client for tests that must see the exact wire: tagged NO vs BAD, response codes, the order
of untagged responses, literals, pipelining. Plain TCP on the loopback `imap` port (passwords are allowed
from loopback), or implicit TLS on `imaps`; either can switch to COMPRESS=DEFLATE (RFC 4978)."""

from __future__ import annotations

import re
import socket
import ssl
import time
import zlib
from collections.abc import Iterable
from typing import Protocol

from tests.daemon import OWNER, OWNER_PASSWORD, Daemon

DEADLINE = 30.0
_LITERAL = re.compile(rb"\{(\d+)\}\r\n$")


class Reader(Protocol):
    def readline(self) -> bytes: ...
    def read(self, size: int) -> bytes: ...
    def close(self) -> None: ...


class Inflating:
    """The server's side of a COMPRESS=DEFLATE connection, read as a file of plain octets."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.inflate = zlib.decompressobj(-15)
        self.buffer = b""

    def _more(self) -> bool:
        data = self.sock.recv(65536)
        self.buffer += self.inflate.decompress(data)
        return bool(data)

    def readline(self) -> bytes:
        while b"\n" not in self.buffer and self._more():
            pass
        end = self.buffer.find(b"\n") + 1 or len(self.buffer)
        line, self.buffer = self.buffer[:end], self.buffer[end:]
        return line

    def read(self, size: int) -> bytes:
        while len(self.buffer) < size and self._more():
            pass
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data

    def close(self) -> None:
        pass


class Wire:
    def __init__(
        self,
        daemon: Daemon | int,
        login: bool = True,
        user: str = OWNER,
        password: str = OWNER_PASSWORD,
        tls: bool = False,
        host: str = "127.0.0.1",
        source: str | None = None,
    ) -> None:
        """A session with our daemon, or with another server on a loopback port (a reference Dovecot); from
        the local address `source` if given."""
        port = daemon if isinstance(daemon, int) else daemon.ports["imaps" if tls else "imap"]
        bind = None if source is None else (source, 0)
        sock = socket.create_connection((host, port), timeout=DEADLINE, source_address=bind)
        if tls:
            context = ssl.create_default_context()
            context.check_hostname, context.verify_mode = False, ssl.CERT_NONE  # our self-signed default
            sock = context.wrap_socket(sock)
        self.sock = sock
        self.file: Reader = self.sock.makefile("rb")
        self.deflate: zlib._Compress | None = None
        self.count = 0
        try:
            self.greeting = self.file.readline()
            if login:
                self.ok(f'LOGIN {user} "{password}"')
        except BaseException:  # the caller never gets the session to close: a server that hung up, a NO
            self.close()
            raise

    def __enter__(self) -> Wire:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self.file.close()
        self.sock.close()

    def tag(self) -> bytes:
        self.count += 1
        return b"w%d" % self.count

    def send(self, data: bytes) -> None:
        if self.deflate is not None:
            data = self.deflate.compress(data) + self.deflate.flush(zlib.Z_SYNC_FLUSH)
        self.sock.sendall(data)

    def compress(self) -> list[bytes]:
        """COMPRESS DEFLATE (RFC 4978): from its OK on, both directions are raw DEFLATE."""
        lines = self.ok("COMPRESS DEFLATE")
        self.file = Inflating(self.sock)
        self.deflate = zlib.compressobj(6, zlib.DEFLATED, -15)
        return lines

    def response(self) -> bytes:
        """One response, with any literals it carries."""
        line = self.file.readline()
        assert line, "the server closed the connection"
        while (match := _LITERAL.search(line)) is not None:
            line += self.file.read(int(match.group(1)))
            more = self.file.readline()
            assert more, "the server closed the connection inside a response"
            line += more
        return line

    def until(self, tag: bytes) -> list[bytes]:
        """Responses up to and including the one tagged `tag`."""
        lines: list[bytes] = []
        while not (lines and lines[-1].startswith(tag + b" ")):
            lines.append(self.response())
        return lines

    def command(self, text: str | bytes) -> list[bytes]:
        tag = self.tag()
        self.send(tag + b" " + (text.encode() if isinstance(text, str) else text) + b"\r\n")
        return self.until(tag)

    def ok(self, text: str | bytes) -> list[bytes]:
        lines = self.command(text)
        assert lines[-1].split(b" ")[1] == b"OK", lines
        return lines

    def no(self, text: str | bytes) -> bytes:
        lines = self.command(text)
        assert lines[-1].split(b" ")[1] == b"NO", lines
        return lines[-1]

    def bad(self, text: str | bytes) -> bytes:
        lines = self.command(text)
        assert lines[-1].split(b" ")[1] == b"BAD", lines
        return lines[-1]

    def append(self, folder: str, message: bytes, extra: str = "") -> list[bytes]:
        """APPEND with a non-synchronizing literal (RFC 7888)."""
        return self.ok(f"APPEND {folder} {extra}{{{len(message)}+}}\r\n".encode() + message)

    def wait_for(self, wanted: bytes, deadline: float = DEADLINE) -> list[bytes]:
        """Read unsolicited responses (as in IDLE) until one contains `wanted`."""
        seen: list[bytes] = []
        end = time.monotonic() + deadline
        while not any(wanted in line for line in seen):
            self.sock.settimeout(max(0.1, end - time.monotonic()))
            try:
                seen.append(self.response())
            except TimeoutError as exc:
                raise AssertionError(f"no {wanted!r} within {deadline}s; got {seen}") from exc
            finally:
                self.sock.settimeout(DEADLINE)
        return seen


def untagged(lines: Iterable[bytes], word: bytes) -> list[bytes]:
    """The untagged responses whose first word (after the number, if any) is `word`."""
    found = []
    for line in lines:
        parts = line.rstrip(b"\r\n").split(b" ", 3)
        if parts[0] != b"*":
            continue
        if parts[1:2] == [word] or (len(parts) > 2 and parts[1].isdigit() and parts[2] == word):
            found.append(line.rstrip(b"\r\n"))
    return found


def code(line: bytes) -> bytes:
    """The response code of a status response: b"[APPENDUID 1 2]" -> b"APPENDUID 1 2"."""
    match = re.search(rb"\[([^\]]*)\]", line)
    assert match is not None, line
    return match.group(1)
