"""The old provider's IMAP server, read through aioimaplib: connect (implicit TLS, STARTTLS or plain), log in,
list folders, SELECT each, list its messages with their flags, internal dates and sizes, and fetch bodies in
batches with BODY.PEEK, so nothing changes there (but \\Recent, which is per session anyway). aioimaplib only
allows UID commands after SELECT, not EXAMINE."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import re
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import aioimaplib

from smb_suite.errors import ImportFailed
from smb_suite.imports.folders import RemoteFolder

TIMEOUT = 120.0  # seconds for one command: a batch of bodies from a slow server
SYSTEM_FLAGS = frozenset({"\\Seen", "\\Answered", "\\Flagged", "\\Deleted", "\\Draft"})  # RFC 3501 2.3.2
_LIST = re.compile(rb'^\(([^)]*)\) (NIL|"(?:[^"\\]|\\.)*") (.+)$', re.IGNORECASE)
_UID = re.compile(rb"\bUID (\d+)")
_FLAGS = re.compile(rb"\bFLAGS \(([^)]*)\)")
_DATE = re.compile(rb'\bINTERNALDATE "([^"]+)"')
_SIZE = re.compile(rb"\bRFC822\.SIZE (\d+)")
_UIDVALIDITY = re.compile(rb"\[UIDVALIDITY (\d+)\]")
_FAILURES = (OSError, TimeoutError, aioimaplib.AioImapException)
_ATOM_KEYWORD = re.compile(r"[!#$&'+\-.0-9:;<=>?@A-Z^_`a-z|~]{1,100}")  # RFC 3501 9 atom, no specials


class Security(StrEnum):
    SSL = "ssl"  # implicit TLS, port 993 (RFC 8314)
    STARTTLS = "starttls"  # port 143, then STARTTLS (RFC 3501 6.2.1)
    NONE = "none"  # plain text: only for a server on the same machine or network


DEFAULT_PORTS = {Security.SSL: 993, Security.STARTTLS: 143, Security.NONE: 143}


@dataclass(frozen=True, slots=True)
class Source:
    host: str
    port: int
    security: Security
    user: str
    password: str
    verify: bool = True  # check the server's certificate (off only for a server one trusts otherwise)

    @property
    def key(self) -> str:
        """What the ledger and the progress name the source by (never the password)."""
        return f"{self.user}@{self.host}:{self.port}"


@dataclass(frozen=True, slots=True)
class RemoteMessage:
    uid: int
    flags: frozenset[str]
    internaldate: int | None
    size: int


class RemoteMailbox:
    """One logged-in session with the old server."""

    def __init__(self, client: aioimaplib.IMAP4) -> None:
        self._client = client

    @classmethod
    async def open(cls, source: Source) -> RemoteMailbox:
        context = ssl.create_default_context()
        if not source.verify:
            context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        try:
            if source.security is Security.SSL:
                client: aioimaplib.IMAP4 = aioimaplib.IMAP4_SSL(
                    source.host, source.port, timeout=TIMEOUT, ssl_context=context
                )
            else:
                client = aioimaplib.IMAP4(source.host, source.port, timeout=TIMEOUT)
            await client.wait_hello_from_server()
            if source.security is Security.STARTTLS:
                await _starttls(client, context, source.host)
            answer = await client.login(source.user, source.password)
        except _FAILURES as exc:
            raise ImportFailed(f"cannot reach the IMAP server {source.host}:{source.port}: {exc or 'timeout'}") from exc
        if answer.result != "OK":
            await _quietly_logout(client)
            raise ImportFailed(f"{source.host} refused the login of {source.user}: {_text(answer.lines)}")
        return cls(client)

    async def folders(self) -> list[RemoteFolder]:
        answer = await self._command(self._client.list('""', "*"), "LIST")
        found = []
        for line in answer.lines[:-1]:
            match = _LIST.match(bytes(line))
            if match is None:
                continue
            attributes = frozenset(a.decode("ascii", "replace").lower() for a in match[1].split())
            separator = None if match[2].upper() == b"NIL" else _unquote(match[2])
            found.append(RemoteFolder(_unquote(match[3]), separator, attributes))
        return found

    async def open_folder(self, folder: RemoteFolder) -> int:
        """Select the folder; its UIDVALIDITY (RFC 3501 2.3.1.1)."""
        answer = await self._command(self._client.select(_quote(folder.wire_name)), "SELECT")
        for line in answer.lines:
            match = _UIDVALIDITY.search(bytes(line))
            if match:
                return int(match[1])
        raise ImportFailed(f"the server gave no UIDVALIDITY for {folder.wire_name}")

    async def inventory(self) -> list[RemoteMessage]:
        """Every message of the open folder: UID, flags (not \\Recent), internal date, size."""
        answer = await self._command(self._client.uid("fetch", "1:*", "(UID FLAGS INTERNALDATE RFC822.SIZE)"), "FETCH")
        found = []
        for line in answer.lines[:-1]:
            data = bytes(line)
            uid, flags, size = _UID.search(data), _FLAGS.search(data), _SIZE.search(data)
            if uid is None or size is None:
                continue
            date = _DATE.search(data)
            found.append(
                RemoteMessage(
                    int(uid[1]),
                    _kept_flags(flags[1] if flags else b""),
                    _internaldate(date[1]) if date else None,
                    int(size[1]),
                )
            )
        return sorted(found, key=lambda message: message.uid)

    async def bodies(self, uids: Sequence[int]) -> dict[int, bytes]:
        """The full octets of these messages of the open folder, by UID (BODY.PEEK leaves \\Seen alone)."""
        wanted = ",".join(str(uid) for uid in uids)
        answer = await self._command(self._client.uid("fetch", wanted, "(UID BODY.PEEK[])"), "FETCH")
        found: dict[int, bytes] = {}
        lines = answer.lines
        for position, line in enumerate(lines[:-1]):
            if not isinstance(line, bytearray) or position == 0:
                continue
            around = bytes(lines[position - 1]) + b" " + bytes(lines[position + 1])
            uid = _UID.search(around)
            if uid is not None:
                found[int(uid[1])] = bytes(line)
        return found

    async def close(self) -> None:
        await _quietly_logout(self._client)

    async def _command(self, pending: object, name: str) -> aioimaplib.Response:
        try:
            answer: aioimaplib.Response = await pending  # type: ignore[misc]
        except _FAILURES as exc:
            raise ImportFailed(f"the old server failed during {name}: {exc or 'timeout'}") from exc
        if answer.result != "OK":
            raise ImportFailed(f"the old server answered {name} with {answer.result}: {_text(answer.lines)}")
        return answer


async def _starttls(client: aioimaplib.IMAP4, context: ssl.SSLContext, host: str) -> None:
    """RFC 3501 6.2.1: STARTTLS, then TLS on the same connection (aioimaplib has the command, not the switch)."""
    protocol = client.protocol
    command = aioimaplib.Command("STARTTLS", protocol.new_tag(), loop=protocol.loop)
    answer = await asyncio.wait_for(protocol.execute(command), TIMEOUT)
    if answer.result != "OK":
        raise ImportFailed(f"{host} does not offer STARTTLS: {_text(answer.lines)}")
    loop = asyncio.get_running_loop()
    protocol.transport = await loop.start_tls(protocol.transport, protocol, context, server_hostname=host)
    await asyncio.wait_for(protocol.capability(), TIMEOUT)  # RFC 3501 6.2.1: what was said before TLS is void


async def _quietly_logout(client: aioimaplib.IMAP4) -> None:
    with contextlib.suppress(*_FAILURES):
        await asyncio.wait_for(client.logout(), 10)


def _kept_flags(raw: bytes) -> frozenset[str]:
    """System flags and keywords that are atoms; \\Recent is per session (RFC 3501 2.3.2) and never stored."""
    flags = raw.decode("utf-8", "replace").split()
    return frozenset(f for f in flags if f in SYSTEM_FLAGS or (not f.startswith("\\") and _ATOM_KEYWORD.fullmatch(f)))


def _internaldate(raw: bytes) -> int | None:
    """RFC 3501 9 date-time: ' 3-Dec-2026 10:00:00 +0100' -> seconds since the epoch (None if malformed)."""
    try:
        moment = datetime.datetime.strptime(raw.decode("ascii").strip(), "%d-%b-%Y %H:%M:%S %z")
    except (UnicodeDecodeError, ValueError):
        return None
    return int(moment.timestamp())


def _unquote(raw: bytes) -> str:
    if raw.startswith(b'"') and raw.endswith(b'"') and len(raw) >= 2:
        raw = re.sub(rb"\\(.)", rb"\1", raw[1:-1])
    return raw.decode("utf-8", "replace")


def _quote(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _text(lines: list[bytes]) -> str:
    return bytes(lines[-1]).decode("utf-8", "replace")[:200] if lines else "no answer"
