"""Automatic certificates against Pebble (tests/pebble.py): the hostname and each verified domain get a
certificate over HTTP-01 on the daemon's HTTP port, served at once by SNI on HTTPS, IMAPS, SMTPS and STARTTLS;
a certificate near its expiry is replaced without a restart; a new domain gets its own; a validation that fails
is shown on the domain page and in `smb-suite cert list`, and waits (back-off) before the next attempt."""

from __future__ import annotations

import datetime
import functools
import os
import socket
import ssl
import stat
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from smb_suite.config import load as load_config
from smb_suite.storage import database, db
from tests.adminweb import browser, sign_in
from tests.daemon import DOMAIN, OWNER, OWNER_PASSWORD, Daemon, Daemons
from tests.dnsserver import DnsServer, publish
from tests.mailtest import free_port
from tests.pebble import Pebble, available
from tests.polling import wait_for

pytestmark = pytest.mark.skipif(not available(), reason="pebble (Debian package) is not installed")

HOST = "mail.example.test"
NEW_DOMAIN = "shop.test"
BROKEN = "broken.test"  # no address in DNS: pebble cannot validate it
LATER = "later.test"
PARTLY = "partly.test"
FIXED = "fixed.test"
PREFIXES = ("", "www.", "autoconfig.", "mta-sts.")
ISSUE_DEADLINE = 90.0


@dataclass
class Acme:
    daemon: Daemon
    pebble: Pebble
    zone: Path


@pytest.fixture(scope="module")
def acme(tmp_path_factory: pytest.TempPathFactory, start_daemon: Daemons) -> Iterator[Acme]:
    folder = tmp_path_factory.mktemp("acme")
    zone = folder / "internet.zone"
    names = [HOST] + [prefix + domain for domain in (DOMAIN, NEW_DOMAIN) for prefix in PREFIXES]
    zone.write_text("".join(f"{name}. 60 IN A 127.0.0.1\n" for name in names))
    for prefix in PREFIXES[1:]:  # the later domain's other names; its own name comes when the test adds it
        publish(zone, f"{prefix}{LATER}. 60 IN A 127.0.0.1")
    dns = DnsServer(zone).start()
    http_port = free_port()
    pebble = Pebble(folder / "pebble", dns.address, http_port)
    try:
        pebble.start()
        extra = (
            f'[acme]\ndirectory = "{pebble.directory}"\ncontact = "mailto:ops@{DOMAIN}"\n'
            f'ca_certificates = "{pebble.ca}"\ncheck_interval = "1s"\nretry_first = "1h"\n'
        )
        daemon = start_daemon(extra, name="acme", nameservers=(dns.address,), ports={"http": http_port})
        yield Acme(daemon, pebble, zone)
        if daemon.process is not None:
            daemon.stop()
    finally:
        pebble.stop()
        dns.stop()


def served(port: int, name: str) -> x509.Certificate:
    """The certificate a TLS listener (implicit TLS) shows to a client asking for `name` by SNI."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with (
        socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname=name) as tls,
    ):
        der = tls.getpeercert(binary_form=True)
    assert der is not None
    return x509.load_der_x509_certificate(der)


def served_after_starttls(port: int, name: str, imap: bool = False) -> x509.Certificate:
    """The certificate shown after STARTTLS, asked for `name`: SMTP after EHLO (RFC 3207), or IMAP (RFC 3501
    6.2.1)."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        reader = raw.makefile("rb")
        try:
            if imap:
                assert reader.readline().startswith(b"* OK")
                raw.sendall(b"a STARTTLS\r\n")
                assert reader.readline().startswith(b"a OK")
            else:
                assert reader.readline().startswith(b"220")
                raw.sendall(b"EHLO client.test\r\n")
                while not reader.readline().startswith(b"250 "):
                    pass
                raw.sendall(b"STARTTLS\r\n")
                assert reader.readline().startswith(b"220")
            with context.wrap_socket(raw, server_hostname=name) as tls:
                der = tls.getpeercert(binary_form=True)
        finally:
            reader.close()
    assert der is not None
    return x509.load_der_x509_certificate(der)


def names_of(certificate: x509.Certificate) -> set[str]:
    extension = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    return set(extension.value.get_values_for_type(x509.DNSName))


def from_pebble(certificate: x509.Certificate) -> bool:
    return "Pebble" in certificate.issuer.rfc4514_string()


