"""What the pure mail/ modules need from DNS: a protocol, so they take any resolver (smb_suite.dns in the daemon,
a dictionary in tests) and never open a socket themselves.

Each method returns an empty list for NXDOMAIN or no data, and raises errors.DnsFailure when it cannot tell.
"""

from __future__ import annotations

from typing import Protocol


class DnsLookup(Protocol):
    async def txt(self, name: str) -> list[bytes]: ...

    async def addresses(self, name: str, rdtype: str = "A") -> list[str]: ...

    async def mx(self, name: str) -> list[tuple[int, str]]: ...

    async def ptr(self, address: str) -> list[str]: ...
