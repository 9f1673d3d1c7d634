"""The documented example configuration is complete and loads to the built-in defaults."""

from __future__ import annotations

import dataclasses
import os
import tomllib
from pathlib import Path

import pytest

from smb_suite import config
from smb_suite.errors import ConfigError

EXAMPLE = Path(__file__).resolve().parents[2] / "conf" / "smb-suite.toml"


def test_example_config_documents_every_key() -> None:
    documented = tomllib.loads(EXAMPLE.read_text())
    catalogue = {"plans": config.PlanConfig, "modules": config.ModuleConfig, "extensions": config.ExtensionConfig}
    for section in dataclasses.fields(config.Config):
        if section.name == "tiers":
            continue
        keys = {f.name for f in dataclasses.fields(section.default_factory())}  # type: ignore[misc]
        assert set(documented[section.name]) == keys, section.name
    tier_keys = {f.name for f in dataclasses.fields(config.TierConfig)}
    assert all(set(tier) == tier_keys for tier in documented["tiers"].values())
    for kind, item_type in catalogue.items():
        item_keys = {f.name for f in dataclasses.fields(item_type)}
        assert all(set(item) == item_keys for item in documented["billing"][kind].values()), kind


def test_example_config_loads_to_the_defaults() -> None:
    loaded = config.load(EXAMPLE)
    assert loaded.listen == config.Config().listen
    assert loaded.smtp == config.Config().smtp
    assert loaded.tiers == config.Config().tiers
    assert loaded.quota == config.Config().quota
    assert loaded.billing == config.Config().billing
    assert loaded.server.data_dir == Path("/var/lib/smb-suite")  # used in place, it never writes into conf/
    assert loaded.themes_dir == config.BUNDLED_THEMES
    assert (loaded.themes_dir / "default" / "theme.toml").exists()


def test_example_config_has_the_mail_authentication_defaults() -> None:
    loaded = config.load(EXAMPLE)
    assert (loaded.dns, loaded.inbound, loaded.dkim) == (
        config.DnsConfig(),
        config.InboundConfig(),
        config.DkimConfig(),
    )


def test_dns_and_inbound_mistakes_are_all_reported_with_their_keys(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('[dns]\nnameservers = ["resolver.example", "127.0.0.1:99999"]\n[inbound]\ndmarc_reject = "drop"\n')
    with pytest.raises(ConfigError) as problems:
        config.load(path)
    text = str(problems.value)
    assert text.count("[dns] nameservers") == 2
    assert "[inbound] dmarc_reject: must be one of reject, quarantine" in text


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("192.0.2.53", ("192.0.2.53", 53)),
        ("127.0.0.1:5353", ("127.0.0.1", 5353)),
        ("[::1]:53", ("::1", 53)),
        ("2001:db8::53", ("2001:db8::53", 53)),
    ],
)
def test_nameservers_are_addresses_with_an_optional_port(text: str, parsed: tuple[str, int]) -> None:
    assert config.parse_nameserver(text) == parsed


def test_outbound_durations_and_routes_are_read_and_checked(tmp_path: Path) -> None:
    path = tmp_path / "smb-suite.toml"
    path.write_text(
        '[outbound]\nretry_schedule = ["90s", "15m", 7200]\nmax_age = "2d"\n'
        '[outbound.routes]\n"Partner.Example" = "192.0.2.1:25"\n'
    )
    loaded = config.load(path)
    assert loaded.outbound.retry_schedule == (90, 900, 7200)
    assert loaded.outbound.max_age == 2 * 86400
    assert loaded.outbound.routes == {"partner.example": "192.0.2.1:25"}
    path.write_text(
        '[outbound]\nmax_age = "soon"\nsmarthost_tls = "maybe"\n[outbound.routes]\n"x.example" = "nohost"\n'
    )
    with pytest.raises(config.ConfigError) as failure:
        config.load(path)
    problems = str(failure.value)
    assert "max_age" in problems and "smarthost_tls" in problems and "x.example" in problems


def test_workers_are_auto_for_one_per_core_or_a_number_and_anything_else_is_reported(tmp_path: Path) -> None:
    """`[server] workers = "auto" | N`: auto (the default) is the cores this process may run on."""
    path = tmp_path / "smb-suite.toml"
    path.write_text("")
    assert config.load(path).server.workers == len(os.sched_getaffinity(0))
    path.write_text('[server]\nworkers = "auto"\n')
    assert config.load(path).server.workers == len(os.sched_getaffinity(0))
    path.write_text("[server]\nworkers = 3\n")
    assert config.load(path).server.workers == 3
    for wrong in ("0", '"two"', "true", "1.5"):
        path.write_text(f"[server]\nworkers = {wrong}\n")
        with pytest.raises(ConfigError) as problems:
            config.load(path)
        assert "[server] workers" in str(problems.value) and '"auto"' in str(problems.value), wrong


def test_the_database_is_sqlite_or_postgresql_through_psycopg(tmp_path: Path) -> None:
    path = tmp_path / "smb-suite.toml"
    path.write_text('[database]\nurl = "postgresql+psycopg://smb@db.internal/mail"\n')
    assert config.load(path).database_url == "postgresql+psycopg://smb@db.internal/mail"
    path.write_text('[database]\nurl = "mysql://smb@db.internal/mail"\n')
    with pytest.raises(ConfigError) as problems:
        config.load(path)
    assert "[database]" in str(problems.value) and "url" in str(problems.value)
    assert "postgresql+psycopg://" in str(problems.value)


def test_proxy_protocol_balancers_are_networks_and_mistakes_are_reported(tmp_path: Path) -> None:
    path = tmp_path / "smb-suite.toml"
    path.write_text('[listen]\nproxy_protocol_from = ["10.0.0.0/8", "2001:db8::/32", "192.0.2.7"]\n')
    assert config.load(path).listen.proxy_protocol_from == ("10.0.0.0/8", "2001:db8::/32", "192.0.2.7")
    path.write_text('[listen]\nproxy_protocol_from = ["haproxy.internal", "10.0.0.1/8"]\nproxy_protocol_timeout = 0\n')
    with pytest.raises(ConfigError) as problems:
        config.load(path)
    text = str(problems.value)
    assert "[listen] proxy_protocol_from: 'haproxy.internal'" in text and "'10.0.0.1/8'" in text
    assert "[listen] proxy_protocol_timeout" in text


def test_acme_mistakes_are_reported_with_their_keys(tmp_path: Path) -> None:
    path = tmp_path / "smb-suite.toml"
    path.write_text('[acme]\ndirectory = "ftp://ca.example/dir"\ncontact = "ops@example.com"\nretry_first = "0s"\n')
    with pytest.raises(ConfigError) as caught:
        config.load(path)
    text = str(caught.value)
    assert "[acme] directory: must be an http(s) URL" in text
    assert '[acme] contact: must be "mailto:ADDRESS"' in text
    assert "[acme] retry_first: must be more than 0 seconds" in text
