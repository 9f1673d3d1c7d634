"""A twisted.names authoritative DNS server on loopback that plays "the internet's DNS" in tests.

Run as `python -m tests.dnsserver ZONEFILE`: serves the zone over UDP and TCP on one free port of 127.0.0.1 and
prints `port N` once it listens. The zone file is read again when it changes (a test publishes a record by
rewriting it, e.g. with `publish`). It holds zone-file lines as `smb-suite dns` prints them
(`name ttl IN TYPE rdata`, TXT as one or more quoted strings, which twisted's BindAuthority cannot read).
`DnsServer` starts and stops it from a test.
"""

from __future__ import annotations

import select
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

START_DEADLINE = 30.0


def parse_zone(text: str) -> list[tuple[str, int, str, list[str]]]:
    """(name without final dot, ttl, type, rdata strings) for each record line; ';' comments and blanks skipped."""
    records = []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith(";"):
            continue
        name, ttl, klass, rdtype, *rdata = shlex.split(line)
        assert klass == "IN", line
        records.append((name.rstrip(".").lower(), int(ttl), rdtype.upper(), rdata))
    return records


def _serve(zone_path: str) -> None:  # pragma: no cover - runs in the subprocess
    from twisted.internet import reactor
    from twisted.internet.error import CannotListenError
    from twisted.names import authority, dns, server

    class ZoneAuthority(authority.FileAuthority):
        def _lookup(self, name, cls, type, timeout=None):  # type: ignore[no-untyped-def]  # noqa: A002
            stat = Path(zone_path).stat()
            if (stat.st_ino, stat.st_mtime_ns, stat.st_size) != self._stamp:
                self.loadFile(zone_path)
                self._cache = {}
            return super()._lookup(name, cls, type, timeout)

        def loadFile(self, filename: str) -> None:  # noqa: N802 - twisted's name
            stat = Path(filename).stat()
            self._stamp = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
            self.soa = (b"", dns.Record_SOA(mname=b"ns.test", rname=b"root.test", minimum=60, expire=60))
            self.records = {}
            for name, ttl, rdtype, rdata in parse_zone(Path(filename).read_text()):
                if rdtype == "TXT":
                    record = dns.Record_TXT(*(part.encode() for part in rdata), ttl=ttl)
                elif rdtype == "MX":
                    record = dns.Record_MX(int(rdata[0]), rdata[1].rstrip(".").encode(), ttl=ttl)
                else:  # names lose their final dot; "." (SRV: no such service) is the root, b""
                    rdata = [part.rstrip(".") if part.endswith(".") else part for part in rdata]
                    record = getattr(dns, f"Record_{rdtype}")(*rdata, ttl=ttl)
                self.records.setdefault(name.encode(), []).append(record)

    factory = server.DNSServerFactory(authorities=[ZoneAuthority(zone_path)])
    for _ in range(50):
        udp = reactor.listenUDP(0, dns.DNSDatagramProtocol(factory), interface="127.0.0.1")
        port = udp.getHost().port
        try:
            reactor.listenTCP(port, factory, interface="127.0.0.1")
        except CannotListenError:
            udp.stopListening()
            continue
        print(f"port {port}", flush=True)
        reactor.run()
        return
    raise SystemExit("no free port for UDP and TCP")


def publish(zone: Path, line: str) -> None:
    """Add one record line to a served zone file; the server answers with it from the next query on."""
    text = zone.read_text() if zone.exists() else ""
    temporary = zone.with_suffix(".new")
    temporary.write_text(text + line.rstrip("\n") + "\n")
    temporary.replace(zone)  # atomic: the server never reads half a file


@dataclass
class DnsServer:
    """The server in a subprocess; `address` is what `[dns] nameservers` takes."""

    zone: Path
    process: subprocess.Popen[str] | None = None
    port: int = 0

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> DnsServer:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.dnsserver", str(self.zone)],
            stdout=subprocess.PIPE,
            text=True,
            cwd=Path(__file__).resolve().parent.parent,
        )
        assert self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], START_DEADLINE)
        line = self.process.stdout.readline() if ready else ""
        if not line.startswith("port "):
            self.stop()
            raise AssertionError(f"DNS server did not start in {START_DEADLINE} s: {line!r}")
        self.port = int(line.split()[1])
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=30)
            if self.process.stdout is not None:
                self.process.stdout.close()
            self.process = None


if __name__ == "__main__":
    _serve(sys.argv[1])
