"""One stored message as twisted's FETCH code sees it: IMessage over the index row, IMessageFile over the file.

BODY[] and RFC822 stream the Maildir file (IMessageFile.open) instead of re-serialising a parsed message.
Opening and parsing happen in a worker thread (`prepare`) just before the message is written out, and the
open handle is what gets streamed, so a concurrent flag rename or expunge cannot change the octets mid-way.
"""

from __future__ import annotations

import email.utils
import io
from pathlib import Path
from typing import IO

from twisted.mail.imap4 import IMessage, IMessageFile, IMessagePart
from zope.interface import implementer

from smb_suite.imap import mime
from smb_suite.storage import maildir
from smb_suite.storage.store import StoredMessage


@implementer(IMessagePart)
class MessagePart:
    """A MIME part of a parsed message."""

    part: mime.Part | None

    def __init__(self, part: mime.Part | None) -> None:
        self.part = part

    def parsed(self) -> mime.Part:
        if self.part is None:
            raise RuntimeError("message content was not prepared")
        return self.part

    def getHeaders(self, negate: bool, *names: str | bytes) -> dict[str, str]:
        wanted = {(n.decode("ascii", "replace") if isinstance(n, bytes) else n).lower() for n in names}
        fields = self.parsed().fields.raw_items()
        return {key.lower(): value for key, value in fields if (key.lower() in wanted) != negate}

    def getBodyFile(self) -> IO[bytes]:
        return io.BytesIO(self.parsed().body)

    def getSize(self) -> int:
        return len(self.parsed().body)

    def isMultipart(self) -> bool:
        return self.parsed().is_multipart

    def getSubPart(self, part: int) -> MessagePart:
        parsed = self.parsed()
        if not parsed.is_multipart:
            raise TypeError("not a multipart message")
        return MessagePart(parsed.children[part])


@implementer(IMessage, IMessageFile)
class Message(MessagePart):
    def __init__(self, stored: StoredMessage, path: Path) -> None:
        super().__init__(None)
        self.stored = stored
        self.path = path
        self._file: IO[bytes] | None = None

    def prepare(self, parse: bool) -> bool:
        """Open (and if asked parse) the file, in a worker thread; False when the message is gone."""
        handle = _open_following_renames(self.path)
        if handle is None:
            return False
        self._file = handle
        if parse:
            self.part = mime.parse(handle.read())
        return True

    def release(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def open(self) -> IO[bytes]:
        if self._file is None:
            self._file = self.path.open("rb")
        self._file.seek(0)
        return self._file

    def getUID(self) -> int:
        return self.stored.uid

    def getFlags(self) -> list[str]:
        return sorted(self.stored.flags)

    def getInternalDate(self) -> str:
        return email.utils.formatdate(self.stored.internaldate, usegmt=True)

    def getSize(self) -> int:
        return self.stored.size


def _open_following_renames(path: Path) -> IO[bytes] | None:
    """A flag change renames the file (new/ -> cur/, info suffix); find it again by its Maildir key."""
    try:
        return path.open("rb")
    except FileNotFoundError:
        folder = path.parent.parent
        current = maildir.scan(folder).get(maildir.key_of(path.name))
        if current is None:
            return None
        try:
            return (folder / current).open("rb")
        except FileNotFoundError:
            return None
