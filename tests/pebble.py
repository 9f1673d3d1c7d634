"""Pebble (Let's Encrypt's test ACME server, Debian package `pebble`) in a temporary folder, for the ACME tests.

It gets its own TLS certificate (made here, signed by a throw-away CA the daemon is told to trust for the
directory connection), its DNS from the tests' DNS server (tests/dnsserver.py), and validates HTTP-01 on the
daemon's HTTP port (`httpPort`). PEBBLE_VA_NOSLEEP=1 skips its random validation delays; PEBBLE_WFE_NONCEREJECT=0
stops it refusing 5% of valid nonces.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import shutil
import socket
import ssl
import subprocess
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.mailtest import free_port
from tests.polling import wait_for

START_DEADLINE = 30.0


def available() -> bool:
    return shutil.which("pebble") is not None


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def make_tls_files(folder: Path) -> tuple[Path, Path, Path]:
    """(CA certificate, server certificate, server key) for 127.0.0.1 and localhost."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "smb-suite test CA for pebble")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    paths = folder / "ca.pem", folder / "cert.pem", folder / "key.pem"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(_pem_key(key))
    return paths


@dataclass
class Pebble:
    folder: Path
    dns: str  # "127.0.0.1:port" of the tests' DNS server
    http_port: int  # where it validates HTTP-01: the daemon's HTTP listener
    port: int = field(default_factory=free_port)
    management_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    ca: Path = Path()

    @property
    def directory(self) -> str:
        return f"https://127.0.0.1:{self.port}/dir"

    def start(self) -> Pebble:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.ca, certificate, key = make_tls_files(self.folder)
        settings = {
            "listenAddress": f"127.0.0.1:{self.port}",
            "managementListenAddress": f"127.0.0.1:{self.management_port}",
            "certificate": str(certificate),
            "privateKey": str(key),
            "httpPort": self.http_port,
            "tlsPort": free_port(),
            "ocspResponderURL": "",
            "externalAccountBindingRequired": False,
        }
        config = self.folder / "pebble-config.json"
        config.write_text(json.dumps({"pebble": settings}))
        environment = {"PEBBLE_VA_NOSLEEP": "1", "PEBBLE_WFE_NONCEREJECT": "0", "PATH": "/usr/bin:/bin"}
        with open(self.folder / "pebble.log", "wb") as log:
            self.process = subprocess.Popen(
                ["pebble", "-config", str(config), "-dnsserver", self.dns],
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.folder,
                env=environment,
            )
        wait_for("pebble to listen", self._listening, START_DEADLINE, detail=self.log_text)
        return self

    def _listening(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise AssertionError(f"pebble exited:\n{self.log_text()}")
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
        except OSError:
            return False
        return True

    def log_text(self) -> str:
        path = self.folder / "pebble.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def roots(self) -> list[x509.Certificate]:
        """The root CA(s) pebble issues under (made afresh at each start), from its management interface."""
        context = ssl.create_default_context(cafile=str(self.ca))
        url = f"https://127.0.0.1:{self.management_port}/roots/0"
        with urllib.request.urlopen(url, context=context, timeout=10) as answer:  # noqa: S310 - fixed URL
            return x509.load_pem_x509_certificates(answer.read())

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=30)
            self.process = None
