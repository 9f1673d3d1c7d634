"""A dictionary that answers like DNS, for the pure mail/ modules (the daemon tests use tests/dnsserver.py)."""

from __future__ import annotations

from collections.abc import Iterable

from smb_suite.errors import DnsFailure


class ZoneLookup:
    """Records by (name, type); names in `failing` time out. Satisfies smb_suite.mail.lookup.DnsLookup."""

    def __init__(self, records: dict[tuple[str, str], list[str]], failing: Iterable[str] = ()) -> None:
        self.records = {(name.lower(), rdtype): values for (name, rdtype), values in records.items()}
        self.failing = set(failing)
        self.asked: list[tuple[str, str]] = []

    def _get(self, name: str, rdtype: str) -> list[str]:
        self.asked.append((name, rdtype))
        if name in self.failing:
            raise DnsFailure(f"{name} timed out")
        return list(self.records.get((name.lower().rstrip("."), rdtype), []))

    async def txt(self, name: str) -> list[bytes]:
        return [value.encode() for value in self._get(name, "TXT")]

    async def addresses(self, name: str, rdtype: str = "A") -> list[str]:
        return self._get(name, rdtype)

    async def mx(self, name: str) -> list[tuple[int, str]]:
        return [(10, value) for value in self._get(name, "MX")]

    async def ptr(self, address: str) -> list[str]:
        return self._get(address, "PTR")
