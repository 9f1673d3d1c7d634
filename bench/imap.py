"""IMAP: smb-suite against Dovecot (Debian's dovecot-imapd), same messages, same client load, in the same run.

    .venv/bin/python bench/imap.py [--quick] [--messages N] [--idle N] [--clients N] [--mix-only] [--profile FILE]

Both servers listen on 127.0.0.1 (plain IMAP, LOGIN allowed on loopback) with the same Maildir of N messages
(10,000; 2,000 with --quick) in one account. Dovecot runs as a private instance with its own configuration,
base_dir and passwd-file on a free port, and is stopped by its pid; `apt-get install -y dovecot-imapd` is run
first if it is missing. Figures (medians of a few runs, wall-clock seconds as the client sees them): the
first SELECT after start and a later one, UID FETCH 1:* (FLAGS RFC822.SIZE ENVELOPE), FETCH 1:* BODY.PEEK[],
SEARCH on the Subject and on an uncached header, APPEND of 1,000 messages one after another, the time from
another session's APPEND until a client in IDLE hears EXISTS, and the resident memory each of 1,000 IDLE
connections adds to the server (Dovecot: the PSS of all its processes). Then the many-client mix
(bench/imap_load.py): 10 client processes, each on its own account, looping over LOGIN, LIST, STATUS, SELECT,
FETCH headers and bodies, STORE, EXPUNGE, APPEND, LOGOUT, with and without the LOGIN/LOGOUT part, against both
servers in turn (both run the whole time, so they share the machine's conditions): commands per second and the
median LOGIN time, medians of a few rounds. Dovecot checks plain-text passwords (no hashing); ours argon2id.
--mix-only skips the single-client figures.
--profile FILE runs smb-suite under cProfile and prints where its event loop spent the time. Numbers are
printed, never checked; answers are: a server whose SELECT count, FETCH sizes and octets, SEARCH hits or APPENDed
count is not what the messages make stops the bench (WrongAnswer) before any figure is printed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import pstats
import random
import re
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.dovecot import Dovecot, free_port, mail_folder, wait_for_login  # noqa: E402 - the reference
from bench.imap_load import FOLDERS, SENT, Account, Mix, WrongAnswer, accounts  # noqa: E402 - the many-client mix
from bench.maildirs import maildir_path, toml_workers, write_maildir  # noqa: E402 - a user's Maildir (ids from the database)

USER, PASSWORD = "demo@example.test", "bench-password-1"
_LITERAL = re.compile(rb"\{(\d+)\}\r\n$")
WORDS = ["invoice", "meeting", "quarterly", "report", "lunch", "project", "budget", "review", "offer", "delivery"]


# -- the messages -----------------------------------------------------------------------------------------


def make_messages(count: int, seed: int = 7) -> list[bytes]:
    """Mail like a small office's: text, some HTML alternatives and attachments, 1-40 KB."""
    rng = random.Random(seed)
    messages = []
    for n in range(count):
        subject = " ".join(rng.choice(WORDS) for _ in range(4)) + f" #{n}"
        head = (
            f"From: Sender {n % 97} <sender{n % 97}@partner.example>\r\nTo: {USER}\r\n"
            f"Cc: team{n % 5}@example.test\r\nSubject: {subject}\r\n"
            f"Date: Mon, {1 + n % 28} Jun 2026 10:{n % 60:02d}:00 +0200\r\n"
            f"Message-ID: <{n}.{rng.getrandbits(40)}@partner.example>\r\nX-Mailer: bench {n % 13}\r\n"
            "MIME-Version: 1.0\r\n"
        )
        text = "\r\n".join(" ".join(rng.choice(WORDS) for _ in range(12)) for _ in range(rng.randint(5, 60)))
        if n % 4 == 0:
            blob = bytes(rng.getrandbits(8) for _ in range(rng.randint(2000, 25000)))
            import base64

            encoded = base64.encodebytes(blob).decode().replace("\n", "\r\n")
            body = (
                'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n--b1\r\nContent-Type: text/plain; '
                f'charset=utf-8\r\n\r\n{text}\r\n--b1\r\nContent-Type: application/pdf; name="doc{n}.pdf"\r\n'
                f"Content-Transfer-Encoding: base64\r\n\r\n{encoded}--b1--\r\n"
            )
        else:
            body = f"Content-Type: text/plain; charset=utf-8\r\n\r\n{text}\r\n"
        messages.append((head + body).encode())
    return messages


