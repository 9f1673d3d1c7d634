"""The command line as an operator uses it: clear one-line errors, non-zero exits, idempotent init."""

from __future__ import annotations

import shutil
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
        (("backup", "verify"), None, "use 'backup verify DEST'"),  # DEST forgotten: no backup into ./verify
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


def _with_public_addresses(path: Path, *addresses: str) -> Path:
    listed = ", ".join(f'"{address}"' for address in addresses)
    path.write_text(
        path.read_text().replace('data_dir = "data"\n', f'data_dir = "data"\npublic_addresses = [{listed}]\n')
    )
    return path


def test_dns_prints_the_website_addresses_then_mx_and_spf(config: Path) -> None:
    _with_public_addresses(config, "93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c")
    run_cli(config, "domain", "add", DOMAIN)
    printed = run_cli(config, "dns", DOMAIN)
    lines = [line.split() for line in printed.stdout.splitlines()]
    assert lines[:4] == [
        [f"{DOMAIN}.", "3600", "IN", "A", "93.184.215.14"],
        [f"{DOMAIN}.", "3600", "IN", "AAAA", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"],
        [f"www.{DOMAIN}.", "3600", "IN", "A", "93.184.215.14"],
        [f"www.{DOMAIN}.", "3600", "IN", "AAAA", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"],
    ]
    assert lines[4] == [f"{DOMAIN}.", "3600", "IN", "MX", "10", "mail.example.test."]
    assert printed.stdout.splitlines()[5].split("\t")[-1] == '"v=spf1 mx -all"'
    assert printed.stderr == ""


def test_dns_warns_when_the_hostname_is_localhost_and_the_address_private(tmp_path: Path) -> None:
    path = _with_public_addresses(write_config(tmp_path, hostname="localhost"), "127.0.0.1")
    run_cli(path, "init")
    run_cli(path, "domain", "add", DOMAIN)
    printed = run_cli(path, "dns", DOMAIN)
    assert "warning: the server hostname is localhost: set [server] hostname" in printed.stderr
    assert "warning: 127.0.0.1: not public internet addresses" in printed.stderr
    assert printed.stdout.splitlines()[2].split()[-1] == "localhost."  # the MX after A records of DOMAIN and www


def test_init_on_a_public_hostname_prints_the_next_steps(tmp_path: Path) -> None:
    path = write_config(tmp_path, hostname="mail.bakery-dupont.fr")
    steps = run_cli(path, "init").stdout
    assert "Next, to serve mail.bakery-dupont.fr on the internet:" in steps
    assert "reverse DNS (PTR)" in steps and "25 (mail from other servers)" in steps
    assert 'smtp = "0.0.0.0:25"' in steps and 'https = "0.0.0.0:443"' in steps  # the test listens on loopback
    assert "smb-suite dns DOMAIN" in steps
    (tmp_path / "local").mkdir()
    assert "Next, to serve" not in run_cli(write_config(tmp_path / "local", hostname="localhost"), "init").stdout


def test_the_shipped_configuration_used_in_place_keeps_its_data_outside_conf(tmp_path: Path) -> None:
    shipped = Path(__file__).resolve().parents[2] / "conf" / "smb-suite.toml"
    copy = tmp_path / "smb-suite.toml"
    copy.write_text(shipped.read_text().replace('"/var/lib/smb-suite"', f'"{tmp_path / "var"}"'))
    assert "created database schema" in run_cli(copy, "init").stdout
    assert (tmp_path / "var" / "smb-suite.db").exists() and not (tmp_path / "data").exists()


def test_scripts_serve_takes_c_file_relative_to_where_it_is_typed_without_the_demo(tmp_path: Path) -> None:
    checkout = tmp_path / "checkout"
    (checkout / "scripts").mkdir(parents=True)
    shutil.copy(Path(__file__).resolve().parents[2] / "scripts" / "serve", checkout / "scripts" / "serve")
    # the checkout's venv and packages are taken as present; its smb-suite records how it is called
    (checkout / "scripts" / "lib.sh").write_text("ensure_debian_packages() { :; }\nensure_venv() { :; }\n")
    smb_suite = checkout / ".venv" / "bin" / "smb-suite"
    smb_suite.parent.mkdir(parents=True)
    smb_suite.write_text(f'#!/bin/sh\necho "$@" >> {tmp_path / "calls"}\n')
    smb_suite.chmod(0o755)
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "smb.toml").write_text("")
    serve = [str(checkout / "scripts" / "serve"), "-c", "smb.toml"]
    subprocess.run(serve, cwd=tmp_path / "mine", check=True, timeout=30)
    config = tmp_path / "mine" / "smb.toml"
    assert (tmp_path / "calls").read_text().splitlines() == [f"-c {config} init", f"-c {config} serve"]
    refused = subprocess.run(serve[:2], cwd=tmp_path, capture_output=True, text=True, timeout=30)
    assert refused.returncode == 2 and "usage: scripts/serve [-c FILE]" in refused.stderr


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
