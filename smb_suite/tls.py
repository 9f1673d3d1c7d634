"""TLS: a self-signed certificate on first start (embedded default) and the server SSL contexts."""

from __future__ import annotations

import datetime
import ipaddress
import os
import ssl
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from smb_suite.names import host_name


def ensure_self_signed(certificate: Path, key: Path, hostname: str) -> bool:
    """Create a self-signed certificate for hostname (and localhost) unless one exists; True if created."""
    if certificate.exists() and key.exists():
        return False
    certificate.parent.mkdir(parents=True, exist_ok=True)
    private_key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)])
    now = datetime.datetime.now(datetime.UTC)
    names: list[x509.GeneralName] = [x509.DNSName(hostname), x509.DNSName("localhost")]
    names.append(x509.IPAddress(ipaddress.ip_address("127.0.0.1")))
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(private_key, hashes.SHA256())
    )
    key_bytes = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fd = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key_bytes)
    certificate.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return True


def server_context(certificate: Path, key: Path) -> ssl.SSLContext:
    """A server context with modern defaults (TLS 1.2+)."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(certificate, key)
    return context


class SniContexts:
    """Per-domain certificates chosen by SNI (RFC 6066 3): DIR/NAME/cert.pem and key.pem, www. using NAME's.

    A name without its own certificate gets the server certificate. Contexts are loaded on first use and
    reloaded when the certificate file changes (a renewal needs no restart).
    """

    def __init__(self, certificate: Path, key: Path, certificates_dir: Path) -> None:
        self.default = server_context(certificate, key)
        self._dir = certificates_dir
        self._contexts: dict[str, tuple[int, ssl.SSLContext]] = {}
        self.default.sni_callback = self._choose

    def context_for(self, server_name: str) -> ssl.SSLContext | None:
        name = host_name(server_name)  # only a valid host name ever names a certificate folder
        if name is None:
            return None
        for candidate in dict.fromkeys((name, name.removeprefix("www."))):
            if "." not in candidate:
                continue
            certificate, key = self._dir / candidate / "cert.pem", self._dir / candidate / "key.pem"
            try:
                stamp = certificate.stat().st_mtime_ns
            except OSError:
                continue
            cached = self._contexts.get(candidate)
            if cached is None or cached[0] != stamp:
                try:
                    cached = (stamp, server_context(certificate, key))
                except (OSError, ssl.SSLError):
                    return None
                self._contexts[candidate] = cached
            return cached[1]
        return None

    def _choose(self, connection: ssl.SSLObject, server_name: str | None, _context: ssl.SSLContext) -> None:
        if server_name:
            chosen = self.context_for(server_name)
            if chosen is not None:
                connection.context = chosen
