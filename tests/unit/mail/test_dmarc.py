"""DMARC (RFC 7489): which policy applies to a From: domain, and whether an aligned SPF or DKIM pass vouches."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smb_suite.errors import InvalidInput
from smb_suite.mail import dmarc
from smb_suite.mail.authentication import organizational_domain
from tests.fakedns import ZoneLookup

ZONE = ZoneLookup(
    {
        ("_dmarc.bank.test", "TXT"): ["v=DMARC1; p=reject; sp=quarantine"],
        ("_dmarc.strict.test", "TXT"): ["v=DMARC1; p=reject; adkim=s; aspf=s"],
        ("_dmarc.half.test", "TXT"): ["v=DMARC1; p=reject; pct=50"],
        ("_dmarc.twice.test", "TXT"): ["v=DMARC1; p=reject", "v=DMARC1; p=none"],
        ("_dmarc.example.co.uk", "TXT"): ["v=DMARC1; p=quarantine"],
    },
    failing=["_dmarc.down.test"],
)


def evaluate(header_from: str, spf_domain: str | None = None, dkim: tuple[str, ...] = (), sample: float = 0.0):
    return asyncio.run(dmarc.evaluate(header_from, spf_domain, dkim, ZONE, organizational_domain, sample))


@pytest.mark.parametrize(
    ("header_from", "spf_domain", "dkim", "result", "disposition"),
    [
        ("bank.test", "bank.test", (), "pass", "none"),
        ("bank.test", None, ("bank.test",), "pass", "none"),
        ("bank.test", "bounces.bank.test", (), "pass", "none"),  # relaxed: same organizational domain
        ("bank.test", "evil.test", ("evil.test",), "fail", "reject"),
        ("mail.bank.test", None, (), "fail", "quarantine"),  # inherited: sp= applies
        ("strict.test", "bounces.strict.test", ("mail.strict.test",), "fail", "reject"),
        ("strict.test", None, ("strict.test",), "pass", "none"),
        ("shop.example.co.uk", None, (), "fail", "quarantine"),  # organizational domain by the suffix list
        ("twice.test", None, (), "none", "none"),  # RFC 7489 6.6.3: several records, no policy
        ("nopolicy.test", None, (), "none", "none"),
        ("down.test", None, (), "temperror", "none"),
        ("", None, (), "none", "none"),
    ],
)
def test_evaluation(
    header_from: str, spf_domain: str | None, dkim: tuple[str, ...], result: str, disposition: str
) -> None:
    outcome = evaluate(header_from, spf_domain, dkim)
    assert (outcome.result, outcome.disposition) == (result, disposition)


def test_pct_sampling_applies_the_next_milder_policy_to_unsampled_mail() -> None:
    assert evaluate("half.test", sample=0.2).disposition == "reject"
    assert evaluate("half.test", sample=0.7).disposition == "quarantine"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("v=DMARC1; p=none", dmarc.Record("none")),
        ("v=DMARC1;p=reject;sp=none;adkim=s;aspf=r;pct=20", dmarc.Record("reject", "none", "s", "r", 20)),
        ("v = DMARC1 ; p = Quarantine ; rua=mailto:d@example.com", dmarc.Record("quarantine")),
        ("v=spf1 -all", None),
        ("", None),
        ("p=reject; v=DMARC1", None),  # RFC 7489 6.3: v= must come first
    ],
)
def test_record_parsing(text: str, expected: dmarc.Record | None) -> None:
    assert dmarc.parse_record(text) == expected


@pytest.mark.parametrize(
    "text", ["v=DMARC1", "v=DMARC1; p=bounce", "v=DMARC1; p=none; pct=101", "v=DMARC1; p=none; adkim=x", "v=DMARC1; p"]
)
def test_broken_records_are_our_error(text: str) -> None:
    with pytest.raises(InvalidInput):
        dmarc.parse_record(text)


@given(st.text(max_size=100))
def test_parsing_any_text_raises_only_our_error(text: str) -> None:
    with contextlib.suppress(InvalidInput):
        dmarc.parse_record("v=DMARC1;" + text)
