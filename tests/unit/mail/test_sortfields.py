"""SORT keys from an ENVELOPE (RFC 5256 2.2 and 3, RFC 5957 3)."""

from __future__ import annotations

from smb_suite.mail import mime
from smb_suite.mail.sortfields import SortFields, sort_fields
from smb_suite.mail.summary import decode, encode


def fields_of(header: str, internaldate: int = 1000) -> SortFields:
    envelope = decode(encode(mime.envelope(mime.parse(header.encode() + b"\r\n\r\nbody\r\n"))))
    assert isinstance(envelope, list)
    return sort_fields(envelope, internaldate)


def test_sent_date_takes_the_zone_into_account_and_falls_back_to_the_internal_date() -> None:
    """RFC 5256 2.2."""
    east = fields_of("Date: Mon, 2 Jan 2023 10:00:00 +0200")
    west = fields_of("Date: Mon, 2 Jan 2023 06:00:00 -0300")
    assert east.sent < west.sent  # 08:00 UTC before 09:00 UTC, though 10:00 > 06:00
    assert fields_of("Date: yesterday-ish", 1234).sent == fields_of("Subject: no date", 1234).sent == 1234.0


def test_address_keys_are_the_first_mailbox_and_display_keys_the_name_or_address() -> None:
    """RFC 5256 3 (addr-mailbox of the first address) and RFC 5957 3 (display name, else addr-spec)."""
    fields = fields_of(
        "From: =?utf-8?q?=C3=89mile?= <Emile@x.test>, zed@x.test\r\n"
        "To: team: ann@x.test, bob@x.test;\r\nCc: carl@x.test"
    )
    assert (fields.sender, fields.cc) == (b"EMILE", b"CARL")
    assert fields.to == b"ANN"  # the group's name is no address (RFC 3501 7.4.2 group markers)
    assert fields.display_from == "Émile".encode().upper()
    assert fields.display_to == b"ANN@X.TEST"
    assert fields_of("Subject: nobody").display_from == b""


def test_subject_keys_are_decoded_base_subjects() -> None:
    fields = fields_of("Subject: =?utf-8?q?Re=3A_Gr=C3=BC=C3=9Fe?= (fwd)")
    assert fields.subject == "Re: Grüße (fwd)"
    assert fields.base_subject == "GRüßE".encode()
