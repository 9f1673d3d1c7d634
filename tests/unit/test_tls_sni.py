"""Which certificate a TLS server name gets (tls.py): automatic certificates by names.json, never a path made
of a name or of a subject the file does not name properly; a renewal is picked up without a restart."""

from __future__ import annotations

import json
import os
from pathlib import Path

from smb_suite import tls
from smb_suite.certs import store


def bundle(root: Path, subject: str, name: str) -> Path:
    folder = root / subject
    folder.mkdir(parents=True, exist_ok=True)
    tls.ensure_self_signed(folder / "cert.pem", folder / "key.pem", name)
    path = folder / tls.BUNDLE_FILE
    path.write_bytes((folder / "key.pem").read_bytes() + (folder / "cert.pem").read_bytes())
    return path


def test_names_json_chooses_the_bundle_and_a_client_without_sni_gets_the_hostnames(tmp_path: Path) -> None:
    host = bundle(tmp_path, "host", "mail.example.test")
    shop = bundle(tmp_path, "domain-7", "shop.example")
    store.publish_names(tmp_path, {"mail.example.test": "host", "shop.example": "domain-7"})
    finder = tls.CertificateFinder(tmp_path / "sites", tls.CertificateIndex(tmp_path))
    assert finder.files_for("SHOP.example.") == (shop, shop)
    assert finder.files_for(None) == (host, host)
    assert finder.files_for("other.example") is None
    assert stat_mode(tmp_path / tls.NAMES_FILE) == 0o600


def test_subjects_that_are_not_ids_are_ignored(tmp_path: Path) -> None:
    bundle(tmp_path, "domain-1", "a.example")
    names = {"a.example": "../domain-1", "b.example": "domain-01", "c.example": "/etc", "d.example": "domain-1/x"}
    (tmp_path / tls.NAMES_FILE).write_text(json.dumps(names))
    finder = tls.CertificateFinder(tmp_path / "sites", tls.CertificateIndex(tmp_path))
    for name in names:
        assert finder.files_for(name) is None, name
    for bad in ["..", "a.example/..", "a.example\x00", ""]:
        assert finder.files_for(bad) is None


def test_a_replaced_bundle_gives_a_new_context(tmp_path: Path) -> None:
    path = bundle(tmp_path, "domain-3", "c.example")
    store.publish_names(tmp_path, {"c.example": "domain-3"})
    finder = tls.CertificateFinder(tmp_path / "sites", tls.CertificateIndex(tmp_path))
    contexts = tls.SniContexts(path.parent / "cert.pem", path.parent / "key.pem", finder)
    first = contexts.context_for("c.example")
    assert first is not None and contexts.context_for("c.example") is first
    (path.parent / "cert.pem").unlink()
    renewed = bundle(tmp_path, "domain-3", "c.example")
    os.utime(renewed, ns=(1, 1))
    assert contexts.context_for("c.example") not in (None, first)


def stat_mode(path: Path) -> int:
    return path.stat().st_mode & 0o777
