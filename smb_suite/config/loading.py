"""Reading the TOML file into a Config: every problem reported at once, with file, section and key."""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path
from typing import Any

from smb_suite.config.catalogue import BILLED_MODULES, BillingConfig, ExtensionConfig, ModuleConfig, PlanConfig
from smb_suite.config.checks import convert, validate
from smb_suite.config.schema import Config
from smb_suite.config.sections import TierConfig
from smb_suite.errors import ConfigError


def _resolve_paths(config: Config, base: Path) -> Config:
    def rebase(path: Path | None) -> Path | None:
        return None if path is None else (path if path.is_absolute() else base / path)

    server = dataclasses.replace(config.server, data_dir=rebase(config.server.data_dir) or base)
    tls = dataclasses.replace(config.tls, certificate=rebase(config.tls.certificate), key=rebase(config.tls.key))
    acme = dataclasses.replace(config.acme, ca_certificates=rebase(config.acme.ca_certificates))
    sites = dataclasses.replace(
        config.sites,
        themes_dir=rebase(config.sites.themes_dir),
        certificates_dir=rebase(config.sites.certificates_dir),
    )
    return dataclasses.replace(config, server=server, tls=tls, acme=acme, sites=sites)


def _load_table(label: str, table: dict[str, Any], section_type: Any, errors: list[str]) -> Any:
    """Convert and validate one TOML table into its dataclass; append every problem to errors."""
    fields = {f.name: f for f in dataclasses.fields(section_type)}
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key not in fields:
            errors.append(f"{label} {key}: unknown key")
            continue
        try:
            converted = convert(fields[key].type, value)
        except ValueError as exc:
            errors.append(f"{label} {key}: {exc}")
            continue
        errors.extend(f"{label} {key}: {problem}" for problem in validate(label, key, converted))
        values[key] = converted
    required = [
        name
        for name, f in fields.items()
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]
    missing = [name for name in required if name not in values]
    errors.extend(f"{label} {name}: missing key" for name in missing)
    return None if missing else section_type(**values)


def _load_tiers(where: str, table: dict[str, Any], errors: list[str]) -> dict[str, TierConfig]:
    tiers: dict[str, TierConfig] = {}
    for name, tier_table in table.items():
        if not isinstance(tier_table, dict):
            errors.append(f"{where}: [tiers] {name}: must be a table [tiers.{name}]")
            continue
        tier = _load_table(f"{where}: [tiers.{name}]", tier_table, TierConfig, errors)
        if tier is not None:
            tiers[name] = tier
    if not tiers and not errors:
        errors.append(f"{where}: [tiers] defines no tier")
    return tiers


_CATALOGUE = {"plans": PlanConfig, "modules": ModuleConfig, "extensions": ExtensionConfig}


def _load_billing(where: str, table: dict[str, Any], errors: list[str]) -> BillingConfig | None:
    """[billing] rates, then one [billing.plans.NAME], [billing.modules.NAME], [billing.extensions.NAME] table
    each; defining any table of a kind replaces the built-in ones of that kind."""
    scalars = {key: value for key, value in table.items() if key not in _CATALOGUE}
    billing = _load_table(f"{where}: [billing]", scalars, BillingConfig, errors)
    catalogue: dict[str, Any] = {}
    for kind, item_type in _CATALOGUE.items():
        if kind not in table:
            continue
        catalogue[kind] = {}
        for name, item in (table[kind] if isinstance(table[kind], dict) else {kind: None}).items():
            label = f"{where}: [billing.{kind}.{name}]"
            if not isinstance(item, dict):
                errors.append(f"{label}: must be a table")
            elif kind == "modules" and name not in BILLED_MODULES:
                errors.append(f"{label}: unknown module; known: {', '.join(BILLED_MODULES)}")
            elif (loaded := _load_table(label, item, item_type, errors)) is not None:
                catalogue[kind][name] = loaded
                errors.extend(f"{label} deskless_price: {problem}" for problem in _deskless_problems(loaded))
    return None if billing is None else dataclasses.replace(billing, **catalogue)


def _deskless_problems(item: PlanConfig | ModuleConfig | ExtensionConfig) -> list[str]:
    deskless = getattr(item, "deskless_price", None)
    return ["must not be more than price"] if deskless is not None and deskless > item.price else []


def _offered_extensions(config: Config, billing_table: dict[str, Any]) -> Config:
    """The built-in storage extension is offered only where its tiers exist: a file that replaces the built-in
    tiers and writes no [billing.extensions.NAME] still loads (extensions written in the file are checked)."""
    if "extensions" in billing_table:
        return config
    offered = {
        name: extension
        for name, extension in config.billing.extensions.items()
        if {extension.from_tier, extension.tier} <= set(config.tiers)
    }
    return dataclasses.replace(config, billing=dataclasses.replace(config.billing, extensions=offered))


def _catalogue_tier_problems(where: str, config: Config) -> list[str]:
    return [
        f"{where}: [billing.extensions.{name}] {key}: no tier named {tier!r}"
        for name, extension in config.billing.extensions.items()
        for key, tier in (("from_tier", extension.from_tier), ("tier", extension.tier))
        if tier not in config.tiers
    ]


def load(path: Path | None) -> Config:
    """Read and validate a TOML file (None: all defaults, paths relative to the working folder)."""
    if path is None:
        return _resolve_paths(Config(), Path.cwd())
    where = str(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{where}: cannot read: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where}: not valid TOML: {exc}") from exc

    errors: list[str] = []
    sections: dict[str, Any] = {}
    schema = {f.name: f for f in dataclasses.fields(Config)}
    for section_name, table in raw.items():
        if section_name not in schema:
            errors.append(f"{where}: unknown section [{section_name}]")
        elif not isinstance(table, dict):
            errors.append(f"{where}: [{section_name}] must be a table")
        elif section_name == "tiers":
            sections["tiers"] = _load_tiers(where, table, errors)
        elif section_name == "billing":
            sections["billing"] = _load_billing(where, table, errors)
        else:
            section_type: Any = schema[section_name].default_factory
            sections[section_name] = _load_table(f"{where}: [{section_name}]", table, section_type, errors)
    if not errors:
        config = _offered_extensions(Config(**sections), raw.get("billing", {}))
        if config.quota.default_tier not in config.tiers:
            errors.append(f"{where}: [quota] default_tier: no tier named {config.quota.default_tier!r}")
        errors.extend(_catalogue_tier_problems(where, config))
    if errors:
        raise ConfigError("\n".join(errors))
    return _resolve_paths(config, path.resolve().parent)
