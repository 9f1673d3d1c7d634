"""The catalogue in the configuration file: exact money, a currency per price, every mistake named with its key."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from smb_suite import config
from smb_suite.errors import ConfigError


def _load(tmp_path: Path, text: str) -> config.Config:
    path = tmp_path / "smb-suite.toml"
    path.write_text(text)
    return config.load(path)


def test_the_shipped_catalogue_sells_the_full_suite_at_15_usd_per_user_and_storage_at_4_eur() -> None:
    billing = config.Config().billing
    assert (billing.plans["suite"].price, billing.plans["suite"].currency) == (Decimal("15.00"), "USD")
    extension = billing.extensions["storage-100"]
    assert (extension.from_tier, extension.tier, extension.price, extension.currency) == (
        "starter",
        "plus",
        Decimal("4.00"),
        "EUR",
    )
    assert set(billing.modules) == {"mail", "website", "collaboration"}
    assert (billing.first_year_percent, billing.later_years_percent) == (Decimal(12), Decimal(6))


def test_prices_are_read_as_exact_decimals(tmp_path: Path) -> None:
    loaded = _load(
        tmp_path,
        '[billing.plans.team]\nprice = "0.10"\ncurrency = "CHF"\n'
        '[billing.modules.website]\nprice = 7\ncurrency = "EUR"\nper = "business"\n',
    )
    assert loaded.billing.plans == {"team": config.PlanConfig(Decimal("0.10"), "CHF")}
    assert loaded.billing.modules["website"].price == Decimal(7)
    assert loaded.billing.extensions == config.Config().billing.extensions


def test_every_catalogue_mistake_is_reported_with_file_section_and_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        _load(
            tmp_path,
            '[billing]\nfirst_year_percent = 12.5\nlater_years_percent = "106"\n'
            '[billing.plans.suite]\nprice = "15.001"\ncurrency = "usd"\nincludes = ["mail", "chat"]\n'
            '[billing.plans.cheap]\nprice = "5"\ncurrency = "EUR"\ndeskless_price = "6"\n'
            '[billing.modules.mail]\nprice = "-1"\ncurrency = "EUR"\nper = "seat"\n'
            '[billing.modules.fax]\nprice = "1"\ncurrency = "EUR"\n'
            '[billing.extensions.big]\nfrom_tier = "starter"\ntier = "huge"\nprice = "x"\ncurrency = "EUR"\n',
        )
    where = str(tmp_path / "smb-suite.toml")
    lines = str(raised.value).splitlines()
    assert all(line.startswith(where) for line in lines)
    for expected in (
        "[billing] first_year_percent: write it as a string",
        "[billing] later_years_percent: must be between 0 and 100",
        "[billing.plans.suite] price: at most two decimal places",
        "[billing.plans.suite] currency: must be an ISO 4217 code",
        "[billing.plans.suite] includes: unknown module(s) ['chat']",
        "[billing.plans.cheap] deskless_price: must not be more than price",
        "[billing.modules.mail] price: must not be negative",
        "[billing.modules.mail] per: must be one of user, business",
        "[billing.modules.fax]: unknown module",
        "[billing.extensions.big] price: 'x' is not a decimal number",
    ):
        assert any(expected in line for line in lines), expected


def test_an_extension_must_name_existing_tiers(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"\[billing.extensions.big\] tier: no tier named 'huge'"):
        _load(
            tmp_path, '[billing.extensions.big]\nfrom_tier = "starter"\ntier = "huge"\nprice = "1"\ncurrency = "EUR"\n'
        )


def test_own_tiers_without_starter_and_plus_load_without_the_built_in_extension(tmp_path: Path) -> None:
    loaded = _load(tmp_path, '[tiers.mini]\nstorage_mb = 1\n[quota]\ndefault_tier = "mini"\n')
    assert loaded.billing.extensions == {}
    assert loaded.billing.plans == config.Config().billing.plans
