"""SMTP throughput, smb-suite against Postfix on the same machine in the same run.

    python bench/smtp.py [--quick]

Figures (docs/ARCHITECTURE.md form):
  inbound_to_maildir    Postfix's smtp-source -> inbound port -> Maildir with fsync, until every copy is on disk
  inbound_to_maildir_1_worker  the same with `[server] workers = 1`, when --workers is not 1 (same Postfix run)
  forward_to_remote     smtp-source -> inbound, a forwarding mailbox -> outbound queue -> smtp-sink
                        (Postfix: smtp-source -> relay for mynetworks -> smtp-sink); until the queue is empty
  submission_to_remote  aiosmtplib, 10 sessions with STARTTLS + AUTH -> our queue -> smtp-sink (reference: the
                        Postfix relay figure, which needs no TLS or AUTH)
  <figure>_cpu          CPU ms per message of each server's processes during that figure (steadier than rates
                        on a shared machine; the load generator and the sink are not counted)
  idle_rss_per_worker   resident memory of each serving process once started
Installs postfix from Debian when smtp-source is missing. Never fails on a number; stops (WrongAnswer) before
printing a figure whose messages did not all arrive once, whole (Maildir file count and sizes, smtp-sink's count).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import re
import shutil
import signal
import socket
import sqlite3
import ssl
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from maildirs import maildir_path, toml_workers  # noqa: E402 - where a user's Maildir is (ids from the database)
from processes import cpu_seconds, idle_rss_line  # noqa: E402 - the workers' memory and CPU figures

from tests import polling  # noqa: E402 - the tests' one polling loop
from tests.dnsserver import DnsServer  # noqa: E402 - the loopback DNS server the tests use

DOMAIN = "bench.test"
SINK_DOMAIN = "sink.test"
DEADLINE = 600.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(what: str, probe: Callable[[], object], deadline: float = DEADLINE, step: float = 0.02) -> None:
    polling.wait_for(what, probe, deadline, interval=step)


def ensure_postfix() -> None:
    if shutil.which("smtp-source") and shutil.which("postfix"):
        return
    print("bench: installing postfix (Debian) for smtp-source, smtp-sink and the reference server", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(
        ["debconf-set-selections"], input=b"postfix postfix/main_mailer_type select No configuration\n", check=False
    )
    subprocess.run(["apt-get", "install", "-y", "-q", "postfix"], env=env, check=True, stdout=subprocess.DEVNULL)


def figure(name: str, ours: float, reference_name: str, reference: float, unit: str) -> None:
    ratio = ours / reference if reference else float("nan")
    print(f"figure {name}: ours={ours:.1f} {reference_name}={reference:.1f} unit={unit} ratio={ratio:.2f}", flush=True)


def cpu_figure(name: str, ours: float, reference_name: str, reference: float, count: int) -> None:
    """CPU milliseconds per message (the server's processes, not the load generator's): steadier than the rate
    when other work shares the cores."""
    figure(f"{name}_cpu", 1000 * ours / count, reference_name, 1000 * reference / count, "ms/msg")


def inbound_to_maildir(ours: Ours, count: int, sessions: int, size: int) -> tuple[float, float]:
    """smtp-source into our MX until every copy is in the Maildir, checked: (messages/s, CPU seconds)."""
    start, cpu = time.monotonic(), ours.cpu()
    smtp_source(ours.ports["smtp"], count, sessions, size, f"inbox@{DOMAIN}")
    wait_for("our Maildir", lambda: count_files(ours.inbox("inbox")) >= count)
    rate, used = count / (time.monotonic() - start), ours.cpu() - cpu
    check_maildir("smb-suite", ours.inbox("inbox"), count, size)
    return rate, used


def count_files(folder: Path) -> int:
    return sum(1 for _ in os.scandir(folder)) if folder.is_dir() else 0


class WrongAnswer(RuntimeError):
    """A server lost, doubled or cut messages: no figure is reported. (A refused command already stops the
    bench: smtp-source exits non-zero on any reply other than the expected one, aiosmtplib raises.)"""


def check_maildir(server: str, folder: Path, count: int, size: int) -> None:
    """Exactly `count` messages, each at least the `size` octets of payload smtp-source sent."""
    sizes = [entry.stat().st_size for entry in os.scandir(folder)]
    short = sum(1 for octets in sizes if octets < size)
    if len(sizes) != count or short:
        raise WrongAnswer(f"{server}: {len(sizes)} messages in {folder}, not {count}; {short} under {size} octets")


class Sink:
    """Postfix's smtp-sink, counting the messages it received (`-c` prints `mesg=N` after each one)."""

    def __init__(self, folder: Path, port: int) -> None:
        self.output = folder / "sink.out"
        with self.output.open("wb") as out:
            self.process = subprocess.Popen(
                ["smtp-sink", "-c", "-u", "nobody", f"127.0.0.1:{port}", "256"], stdout=out, stderr=subprocess.STDOUT
            )

    def received(self) -> int:
        counts = re.findall(rb"mesg=(\d+)", self.output.read_bytes()[-200:])
        return int(counts[-1]) if counts else 0

    def check(self, server: str, before: int, count: int) -> None:
        """Each of `count` messages reached the sink once since it had received `before`."""
        got = self.received() - before
        if got != count:
            raise WrongAnswer(f"{server}: the sink received {got} messages, not {count}")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=30)


