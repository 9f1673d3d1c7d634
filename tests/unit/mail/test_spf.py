"""SPF (RFC 7208) as a receiving MX applies it: results per mechanism, limits, macros, and a parser that only
ever reports permerror for junk."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smb_suite.errors import InvalidInput
from smb_suite.mail import spf
from tests.fakedns import ZoneLookup

BASE = {
    ("amy.example.com", "A"): ["192.0.2.65"],
    ("mx.example.com", "A"): ["192.0.2.129"],
    ("example.com", "MX"): ["mx.example.com"],
    ("inc.example.com", "TXT"): ["v=spf1 ip4:192.0.2.65 -all"],
    ("red.example.com", "TXT"): ["v=spf1 ip4:192.0.2.66 -all"],
    ("192.0.2.65.ex.example.com", "A"): ["127.0.0.2"],
    ("65.2.0.192.in-addr._spf.example.com", "A"): ["127.0.0.2"],
    ("v6.example.com", "AAAA"): ["2001:db8::1"],
    ("192.0.2.65", "PTR"): ["amy.example.com"],
    ("noise.example.com", "TXT"): ["some verification token", "v=spf10 not spf"],
}


def check(
    record: str | list[str] | None,
    ip: str = "192.0.2.65",
    sender: str = "amy@example.com",
    helo: str = "client.example.net",
    failing: tuple[str, ...] = (),
) -> spf.Outcome:
    records = dict(BASE)
    if record is not None:
        records[("example.com", "TXT")] = record if isinstance(record, list) else [record]
    return asyncio.run(spf.check(ip, sender, helo, ZoneLookup(records, failing)))


@pytest.mark.parametrize(
    ("record", "ip", "expected"),
    [
        ("v=spf1 +all", "192.0.2.65", "pass"),
        ("v=spf1 -all", "192.0.2.65", "fail"),
        ("v=spf1 ~all", "192.0.2.65", "softfail"),
        ("v=spf1 ?all", "192.0.2.65", "neutral"),
        ("v=spf1", "192.0.2.65", "neutral"),  # RFC 7208 4.7: no match, no redirect
        ("v=spf1 ip4:192.0.2.0/24 -all", "192.0.2.65", "pass"),
        ("v=spf1 ip4:192.0.3.0/24 -all", "192.0.2.65", "fail"),
        ("v=spf1 ip6:2001:db8::/32 -all", "2001:db8::7", "pass"),
        ("v=spf1 ip4:192.0.2.0/24 -all", "2001:db8::7", "fail"),
        ("v=spf1 ip4:192.0.2.65 -all", "::ffff:192.0.2.65", "pass"),
        ("v=spf1 a:amy.example.com -all", "192.0.2.65", "pass"),
        ("v=spf1 a:amy.example.com -all", "192.0.2.66", "fail"),
        ("v=spf1 a:amy.example.com/24 -all", "192.0.2.200", "pass"),
        ("v=spf1 a:v6.example.com//64 -all", "2001:db8::ffff", "pass"),
        ("v=spf1 mx -all", "192.0.2.129", "pass"),
        ("v=spf1 mx -all", "192.0.2.65", "fail"),
        ("v=spf1 mx:example.com/24 -all", "192.0.2.65", "pass"),
        ("v=spf1 include:inc.example.com -all", "192.0.2.65", "pass"),
        ("v=spf1 include:inc.example.com -all", "192.0.2.66", "fail"),
        ("v=spf1 include:nothing.example.com -all", "192.0.2.65", "permerror"),
        ("v=spf1 redirect=red.example.com", "192.0.2.66", "pass"),
        ("v=spf1 redirect=red.example.com", "192.0.2.65", "fail"),
        ("v=spf1 redirect=nothing.example.com", "192.0.2.65", "permerror"),
        ("v=spf1 -all redirect=red.example.com", "192.0.2.66", "fail"),  # RFC 7208 6.1: all wins
        ("v=spf1 exists:%{i}.ex.example.com -all", "192.0.2.65", "pass"),
        ("v=spf1 exists:%{ir}.%{v}._spf.%{d} -all", "192.0.2.65", "pass"),
        ("v=spf1 ptr -all", "192.0.2.65", "pass"),
        ("v=spf1 foo -all", "192.0.2.65", "permerror"),
        ("v=spf1 ip4:192.0.2.300 -all", "192.0.2.65", "permerror"),
        ("v=spf1 a:amy.example.com/33 -all", "192.0.2.65", "permerror"),
        ("v=spf1 redirect=a.example.com redirect=b.example.com", "192.0.2.65", "permerror"),
        ("v=spf1 unknown-modifier=ignored +all", "192.0.2.65", "pass"),  # RFC 7208 6: unknown ones ignored
        ("v=spf1 " + " ".join(f"a:h{n}.example.com" for n in range(11)) + " -all", "192.0.2.65", "permerror"),
        ("v=spf1 a:x1.example.com a:x2.example.com a:x3.example.com +all", "192.0.2.65", "permerror"),
        (["v=spf1 +all", "v=spf1 -all"], "192.0.2.65", "permerror"),  # RFC 7208 4.5: two records
        (None, "192.0.2.65", "none"),
    ],
)
def test_check_host_results(record: str | list[str] | None, ip: str, expected: str) -> None:
    assert check(record, ip).result == expected


def test_records_that_are_not_spf_are_ignored() -> None:
    outcome = asyncio.run(spf.check("192.0.2.65", "x@noise.example.com", "h.example", ZoneLookup(BASE)))
    assert outcome.result == "none"


def test_a_dns_timeout_is_a_temperror() -> None:
    assert check("v=spf1 a:amy.example.com -all", failing=("amy.example.com",)).result == "temperror"
    assert check("v=spf1 -all", failing=("example.com",)).result == "temperror"


def test_a_null_sender_is_checked_as_postmaster_at_the_helo_name() -> None:
    records = {**BASE, ("amy.example.com", "TXT"): ["v=spf1 a -all"]}
    outcome = asyncio.run(spf.check("192.0.2.65", "", "amy.example.com", ZoneLookup(records)))
    assert (outcome.result, outcome.identity, outcome.sender) == ("pass", "helo", "postmaster@amy.example.com")


@pytest.mark.parametrize(
    ("spec", "expanded"),
    [  # RFC 7208 7.4, sender strong-bad@email.example.com from 192.0.2.3
        ("%{s}", "strong-bad@email.example.com"),
        ("%{o}", "email.example.com"),
        ("%{d}", "email.example.com"),
        ("%{d4}", "email.example.com"),
        ("%{d3}", "email.example.com"),
        ("%{d2}", "example.com"),
        ("%{d1}", "com"),
        ("%{dr}", "com.example.email"),
        ("%{d2r}", "example.email"),
        ("%{l}", "strong-bad"),
        ("%{l-}", "strong.bad"),
        ("%{lr}", "strong-bad"),
        ("%{lr-}", "bad.strong"),
        ("%{l1r-}", "strong"),
        ("%{ir}.%{v}._spf.%{d2}", "3.2.0.192.in-addr._spf.example.com"),
        ("%{lr-}.lp._spf.%{d2}", "bad.strong.lp._spf.example.com"),
        ("%{lr-}.lp.%{ir}.%{v}._spf.%{d2}", "bad.strong.lp.3.2.0.192.in-addr._spf.example.com"),
        ("%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}", "3.2.0.192.in-addr.strong.lp._spf.example.com"),
        ("%{d2}.trusted-domains.example.net", "example.com.trusted-domains.example.net"),
    ],
)
def test_macro_expansion_matches_rfc_7208_examples(spec: str, expanded: str) -> None:
    assert (
        spf.expand(spec, sender="strong-bad@email.example.com", client_ip="192.0.2.3", domain="email.example.com")
        == expanded
    )


def test_ipv6_macro_expansion_matches_rfc_7208_example() -> None:
    expanded = spf.expand(
        "%{ir}.%{v}._spf.%{d2}",
        sender="strong-bad@email.example.com",
        client_ip="2001:db8::cb01",
        domain="email.example.com",
    )
    assert expanded == "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6._spf.example.com"


def test_a_bad_macro_is_our_error() -> None:
    with pytest.raises(InvalidInput):
        spf.expand("%{x}", sender="a@b.example", client_ip="192.0.2.1", domain="b.example")


@pytest.mark.parametrize(
    "record", ["v=spf1 mx -all", "v=spf1 ip4:127.0.0.1 -all", "v=spf1 include:_spf.example.net ~all", "v=spf1"]
)
def test_valid_records_parse(record: str) -> None:
    assert spf.record_problem(record) is None


@given(st.text(max_size=80))
def test_any_record_text_is_parsed_or_reported_never_raised(text: str) -> None:
    assert spf.record_problem("v=spf1 " + text) is None or isinstance(spf.record_problem("v=spf1 " + text), str)


@given(st.text(alphabet="v=spf1 +-~?allipmxa:/.%{}dr0123456789", max_size=40))
def test_checking_any_record_yields_a_result(text: str) -> None:
    assert check("v=spf1 " + text).result in set(spf.Result)
