"""The rest of the internet for the outbound queue: aiosmtpd's own server in a process of its own, keeping what
it receives in a Maildir (test_cluster, test_password_recovery)."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from tests.mailtest import free_port
from tests.polling import wait_for


@dataclass
class Sink:
    """The rest of the internet for the queue: aiosmtpd's own server, storing what it receives in a Maildir."""

    folder: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{self.port}"]
        command += ["-c", "aiosmtpd.handlers.Mailbox", str(self.folder / "maildir")]
        with open(self.folder / "sink.log", "wb") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)

        def listening() -> bool:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=5):
                return True
            return False

        wait_for("the sink to listen", listening, 30)

    def messages(self) -> list[bytes]:
        new = self.folder / "maildir" / "new"
        return [path.read_bytes() for path in sorted(new.iterdir())] if new.exists() else []

    def subjects(self) -> list[str]:
        new = self.folder / "maildir" / "new"
        found = []
        for path in new.iterdir() if new.exists() else ():
            header = path.read_bytes().partition(b"\n\n")[0]
            found += [line[9:].strip().decode() for line in header.splitlines() if line.startswith(b"Subject: ")]
        return found

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)
            self.process = None