def smtp_source(port: int, count: int, sessions: int, size: int, to: str) -> float:
    """Run smtp-source; return its wall time in seconds."""
    start = time.monotonic()
    subprocess.run(
        [
            "smtp-source",
            "-s",
            str(sessions),
            "-m",
            str(count),
            "-l",
            str(size),
            "-M",
            "client.remote.test",
            "-f",
            "sender@remote.test",
            "-t",
            to,
            f"127.0.0.1:{port}",
        ],
        check=True,
    )
    return time.monotonic() - start


# -- smb-suite ------------------------------------------------------------------------------------------------


class Ours:
    def __init__(self, folder: Path, sink_port: int, nameserver: str, workers: str) -> None:
        self.folder = folder
        folder.mkdir(parents=True)
        self.config = folder / "smb-suite.toml"
        listen = {name: '""' for name in ("smtp", "submission", "submissions", "imap", "imaps", "http", "https")}
        listen["smtp"] = listen["submission"] = '"127.0.0.1:0"'
        self.config.write_text(
            f'[server]\nhostname = "bench.localhost"\ndata_dir = "data"\nworkers = {toml_workers(workers)}\n[listen]\n'
            + "".join(f"{k} = {v}\n" for k, v in listen.items())
            + '[outbound]\nsmarthost = "127.0.0.1:9"\nretry_schedule = ["1s"]\nscan_interval = "1s"\n'
            + f'[outbound.routes]\n"{SINK_DOMAIN}" = "127.0.0.1:{sink_port}"\n'
            + '[tiers.bench]\nstorage_mb = 100000\n[quota]\ndefault_tier = "bench"\n'
            # SPF/DMARC checks ask a loopback DNS server with an empty zone, never a real resolver.
            + f'[dns]\nnameservers = ["{nameserver}"]\n'
        )
        self.cli("init")
        self.cli("domain", "add", DOMAIN)
        for user in ("inbox", "relay", "sender"):
            self.cli("user", "add", f"{user}@{DOMAIN}", "--password-stdin", stdin="bench-password-1\n")
        self.cli("user", "forward", f"relay@{DOMAIN}", f"remote@{SINK_DOMAIN}")
        self.process: subprocess.Popen[bytes] | None = None
        self.ports: dict[str, int] = {}

    def cli(self, *args: str, stdin: str | None = None) -> None:
        subprocess.run(
            [sys.executable, "-m", "smb_suite", "-c", str(self.config), *args],
            input=stdin,
            text=True,
            check=True,
            capture_output=True,
            cwd=ROOT,
        )

    def start(self) -> None:
        log = self.folder / "serve.log"
        with open(log, "wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "smb_suite", "-c", str(self.config), "serve"],
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
            )
        wait_for("smb-suite to start", lambda: "smb-suite is running" in log.read_text(errors="replace"), 60)
        text = log.read_text()
        self.ports = {m[1]: int(m[2]) for m in re.finditer(r"listening service=(\w+) address=[\d.]+:(\d+)", text)}

    def stop(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=60)

    def cpu(self) -> float:
        """CPU seconds of the daemon and its workers (see processes.cpu_seconds)."""
        assert self.process is not None
        return cpu_seconds(self.process.pid)

    def inbox(self, user: str) -> Path:
        return maildir_path(self.folder / "data", f"{user}@{DOMAIN}") / "new"

    def queue_length(self) -> int:
        with sqlite3.connect(self.folder / "data" / "smb-suite.db", timeout=30) as db:
            return int(db.execute("SELECT count(*) FROM queue_messages").fetchone()[0])


