"""Certificate files under data_dir/tls/acme/: a folder per subject (made of ids, never of a name) holding the
key and its chain in one 0600 file replaced by a rename, and names.json mapping each name to its subject
(tls.CertificateIndex reads both: every listener of every worker sees a renewal at its next handshake)."""

from __future__ import annotations

import datetime
import json
import os
import shutil
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from smb_suite import durable, tls


def _folder(root: Path, subject: str) -> Path:
    if not tls.SUBJECT.fullmatch(subject):
        raise ValueError(f"not a certificate subject: {subject!r}")
    return root / subject


def _write_private(path: Path, content: bytes) -> None:
    """Write a 0600 file beside path, fsync it, rename it over path, fsync the folder."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.new")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
    temporary.replace(path)
    durable.fsync_dir(path.parent)


def new_key() -> bytes:
    """A P-256 key for a certificate (fast to make and to use in handshakes)."""
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def save(root: Path, subject: str, key_pem: bytes, chain_pem: bytes) -> None:
    _write_private(_folder(root, subject) / tls.BUNDLE_FILE, key_pem + chain_pem)


def expiry(root: Path, subject: str) -> tuple[int, frozenset[str]] | None:
    """(not-after as Unix time, names) of the subject's stored certificate, or None when it has none."""
    try:
        chain = x509.load_pem_x509_certificates((_folder(root, subject) / tls.BUNDLE_FILE).read_bytes())
    except (OSError, ValueError):
        return None
    leaf = chain[0]
    try:
        names = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(
            x509.DNSName
        )
    except x509.ExtensionNotFound:
        names = []
    return int(leaf.not_valid_after_utc.timestamp()), frozenset(names)


def publish_names(root: Path, names: dict[str, str]) -> None:
    """Replace names.json (name -> subject) at once."""
    _write_private(root / tls.NAMES_FILE, json.dumps(names, sort_keys=True).encode())


def remove(root: Path, subject: str) -> None:
    shutil.rmtree(_folder(root, subject), ignore_errors=True)


def utc(timestamp: int) -> str:
    return datetime.datetime.fromtimestamp(timestamp, datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