@dataclass(frozen=True)
class Load:
    """What the many-client mix needs on both servers: its accounts, their INBOX and Sent messages."""

    accounts: list[Account]
    inbox: list[bytes]
    sent: list[bytes]


# -- a plain IMAP client (the same for both servers) ------------------------------------------------------


class Client:
    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=600)
        self.file = self.sock.makefile("rb", buffering=1 << 20)
        self.file.readline()
        self.count = 0
        self.lines: list[bytes] = []  # the last command's response lines, literals left out
        self.literals: list[int] = []  # and the size of each literal it carried
        self.command(f'LOGIN {USER} "{PASSWORD}"')

    def command(self, text: str | bytes) -> int:
        """Send a command, read every response; return the octets received."""
        self.count += 1
        tag = b"b%d " % self.count
        self.sock.sendall(tag + (text.encode() if isinstance(text, str) else text) + b"\r\n")
        received = 0
        self.lines, self.literals = [], []
        while True:
            line = self.file.readline()
            if not line:
                raise ConnectionError("server closed the connection")
            received += len(line)
            self.lines.append(line)
            match = _LITERAL.search(line)
            if match is not None:
                self.literals.append(len(self.file.read(int(match.group(1)))))
                received += self.literals[-1]
                continue
            if line.startswith(tag):
                if not line[len(tag) :].startswith(b"OK"):
                    raise RuntimeError(line.decode(errors="replace"))
                return received

    def close(self) -> None:
        self.file.close()  # the file holds the socket open too
        self.sock.close()


# -- the servers ------------------------------------------------------------------------------------------


class Ours:
    name = "ours"

    def __init__(
        self, root: Path, messages: list[bytes], profile: str | None, idle: int, load: Load, workers: str
    ) -> None:
        self.root = root / "ours"
        self.root.mkdir()
        self.port = free_port()
        config = self.root / "smb-suite.toml"
        listen = "\n".join(f'{s} = ""' for s in ("smtp", "submission", "submissions", "imaps", "http", "https"))
        processes = "1" if profile else toml_workers(workers)  # cProfile sees one process
        config.write_text(
            f'[server]\nhostname = "bench.test"\ndata_dir = "data"\nworkers = {processes}\n'
            f"[listen]\n{listen}\n"
            f'imap = "127.0.0.1:{self.port}"\n'
            '[quota]\ndefault_tier = "bench"\n[tiers.bench]\nstorage_mb = 100000\n'
            # every client is 127.0.0.1: raise the per-client cap as Dovecot's mail_max_userip_connections is
            f"[imap]\nmax_connections = {idle + 200}\nmax_connections_per_ip = {idle + 200}\n"
        )
        self.cli = [sys.executable, "-m", "smb_suite", "-c", str(config)]
        subprocess.run([*self.cli, "init"], check=True, capture_output=True)
        subprocess.run([*self.cli, "domain", "add", "example.test"], check=True, capture_output=True)
        subprocess.run(
            [*self.cli, "user", "add", USER, "--password-stdin"],
            input=PASSWORD + "\n",
            text=True,
            check=True,
            capture_output=True,
        )
        write_maildir(maildir_path(self.root / "data", USER), messages)
        add_load_users(config, load.accounts)
        for account in load.accounts:  # indexed when the daemon starts
            write_maildir(maildir_path(self.root / "data", account.user), load.inbox)
            write_maildir(maildir_path(self.root / "data", account.user, "Sent"), load.sent)
        command = [*self.cli, "serve"]
        if profile:
            command = [sys.executable, "-m", "cProfile", "-o", profile, "-m", "smb_suite", *command[3:]]
        self.log = (self.root / "serve.log").open("wb")
        self.process = subprocess.Popen(command, stdout=self.log, stderr=subprocess.STDOUT, cwd=ROOT)
        try:
            wait_for_login(self.port, self.process, USER, PASSWORD)
        except BaseException:
            self.stop()
            raise

    def pids(self) -> list[int]:
        """The daemon, and its workers when it runs several."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [self.process.pid, *(int(pid) for pid in (children.read_text() if children.exists() else "").split())]

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=120)
        self.log.close()


def memory_kib(pids: list[int]) -> int:
    """Proportional set size (shared pages split between the processes sharing them), in KiB."""
    total = 0
    for pid in pids:
        try:
            text = Path(f"/proc/{pid}/smaps_rollup").read_text()
        except OSError:
            continue
        match = re.search(r"^Pss:\s+(\d+) kB", text, re.M)
        total += int(match.group(1)) if match else 0
    return total


ADD_USERS = """
import sys
from pathlib import Path
from smb_suite import config
from smb_suite.directory.model import OPERATOR
from smb_suite.ops import users
from smb_suite.services import open_services
services = open_services(config.load(Path(sys.argv[1])))
for user, password in zip(sys.argv[2::2], sys.argv[3::2]):
    users.add_user(services, OPERATOR, user, password)
