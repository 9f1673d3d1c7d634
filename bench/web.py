"""Static site hosting: smb-suite against nginx, same generated docroot, same wrk load, in one run.

    .venv/bin/python bench/web.py [--quick]

Prints the machine, then `figure <name>: ours=<v> nginx=<v> unit=<u> ratio=<ours/nginx>` for requests per
second, p99 latency and CPU time per request of a small page and of a 500 KB image. The CPU figure (user +
system time of the server's processes during the run, over the requests answered) holds steadier than the
rate when other work shares the cores. Installs nginx and wrk (Debian) if missing;
nginx runs on 127.0.0.1 on a free high port with its own config, pid and logs in a temp folder, and both
servers are stopped by pid. Never fails on a number, but fails loudly (exit 1, no figure) when either server
answers a benchmarked path with anything but 200 and the exact bytes on disk, or wrk counts a non-2xx answer:
a figure of error pages measures nothing. Run as root, nginx's workers run as root too (bench only): the
temporary folder is 0700 and a worker running as nobody could not read the docroot.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

from processes import idle_rss_line  # the workers' memory figure (bench/processes.py)

DOMAIN = "bench.test"
IMAGE_BYTES = 500 * 1024
CONNECTIONS = 50


def ensure_tools() -> None:
    missing = [pkg for pkg, binary in (("nginx-light", "nginx"), ("wrk", "wrk")) if not find_binary(binary)]
    if missing:
        sudo = [] if os.geteuid() == 0 else ["sudo"]
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run([*sudo, "apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run([*sudo, "apt-get", "install", "-y", "-qq", *missing], check=True, env=env)


def find_binary(name: str) -> str | None:
    return shutil.which(name) or next((p for p in (f"/usr/sbin/{name}", f"/usr/bin/{name}") if Path(p).exists()), None)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, deadline: float = 60.0) -> None:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port}")


def make_site(folder: Path) -> Path:
    """A small generated page (the default theme's home) plus a 500 KB image, as a zip for `site upload`."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from smb_suite import config
    from smb_suite.sites import render, themes
    from smb_suite.sites.content import SiteContent, SiteInfo, default_home

    theme = themes.get_theme(config.BUNDLED_THEMES, "default")
    info = SiteInfo(theme="default", business_name="Bench Bakery", description="Benchmark page")
    files = render.build_site(theme, SiteContent(DOMAIN, info, (default_home(info),)))
    files["img/photo.jpg"] = os.urandom(IMAGE_BYTES)
    archive = folder / "site.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        for name, data in files.items():
            handle.writestr(name, data)
    return archive


def start_ours(folder: Path, archive: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    listen = "\n".join(f'{name} = ""' for name in ("smtp", "submission", "submissions", "imap", "imaps", "https"))
    config = folder / "smb-suite.toml"
    config.write_text(f'[server]\ndata_dir = "data"\n[listen]\nhttp = "127.0.0.1:{port}"\n{listen}\n')
    cli = [sys.executable, "-m", "smb_suite", "-c", str(config)]
    for args in (["init"], ["domain", "add", DOMAIN], ["site", "upload", DOMAIN, str(archive)]):
        subprocess.run([*cli, *args], check=True, capture_output=True)
    log = open(folder / "serve.log", "wb")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen([*cli, "serve"], stdout=log, stderr=subprocess.STDOUT)
    wait_for_port(port)
    # The supervisor listens before its workers serve: wait until every worker is ready (memory, timing).
    end = time.monotonic() + 120
    while b"smb-suite is running" not in (folder / "serve.log").read_bytes() and time.monotonic() < end:
        time.sleep(0.1)
    return process, port


def start_nginx(folder: Path, docroot: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    conf = folder / "nginx.conf"
    user = "user root;\n" if os.geteuid() == 0 else ""  # the docroot sits in a 0700 temp folder
    conf.write_text(
        f"""{user}worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/nginx-error.log;
daemon off;
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    access_log off;
    sendfile on;
    tcp_nopush on;
    open_file_cache max=1000;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    server {{
        listen 127.0.0.1:{port};
        server_name {DOMAIN};
        root {docroot};
        index index.html;
    }}
}}
"""
    )
    binary = find_binary("nginx")
    assert binary is not None
    process = subprocess.Popen([binary, "-c", str(conf), "-p", str(folder)], stderr=subprocess.DEVNULL)
    wait_for_port(port)
    return process, port


class WrongAnswer(Exception):
    """A server answered the benchmarked request wrongly: no figure may be reported."""


def check_answer(server: str, port: int, path: str, expected: bytes) -> None:
    """One GET as wrk sends it: status 200 and exactly the file's bytes, else WrongAnswer."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Host": DOMAIN})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - our own loopback URL
            status, body = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, body = error.code, error.read()
    if status != 200 or body != expected:
        raise WrongAnswer(f"{server} answered GET {path} with {status} and {len(body)} bytes, not 200 and "
                          f"the {len(expected)} bytes of the file")  # fmt: skip


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its children still running (nginx's workers), from /proc."""
    total = 0.0
    for task in Path(f"/proc/{pid}/task").iterdir():
        fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        for child in (task / "children").read_text().split():
            total += cpu_seconds(int(child))
    return total


def wrk(port: int, path: str, seconds: int, pid: int) -> tuple[float, float, float]:
    """Requests per second, p99 latency (ms) and CPU microseconds per request of the server `pid` in one wrk
    run; WrongAnswer if any answer was not 2xx/3xx."""
    binary = find_binary("wrk")
    assert binary is not None
    cpu_before = cpu_seconds(pid)
    result = subprocess.run(
        [binary, "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency", "-H", f"Host: {DOMAIN}",
         f"http://127.0.0.1:{port}{path}"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    cpu = cpu_seconds(pid) - cpu_before
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", result.stdout)
    if errors:
        raise WrongAnswer(f"wrk on port {port} {path}: {errors.group(1)} non-2xx/3xx answers")
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", result.stdout).group(1))  # type: ignore[union-attr]
    value, unit = re.search(r"99%\s+([\d.]+)(us|ms|s)", result.stdout).groups()  # type: ignore[union-attr]
    answered = int(re.search(r"(\d+) requests in", result.stdout).group(1))  # type: ignore[union-attr]
    return rate, float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit], cpu * 1e6 / max(answered, 1)


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def figure(name: str, ours: float, nginx: float, unit: str) -> None:
    ratio = ours / nginx if nginx else 0.0
    print(f"figure {name}: ours={ours:.1f} nginx={nginx:.1f} unit={unit} ratio={ratio:.3f}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="short runs (the whole bench under two minutes)")
    args = parser.parse_args()
    seconds = 5 if args.quick else 15
    print(
        f"machine: {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()} "
        f"{platform.release()}, wrk -t1 -c{CONNECTIONS} {seconds}s per figure, load average "
        f"{os.getloadavg()[0]:.1f}",
        flush=True,
    )
    ensure_tools()
    with tempfile.TemporaryDirectory(prefix="bench-web-") as temp:
        folder = Path(temp)
        archive = make_site(folder)
        (folder / "ours").mkdir()
        ours, our_port = start_ours(folder / "ours", archive)
        sites = folder / "ours" / "data" / "sites"  # one domain: its site folder is named after its id
        docroot = next(site for site in sites.iterdir() if site.name.isdigit()).joinpath("current").resolve()
        (folder / "nginx").mkdir()
        nginx, nginx_port = start_nginx(folder / "nginx", docroot)
        try:
            print(idle_rss_line(ours.pid), flush=True)
            for label, path in (("small_page", "/"), ("image_500k", "/img/photo.jpg")):
                expected = (docroot / (path.lstrip("/") or "index.html")).read_bytes()
                check_answer("smb-suite", our_port, path, expected)
                check_answer("nginx", nginx_port, path, expected)
                wrk(our_port, path, 1, ours.pid)  # warm the cache
                wrk(nginx_port, path, 1, nginx.pid)
                our_rate, our_p99, our_cpu = wrk(our_port, path, seconds, ours.pid)
                nginx_rate, nginx_p99, nginx_cpu = wrk(nginx_port, path, seconds, nginx.pid)
                figure(f"{label}_requests", our_rate, nginx_rate, "req/s")
                figure(f"{label}_p99", our_p99, nginx_p99, "ms")
                figure(f"{label}_cpu", our_cpu, nginx_cpu, "us/request")
        except WrongAnswer as error:
            print(f"FAILED: {error}; no figure reported", file=sys.stderr, flush=True)
            return 1
        finally:
            stop(ours)
            stop(nginx)
    return 0


if __name__ == "__main__":
    sys.exit(main())
