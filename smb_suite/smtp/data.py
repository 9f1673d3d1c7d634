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

CHUNK = 64 * 1024
# What processing one message costs, in multiples of its size: the bytes read back, the copy with our
# Authentication-Results field, the copy with our Received field, and the parsing done while storing it
# (measured: a 24 MB message raised the daemon's peak RSS by about 3.1 times its size).
PROCESSING_COPIES = 4
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
    reader: asyncio.StreamReader, out: IO[bytes], size_limit: int | None, on_data: Callable[[], None]
) -> tuple[Outcome, int]:
    """Read message data up to the lone dot into `out`, unstuffed; call `on_data` for every piece read (the
    per-block timeout). Oversized or overlong data is read to the end and dropped (RFC 5321 4.2.5: answer
    only after the dot). Returns the outcome and the number of bytes the client sent."""
    outcome = Outcome.COMPLETE
    received = 0
    chunk = bytearray()
    at_line_start = True
    while True:
        try:
            line = await reader.readuntil(b"\r\n")
        except asyncio.LimitOverrunError as error:
            line = await reader.read(error.consumed)
            if outcome is Outcome.COMPLETE:
                outcome = Outcome.LINE_TOO_LONG
        on_data()
        if at_line_start and line == b".\r\n":
            break
        received += len(line)
        if outcome is Outcome.COMPLETE and size_limit and received > size_limit:
            outcome = Outcome.TOO_MUCH
        if outcome is Outcome.COMPLETE:
            chunk += line[1:] if at_line_start and line.startswith(b".") else line
            if len(chunk) >= CHUNK:
                outcome = _write(out, chunk)
                chunk.clear()
        at_line_start = line.endswith(b"\r\n")
    if outcome is Outcome.COMPLETE:
        outcome = _write(out, chunk)
    return outcome, received


def _write(out: IO[bytes], chunk: bytearray) -> Outcome:
    """A full disk ends the spooling, not the session: the rest is read to the dot and dropped."""
    try:
        out.write(chunk)
    except OSError as error:
        if not is_disk_full(error):
            raise
        return Outcome.DISK_FULL
    return Outcome.COMPLETE


def read_back(spooled: IO[bytes]) -> bytes:
    """The whole message as one bytes object (blocking: call it in a thread)."""
    spooled.seek(0)
    return spooled.read()