services.close()
"""


def add_load_users(config: Path, load: list[Account]) -> None:
    """The mix's accounts, in one process (a CLI call each would take seconds apiece)."""
    logins = [text for account in load for text in (account.user, account.password)]
    subprocess.run([sys.executable, "-c", ADD_USERS, str(config), *logins], check=True, capture_output=True, cwd=ROOT)


def start_dovecot(root: Path, messages: list[bytes], idle: int, load: Load) -> Dovecot:
    """The reference, with the mix's accounts: INBOX and Sent as ours has them, and its other empty folders."""
    for account in load.accounts:
        home = mail_folder(root, account.user)
        write_maildir(home, load.inbox)
        write_maildir(home / ".Sent", load.sent)
        for name in FOLDERS[2:]:
            write_maildir(home / f".{name}", [])
    return Dovecot(root, USER, PASSWORD, messages, idle + 200, [(a.user, a.password) for a in load.accounts])


# -- the load ---------------------------------------------------------------------------------------------


def timed(action: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


class Figures(dict[str, float]):
    """Figures by name; each one is shown on stderr as soon as it is measured (a long run shows progress)."""

    def __init__(self, server: str) -> None:
        super().__init__()
        self.server = server

    def __setitem__(self, name: str, value: float) -> None:
        print(f"  {self.server} {name}: {value:.4g}", file=sys.stderr, flush=True)
        super().__setitem__(name, value)


def check(server: Ours | Dovecot, right: bool, what: str) -> None:
    """No figure from a wrong answer: the bench stops, naming the server and what it got wrong."""
    if not right:
        raise WrongAnswer(f"{server.name}: {what}")


def matching(messages: list[bytes], header: bytes, text: bytes) -> int:
    """How many messages SEARCH HEADER `header` `text` must find (ASCII headers, one line each)."""
    pattern = re.compile(rb"^" + re.escape(header) + rb": [^\r]*" + re.escape(text), re.I | re.M)
    return sum(1 for message in messages if pattern.search(message.split(b"\r\n\r\n", 1)[0]))


def measure(
    server: Ours | Dovecot, args: argparse.Namespace, messages: list[bytes], appended: list[bytes]
) -> dict[str, float]:
    """The single-client figures; each answer is checked (counts, sizes, octets) after its timed runs."""
    n, runs = args.messages, args.runs
    figures = Figures(server.name)
    warm = Client(server.port)
    figures[f"select_first_{n}"] = timed(lambda: warm.command("SELECT INBOX"), 1)  # cold: once after start
    check(server, b"* %d EXISTS\r\n" % n in warm.lines, f"SELECT INBOX did not say {n} EXISTS")
    warm.close()

    figures[f"idle_memory_per_connection_{args.idle}"] = asyncio.run(idle_memory(server, args.idle))
    session = Client(server.port)  # logged in beforehand: a login is not a SELECT

    def select() -> None:
        session.command("SELECT INBOX")  # no other session has it open now
        session.command("UNSELECT")

    figures[f"select_{n}"] = timed(select, runs)
    session.close()
    client = Client(server.port)
    client.command("SELECT INBOX")
    figures[f"uid_fetch_flags_size_envelope_{n}"] = timed(
        lambda: client.command("UID FETCH 1:* (FLAGS RFC822.SIZE ENVELOPE)"), runs
    )
    sizes = sorted(int(size) for size in re.findall(rb"RFC822\.SIZE (\d+)", b"".join(client.lines)))
    check(server, sizes == sorted(map(len, messages)), "UID FETCH gave other sizes than the messages'")
    figures[f"fetch_all_bodies_{n}"] = timed(lambda: client.command("FETCH 1:* BODY.PEEK[]"), runs)
    check(server, sorted(client.literals) == sorted(map(len, messages)), "FETCH BODY[] gave other octet counts")
    for name, header, text in (("subject", "SUBJECT", "budget review"), ("header", "HEADER X-Mailer", "bench 7")):
        figures[f"search_{name}_{n}"] = timed(partial(client.command, f'SEARCH {header} "{text}"'), runs)
        found = len(b"".join(line for line in client.lines if line.startswith(b"* SEARCH")).split()) - 2
        expected = matching(messages, header.split()[-1].encode(), text.encode())
        check(server, found == expected, f"SEARCH {header} found {found} messages, not {expected}")
    client.command("CREATE Uploads")

    def append_all() -> None:
        for message in appended:
            client.command(b"APPEND Uploads {%d+}\r\n%b" % (len(message), message))

    figures[f"append_{len(appended)}"] = timed(append_all, 1)
    client.command("STATUS Uploads (MESSAGES)")
    stored = b"(MESSAGES %d)" % len(appended) in b"".join(client.lines)
    check(server, stored, f"STATUS Uploads did not count the {len(appended)} appended messages")
    figures["idle_push_after_append"] = idle_push(server.port, client, appended[: runs * 4])
    client.close()
    return figures


def idle_push(port: int, actor: Client, messages: list[bytes]) -> float:
    """Seconds from another session's APPEND to INBOX until a client in IDLE on INBOX hears EXISTS (median)."""
    watcher = Client(port)
    watcher.command("SELECT INBOX")
    watcher.sock.sendall(b"w IDLE\r\n")
    if not watcher.file.readline().startswith(b"+"):
        raise RuntimeError("IDLE refused")
    delays = []
    for message in messages:
        start = time.perf_counter()
        actor.command(b"APPEND INBOX {%d+}\r\n%b" % (len(message), message))
        while not watcher.file.readline().rstrip().endswith(b"EXISTS"):
            pass
        delays.append(time.perf_counter() - start)
    watcher.sock.sendall(b"DONE\r\n")
    while not watcher.file.readline().startswith(b"w "):
        pass
    watcher.close()
    return statistics.median(delays)


async def idle_memory(server: Ours | Dovecot, count: int) -> float:
    """KiB of server memory per idle connection: logged in, INBOX selected, in IDLE."""

    async def idler() -> asyncio.StreamWriter:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port, limit=1 << 20)
        await reader.readline()
        for tag, command in ((b"l", f'LOGIN {USER} "{PASSWORD}"'.encode()), (b"s", b"SELECT INBOX")):
            writer.write(tag + b" " + command + b"\r\n")
            while not (line := await reader.readline()).startswith(tag + b" "):
                if not line:
                    raise ConnectionError("closed")
        writer.write(b"i IDLE\r\n")
        assert (await reader.readline()).startswith(b"+")
        return writer

    first = [await idler()]  # the folder is open and the server warm before the baseline
    await asyncio.sleep(1)
    before = memory_kib(server.pids())
    writers: list[asyncio.StreamWriter] = []
    for start in range(0, count, 50):
        writers += await asyncio.gather(*(idler() for _ in range(min(50, count - start))))
    await asyncio.sleep(2)
    after = memory_kib(server.pids())
    for writer in writers + first:
        writer.close()
    await asyncio.to_thread(wait_closed, server.port)  # before the next figure: SELECT must find no session
    return (after - before) / count


