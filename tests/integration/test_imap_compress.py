"""COMPRESS=DEFLATE (RFC 4978): after the tagged OK both directions are raw DEFLATE, over plain TCP or TLS;
only after login; a second COMPRESS gets NO [COMPRESSIONACTIVE]. mbsync turns it on when offered."""

from __future__ import annotations

import shutil
import socket
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.daemon import Daemon
from tests.imapwire import Wire, untagged
from tests.integration.test_imap import plain
from tests.integration.test_imap_clients import mbsync, mbsync_config

pytestmark = pytest.mark.daemon(services=("smtp", "imap", "imaps"))


def test_compress_deflate_is_offered(server: Daemon) -> None:
    with Wire(server) as wire:
        assert b"COMPRESS=DEFLATE" in untagged(wire.ok("CAPABILITY"), b"CAPABILITY")[0].split()


def test_after_compress_commands_and_literals_travel_deflated(server: Daemon) -> None:
    """RFC 4978 3: the OK is the last uncompressed response; then an APPEND literal and a FETCH of its body
    go through the DEFLATE streams intact."""
    body = b"".join(b"line %d of a long compressible message\r\n" % n for n in range(20000))
    message = plain("deflated") + body
    with Wire(server) as wire:
        wire.ok("CREATE Deflated")
        wire.compress()
        wire.append("Deflated", message)
        wire.ok("SELECT Deflated")
        fetched = untagged(wire.ok("FETCH 1 (BODY.PEEK[])"), b"FETCH")[0]
        assert fetched.endswith(b"{%d}\r\n" % len(message) + message + b")")
        assert untagged(wire.ok("NOOP"), b"FETCH") == []


def test_a_second_compress_gets_no_compressionactive(server: Daemon) -> None:
    with Wire(server) as wire:
        wire.compress()
        assert b"NO [COMPRESSIONACTIVE]" in wire.no("COMPRESS DEFLATE")
        wire.ok("NOOP")  # the stream is still good


def test_compress_before_login_or_with_another_mechanism_is_refused_and_nothing_changes(server: Daemon) -> None:
    with Wire(server, login=False) as wire:
        wire.bad("COMPRESS DEFLATE")  # RFC 4978 3: only in the authenticated and selected states
        wire.ok("CAPABILITY")  # still plain text
    with Wire(server) as wire:
        wire.bad("COMPRESS LZ4")
        wire.bad("COMPRESS")
        wire.ok("NOOP")


def test_compress_runs_above_tls(server: Daemon) -> None:
    """RFC 4978 4: with TLS, compression is applied before encryption."""
    with Wire(server, tls=True) as wire:
        wire.compress()
        wire.ok("SELECT INBOX")
        assert b"COMPRESS=DEFLATE" in untagged(wire.ok("CAPABILITY"), b"CAPABILITY")[0]


def test_a_corrupt_compressed_stream_ends_the_connection(server: Daemon) -> None:
    with Wire(server) as wire:
        wire.ok("COMPRESS DEFLATE")
        wire.sock.sendall(b"\xff" * 64)  # not a DEFLATE block
        wire.sock.settimeout(10)
        with pytest.raises((ConnectionError, AssertionError, socket.timeout)):
            while wire.sock.recv(4096):
                pass
            raise AssertionError("closed")


def test_a_small_compressed_burst_of_a_huge_line_is_refused_without_inflating_it_all(server: Daemon) -> None:
    """100 MB of one line arrives in ~100 KB: the server answers BAD (line too long) and goes on."""
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    with Wire(server) as wire:
        wire.compress()
        bomb = deflate.compress(b"x NOOP " + b"a" * 100_000_000) + deflate.compress(b"\r\n")
        assert wire.deflate is not None
        wire.deflate = deflate
        wire.sock.sendall(bomb + deflate.flush(zlib.Z_SYNC_FLUSH))
        assert b"BAD" in wire.response()
        wire.ok("NOOP")


@pytest.mark.skipif(shutil.which("mbsync") is None, reason="isync (mbsync) is not installed")
def test_mbsync_turns_compression_on_and_syncs(fresh_daemon: Callable[..., Daemon], tmp_path: Path) -> None:
    daemon = fresh_daemon()
    with Wire(daemon) as wire:
        for n in range(20):
            wire.append("INBOX", plain(f"synced-{n}"))
    local = tmp_path / "local"
    local.mkdir()
    output = mbsync(mbsync_config(tmp_path, daemon, local), "-Dn")
    assert "COMPRESS DEFLATE" in output
    assert len(list((local / "INBOX" / "cur").iterdir()) + list((local / "INBOX" / "new").iterdir())) == 20
