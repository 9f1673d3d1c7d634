"""The documented example configuration is complete and loads to the built-in defaults."""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path

from smb_suite import config

EXAMPLE = Path(__file__).resolve().parent.parent / "conf" / "smb-suite.toml"


def test_example_config_documents_every_key() -> None:
    documented = tomllib.loads(EXAMPLE.read_text())
    for section in dataclasses.fields(config.Config):
        if section.name == "tiers":
            continue
        keys = {f.name for f in dataclasses.fields(section.default_factory())}  # type: ignore[misc]
        assert set(documented[section.name]) == keys, section.name
    tier_keys = {f.name for f in dataclasses.fields(config.TierConfig)}
    assert all(set(tier) == tier_keys for tier in documented["tiers"].values())


def test_example_config_loads_to_the_defaults() -> None:
    loaded = config.load(EXAMPLE)
    assert loaded.listen == config.Config().listen
    assert loaded.smtp == config.Config().smtp
    assert loaded.tiers == config.Config().tiers
    assert loaded.quota == config.Config().quota
    assert loaded.server.data_dir == EXAMPLE.parent / "data"
    assert loaded.themes_dir == config.BUNDLED_THEMES
    assert (loaded.themes_dir / "default" / "theme.toml").exists()
