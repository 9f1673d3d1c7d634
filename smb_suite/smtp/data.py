"""Receiving DATA (RFC 5321 4.1.1.4) without keeping the message in memory while it arrives.

aiosmtpd gathers DATA as one bytearray per line and joins them at the end: a 24 MB message costs several
times its size for as long as the client takes to send it. Here lines are unstuffed (RFC 5321 4.5.2) into
64 KiB chunks that go to a SpooledTemporaryFile: in memory up to `[smtp] spool_memory_kb`, then an unlinked
file in the data folder's tmp/. Only once the whole message is in, and the processing budget
(`[smtp] processing_memory_mb`) has room for it, is it read back as one bytes object for the checks and
delivery.
"""

from __future__ import annotations

import asyncio
import enum
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO

from smb_suite.durable import is_disk_full
from smb_suite.mail import message

CHUNK = 256 * 1024
INLINE_BYTES = 64 * 1024  # messages up to this size are read back on the loop (`inline`)
# What processing one message costs, in multiples of its size: the bytes read back, and the copies the
# checks, the prepended fields, DKIM signing and storing make. Measured on a 24 MB message: peak RSS +97 MiB
# inbound (4.0x), +123 MiB on submission (5.1x, signing).
PROCESSING_COPIES = 6
# RFC 5321 4.5.3.2.6: the client waits 10 minutes for the reply to the final dot.
TERMINATOR_TIMEOUT = 600.0


class Outcome(enum.Enum):
    COMPLETE = "complete"
    LINE_TOO_LONG = "line too long"  # RFC 5321 4.5.3.1.6
    TOO_MUCH = "too much"  # over SIZE (RFC 1870)
    DISK_FULL = "disk full"  # the spool file could not be written (ENOSPC/EDQUOT): 452 4.3.1


def spool(directory: Path, memory_limit: int) -> IO[bytes]:
    """The file a message is received into; it never has a name, so a crash leaves nothing behind."""
    return tempfile.SpooledTemporaryFile(max_size=memory_limit, mode="w+b", dir=str(directory))


async def receive(
    reader: asyncio.StreamReader,
    out: IO[bytes],
    size_limit: int | None,
    line_limit: int,
    on_data: Callable[[], None],
) -> tuple[Outcome, int]:
    """Read message data up to the line holding a lone dot into `out`, unstuffed; call `on_data` for every
    block read (the per-block timeout). Oversized or overlong data is read to the end and dropped (RFC 5321
    4.2.5: answer only after the dot). Returns the outcome and the number of bytes the client sent.

    Works on blocks as they arrive, not line by line: the lines of a 24 MB message would cost seconds."""
    outcome = Outcome.COMPLETE
    received = 0
    pending = b""  # the unfinished line (it starts at a line start unless `mid_line`)
    mid_line = False  # an overlong line's beginning was dropped
    while True:
        block = await reader.read(CHUNK)
        if not block:
            raise ConnectionResetError("connection closed during DATA")
        on_data()
        data = pending + block
        if not mid_line and data.startswith(b".\r\n"):
            dot = 0
        else:
            found = data.find(b"\r\n.\r\n")
            dot = -1 if found < 0 else found + 2
        if dot >= 0:
            _give_back(reader, data[dot + 3 :])  # pipelined commands after the dot (RFC 2920 3.1)
            complete, pending = data[:dot], b""
        else:
            cut = data.rfind(b"\r\n") + 2 if b"\r\n" in data else 0
            complete, pending = data[:cut], data[cut:]
            if cut:
                mid_line = False
        received += len(complete)
        if outcome is Outcome.COMPLETE and (_longest_line(complete) > line_limit or len(pending) > line_limit):
            outcome = Outcome.LINE_TOO_LONG
        if len(pending) > line_limit:  # only the terminator matters now; keep memory bounded
            received += len(pending)
            pending, mid_line = b"", True
        if outcome is Outcome.COMPLETE and size_limit and received > size_limit:
            outcome = Outcome.TOO_MUCH
        if outcome is Outcome.COMPLETE and complete:
            # RFC 5321 4.5.2: a line starting with a dot loses that dot; `complete` starts at a line start
            if complete.startswith(b".") or b"\r\n." in complete:
                complete = (b"\r\n" + complete).replace(b"\r\n.", b"\r\n")[2:]
            outcome = _write(out, complete)
        if dot >= 0:
            return outcome, received


def _write(out: IO[bytes], chunk: bytes) -> Outcome:
    """A full disk ends the spooling, not the session: the rest is read to the dot and dropped."""
    try:
        out.write(chunk)
    except OSError as error:
        if not is_disk_full(error):
            raise
        return Outcome.DISK_FULL
    return Outcome.COMPLETE


def _longest_line(text: bytes) -> int:
    """The length of the longest CRLF-ended line in text, CRLF included (RFC 5321 4.5.3.1.6)."""
    return max(map(len, text.split(b"\r\n"))) + 2 if text else 0


def _give_back(reader: asyncio.StreamReader, rest: bytes) -> None:
    """Return what was read past the end of the data to the reader, for the command loop (aiosmtpd reaches
    into the same buffer for STARTTLS)."""
    if rest:
        reader._buffer[0:0] = rest  # type: ignore[attr-defined]


def read_back(spooled: IO[bytes]) -> bytes:
    """The whole message as one bytes object, once its header's size is checked (message.check_header_size:
    every later step parses the header). Blocking for a message spooled to disk or a large one: see `inline`."""
    spooled.seek(0)
    content = spooled.read()
    message.check_header_size(content)
    return content


def inline(size: int, memory_limit: int) -> bool:
    """True when `read_back` may run on the loop: the message is small and still in memory, so reading and
    checking it cost microseconds, less than the hop to a thread."""
    return size <= min(INLINE_BYTES, memory_limit)