def wait_closed(port: int, deadline: float = 120) -> None:
    """Until the server holds no established connection on `port` (from /proc/net/tcp)."""
    end = time.monotonic() + deadline
    local = f":{port:04X} "
    while time.monotonic() < end:
        lines = Path("/proc/net/tcp").read_text().splitlines()[1:] + Path("/proc/net/tcp6").read_text().splitlines()[1:]
        if not any(local in line.split()[1] + " " and line.split()[3] == "01" for line in lines):
            return
        time.sleep(0.1)


# -- main -------------------------------------------------------------------------------------------------


def mixed(servers: list[Ours | Dovecot], mix: Mix, args: argparse.Namespace) -> dict[str, dict[str, float]]:
    """The many-client mix, with and without logins, against each server in turn (the order alternating by
    round); medians of the rounds, by server and figure."""
    runs: dict[str, dict[str, list[float]]] = {server.name: {} for server in servers}
    for server in servers:  # one cycle of each client first: first logins, folders loaded
        mix.run(server.name, server.port, server.pids, True, 0)
    for round_ in range(args.rounds):
        for logins in (True, False):
            for server in servers if round_ % 2 == 0 else servers[::-1]:
                rate, login_time = mix.run(server.name, server.port, server.pids, logins, args.mix_seconds)
                figures = runs[server.name]
                kind = "with" if logins else "without"
                figures.setdefault(f"mix_{args.clients}_clients_{kind}_logins", []).append(rate)
                if logins:
                    figures.setdefault("mix_login_seconds", []).append(login_time)
    return {name: {key: statistics.median(values) for key, values in figures.items()} for name, figures in runs.items()}


