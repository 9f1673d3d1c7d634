"""Validation of values read from the file: each problem is a sentence naming what is wrong."""

from __future__ import annotations

import ipaddress
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from smb_suite.config.catalogue import BILLED_MODULES, CURRENCY, PRICED_PER
from smb_suite.config.sections import COLOUR, DMARC_REJECT_ACTIONS, MODULES, SMARTHOST_TLS
from smb_suite.config.values import parse_duration, parse_listen_address, parse_nameserver, parse_workers


def _network_problems(networks: tuple[str, ...]) -> list[str]:
    problems = []
    for network in networks:
        try:
            ipaddress.ip_network(network)
        except ValueError as exc:
            problems.append(f'{network!r} is not a network like "10.0.0.0/8": {exc}')
    return problems


DATABASE_SCHEMES = ("sqlite", "postgresql+psycopg")


def validate(label: str, key: str, value: Any) -> list[str]:
    if label.endswith("[database]") and key == "url" and value:
        scheme = value.partition("://")[0]
        if scheme not in DATABASE_SCHEMES:
            return [f"expected sqlite:///PATH or postgresql+psycopg://USER:PASSWORD@HOST/DBNAME, not {scheme}://"]
    if key == "proxy_protocol_from":
        return _network_problems(value)
    if label.endswith("[listen]") and isinstance(value, str):
        try:
            parse_listen_address(value)
        except ValueError as exc:
            return [str(exc)]
    if isinstance(value, int) and not isinstance(value, bool) and value <= 0:
        return ["must be a positive number"]
    if key in ("smarthost",) and value:
        try:
            parse_listen_address(value)
        except ValueError as exc:
            return [str(exc)]
    if key == "colour" and not COLOUR.fullmatch(value):
        return ['expected a colour like "#1a5fb4"']
    if key == "smarthost_tls" and value not in SMARTHOST_TLS:
        return [f"must be one of {', '.join(SMARTHOST_TLS)}"]
    if key == "routes":
        return _route_problems(value)
    if key == "retry_schedule" and not value:
        return ["needs at least one wait"]
    if key == "directory" and value and not value.startswith(("https://", "http://")):
        return ["must be an http(s) URL"]
    if key == "contact" and value and not value.startswith("mailto:"):
        return ['must be "mailto:ADDRESS"']
    if key == "mta_sts_mode" and value not in ("testing", "enforce", "none"):
        return ["must be testing, enforce or none"]
    if key == "warn_percent" and not all(0 < percent < 100 for percent in value):
        return ["each level must be between 1 and 99"]
    if key == "modules" and not set(value) <= MODULES:
        return [f"unknown module(s) {sorted(set(value) - MODULES)}; known: {sorted(MODULES)}"]
    if key == "dmarc_reject" and value not in DMARC_REJECT_ACTIONS:
        return [f"must be one of {', '.join(DMARC_REJECT_ACTIONS)}"]
    if key in _TIMEOUTS and value <= 0:
        return ["must be more than 0 seconds"]
    if key == "nameservers":
        return [problem for server in value for problem in _nameserver_problems(server)]
    if key == "public_addresses":
        return [problem for address in value for problem in _address_problems(address)]
    return _billing_problems(key, value)


def _billing_problems(key: str, value: Any) -> list[str]:
    if isinstance(value, Decimal) and value < 0:
        return ["must not be negative"]
    if key.endswith("price") and isinstance(value, Decimal) and value != value.quantize(Decimal("0.01")):
        return ["at most two decimal places (cents)"]
    if key.endswith("_percent") and isinstance(value, Decimal) and value > 100:
        return ["must be between 0 and 100"]
    if key == "currency" and not CURRENCY.fullmatch(value):
        return ["must be an ISO 4217 code of three capital letters, e.g. EUR"]
    if key == "per" and value not in PRICED_PER:
        return [f"must be one of {', '.join(PRICED_PER)}"]
    if key == "includes" and not set(value) <= set(BILLED_MODULES):
        return [f"unknown module(s) {sorted(set(value) - set(BILLED_MODULES))}; known: {list(BILLED_MODULES)}"]
    return []


_TIMEOUTS = frozenset(
    {"handshake_timeout", "command_timeout", "data_timeout", "login_timeout", "idle_timeout", "header_timeout"}
    | {"keepalive_timeout", "body_timeout", "send_timeout", "proxy_protocol_timeout"}
    | {"check_interval", "retry_first", "retry_max"}
)


def _nameserver_problems(value: str) -> list[str]:
    try:
        parse_nameserver(value)
    except ValueError as exc:
        return [f"{value!r} is not an IP address with an optional port ({exc})"]
    return []


def _address_problems(value: str) -> list[str]:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return [f"{value!r} is not an IPv4 or IPv6 address"]
    return []


def _route_problems(routes: dict[str, str]) -> list[str]:
    problems = []
    for domain, hop in routes.items():
        try:
            if parse_listen_address(hop) is None:
                raise ValueError('expected "host:port"')
        except ValueError as exc:
            problems.append(f"{domain}: {exc}")
    return problems


def convert(expected: Any, value: Any) -> Any:
    """Coerce a TOML value to the field's type; raise ValueError with a readable reason."""
    text = str(expected)
    if text == "Duration":
        return parse_duration(value)
    if text == "Workers":
        return parse_workers(value)
    if text.startswith("Decimal"):
        return None if value == "" and "None" in text else _decimal(value)
    if text == "tuple[Duration, ...]":
        if not isinstance(value, list):
            raise ValueError("expected a list of durations")
        return tuple(parse_duration(item) for item in value)
    if text == "bool":
        if not isinstance(value, bool):
            raise ValueError("expected true or false")
        return value
    if text == "dict[str, str]":
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise ValueError('expected a table of "key" = "value" strings')
        return {k.lower().rstrip("."): v for k, v in value.items()}
    if "Path" in text:
        if not isinstance(value, str):
            raise ValueError("expected a path string")
        return None if value == "" and "None" in text else Path(value)
    if text == "bool":
        if not isinstance(value, bool):
            raise ValueError("expected true or false")
        return value
    if text == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError("expected a whole number")
        return value
    if text.startswith("tuple["):
        item_type = str if text == "tuple[str, ...]" else int
        if not isinstance(value, list) or not all(type(item) is item_type for item in value):
            raise ValueError(f"expected a list of {'strings' if item_type is str else 'whole numbers'}")
        return tuple(value)
    if text == "str":
        if not isinstance(value, str):
            raise ValueError("expected a string")
        return value
    raise ValueError(f"unsupported type {text}")


def _decimal(value: object) -> Decimal:
    """Money and rates are exact: a string like "15.00" (or a whole number); never a TOML float (binary)."""
    if isinstance(value, float):
        raise ValueError('write it as a string like "15.00": a TOML float is not exact')
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError('expected a decimal string like "15.00"')
    try:
        number = Decimal(value.strip() if isinstance(value, str) else value)
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a decimal number") from None
    if not number.is_finite():
        raise ValueError(f"{value!r} is not a decimal number")
    return number
