"""The command line as an operator uses it: clear one-line errors, non-zero exits, idempotent init."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.daemon import DOMAIN, OWNER, run_cli, write_config


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = write_config(tmp_path)
    run_cli(path, "init")
    return path


def test_init_twice_changes_nothing_and_says_so(tmp_path: Path) -> None:
    path = write_config(tmp_path)
    first = run_cli(path, "init")
    second = run_cli(path, "init")
    assert "created database schema" in first.stdout
    assert "nothing changed" in second.stdout
    assert (tmp_path / "data" / "tls" / "cert.pem").exists()


def test_init_demo_prints_the_password_once(tmp_path: Path) -> None:
    path = write_config(tmp_path)
    first = run_cli(path, "init", "--demo")
    second = run_cli(path, "init", "--demo")
    assert "demo@example.test" in first.stdout and "password" in first.stdout
    assert "password" not in second.stdout
    assert "nothing changed" in second.stdout
    assert run_cli(path, "user", "list").stdout.split() == ["demo@example.test", "owner"]


def test_domain_add_list_remove(config: Path) -> None:
    run_cli(config, "domain", "add", "Shop.Example.org")
    run_cli(config, "domain", "add", "second.example.org", "--tenant", "shop.example.org")
    listing = run_cli(config, "domain", "list").stdout
    assert "shop.example.org\tshop.example.org" in listing
    assert "second.example.org\tshop.example.org" in listing
    run_cli(config, "domain", "remove", "second.example.org")
    assert "second.example.org" not in run_cli(config, "domain", "list").stdout


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (("domain", "add", "not a domain"), None, "not a valid domain name"),
        (("domain", "remove", "unknown.example"), None, "unknown domain"),
        (("user", "add", "bob@unknown.example", "--password-stdin"), "pw\n", "unknown domain"),
        (("user", "add", "no-at-sign", "--password-stdin"), "pw\n", "not a valid mail address"),
        (("user", "add", f"bob@{DOMAIN}", "--password-stdin"), "\n", "empty"),
        (("user", "passwd", f"nobody@{DOMAIN}", "--password-stdin"), "pw\n", "unknown user"),
        (("user", "remove", f"nobody@{DOMAIN}"), None, "unknown user"),
        (("alias", "add", f"sales@{DOMAIN}", "bad target"), None, "not a valid mail address"),
    ],
)
def test_errors_are_one_clear_line_and_a_nonzero_exit(
    config: Path, args: tuple[str, ...], stdin: str | None, message: str
) -> None:
    run_cli(config, "domain", "add", DOMAIN)
    result = run_cli(config, *args, stdin=stdin, check=False)
    assert result.returncode != 0
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_duplicates_are_refused(config: Path) -> None:
    run_cli(config, "domain", "add", DOMAIN)
    run_cli(config, "user", "add", OWNER, "--password-stdin", stdin="pw1\n")
    domain_again = run_cli(config, "domain", "add", DOMAIN, check=False)
    user_again = run_cli(config, "user", "add", OWNER, "--password-stdin", stdin="pw2\n", check=False)
    assert domain_again.returncode == 1 and "already exists" in domain_again.stderr
    assert user_again.returncode == 1 and "already exists" in user_again.stderr


def test_domain_with_mailboxes_cannot_be_removed_until_they_are(config: Path) -> None:
    run_cli(config, "domain", "add", DOMAIN)
    run_cli(config, "user", "add", OWNER, "--password-stdin", stdin="pw1\n")
    refused = run_cli(config, "domain", "remove", DOMAIN, check=False)
    assert refused.returncode == 1 and "remove them first" in refused.stderr
    run_cli(config, "user", "remove", OWNER)
    run_cli(config, "domain", "remove", DOMAIN)
    assert run_cli(config, "domain", "list").stdout == ""


def test_dns_prints_zone_file_lines_for_mx_and_spf(config: Path) -> None:
    run_cli(config, "domain", "add", DOMAIN)
    lines = run_cli(config, "dns", DOMAIN).stdout.splitlines()
    assert lines[0].split() == [f"{DOMAIN}.", "3600", "IN", "MX", "10", "mail.example.test."]
    assert lines[1].split("\t")[-1] == '"v=spf1 mx -all"'


def _serve(config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "smb_suite", "-c", str(config), "serve"],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_unknown_config_key_stops_with_status_2_naming_the_key(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('[server]\nhostname = "x.example"\ncolour = "blue"\n')
    result = _serve(path)
    assert result.returncode == 2
    assert "[server] colour: unknown key" in result.stderr
    assert not (tmp_path / "data").exists()


def test_bad_port_stops_with_status_2_naming_the_key(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('[listen]\nimap = "127.0.0.1:99999"\nsmtp = "nonsense"\n')
    result = _serve(path)
    assert result.returncode == 2
    assert "[listen] imap: port 99999 is out of range" in result.stderr
    assert "[listen] smtp:" in result.stderr
    assert "listening" not in result.stderr + result.stdout


def test_unknown_section_and_wrong_type_are_reported_together(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('[mystery]\na = 1\n[smtp]\nmax_message_size = "big"\n')
    result = run_cli(path, "domain", "list", check=False)
    assert result.returncode == 2
    assert "unknown section [mystery]" in result.stderr
    assert "[smtp] max_message_size: expected a whole number" in result.stderr