def unit_of(figure: str) -> str:
    if figure.startswith("idle_memory"):
        return "KiB"
    return "cmd/s" if figure.endswith("_logins") else "s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="2,000 messages, 200 idle connections: < 2 minutes")
    parser.add_argument("--messages", type=int, default=None)
    parser.add_argument("--idle", type=int, default=None)
    parser.add_argument("--appends", type=int, default=None)
    parser.add_argument("--runs", type=int, default=None)
    parser.add_argument("--clients", type=int, default=10, help="client processes of the mix, one account each")
    parser.add_argument("--mix-messages", type=int, default=100, help="messages in each mix account's INBOX")
    parser.add_argument("--mix-seconds", type=float, default=None, help="length of one mix run")
    parser.add_argument("--rounds", type=int, default=None, help="mix runs per server and kind (median)")
    parser.add_argument("--mix-only", action="store_true", help="only the many-client mix")
    parser.add_argument("--profile", metavar="FILE", help="run smb-suite under cProfile, write FILE, print the top")
    parser.add_argument("--workers", default="auto", help="smb-suite's [server] workers: auto or N (profile: 1)")
    args = parser.parse_args()
    args.messages = args.messages or (2000 if args.quick else 10000)
    args.idle = args.idle or (200 if args.quick else 1000)
    args.appends = args.appends or (500 if args.quick else 1000)
    args.runs = args.runs or (3 if args.quick else 5)
    args.mix_seconds = args.mix_seconds or (3 if args.quick else 10)
    args.rounds = args.rounds or (1 if args.quick else 3)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 65536)), hard))  # children inherit it

    version = subprocess.run(["dovecot", "--version"], capture_output=True, text=True).stdout.split()[:1]
    print(
        f"machine: cores={os.cpu_count()} python={platform.python_version()} {platform.system()} "
        f"{platform.machine()} dovecot={''.join(version) or 'missing'} messages={args.messages} "
        f"mix_clients={args.clients} mix_messages={args.mix_messages} workers={args.workers}",
        flush=True,
    )
    load = Load(accounts(args.clients), make_messages(args.mix_messages, seed=13), make_messages(SENT, seed=17))
    mix = Mix(load.inbox, args.clients)  # forked before the large lists below exist
    messages = [] if args.mix_only else make_messages(args.messages)
    appended = make_messages(args.appends, seed=11)
    results: dict[str, dict[str, float]] = {}
    servers: list[Ours | Dovecot] = []
    with tempfile.TemporaryDirectory(prefix="bench-imap-") as folder:
        os.chmod(folder, 0o755)  # Dovecot's auth and mail processes are not root
        try:
            servers.append(start_dovecot(Path(folder), messages, args.idle, load))
            servers.append(Ours(Path(folder), messages, args.profile, args.idle, load, args.workers))
            for server in servers:
                results[server.name] = {} if args.mix_only else measure(server, args, messages, appended)
            for name, figures in mixed(servers, mix, args).items():
                results[name].update(figures)
        finally:
            mix.close()
            for server in servers:
                server.stop()
    for name, ours in results["ours"].items():
        theirs = results["dovecot"][name]
        ratio = ours / theirs if theirs else float("inf")
        print(f"figure {name}: ours={ours:.4g} dovecot={theirs:.4g} unit={unit_of(name)} ratio={ratio:.3g}", flush=True)
    if args.profile:
        stats = pstats.Stats(args.profile)
        stats.sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    main()
