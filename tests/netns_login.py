"""Run inside a private network namespace (tests/integration/test_imap_login_rule.py): the daemon listens on
10.9.0.1, an address of the namespace's own `lo` that is not a loopback address, and a client there tries to log in.

Prints one JSON object of what the client observed; the test asserts on it.
"""

from __future__ import annotations

import imaplib
import json
import subprocess
import sys
from pathlib import Path

from tests.daemon import USER, USER_PASSWORD, Daemon
from tests.mailtest import insecure_context

ADDRESS = "10.9.0.1"


def observe(daemon: Daemon) -> dict[str, object]:
    seen: dict[str, object] = {}
    with imaplib.IMAP4(ADDRESS, daemon.ports["imap"], timeout=30) as client:
        seen["capabilities_in_the_clear"] = sorted(client.capabilities)
        try:
            client.login(USER, USER_PASSWORD)
            seen["login_in_the_clear"] = "OK"
        except imaplib.IMAP4.error as error:
            seen["login_in_the_clear"] = str(error)
        client.starttls(ssl_context=insecure_context())
        seen["capabilities_after_starttls"] = sorted(client.capabilities)
        seen["login_after_starttls"] = client.login(USER, USER_PASSWORD)[0]
    with imaplib.IMAP4_SSL(ADDRESS, daemon.ports["imaps"], ssl_context=insecure_context(), timeout=30) as client:
        seen["login_over_imaps"] = client.login(USER, USER_PASSWORD)[0]
    return seen


def main(folder: Path) -> None:
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    subprocess.run(["ip", "addr", "add", f"{ADDRESS}/32", "dev", "lo"], check=True)
    config = folder / "smb-suite.toml"
    config.write_text(config.read_text().replace('"127.0.0.1:', f'"{ADDRESS}:'))
    daemon = Daemon(folder, config).start()
    try:
        print(json.dumps(observe(daemon)))
    finally:
        daemon.stop()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
