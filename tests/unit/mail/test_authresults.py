"""Authentication-Results (RFC 8601): ours parses with an independent parser, and forged ones are recognised."""

from __future__ import annotations

import authres
import authres.dmarc
import pytest
from hypothesis import given
from hypothesis import strategies as st

from smb_suite.mail import authresults, dmarc, spf
from smb_suite.mail.dkim import Verdict

SPF_PASS = spf.Outcome(spf.Result.PASS, "shop.test", "mailfrom", "bob@shop.test")
DKIM_BOTH = [
    Verdict("pass", "shop.test", "r1", "rsa-sha256"),
    Verdict("fail", "shop.test", "e1", "ed25519-sha256", "body hash mismatch (got x)"),
]
DMARC_PASS = dmarc.Outcome(dmarc.Result.PASS, "shop.test", "quarantine")


def test_our_field_parses_with_authres() -> None:
    value = authresults.field_value("mail.b.test", SPF_PASS, DKIM_BOTH, DMARC_PASS)
    parsed = authres.FeatureContext(authres.dmarc).parse(f"{authresults.NAME}: {value}")
    assert parsed.authserv_id == "mail.b.test"
    found = [(result.method, result.result) for result in parsed.results]
    assert found == [("dkim", "pass"), ("dkim", "fail"), ("spf", "pass"), ("dmarc", "pass")]
    rsa = parsed.results[0]
    assert (rsa.header_d, rsa.header_s, rsa.header_a) == ("shop.test", "r1", "rsa-sha256")
    assert parsed.results[2].smtp_mailfrom == "bob@shop.test"
    assert parsed.results[3].header_from == "shop.test"


def test_no_signature_is_dkim_none() -> None:
    value = authresults.field_value("mx.test", SPF_PASS, [], dmarc.Outcome(dmarc.Result.NONE, ""))
    assert "dkim=none" in value and "dmarc=none" in value


@pytest.mark.parametrize(
    ("value", "authserv_id"),
    [  # RFC 8601 appendix B examples
        ("example.org 1; none", "example.org"),
        ("example.com; spf=pass smtp.mailfrom=example.net", "example.com"),
        ("example.com;\r\n\tauth=pass (cram-md5) smtp.auth=sender@example.net;\r\n\tspf=pass", "example.com"),
        ("(a comment) mail.b.test; dkim=pass", "mail.b.test"),
        ('"MAIL.B.test"; dkim=pass', "mail.b.test"),
        ("mail.b.test(comment);dkim=pass", "mail.b.test"),
        ("", ""),
    ],
)
def test_authserv_id_is_read_past_comments_and_quotes(value: str, authserv_id: str) -> None:
    assert authresults.authserv_id(value) == authserv_id


def test_fields_claiming_our_id_are_removed_and_others_kept() -> None:
    message = (
        b"Authentication-Results: mail.b.test; dkim=pass\r\n"
        b"Authentication-Results: other.example; spf=fail\r\n"
        b"Authentication-Results: (forged)\r\n MAIL.B.TEST; dmarc=pass\r\n"
        b"Subject: hi\r\n\r\nAuthentication-Results: mail.b.test; in the body stays\r\n"
    )
    assert authresults.remove_ours(message, "mail.b.test") == (
        b"Authentication-Results: other.example; spf=fail\r\n"
        b"Subject: hi\r\n\r\nAuthentication-Results: mail.b.test; in the body stays\r\n"
    )


@given(st.text(max_size=80))
def test_reading_any_authserv_id_raises_nothing(text: str) -> None:
    assert isinstance(authresults.authserv_id(text), str)


def test_a_dmarc_failure_is_read_from_our_field_only() -> None:
    ours = "Authentication-Results: mx.example.test;\r\n\tdkim=none;\r\n\tspf=none smtp.mailfrom=a@b.test;\r\n\t"
    failed = (ours + "dmarc=fail (p=none dis=none) header.from=b.test\r\nSubject: x\r\n\r\nbody\r\n").encode()
    assert authresults.dmarc_failed(failed, "MX.example.test")
    passed = failed.replace(b"dmarc=fail", b"dmarc=pass")
    theirs = b"Authentication-Results: elsewhere.test; dmarc=fail\r\n" + passed
    assert not authresults.dmarc_failed(theirs, "mx.example.test")
    commented = failed.replace(b"dmarc=fail (p", b"dmarc=none (said dmarc=fail, p")
    assert not authresults.dmarc_failed(commented, "mx.example.test")