# -- Postfix --------------------------------------------------------------------------------------------------


class Postfix:
    """A private Postfix on 127.0.0.1:port with its own config, queue and Maildir folders."""

    def __init__(self, folder: Path, port: int, sink_port: int) -> None:
        self.folder = folder
        self.etc = folder / "etc"
        self.queue = folder / "spool"
        self.mail = folder / "mail"
        for path in (self.etc, self.queue, self.mail, folder / "data"):
            path.mkdir(parents=True)
        os.chown(self.mail, 65534, 65534)
        (self.etc / "vmailbox").write_text(f"inbox@{DOMAIN} inbox/\n")
        (self.etc / "transport").write_text(f"{SINK_DOMAIN} smtp:[127.0.0.1]:{sink_port}\n")
        (self.etc / "main.cf").write_text(
            "compatibility_level = 3.6\n"
            "myhostname = reference.localhost\nmydomain = localhost\nmyorigin = $myhostname\n"
            f"inet_interfaces = 127.0.0.1\ninet_protocols = ipv4\nmydestination =\n"
            "mynetworks = 127.0.0.0/8\nrelay_domains =\n"
            f"queue_directory = {self.queue}\ndata_directory = {folder / 'data'}\n"
            "mail_owner = postfix\nsetgid_group = postdrop\n"
            f"virtual_mailbox_domains = {DOMAIN}\nvirtual_mailbox_base = {self.mail}\n"
            f"virtual_mailbox_maps = texthash:{self.etc / 'vmailbox'}\n"
            "virtual_uid_maps = static:65534\nvirtual_gid_maps = static:65534\nvirtual_minimum_uid = 100\n"
            f"transport_maps = texthash:{self.etc / 'transport'}\n"
            "smtpd_peername_lookup = no\nsmtp_host_lookup = native\ndisable_dns_lookups = yes\n"
            "smtp_dns_support_level = disabled\n"
            "smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination\n"
            "default_process_limit = 100\nbiff = no\n"
            "alias_maps =\nalias_database =\nlocal_recipient_maps =\n"
        )
        master = Path("/etc/postfix/master.cf").read_text()
        master = re.sub(r"^smtp\s+inet.*$", f"127.0.0.1:{port} inet n - n - - smtpd", master, count=1, flags=re.M)
        (self.etc / "master.cf").write_text(master)
        self.port = port

    def postfix(self, *args: str) -> None:
        subprocess.run(["postfix", "-c", str(self.etc), *args], check=True, capture_output=True)

    def start(self) -> None:
        self.postfix("set-permissions")
        self.postfix("start")
        wait_for("postfix to listen", self._listening, 60, 0.1)

    def _listening(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                return sock.recv(3) == b"220"
        except OSError:
            return False

    def stop(self) -> None:
        subprocess.run(["postfix", "-c", str(self.etc), "stop"], check=False, capture_output=True)

    def cpu(self) -> float:
        """CPU seconds of the master process and everything it runs (see processes.cpu_seconds)."""
        pid = (self.queue / "pid" / "master.pid").read_text().split()[0]
        return cpu_seconds(int(pid))

    def queue_length(self) -> int:
        return sum(count_files_deep(self.queue / sub) for sub in ("maildrop", "incoming", "active", "deferred"))

    def inbox(self) -> Path:
        return self.mail / "inbox" / "new"


def count_files_deep(folder: Path) -> int:
    return sum(len(files) for _, _, files in os.walk(folder)) if folder.is_dir() else 0


# -- submission through our queue -----------------------------------------------------------------------------


async def submit_load(port: int, count: int, sessions: int, size: int) -> None:
    import aiosmtplib

    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    body = ("x" * 76 + "\r\n") * (size // 78 + 1)
    sender = f"sender@{DOMAIN}"

    async def session(share: int) -> None:
        client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=True, tls_context=context, timeout=120)
        await client.connect()
        await client.login(sender, "bench-password-1")
        for number in range(share):
            data = f"From: {sender}\r\nTo: remote@{SINK_DOMAIN}\r\nSubject: bench {number}\r\n\r\n{body}"
            await client.sendmail(sender, [f"remote@{SINK_DOMAIN}"], data.encode())
        await client.quit()

    shares = [count // sessions + (1 if i < count % sessions else 0) for i in range(sessions)]
    await asyncio.gather(*(session(share) for share in shares))


# -- the run --------------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smaller load (a run under two minutes)")
    parser.add_argument("--workers", default="auto", help="smb-suite's [server] workers: auto or N")
    args = parser.parse_args()
    count = 600 if args.quick else 5000
    sessions, size = 10, 5 * 1024
    ensure_postfix()
    cpu = platform.processor() or platform.machine()
    print(
        f"machine: cores={os.cpu_count()} cpu={cpu} python={platform.python_version()} "
        f"messages={count} sessions={sessions} size={size} workers={args.workers}",
        flush=True,
    )

    with tempfile.TemporaryDirectory(prefix="smb-bench-") as temp:
        folder = Path(temp)
        os.chmod(folder, 0o755)
        sink_port = free_port()
        sink = Sink(folder, sink_port)
        zone = folder / "empty.zone"
        zone.write_text("")
        dns_server = DnsServer(zone).start()
        ours = Ours(folder / "ours", sink_port, dns_server.address, args.workers)
        reference = Postfix(folder / "postfix", free_port(), sink_port)
        try:
            ours.start()
            reference.start()
            assert ours.process is not None
            print(idle_rss_line(ours.process.pid), flush=True)

            our_cpu = ours.cpu
            ours_inbound, ours_inbound_cpu = inbound_to_maildir(ours, count, sessions, size)

            start, cpu = time.monotonic(), reference.cpu()
            accept_time = smtp_source(reference.port, count, sessions, size, f"inbox@{DOMAIN}")
            wait_for("Postfix's Maildir", lambda: count_files(reference.inbox()) >= count)
            postfix_inbound, postfix_inbound_cpu = count / (time.monotonic() - start), reference.cpu() - cpu
            check_maildir("Postfix", reference.inbox(), count, size)
            print(f"note: Postfix accepted at {count / accept_time:.1f} msg/s (queue), delivered as below", flush=True)
            figure("inbound_to_maildir", ours_inbound, "postfix", postfix_inbound, "msg/s")
            cpu_figure("inbound_to_maildir", ours_inbound_cpu, "postfix", postfix_inbound_cpu, count)

            start, cpu, before = time.monotonic(), our_cpu(), sink.received()
            smtp_source(ours.ports["smtp"], count, sessions, size, f"relay@{DOMAIN}")
            wait_for("our queue to empty", lambda: ours.queue_length() == 0, step=0.1)
            ours_forward, ours_forward_cpu = count / (time.monotonic() - start), our_cpu() - cpu
            sink.check("smb-suite forwarding", before, count)

            start, cpu, before = time.monotonic(), reference.cpu(), sink.received()
            smtp_source(reference.port, count, sessions, size, f"remote@{SINK_DOMAIN}")
            wait_for("Postfix's queue to empty", lambda: reference.queue_length() == 0, step=0.1)
            postfix_relay, postfix_relay_cpu = count / (time.monotonic() - start), reference.cpu() - cpu
            sink.check("Postfix relaying", before, count)
            figure("forward_to_remote", ours_forward, "postfix_relay", postfix_relay, "msg/s")
            cpu_figure("forward_to_remote", ours_forward_cpu, "postfix_relay", postfix_relay_cpu, count)

            start, cpu, before = time.monotonic(), our_cpu(), sink.received()
            asyncio.run(submit_load(ours.ports["submission"], count, sessions, size))
            wait_for("our queue to empty", lambda: ours.queue_length() == 0, step=0.1)
            sink.check("smb-suite submission", before, count)
            figure("submission_to_remote", count / (time.monotonic() - start), "postfix_relay", postfix_relay, "msg/s")
            cpu_figure("submission_to_remote", our_cpu() - cpu, "postfix_relay", postfix_relay_cpu, count)

            if toml_workers(args.workers) != "1":  # the single-process figure, against the same Postfix run
                ours.stop()
                ours = Ours(folder / "ours-1", sink_port, dns_server.address, "1")
                ours.start()
                alone, alone_cpu = inbound_to_maildir(ours, count, sessions, size)
                figure("inbound_to_maildir_1_worker", alone, "postfix", postfix_inbound, "msg/s")
                cpu_figure("inbound_to_maildir_1_worker", alone_cpu, "postfix", postfix_inbound_cpu, count)
        finally:
            ours.stop()
            reference.stop()
            sink.stop()
            dns_server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
