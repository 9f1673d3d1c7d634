"""Make the data folder of a released version for tests/integration/test_upgrade.py.

Run it with the released code on the Python path, from this repository:
    git worktree add --detach /tmp/release <tag or commit>
    PYTHONPATH=/tmp/release .venv/bin/python tests/releases/make_release_data.py tests/releases/release-<version>.tar.gz
It drives that version's own CLI and daemon with real clients (no in-process calls, whose names change), so the
folder is exactly what a user of that version has: a business with mail in nested folders, flags and keywords,
an alias and a published site. What the test expects is stored beside it as <archive>.json.
"""

from __future__ import annotations

import email.message
import imaplib
import json
import re
import signal
import smtplib
import socket
import ssl
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

PASSWORD = "release-owner-password"
OWNER = "demo@example.test"
LISTEN = re.compile(r"listening service=(\w+) address=127\.0\.0\.1:(\d+)")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def cli(config: Path, *args: str, stdin: str | None = None) -> None:
    subprocess.run([sys.executable, "-m", "smb_suite", "-c", str(config), *args], input=stdin, text=True, check=True)


def message(subject: str, body: str) -> bytes:
    mail = email.message.EmailMessage()
    mail["From"] = "Client <client@elsewhere.example>"
    mail["To"] = OWNER
    mail["Subject"] = subject
    mail["Message-ID"] = f"<{subject.replace(' ', '-')}@elsewhere.example>"
    mail.set_content(body)
    return mail.as_bytes()


def fill(ports: dict[str, int]) -> dict[str, object]:
    with smtplib.SMTP("127.0.0.1", ports["smtp"]) as smtp:
        for number in range(1, 4):
            smtp.sendmail("client@elsewhere.example", [OWNER], message(f"Order {number}", f"Order number {number}.\n"))
        smtp.sendmail("client@elsewhere.example", ["info@example.test"], message("Question", "Open on Sunday?\n"))
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    with imaplib.IMAP4_SSL("127.0.0.1", ports["imaps"], ssl_context=context) as imap:
        imap.login(OWNER, PASSWORD)
        imap.create("Projects/2026")
        imap.subscribe("Projects/2026")
        imap.append("Projects/2026", r"(\Flagged $Label1)", None, message("Plan", "The plan.\n"))
        imap.select("INBOX")
        imap.uid("STORE", "1", "+FLAGS", r"(\Seen)")
        imap.uid("STORE", "2", "+FLAGS", r"(\Answered $Label2)")
        imap.uid("STORE", "3", "+FLAGS", r"(\Deleted)")
        imap.expunge()
        folders = {}
        for name in ("INBOX", "Projects/2026"):
            imap.select(name)
            validity = imap.response("UIDVALIDITY")[1][0]
            _, data = imap.uid("FETCH", "1:*", "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
            messages = {}
            for item in data:
                if isinstance(item, tuple):
                    uid = int(re.search(rb"UID (\d+)", item[0])[1])  # type: ignore[index]
                    flags = sorted(f.decode() for f in re.search(rb"FLAGS \(([^)]*)\)", item[0])[1].split())  # type: ignore[index]
                    subject = item[1].decode().strip().removeprefix("Subject: ")
                    messages[str(uid)] = {"subject": subject, "flags": [f for f in flags if f != "\\Recent"]}
            folders[name] = {"uidvalidity": int(validity), "messages": messages}
        _, listed = imap.lsub()
        subscribed = sorted(line.decode().rpartition(" ")[2].strip('"') for line in listed)
    return {"owner": OWNER, "password": PASSWORD, "folders": folders, "subscribed": subscribed}


def main(archive: Path) -> None:
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        ports = {name: free_port() for name in ("smtp", "imaps", "http")}
        config = folder / "smb-suite.toml"
        listen = "\n".join(
            f'{name} = "127.0.0.1:{ports.get(name, 0)}"' if name in ports else f'{name} = ""'
            for name in ("smtp", "submission", "submissions", "imap", "imaps", "http", "https")
        )
        config.write_text(f'[server]\nhostname = "mail.example.test"\ndata_dir = "data"\n\n[listen]\n{listen}\n')
        cli(config, "init")
        cli(config, "domain", "add", "example.test")
        cli(config, "user", "add", OWNER, "--password-stdin", "--role", "owner", stdin=PASSWORD + "\n")
        cli(config, "alias", "add", "info@example.test", OWNER)
        cli(config, "site", "publish", "example.test")
        with open(folder / "serve.log", "wb") as log:
            daemon = subprocess.Popen(
                [sys.executable, "-m", "smb_suite", "-c", str(config), "serve"], stdout=log, stderr=subprocess.STDOUT
            )
            try:
                deadline = time.monotonic() + 60
                while len(LISTEN.findall((folder / "serve.log").read_text())) < len(ports):
                    if time.monotonic() > deadline or daemon.poll() is not None:
                        raise SystemExit((folder / "serve.log").read_text())
                    time.sleep(0.2)
                expected = fill(ports)
            finally:
                daemon.send_signal(signal.SIGTERM)
                daemon.wait(30)
        with tarfile.open(archive, "w:gz") as tar:
            tar.add(folder / "data", arcname="data")
        archive.with_suffix("").with_suffix(".json").write_text(json.dumps(expected, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]).resolve())
