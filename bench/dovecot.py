"""A private Dovecot (Debian's dovecot-imapd) to compare smb-suite with: its own configuration, base_dir and
passwd-file in a folder of ours, plain IMAP on 127.0.0.1 on a free port, stopped by its pid. bench/imap.py times
it; the IMAP conformance tests compare its FETCH answers with ours. It must run as root (Dovecot
drops to its own users for the mail processes); `apt-get install -y dovecot-imapd` is run if it is missing.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
from collections.abc import Sequence
from pathlib import Path

from bench.maildirs import write_maildir
from tests.polling import wait_for


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def logs_in(port: int, user: str, password: str) -> bool:
    """Whether a LOGIN on `port` is answered OK now (Dovecot's auth service starts after its listener)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock, sock.makefile("rb") as file:
            file.readline()
            sock.sendall(f'r LOGIN {user} "{password}"\r\nq LOGOUT\r\n'.encode())
            while line := file.readline():
                if line.startswith(b"r "):
                    return line.startswith(b"r OK")
    except OSError:
        pass
    return False


def wait_for_login(port: int, process: subprocess.Popen[bytes], user: str, password: str) -> None:
    """Until the server just started answers a login; fails at once if it exits."""

    def probe() -> bool:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        return logs_in(port, user, password)

    wait_for("a login to be answered", probe, deadline=300, interval=0.2)


def mail_folder(root: Path, user: str) -> Path:
    """Where the Dovecot made in `root` keeps a user's Maildir (Maildir++: other folders are .Name inside)."""
    return root / "dovecot" / "mail" / user


class Dovecot:
    """One account (`user`, plain-text `password`) whose INBOX holds `messages` at start, and `others` (user,
    password) whose Maildirs the caller writes at `mail_folder` before."""

    name = "dovecot"

    def __init__(
        self,
        root: Path,
        user: str,
        password: str,
        messages: Sequence[bytes] = (),
        connections: int = 200,
        others: Sequence[tuple[str, str]] = (),
    ) -> None:
        if shutil.which("dovecot") is None:
            subprocess.run(["apt-get", "install", "-y", "-qq", "dovecot-imapd"], check=True)
        self.root = root / "dovecot"
        (self.root / "run").mkdir(parents=True)
        self.port = free_port()
        logins = [(user, password), *others]
        (self.root / "passwd").write_text("".join(f"{name}:{{PLAIN}}{secret}::::::\n" for name, secret in logins))
        write_maildir(mail_folder(root, user), messages)
        config = self.root / "dovecot.conf"
        config.write_text(f"""
base_dir = {self.root}/run
state_dir = {self.root}/state
log_path = {self.root}/dovecot.log
instance_name = smb-suite-{self.port}
listen = 127.0.0.1
protocols = imap
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 1
mail_location = maildir:{self.root}/mail/%u
mail_max_userip_connections = {connections}
default_process_limit = {connections}
default_client_limit = {connections * 2}
default_vsz_limit = 0
passdb {{
  driver = passwd-file
  args = {self.root}/passwd
}}
userdb {{
  driver = static
  args = uid=dovecot gid=dovecot home={self.root}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
  service_count = 0
  process_min_avail = 2
}}
service imap {{
  process_limit = {connections}
}}
service anvil {{
  client_limit = {connections * 3}
}}
""")
        subprocess.run(["chown", "-R", "dovecot:dovecot", str(self.root / "mail")], check=True)
        (self.root / "home").mkdir()
        subprocess.run(["chown", "dovecot:dovecot", str(self.root / "home")], check=True)
        self.process = subprocess.Popen(
            ["dovecot", "-F", "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            wait_for_login(self.port, self.process, user, password)
        except BaseException:
            self.stop()
            raise

    def pids(self) -> list[int]:
        """The master and all its descendants."""
        children: dict[int, list[int]] = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    ppid = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
                except (OSError, IndexError, ValueError):
                    continue
                children.setdefault(ppid, []).append(int(entry))
        found, queue = [], [self.process.pid]
        while queue:
            pid = queue.pop()
            found.append(pid)
            queue.extend(children.get(pid, []))
        return found

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=60)
