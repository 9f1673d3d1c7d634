"""The octets FETCH sends for message content (RFC 3501 6.4.5), prepared in a worker thread, and the decoded
octets of BINARY[part] (RFC 3516: the Content-Transfer-Encoding undone there, never on the event loop).

A small message is read whole and cut into the sections asked for. A large one is never held whole unless a
MIME part inside it is asked for: BODY[], BODY[TEXT] and partial ranges of them are sent from the open file
(`FileRange`, streamed by the loop), and header sections read only the header. The file opened here is the
one streamed, so a concurrent flag change (a rename) or expunge cannot change the octets half-way.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Protocol

from smb_suite.imap.syntax import FetchItem, Section
from smb_suite.mail import mime, transfer_encoding
from smb_suite.storage import maildir

SMALL = 256 * 1024  # read whole at or below this size
HEADER_LIMIT = 1024 * 1024  # a "header" longer than this is served as if it ended there
_READ = 64 * 1024
_WHOLE = Section((), "")
_AS_SECTION = {"RFC822": _WHOLE, "RFC822.HEADER": Section((), "HEADER"), "RFC822.TEXT": Section((), "TEXT")}


@dataclass(frozen=True, slots=True)
class FileRange:
    """`length` octets of an open message file from `offset`, to be streamed."""

    file: IO[bytes]
    offset: int
    length: int


Piece = bytes | FileRange


@dataclass(frozen=True, slots=True)
class Prepared:
    """The pieces of one message, and the file they stream from (to close when sent)."""

    pieces: list[Piece]
    file: IO[bytes] | None = None

    def close(self) -> None:
        if self.file is not None:
            self.file.close()


class HeaderSections:
    """Header sections FETCH sent lately, by UID and item label. A message's octets never change (a UID is
    never reused within its folder's UIDVALIDITY, and a folder state holds one folder's), so a client that
    asks for the same header fields of the newest messages at every sync (what mail apps do) is served from
    memory: no trip to a reader thread, no file opened (Dovecot keeps the header fields clients asked for in
    its cache file for the same reason). Bounded by messages and by octets, whatever labels a client makes
    up (each distinct HEADER.FIELDS list is a label of its own): the messages cached first leave first."""

    KEEP = 2000  # messages
    LARGEST = 16 * 1024  # octets of one section kept
    BUDGET = 1024 * 1024  # octets of all sections of one folder state

    def __init__(self) -> None:
        self._by_uid: dict[int, dict[bytes, bytes]] = {}
        self._octets = 0

    def get(self, uids: list[int], labels: list[bytes]) -> list[list[Piece]] | None:
        """Every message's sections for these labels, or None when one is missing (then all are read)."""
        found: list[list[Piece]] = []
        for uid in uids:
            sections = self._by_uid.get(uid)
            if sections is None:
                return None
            pieces: list[Piece] = []
            for label in labels:
                piece = sections.get(label)
                if piece is None:
                    return None
                pieces.append(piece)
            found.append(pieces)
        return found

    def put(self, uid: int, labels: list[bytes], pieces: list[Piece]) -> None:
        sections = self._by_uid.setdefault(uid, {})
        for label, piece in zip(labels, pieces, strict=True):
            if isinstance(piece, bytes) and len(piece) <= self.LARGEST and label not in sections:
                sections[label] = piece
                self._octets += len(label) + len(piece)
        while self._by_uid and (len(self._by_uid) > self.KEEP or self._octets > self.BUDGET):
            self.forget(next(iter(self._by_uid)))

    def forget(self, uid: int) -> None:
        sections = self._by_uid.pop(uid, None)
        if sections is not None:
            self._octets -= sum(len(label) + len(piece) for label, piece in sections.items())


def cacheable(item: FetchItem) -> bool:
    """A whole header section (HEADER, HEADER.FIELDS, HEADER.FIELDS.NOT; RFC822.HEADER): small and
    immutable. A partial one is not kept (its label does not say its length)."""
    if item.partial is not None:
        return False
    return item.name == "RFC822.HEADER" or (
        item.name == "BODY" and item.section is not None and item.section.spec.startswith("HEADER")
    )


def needs_content(item: FetchItem) -> bool:
    return item.section is not None or item.name in _AS_SECTION


def open_message(path: Path) -> IO[bytes] | None:
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


def prepare(path: str, items: list[FetchItem]) -> Prepared | None:
    """One piece per content item, in order; None when the message is gone (expunged meanwhile)."""
    handle = _open(path)
    if handle is None:
        return None
    try:
        size = os.fstat(handle.fileno()).st_size
        if size <= SMALL:
            with handle:
                data = os.read(handle.fileno(), size + 1)  # one system call, no buffer copies
                while len(data) < size:  # a short read (it does not happen on local files)
                    more = os.read(handle.fileno(), size - len(data))
                    if not more:
                        break
                    data += more
            return Prepared(_Cutter(data).pieces(items))
        return Prepared(_LargeCutter(handle, size).pieces(items), handle)
    except BaseException:
        handle.close()
        raise


