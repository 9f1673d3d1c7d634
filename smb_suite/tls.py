"""TLS: a self-signed certificate on first start (embedded default) and the server SSL contexts."""

from __future__ import annotations

import datetime
import ipaddress
import json
import os
import re
import ssl
from collections.abc import Callable
from pathlib import Path
from typing import Generic, TypeVar

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from smb_suite.names import host_name

T = TypeVar("T")


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


# Automatic certificates (certs/, ops/certificates.py) live in data_dir/tls/acme/<subject>/, where a subject is
# made of ids ("host", "domain-<id>"), never of a name; each folder holds one file, key and chain together, so a
# renewal replaces both at once by a rename. names.json maps each name to the subject that serves it.
ACME_FOLDER = "acme"
BUNDLE_FILE = "bundle.pem"
NAMES_FILE = "names.json"
HOST_SUBJECT = "host"
SUBJECT = re.compile(r"host|domain-[1-9][0-9]{0,18}")

Files = tuple[Path, Path]  # (certificate chain, private key): the same file for a bundle


def _stamp(path: Path) -> tuple[int, int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_ino, stat.st_mtime_ns, stat.st_size


class CertificateIndex:
    """Which automatic certificate serves a name: names.json, read again whenever the issuer replaces it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._stamp: tuple[int, int, int] | None = None
        self._names: dict[str, str] = {}

    def _load(self) -> dict[str, str]:
        path = self.root / NAMES_FILE
        stamp = _stamp(path)
        if stamp != self._stamp:
            try:
                loaded = json.loads(path.read_bytes())
            except (OSError, ValueError):
                loaded = {}
            self._names = {
                str(name): str(subject)
                for name, subject in (loaded.items() if isinstance(loaded, dict) else ())
                if SUBJECT.fullmatch(str(subject))
            }
            self._stamp = stamp
        return self._names

    def bundle_for(self, name: str | None) -> Path | None:
        """The bundle serving this name (None: a client without SNI gets the server hostname's)."""
        names = self._load()
        subject = names.get(name) if name is not None else None
        if subject is None and name is None and HOST_SUBJECT in names.values():
            subject = HOST_SUBJECT
        return None if subject is None else self.root / subject / BUNDLE_FILE


class CertificateFinder:
    """The certificate files for a TLS server name (RFC 6066 3): an automatic certificate first, then the
    operator's per-domain files DIR/NAME/cert.pem and key.pem (www. using NAME's); None: the server's own."""

    def __init__(self, certificates_dir: Path, acme: CertificateIndex | None = None) -> None:
        self._dir = certificates_dir
        self._acme = acme

    def files_for(self, server_name: str | None) -> Files | None:
        name = host_name(server_name) if server_name else None  # only a valid host name names a folder
        if server_name and name is None:
            return None
        if self._acme is not None:
            bundle = self._acme.bundle_for(name)
            if bundle is not None and bundle.exists():
                return bundle, bundle
        if name is None:
            return None
        for candidate in dict.fromkeys((name, name.removeprefix("www."))):
            if "." not in candidate:
                continue
            certificate, key = self._dir / candidate / "cert.pem", self._dir / candidate / "key.pem"
            if certificate.exists():
                return certificate, key
        return None


class ContextCache(Generic[T]):
    """Contexts built from certificate files, built again when the certificate file changes (a renewal needs
    no restart); a file that does not load gives None (the caller keeps the default certificate)."""

    def __init__(self, build: Callable[[Path, Path], T]) -> None:
        self._build = build
        self._contexts: dict[Files, tuple[tuple[int, int, int], T]] = {}

    def get(self, files: Files) -> T | None:
        stamp = _stamp(files[0])
        if stamp is None:
            return None
        cached = self._contexts.get(files)
        if cached is None or cached[0] != stamp:
            try:
                cached = (stamp, self._build(*files))
            except (OSError, ValueError, ssl.SSLError):
                return None
            self._contexts[files] = cached
        return cached[1]


class SniContexts:
    """The server context of every TLS listener: its sni_callback picks the context of the name asked for
    (automatic certificates, per-domain files), the server certificate otherwise."""

    def __init__(self, certificate: Path, key: Path, finder: CertificateFinder) -> None:
        self.default = server_context(certificate, key)
        self.finder = finder
        self._cache: ContextCache[ssl.SSLContext] = ContextCache(server_context)
        self.default.sni_callback = self._choose

    def context_for(self, server_name: str | None) -> ssl.SSLContext | None:
        files = self.finder.files_for(server_name)
        return None if files is None else self._cache.get(files)

    def _choose(self, connection: ssl.SSLObject, server_name: str | None, _context: ssl.SSLContext) -> None:
        chosen = self.context_for(server_name)
        if chosen is not None:
            connection.context = chosen
