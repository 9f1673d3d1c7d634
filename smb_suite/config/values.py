"""Value types of the configuration file: durations, worker counts, listen addresses, name servers."""

from __future__ import annotations

import ipaddress
import os
import re


def described(text: str) -> dict[str, str]:
    return {"help": text}


class Duration(float):
    """Seconds, written in the file as "90s", "15m", "4h", "5d" (or a whole number of seconds)."""


_DURATION = re.compile(r"(\d+)\s*([smhd]?)")


_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


class Workers(int):
    """How many worker processes serve the listeners: "auto" (one per core this process may run on) or N."""


def cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def parse_workers(value: object) -> Workers:
    if value == "auto":
        return Workers(cores())
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return Workers(value)
    raise ValueError('expected "auto" or a whole number of processes (1 or more)')


def parse_duration(value: object) -> Duration:
    if isinstance(value, int) and not isinstance(value, bool):
        return Duration(value)
    match = _DURATION.fullmatch(value.strip()) if isinstance(value, str) else None
    if match is None:
        raise ValueError('expected a duration like "90s", "15m", "4h" or "5d"')
    return Duration(int(match[1]) * _UNITS[match[2]])


MIB = 1024 * 1024


def parse_listen_address(value: str) -> tuple[str, int] | None:
    """'host:port' -> (host, port); '' -> None (service disabled). IPv6 as '[::1]:25'."""
    if value == "":
        return None
    host, sep, port_text = value.rpartition(":")
    if not sep or not host or not port_text.isdigit():
        raise ValueError('expected "host:port" or "" to disable')
    port = int(port_text)
    if not 0 <= port <= 65535:
        raise ValueError(f"port {port} is out of range 0-65535")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
        ipaddress.IPv6Address(host)
    return host, port


def parse_nameserver(value: str, default_port: int = 53) -> tuple[str, int]:
    """'192.0.2.1' or '192.0.2.1:5353' or '[2001:db8::1]:53' -> (address, port); raise ValueError."""
    host, port = value, default_port
    if value.startswith("["):
        host, _, rest = value[1:].partition("]")
        if rest:
            if not rest.startswith(":") or not rest[1:].isdigit():
                raise ValueError(f"{value!r}: expected [address]:port")
            port = int(rest[1:])
    elif value.count(":") == 1:
        host, _, port_text = value.partition(":")
        if not port_text.isdigit():
            raise ValueError(f"{value!r}: expected address:port")
        port = int(port_text)
    ipaddress.ip_address(host)
    if not 0 < port <= 65535:
        raise ValueError(f"{value!r}: port out of range 1-65535")
    return host, port