def pebble_certificate(port: int, name: str) -> x509.Certificate | None:
    certificate = served(port, name)
    return certificate if from_pebble(certificate) and name in names_of(certificate) else None


def cert_line(acme: Acme, name: str) -> str:
    """The line of `smb-suite cert list` for a hostname or domain ("" when it has none)."""
    listing = acme.daemon.cli("cert", "list").stdout
    return next((line for line in listing.splitlines() if line.startswith(name + "\t")), "")


def domain_id(daemon: Daemon, name: str) -> int:
    engine = database.create_engine(load_config(daemon.config).database_url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.select(db.domains.c.id).where(db.domains.c.name == name)).scalar_one())
    finally:
        engine.dispose()


def test_the_hostname_and_each_verified_domain_get_certificates_served_by_sni_everywhere(acme: Acme) -> None:
    ports = acme.daemon.ports
    for name in [HOST, DOMAIN, f"www.{DOMAIN}", f"mta-sts.{DOMAIN}"]:
        probe = functools.partial(pebble_certificate, ports["https"], name)
        wait_for(f"a pebble certificate for {name}", probe, ISSUE_DEADLINE)
    for service in ("imaps", "submissions", "https"):
        assert names_of(served(ports[service], HOST)) == {HOST}
        assert from_pebble(served(ports[service], DOMAIN))
        assert names_of(served(ports[service], f"autoconfig.{DOMAIN}")) == {p + DOMAIN for p in PREFIXES}
    assert from_pebble(served_after_starttls(ports["submission"], DOMAIN))
    assert from_pebble(served_after_starttls(ports["smtp"], DOMAIN))
    assert names_of(served_after_starttls(ports["imap"], f"www.{DOMAIN}", imap=True)) == {p + DOMAIN for p in PREFIXES}
    # the chain verifies against pebble's root for the name asked
    roots = acme.daemon.folder / "pebble-roots.pem"
    roots.write_bytes(b"".join(root.public_bytes(serialization.Encoding.PEM) for root in acme.pebble.roots()))
    result = subprocess.run(
        ["openssl", "s_client", "-connect", f"127.0.0.1:{ports['imaps']}", "-servername", HOST, "-CAfile", str(roots)]
        + ["-verify_hostname", HOST, "-verify_return_error"],
        input="",
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert "Verify return code: 0 (ok)" in result.stdout, result.stdout + result.stderr


def test_keys_and_certificates_are_private_files_in_folders_named_by_id(acme: Acme) -> None:
    root = acme.daemon.folder / "data" / "tls" / "acme"
    wait_for("the domain's certificate", lambda: pebble_certificate(acme.daemon.ports["https"], DOMAIN), ISSUE_DEADLINE)
    bundle = root / f"domain-{domain_id(acme.daemon, DOMAIN)}" / "bundle.pem"
    for path in (bundle, root / "host" / "bundle.pem", root / "account.pem"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert not any(DOMAIN in entry.name for entry in root.iterdir())


def expiring_bundle(names: list[str], days: int) -> bytes:
    """A key and a self-signed certificate for names that expires in `days` days."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=80))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name) for name in names]), critical=False)
        .sign(key, hashes.SHA256())
    )
    pem_key = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return pem_key + certificate.public_bytes(serialization.Encoding.PEM)


def test_a_certificate_near_its_expiry_is_replaced_without_a_restart(acme: Acme) -> None:
    ports = acme.daemon.ports
    first = wait_for("the first certificate", lambda: pebble_certificate(ports["imaps"], DOMAIN), ISSUE_DEADLINE)
    pid = acme.daemon.process.pid if acme.daemon.process else None
    bundle = acme.daemon.folder / "data" / "tls" / "acme" / f"domain-{domain_id(acme.daemon, DOMAIN)}" / "bundle.pem"
    planted = bundle.with_name("planted.new")
    fd = os.open(planted, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(expiring_bundle([p + DOMAIN for p in PREFIXES], days=10))
    planted.replace(bundle)  # 10 days left: within the 30 days of renew_before

    def renewed() -> x509.Certificate | None:
        certificate = pebble_certificate(ports["imaps"], DOMAIN)
        return certificate if certificate is not None and certificate.serial_number != first.serial_number else None

    second = wait_for("a renewed certificate", renewed, ISSUE_DEADLINE)
    assert second.not_valid_after_utc - datetime.datetime.now(datetime.UTC) > datetime.timedelta(days=30)
    for service in ("https", "submissions"):
        assert served(ports[service], DOMAIN).serial_number == second.serial_number
    assert acme.daemon.process is not None and acme.daemon.process.pid == pid


def test_a_new_verified_domain_gets_its_certificate(acme: Acme) -> None:
    acme.daemon.cli("domain", "add", NEW_DOMAIN)
    ports = acme.daemon.ports
    wait_for("the new domain's certificate", lambda: pebble_certificate(ports["https"], NEW_DOMAIN), ISSUE_DEADLINE)
    assert names_of(served(ports["imaps"], f"www.{NEW_DOMAIN}")) == {p + NEW_DOMAIN for p in PREFIXES}


def test_a_failing_validation_is_reported_on_the_domain_page_and_waits_before_retrying(acme: Acme) -> None:
    acme.daemon.cli("domain", "add", BROKEN, "--tenant", DOMAIN)

    def reported() -> str | None:
        listing = acme.daemon.cli("cert", "list").stdout
        line = next((line for line in listing.splitlines() if line.startswith(BROKEN + "\t")), "")
        return line if "failing" in line else None

    line = wait_for("the failure in cert list", reported, ISSUE_DEADLINE)
    assert "attempt 1" in line and "next try" in line, line
    with browser(acme.daemon) as client:
        assert sign_in(client, OWNER, OWNER_PASSWORD).status_code == 303
        page = client.get(f"/admin/domains/{BROKEN}/").text
    assert 'id="certificate" class="certificate-failing"' in page and "Could not be obtained" in page, page
    assert "Attempt 1 failed: validation failed: " in page and "Next try: " in page, page
    # back-off: later rounds (every second) leave it alone for retry_first (an hour); one of them serves another
    publish(acme.zone, f"{LATER}. 60 IN A 127.0.0.1")
    acme.daemon.cli("domain", "add", LATER)
    wait_for(
        "a later round's certificate", lambda: pebble_certificate(acme.daemon.ports["https"], LATER), ISSUE_DEADLINE
    )
    assert reported() == line
    assert acme.daemon.log_text().count(f"cert.failed subject=domain-{domain_id(acme.daemon, BROKEN)} ") == 1


def test_an_unknown_challenge_token_is_not_found_on_any_host(acme: Acme) -> None:
    with socket.create_connection(("127.0.0.1", acme.daemon.ports["http"]), timeout=10) as raw:
        raw.sendall(b"GET /.well-known/acme-challenge/nope HTTP/1.1\r\nHost: example.test\r\nConnection: close\r\n\r\n")
        answer = b"".join(iter(lambda: raw.recv(4096), b""))
    assert answer.startswith(b"HTTP/1.1 404")


def test_names_not_pointed_here_yet_are_left_out_and_reported(acme: Acme) -> None:
    publish(acme.zone, f"{PARTLY}. 60 IN A 127.0.0.1")  # its www., autoconfig. and mta-sts. names do not resolve
    acme.daemon.cli("domain", "add", PARTLY)
    ports = acme.daemon.ports
    certificate = wait_for("the domain's own name", lambda: pebble_certificate(ports["imaps"], PARTLY), ISSUE_DEADLINE)
    assert names_of(certificate) == {PARTLY}

    def reported() -> str | None:
        listing = acme.daemon.cli("cert", "list").stdout
        return next((line for line in listing.splitlines() if line.startswith(PARTLY + "\t")), None)

    line = wait_for("the left-out names in cert list", reported)
    assert "failing" in line and "expires " in line and "attempt 1 failed" in line, line
    assert f"not covered: www.{PARTLY}, autoconfig.{PARTLY}, mta-sts.{PARTLY}" in line, line


def test_once_dns_is_fixed_cert_retry_ends_the_back_off(acme: Acme) -> None:
    acme.daemon.cli("domain", "add", FIXED, "--tenant", DOMAIN)  # no address yet: fails, waits an hour
    wait_for("the failure", lambda: "\tfailing\t" in cert_line(acme, FIXED))
    for prefix in PREFIXES:
        publish(acme.zone, f"{prefix}{FIXED}. 60 IN A 127.0.0.1")
    assert "1 failing certificate(s)" in acme.daemon.cli("cert", "retry", FIXED).stdout
    wait_for("the certificate", lambda: pebble_certificate(acme.daemon.ports["https"], FIXED), ISSUE_DEADLINE)
