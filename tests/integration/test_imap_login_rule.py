"""Passwords need TLS on IMAP unless the client is on a loopback address (RFC 3501 6.2.3, RFC 8314): checked
from a non-loopback address inside a private network namespace (tests/netns_login.py), as root in CI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.daemon import make_daemon

ROOT = Path(__file__).resolve().parents[2]


def test_login_in_the_clear_from_a_remote_address_is_refused_until_tls(tmp_path: Path) -> None:
    if subprocess.run(["unshare", "--net", "true"], capture_output=True).returncode != 0:
        pytest.skip("no network namespaces here (needs root or CAP_SYS_ADMIN)")
    server = make_daemon(tmp_path / "d", services=("imap", "imaps"))
    result = subprocess.run(
        ["unshare", "--net", "--fork", sys.executable, "-m", "tests.netns_login", str(server.folder)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert "LOGINDISABLED" in seen["capabilities_in_the_clear"]
    assert "STARTTLS" in seen["capabilities_in_the_clear"]
    assert "PRIVACYREQUIRED" in seen["login_in_the_clear"]
    assert "LOGINDISABLED" not in seen["capabilities_after_starttls"]
    assert seen["login_after_starttls"] == "OK"
    assert seen["login_over_imaps"] == "OK"
