"""The parsers and helpers of QRESYNC (RFC 7162), BINARY (RFC 3516) and COMPRESS (RFC 4978), on the RFCs'
examples and on arbitrary input: they answer or raise our errors."""

from __future__ import annotations

import base64
import contextlib
import quopri
import zlib
from array import array

import pytest
from hypothesis import given
from hypothesis import strategies as st
from twisted.mail.imap4 import IllegalClientResponse

from smb_suite.imap import qresync, syntax
from smb_suite.imap.compress import INFLATE_CHUNK, Inflater
from smb_suite.mail.transfer_encoding import UnknownTransferEncoding, decode


@pytest.mark.parametrize(
    ("params", "expected"),
    [  # RFC 7162 3.2.5.1 examples
        (b"(QRESYNC (67890007 20050715194045000 41,43:211,214:541))", (67890007, 20050715194045000, True)),
        (b"(QRESYNC (67890007 90060115194045000 41:211,214:541))", (67890007, 90060115194045000, True)),
        (
            b"(QRESYNC (67890007 90060115194045000 1:29997 (5000,7500,9000,9990:9999 15000,22500,27000,29970,"
            b"29973,29976,29979,29982,29985,29988,29991,29994,29997)))",
            (67890007, 90060115194045000, True),
        ),
        (b"(QRESYNC (1 2))", (1, 2, False)),
    ],
)
def test_qresync_parameters_from_the_rfc(params: bytes, expected: tuple[int, int, bool]) -> None:
    resync = qresync.select_params(params).qresync
    assert resync is not None
    assert (resync.uidvalidity, resync.modseq, resync.known is not None) == expected


def test_condstore_and_no_parameters() -> None:
    assert qresync.select_params(b"(CONDSTORE)") == qresync.SelectParams(True, None)
    assert qresync.select_params(b"") == qresync.SelectParams()


@given(st.binary(max_size=120) | st.lists(st.sampled_from([b"(", b")", b"QRESYNC", b"1", b"1:*", b" "])).map(b"".join))
def test_select_parameters_raise_only_bad(raw: bytes) -> None:
    with contextlib.suppress(IllegalClientResponse):
        qresync.select_params(raw)


@pytest.mark.parametrize(
    ("line", "since", "vanished"),
    [  # RFC 7162 3.2.6
        (b"(FLAGS) (CHANGEDSINCE 12345 VANISHED)", 12345, True),
        (b"(FLAGS) (VANISHED CHANGEDSINCE 12345)", 12345, True),
        (b"(FLAGS) (CHANGEDSINCE 12345)", 12345, False),
    ],
)
def test_fetch_modifiers(line: bytes, since: int, vanished: bool) -> None:
    args = syntax.fetch_args(line)
    assert (args.changed_since, args.vanished) == (since, vanished)


@pytest.mark.parametrize("line", [b"(FLAGS) (VANISHED)", b"(FLAGS) (VANISHED VANISHED)"])
def test_vanished_without_changedsince_is_bad(line: bytes) -> None:
    with pytest.raises(IllegalClientResponse):
        syntax.fetch_args(line)


def test_binary_items_from_the_rfc() -> None:
    """RFC 3516 4.2: BINARY[section-binary]<partial>, BINARY.PEEK, BINARY.SIZE; section-binary is part numbers."""
    items = syntax.fetch_args(b"(BINARY[1.2]<0.10> BINARY.PEEK[] BINARY.SIZE[3])").items
    assert [(i.name, i.section, i.peek, i.partial) for i in items] == [
        ("BINARY", syntax.Section((0, 1), ""), False, (0, 10)),
        ("BINARY", syntax.Section((), ""), True, None),
        ("BINARY.SIZE", syntax.Section((2,), ""), False, None),
    ]
    assert [item.label() for item in items] == [b"BINARY[1.2]<0>", b"BINARY[]", b"BINARY.SIZE[3]"]
    assert [item.sets_seen for item in items] == [True, False, False]


@given(st.lists(st.integers(1, 60), max_size=40), st.lists(st.tuples(st.integers(1, 70), st.integers(0, 10))))
def test_absent_uids_are_the_known_ranges_minus_those_present(present: list[int], spans: list[tuple[int, int]]) -> None:
    known = syntax.resolve(tuple((low, low + width) for low, width in spans), 1)
    uids = array("I", sorted(set(present)))
    absent = {uid for low, high in qresync._absent(known, uids) for uid in range(low, high + 1)}
    assert absent == {uid for low, high in known for uid in range(low, high + 1)} - set(uids)


def test_transfer_encodings_are_undone() -> None:
    data = bytes(range(256))
    assert decode("BASE64", base64.encodebytes(data).replace(b"\n", b"\r\n")) == data
    assert decode(" base64 ", b"AAEC\r\n Aw") == b"\x00\x01\x02\x03"  # folded, padding missing
    assert decode("quoted-printable", b"caf=C3=A9 soft=\r\nbreak\r\nend=3D") == "café softbreak\r\nend=".encode()
    assert decode(None, b"as is") == decode("8bit", b"as is") == decode('"binary"', b"as is") == b"as is"
    with pytest.raises(UnknownTransferEncoding):
        decode("x-uuencode", b"begin 644 x")


@given(st.sampled_from(["base64", "quoted-printable", "7bit", "x-other", ""]), st.binary(max_size=500))
def test_decoding_raises_only_unknown_encoding(encoding: str, body: bytes) -> None:
    try:
        decode(encoding, body)
    except UnknownTransferEncoding:
        assert encoding == "x-other"


@given(st.binary(max_size=2000).map(lambda data: data.replace(b"\r", b"")))
def test_quoted_printable_round_trips(data: bytes) -> None:
    """Lines end in CRLF on the wire and in the decoded text alike (RFC 2045 6.7 rule 4)."""
    encoded = quopri.encodestring(data).replace(b"\n", b"\r\n")
    assert decode("quoted-printable", encoded) == data.replace(b"\n", b"\r\n")


def test_inflater_hands_out_a_bomb_in_bounded_steps() -> None:
    """RFC 4978 3: raw DEFLATE; 10 MB from a few KB come out INFLATE_CHUNK at a time."""
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    inflater = Inflater()
    inflater.take(deflate.compress(b"a" * 10_000_000) + deflate.flush(zlib.Z_SYNC_FLUSH))
    total = 0
    while step := inflater.step():
        assert len(step) <= INFLATE_CHUNK
        total += len(step)
    assert total == 10_000_000


def test_a_corrupt_stream_raises_zlib_error() -> None:
    inflater = Inflater()
    inflater.take(b"\xff" * 10)
    with pytest.raises(zlib.error):
        inflater.step()