def _open(path: str) -> IO[bytes] | None:
    try:
        return open(path, "rb", buffering=0)  # noqa: SIM115 - closed by the caller (Prepared.close)
    except FileNotFoundError:
        return open_message(Path(path))


def _partial(item: FetchItem, piece: Piece) -> Piece:
    """BODY[...]<start.count> (RFC 3501 6.4.5): a start beyond the end gives an empty string."""
    if item.partial is None:
        return piece
    start, count = item.partial
    if isinstance(piece, bytes):
        return piece[start : start + count]
    length = max(0, min(count, piece.length - start))
    return FileRange(piece.file, piece.offset + min(start, piece.length), length)


class _Pieces(Protocol):
    def piece(self, section: Section) -> Piece: ...
    def binary(self, section: Section) -> Piece: ...


def _piece(cutter: _Pieces, item: FetchItem) -> Piece:
    """One content item's octets: a section, its decoded form (BINARY, RFC 3516) or that form's size."""
    if item.name == "BINARY.SIZE":
        assert item.section is not None  # syntax: BINARY.SIZE always has one
        decoded = cutter.binary(item.section)
        return b"%d" % (len(decoded) if isinstance(decoded, bytes) else decoded.length)
    if item.name == "BINARY":
        assert item.section is not None
        return _partial(item, cutter.binary(item.section))
    return _partial(item, cutter.piece(_section_of(item)))


def _section_of(item: FetchItem) -> Section:
    return item.section if item.section is not None else _AS_SECTION[item.name]


def _header_section(header: bytes, section: Section) -> bytes:
    if section.spec == "HEADER":
        return header
    return mime.header_fields(header, list(section.fields), section.spec.endswith(".NOT"))


def _in_part(root: mime.Part, section: Section) -> bytes:
    spec = "HEADER.FIELDS" if section.spec.startswith("HEADER.FIELDS") else section.spec
    return mime.section(root, list(section.part), spec, list(section.fields), section.spec.endswith(".NOT"))


class _Cutter:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self._split = -1
        self._root: mime.Part | None = None

    @property
    def split(self) -> int:
        if self._split == -1:  # found only when a section needs it: BODY[] does not
            found = mime.body_offset(self.data)
            self._split = len(self.data) if found is None else found
        return self._split

    def pieces(self, items: list[FetchItem]) -> list[Piece]:
        return [_piece(self, item) for item in items if needs_content(item)]

    def binary(self, section: Section) -> bytes:
        """BINARY[part] (RFC 3516 4.2): the part's body with its Content-Transfer-Encoding undone (a multipart or
        message part has none to undo); BINARY[] is the message as it is."""
        if not section.part:
            return self.data
        try:
            part = mime.resolve(self.root, list(section.part))
        except IndexError:
            return b""
        if part.is_multipart or part.is_message:
            return part.body
        return transfer_encoding.decode(part.fields.first("content-transfer-encoding"), part.body)

    @property
    def root(self) -> mime.Part:
        if self._root is None:
            self._root = mime.parse(self.data)
        return self._root

    def piece(self, section: Section) -> bytes:
        if section.part:
            return _in_part(self.root, section)
        if section.spec == "":
            return self.data
        split = self.split
        if section.spec == "TEXT":
            return self.data[split:]
        return _header_section(self.data[:split], section)


class _LargeCutter:
    def __init__(self, handle: IO[bytes], size: int) -> None:
        self.handle = handle
        self.size = size
        head = b""
        split = None
        while split is None and len(head) < min(size, HEADER_LIMIT):
            chunk = handle.read(_READ)
            if not chunk:
                break
            head += chunk
            split = mime.body_offset(head)
        self.split = min(size, HEADER_LIMIT) if split is None else split
        self.header = head[: self.split]
        self._whole: _Cutter | None = None

    def pieces(self, items: list[FetchItem]) -> list[Piece]:
        return [_piece(self, item) for item in items if needs_content(item)]

    @property
    def whole(self) -> _Cutter:
        if self._whole is None:  # a MIME part of a large message: the only case that reads it whole
            self.handle.seek(0)
            self._whole = _Cutter(self.handle.read())
        return self._whole

    def binary(self, section: Section) -> Piece:
        return self.whole.binary(section) if section.part else FileRange(self.handle, 0, self.size)

    def piece(self, section: Section) -> Piece:
        if section.part:
            return self.whole.piece(section)
        if section.spec == "":
            return FileRange(self.handle, 0, self.size)
        if section.spec == "TEXT":
            return FileRange(self.handle, self.split, self.size - self.split)
        return _header_section(self.header, section)
