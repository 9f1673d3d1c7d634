"""DKIM signatures as receivers check them: ours verify with dkimpy's own verifier (RSA and Ed25519), and
changes to what was signed break them."""

from __future__ import annotations

import functools

import dkim as dkimpy
import pytest
from hypothesis import given
from hypothesis import strategies as st

from smb_suite.errors import PolicyReject
from smb_suite.mail import dkim
from smb_suite.mail.dkim import Algorithm

MESSAGE = (
    b"From: Bob <bob@shop.test>\r\nTo: partner@elsewhere.test\r\nSubject: Order 42\r\n"
    b"Date: Mon, 02 Nov 2026 10:00:00 +0000\r\nMessage-ID: <42@shop.test>\r\n\r\n"
    b"Hello,\r\n\r\nyour order ships today.\r\n.\r\n"
)


@functools.cache
def key_pair(algorithm: Algorithm) -> tuple[dkim.SigningKey, bytes]:
    pem = dkim.generate_private_key(algorithm)
    selector = "r1" if algorithm is Algorithm.RSA else "e1"
    return dkim.load_private_key(selector, algorithm, pem), dkim.public_record(algorithm, pem).encode()


def records() -> dict[str, bytes | None]:
    return {f"{key.selector}._domainkey.shop.test": record for key, record in map(key_pair, Algorithm)}


def dnsfunc(name: bytes, timeout: int = 5) -> bytes | None:
    return records().get(name.decode().rstrip("."))


def signed(message: bytes = MESSAGE) -> bytes:
    keys = [key_pair(algorithm)[0] for algorithm in Algorithm]
    return dkim.sign(message, "shop.test", keys, 1_790_000_000) + message


@pytest.mark.parametrize("index", [0, 1])
def test_both_signatures_verify_with_dkimpy(index: int) -> None:
    assert dkimpy.DKIM(signed()).verify(idx=index, dnsfunc=dnsfunc)


def test_the_signatures_name_their_algorithms_and_selectors() -> None:
    references = dkim.signatures(signed())
    assert [(ref.domain, ref.selector, ref.algorithm) for ref in references] == [
        ("shop.test", "r1", "rsa-sha256"),
        ("shop.test", "e1", "ed25519-sha256"),
    ]
    assert [dkim.verify(signed(), ref, records()).result for ref in references] == ["pass", "pass"]


def test_a_changed_body_fails_both_signatures() -> None:
    tampered = signed().replace(b"ships today", b"ships never")
    assert [dkim.verify(tampered, ref, records()).result for ref in dkim.signatures(tampered)] == ["fail", "fail"]


def test_an_added_from_header_breaks_the_signature() -> None:
    forged = b"From: ceo@shop.test\r\n" + signed()
    assert not dkimpy.DKIM(forged).verify(idx=0, dnsfunc=dnsfunc)


def test_a_signature_without_a_published_key_is_a_permerror() -> None:
    reference = dkim.signatures(signed())[0]
    missing = {name: None for name in records()}
    assert dkim.verify(signed(), reference, missing).result == "permerror"
    assert dkim.verify(signed(), reference, {}).result == "temperror"


def test_signature_lines_stay_short() -> None:
    header = signed().split(b"\r\n\r\n")[0]
    assert max(len(line) for line in header.split(b"\r\n")) <= 78


def test_a_message_without_from_is_refused_for_signing() -> None:
    with pytest.raises(PolicyReject) as refused:
        dkim.sign(b"Subject: x\r\n\r\nbody\r\n", "shop.test", [key_pair(Algorithm.RSA)[0]], 0)
    assert refused.value.code == 554


def test_key_records_follow_rfc_6376_and_rfc_8463() -> None:
    rsa_record = key_pair(Algorithm.RSA)[1].decode()
    ed_record = key_pair(Algorithm.ED25519)[1].decode()
    assert rsa_record.startswith("v=DKIM1; k=rsa; p=MII")
    assert ed_record.startswith("v=DKIM1; k=ed25519; p=") and len(ed_record.split("p=")[1]) == 44  # 32 bytes
    parts = dkim.txt_strings(rsa_record)
    assert len(parts) == 2 and all(len(part) <= 255 for part in parts) and "".join(parts) == rsa_record


@given(st.binary(max_size=300))
def test_reading_signatures_of_any_bytes_raises_nothing(data: bytes) -> None:
    for reference in dkim.signatures(data):
        assert dkim.verify(data, reference, {}).result in {"pass", "fail", "permerror", "temperror", "neutral"}
