"""Names are checked once, where they enter the directory: addresses, domains, business and folder names either
come back in a canonical form that is safe as data (and would stay inside any folder it were joined to), or are
refused with our own error and a clear reason, before anything is created."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from smb_suite import tls
from smb_suite.config import load as load_config
from smb_suite.directory.model import OPERATOR, Role
from smb_suite.errors import InvalidInput, InvalidMailboxName
from smb_suite.mail.address import parse_stored_address
from smb_suite.names import check_tenant_name, normalize_domain, unsafe_character
from smb_suite.ops import domains, users
from smb_suite.services import Services, initialise, open_services
from smb_suite.storage import db
from smb_suite.storage.legacy import old_folder_path as folder_path  # the layout legacy.py moves from
from smb_suite.storage.maildir import validate_mailbox_name
from tests.daemon import DOMAIN, OWNER, run_cli, write_config

ROOT = Path("/srv/smb-suite/data")
UNSAFE = ["/", "\\", "\x00", "\x01", "\n", "\r", "\t", "\x1b", "\x7f", "\x85", "\x9f", "\u2028"]

# Characters that tend to break things, mixed with ordinary ones, for the generated names.
tricky = st.sampled_from([*UNSAFE, ".", "..", "@", "-", "_", "%", " ", "~", "é", "ß", "Ａ", "\u2100", "xn--"])
names = st.lists(st.one_of(tricky, st.text(min_size=1, max_size=8)), max_size=12).map("".join)


def assert_safe_path_component(text: str) -> None:
    """What the directory stores must be harmless as a path component, even though paths use ids: a file
    created under that name lies directly inside its root."""
    assert text and text not in (".", "..")
    assert unsafe_character(text) is None, text
    assert (ROOT / text).resolve().parent == ROOT
    if len(os.fsencode(text)) <= 255:  # longer names do not fit a file system's component at all
        with tempfile.TemporaryDirectory() as temp:
            root = Path(temp)
            (root / text).write_bytes(b"x")
            assert [entry.name for entry in root.iterdir()] == [text]


# -- addresses ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("a/b@x.test", "'/'"),
        ("../x@x.test", "'/'"),
        ("x\\y@x.test", "'\\\\'"),
        ("a\x00b@x.test", "NUL"),
        ("a\x85b@x.test", "U+0085"),
        ("a\nb@x.test", "U+000A"),
        ("..@x.test", "'..'"),
        ("a..b@x.test", "'..'"),
        (".a@x.test", "'..'"),
        ("x" * 65 + "@x.test", "longer than 64"),
        ("x@" + "a" * 64 + ".test", "longer than 63"),
        ("x@" + ".".join(["a" * 60] * 5), "longer than"),
        ("x@a..test", "empty label"),
        ("x@a/b.test", "'/'"),
        ("x@x.test\x85", "U+0085"),
        ("x@..", "empty label"),
        ("x@localhost", "two labels"),
        ("x@192.0.2.1", "IP address"),
        ("no-at-sign", "name@example.com"),
        ("a b@x.test", "letters, digits"),
    ],
)
def test_stored_addresses_with_unsafe_parts_are_refused_with_the_reason(text: str, reason: str) -> None:
    with pytest.raises(InvalidInput, match="not a valid mail address") as refused:
        parse_stored_address(text)
    assert reason in str(refused.value)


@pytest.mark.parametrize(
    ("text", "stored"),
    [
        ("Alice@Example.TEST", "alice@example.test"),
        ("alice@example.test.", "alice@example.test"),
        ("o'brien+tag@sub.example.org", "o'brien+tag@sub.example.org"),
        ("x@BÜCHER.example", "x@xn--bcher-kva.example"),
        ("x@ｅｘａｍｐｌｅ.test", "x@example.test"),
        ("x" * 64 + "@x.test", "x" * 64 + "@x.test"),
    ],
)
def test_stored_addresses_are_normalised(text: str, stored: str) -> None:
    assert str(parse_stored_address(text)) == stored


@given(names, names)
def test_a_generated_address_is_refused_or_stored_safely(local: str, domain: str) -> None:
    try:
        address = parse_stored_address(f"{local}@{domain}")
    except InvalidInput:
        return
    assert_safe_path_component(address.local_part)
    assert_safe_path_component(address.domain)
    assert len(address.local_part) <= 64 and len(address.domain) <= 253
    assert parse_stored_address(str(address)) == address  # canonical: stored once, found again


# -- domains --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Example.COM", "example.com"),
        ("example.com.", "example.com"),
        ("münchen.DE", "xn--mnchen-3ya.de"),
        ("xn--mnchen-3ya.de", "xn--mnchen-3ya.de"),
        ("a" * 63 + ".test", "a" * 63 + ".test"),
    ],
)
def test_domains_become_lower_case_a_labels(text: str, name: str) -> None:
    assert normalize_domain(text) == name


@pytest.mark.parametrize(
    "text", ["", ".", "..", "a..b", ".a.test", "a.test..", "../x", "x\\y.test", "a\x00.test", "\x85a.test", "℀.test",
             "a_b.test", "-a.test", "xn--zz.test", "a" * 64 + ".test", ("a" * 63 + ".") * 4 + "test", "x" * 5000]
)  # fmt: skip
def test_unsafe_or_invalid_domains_are_refused(text: str) -> None:
    with pytest.raises(InvalidInput, match="not a valid domain name"):
        normalize_domain(text)


@given(names)
def test_a_generated_domain_is_refused_or_normalised_safely(text: str) -> None:
    try:
        name = normalize_domain(text)
    except InvalidInput:
        return
    assert_safe_path_component(name)
    assert name == name.lower() and name.isascii() and not name.endswith(".")
    assert normalize_domain(name) == name


# -- business names and folder names ----------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", " ", "a/b", "..", ".", "a..b", "x\\y", "x\x00", "x\x85", "a\nb", "x" * 101])
def test_unsafe_business_names_are_refused(text: str) -> None:
    with pytest.raises(InvalidInput, match="business name"):
        check_tenant_name(text)


def test_ordinary_business_names_are_kept() -> None:
    assert check_tenant_name("  Smith & Sons Ltd.  ") == "Smith & Sons Ltd."
    assert check_tenant_name("Bäckerei Müller") == "Bäckerei Müller"


@given(names)
def test_a_generated_business_name_is_refused_or_safe(text: str) -> None:
    try:
        name = check_tenant_name(text)
    except InvalidInput:
        return
    assert_safe_path_component(name)


@pytest.mark.parametrize("text", ["x\\y", "a\x85b", "nul\x00", "..", "a/../b", "a\u2028b", "esc\x1b"])
def test_unsafe_folder_names_are_refused(text: str) -> None:
    with pytest.raises(InvalidMailboxName, match="folder name"):
        validate_mailbox_name(text)


@given(names)
def test_a_generated_folder_name_is_refused_or_stays_in_the_store(text: str) -> None:
    try:
        name = validate_mailbox_name(text)
    except InvalidMailboxName:
        return
    for part in name.split("/"):
        assert_safe_path_component(part)
    path = folder_path(ROOT, name)
    assert path == ROOT or path.resolve().parent == ROOT


# -- TLS server names ---------------------------------------------------------------------------------------


def test_only_valid_host_names_choose_a_certificate(tmp_path: Path) -> None:
    sites = tmp_path / "tls" / "sites"
    tls.ensure_self_signed(tmp_path / "tls" / "cert.pem", tmp_path / "tls" / "key.pem", "mail.example.test")
    tls.ensure_self_signed(sites / "shop.example" / "cert.pem", sites / "shop.example" / "key.pem", "shop.example")
    finder = tls.CertificateFinder(sites)
    contexts = tls.SniContexts(tmp_path / "tls" / "cert.pem", tmp_path / "tls" / "key.pem", finder)
    assert contexts.context_for("SHOP.example.") is not None
    assert contexts.context_for("www.shop.example") is contexts.context_for("shop.example")
    for name in ["..", "../..", "shop.example/..", "shop.example\\x", "shop.example\x00", "", ".", "x/../shop.example"]:
        assert contexts.context_for(name) is None, name


# -- nothing is created for a refused name --------------------------------------------------------------------


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    settings = load_config(write_config(tmp_path))
    initialise(settings)
    opened = open_services(settings)
    domains.add_domain(opened, OPERATOR, DOMAIN)
    users.add_user(opened, OPERATOR, OWNER, "owner-password", Role.OWNER)
    yield opened
    opened.close()


def _snapshot(services: Services) -> tuple[list[str], dict[str, list[tuple[object, ...]]]]:
    data = services.config.server.data_dir
    files = sorted(str(Path(d, n).relative_to(data)) for d, dirs, fs in os.walk(data) for n in [*dirs, *fs])
    tables = {}
    with services.engine.connect() as conn:
        for table in (db.tenants, db.domains, db.users, db.aliases):
            tables[table.name] = [tuple(row) for row in conn.execute(sa.select(table))]
    return [f for f in files if not f.startswith("smb-suite.db")], tables


@pytest.mark.parametrize("bad", ["a/b", "../../x", "x\\y", "a\x00b", "a\x85b", "..", "x" * 101])
def test_a_refused_name_creates_nothing(services: Services, bad: str) -> None:
    before = _snapshot(services)
    attempts = [
        lambda: users.add_user(services, OPERATOR, f"{bad}@{DOMAIN}", "a-password"),
        lambda: services.directory.add_alias(OPERATOR, f"{bad}@{DOMAIN}", OWNER),
        lambda: services.directory.add_alias(OPERATOR, f"sales@{DOMAIN}", f"{bad}@elsewhere.example"),
        lambda: services.directory.set_forwarding(OPERATOR, OWNER, f"{bad}@elsewhere.example"),
        lambda: services.directory.set_catchall(OPERATOR, DOMAIN, f"{bad}@{DOMAIN}"),
        lambda: domains.add_domain(services, OPERATOR, f"{bad}.example"),
        lambda: domains.add_domain(services, OPERATOR, "new.example", tenant=bad),
        lambda: services.tenants.create(OPERATOR, bad, "starter"),
    ]
    for attempt in attempts:
        with pytest.raises(InvalidInput, match="not a valid|business name"):
            attempt()
    assert _snapshot(services) == before


def test_the_command_line_says_why_a_name_is_refused(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    run_cli(config, "init")
    run_cli(config, "domain", "add", DOMAIN)
    result = run_cli(config, "user", "add", f"a/b@{DOMAIN}", "--password-stdin", stdin="pw-pw-pw-pw\n", check=False)
    assert result.returncode != 0
    assert "'/'" in result.stderr and "not a valid mail address" in result.stderr
    assert not any(path.name in ("a", "b") for path in (tmp_path / "data").rglob("*"))
