"""Hosted sites as curl sees them: caching, compression, ranges, HEAD, security headers, uploads, publishing
under load, the platform subdomain, all against the real daemon."""

from __future__ import annotations

import concurrent.futures
import io
import os
import socket
import ssl
import stat
import subprocess
import time
import zipfile
from pathlib import Path

import httpx
import pytest

from smb_suite import config, tls
from smb_suite.directory.model import OPERATOR
from smb_suite.services import open_services
from tests.daemon import DOMAIN, Daemon, Daemons, make_daemon

WEB = ("smtp", "http", "https")
DEADLINE = 30.0


@pytest.fixture(scope="module")
def site(start_daemon: Daemons) -> Daemon:
    return start_daemon(services=WEB, name="hosting")


def url(server: Daemon, path: str = "/") -> str:
    return f"http://127.0.0.1:{server.ports['http']}{path}"


def curl(server: Daemon, path: str, *options: str, host: str = DOMAIN) -> tuple[int, dict[str, str], bytes]:
    """Status, headers (last response, lower-case names) and raw body of one curl request."""
    result = subprocess.run(
        ["curl", "-s", "-D", "-", "-H", f"Host: {host}", *options, url(server, path)],
        capture_output=True,
        timeout=30,
        check=True,
    )
    head, _, body = result.stdout.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(lines[0].split()[1]), headers, body


def zip_bytes(files: dict[str, bytes], extra: list[zipfile.ZipInfo] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
        for info in extra or []:
            archive.writestr(info, b"/etc/passwd")
    return buffer.getvalue()


def live_index(server: Daemon) -> bytes:
    return (server.site_folder(DOMAIN) / "current" / "index.html").read_bytes()


# -- HTTP behaviour -------------------------------------------------------------------------------------------


def test_etag_and_last_modified_give_304(site: Daemon) -> None:
    status, headers, _ = curl(site, "/")
    assert status == 200 and headers["etag"] and headers["last-modified"]
    status, again, body = curl(site, "/", "-H", f"If-None-Match: {headers['etag']}")
    assert status == 304 and body == b"" and again["etag"] == headers["etag"]
    status, _, _ = curl(site, "/", "-H", f"If-Modified-Since: {headers['last-modified']}")
    assert status == 304
    status, _, _ = curl(site, "/", "-H", 'If-None-Match: "something-else"')
    assert status == 200


def test_gzip_is_served_when_accepted_and_decodes_to_the_file(site: Daemon) -> None:
    status, headers, body = curl(site, "/static/site.css", "--compressed")
    assert status == 200 and headers["content-encoding"] == "gzip" and "accept-encoding" in headers["vary"]
    css = (site.site_folder(DOMAIN) / "current" / "static" / "site.css").read_bytes()
    assert body == css
    status, plain, body = curl(site, "/static/site.css", "-H", "Accept-Encoding: gzip;q=0, identity")
    assert "content-encoding" not in plain and body == css


def test_range_requests_get_206_and_416(site: Daemon) -> None:
    whole = live_index(site)
    status, headers, body = curl(site, "/", "-H", "Range: bytes=10-19")
    assert status == 206 and body == whole[10:20]
    assert headers["content-range"] == f"bytes 10-19/{len(whole)}"
    status, _, body = curl(site, "/", "-H", "Range: bytes=-5")
    assert status == 206 and body == whole[-5:]
    status, headers, _ = curl(site, "/", "-H", f"Range: bytes={len(whole) + 10}-")
    assert status == 416 and headers["content-range"] == f"bytes */{len(whole)}"


def test_head_has_the_headers_of_get_and_no_body(site: Daemon) -> None:
    _, get_headers, _ = curl(site, "/")
    status, head_headers, body = curl(site, "/", "-I")
    assert status == 200 and b"<" not in body  # -I with -D - prints the headers twice, never a body
    for name in ("content-length", "content-type", "etag", "last-modified"):
        assert head_headers[name] == get_headers[name]


def test_site_responses_carry_security_and_cache_headers(site: Daemon) -> None:
    _, page, _ = curl(site, "/")
    _, asset, _ = curl(site, "/static/site.css")
    for headers in (page, asset):
        assert "default-src 'self'" in headers["content-security-policy"]
        assert "frame-ancestors 'self'" in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert page["cache-control"] == "no-cache"
    assert "max-age" in asset["cache-control"]


def test_generated_sitemap_robots_and_mime_types(site: Daemon) -> None:
    status, headers, body = curl(site, "/sitemap.xml")
    assert status == 200 and "xml" in headers["content-type"] and b"<loc>https://example.test/</loc>" in body
    status, headers, body = curl(site, "/robots.txt")
    assert status == 200 and headers["content-type"].startswith("text/plain") and b"Sitemap:" in body


def test_platform_subdomain_serves_the_business_site(site: Daemon) -> None:
    status, _, body = curl(site, "/", host="example-test.sites.localhost")
    assert status == 200 and body == live_index(site)
    status, _, _ = curl(site, "/", host="nobody.sites.localhost")
    assert status == 404


def test_https_serves_the_site_with_sni(site: Daemon) -> None:
    port = site.ports["https"]
    result = subprocess.run(
        ["curl", "-sk", "--resolve", f"{DOMAIN}:{port}:127.0.0.1", f"https://{DOMAIN}:{port}/"],
        capture_output=True,
        timeout=30,
        check=True,
    )
    assert result.stdout == live_index(site)


# -- uploads and publishing -----------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["../escape.html", "/etc/evil.html", "symlink"])
def test_unsafe_zip_is_refused_and_the_live_site_is_unchanged(site: Daemon, tmp_path: Path, bad: str) -> None:
    before = httpx.get(url(site), headers={"Host": DOMAIN}).content
    if bad == "symlink":
        link = zipfile.ZipInfo("leak.html")
        link.create_system = 3
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        data = zip_bytes({"index.html": b"<h1>evil</h1>"}, [link])
    else:
        data = zip_bytes({"index.html": b"<h1>evil</h1>", bad: b"x"})
    archive = tmp_path / "site.zip"
    archive.write_bytes(data)
    result = site.cli("site", "upload", DOMAIN, str(archive), check=False)
    assert result.returncode == 1 and result.stderr.startswith("smb-suite: ")
    assert httpx.get(url(site), headers={"Host": DOMAIN}).content == before
    assert not (site.folder / "data" / "sites" / "escape.html").exists()


def test_upload_over_quota_prints_usage_limit_and_upgrade_and_keeps_the_site(tmp_path: Path) -> None:
    server = make_daemon(tmp_path / "full", '[tiers.tiny]\nstorage_mb = 1\n[quota]\ndefault_tier = "tiny"\n', WEB)
    archive = tmp_path / "big.zip"
    archive.write_bytes(zip_bytes({"index.html": b"<h1>big</h1>", "video.bin": bytes(1536 * 1024)}))
    before = live_index(server)
    result = server.cli("site", "upload", DOMAIN, str(archive), check=False)
    assert result.returncode == 1
    line = result.stderr.strip()
    assert line.startswith("smb-suite: Not published: storage full")
    assert "limit (tiny tier)" in line and "The live site is unchanged" in line
    assert live_index(server) == before


def test_upload_then_rollback_then_publish(tmp_path: Path) -> None:
    server = make_daemon(tmp_path / "roll", services=WEB).start()
    try:
        archive = tmp_path / "mine.zip"
        archive.write_bytes(zip_bytes({"mine/index.html": b"<h1>hand made</h1>", "mine/a.css": b"h1{}"}))
        assert "2 files are live" in server.cli("site", "upload", DOMAIN, str(archive)).stdout
        assert httpx.get(url(server), headers={"Host": DOMAIN}).content == b"<h1>hand made</h1>"
        server.cli("site", "rollback", DOMAIN)
        assert b"Welcome to example.test" in httpx.get(url(server), headers={"Host": DOMAIN}).content
        server.cli("site", "rollback", DOMAIN)
        assert httpx.get(url(server), headers={"Host": DOMAIN}).content == b"<h1>hand made</h1>"
        assert "is live" in server.cli("site", "publish", DOMAIN).stdout
        assert b"Welcome to example.test" in httpx.get(url(server), headers={"Host": DOMAIN}).content
        versions = list((server.site_folder(DOMAIN) / "versions").iterdir())
        assert len(versions) == 2  # the live one and the one before it
        assert server.cli("quota", "check").returncode == 0
    finally:
        server.stop()


def test_publishing_under_concurrent_requests_never_mixes_versions(site: Daemon) -> None:
    """Two pages fetched concurrently while versions A and B alternate: every response is one whole version."""
    cfg = config.load(site.config)
    services = open_services(cfg)
    filler = b"x" * 200_000  # larger than any socket buffer, so a torn file would show
    contents = {
        marker: {
            "index.html": marker + b"\n" + filler + marker,
            "about/index.html": marker + b"\nabout\n" + filler + marker,
        }
        for marker in (b"version-A", b"version-B")
    }
    domain = services.directory.get_domain(OPERATOR, DOMAIN)
    stop = time.monotonic() + 8.0
    errors: list[str] = []

    def publisher() -> int:
        count = 0
        while time.monotonic() < stop:
            services.sites.publish_files(domain, contents[b"version-A" if count % 2 else b"version-B"])
            count += 1
        return count

    def reader() -> int:
        seen = 0
        with httpx.Client(headers={"Host": DOMAIN}) as client:
            while time.monotonic() < stop:
                for path, name in (("/", "index.html"), ("/about/", "about/index.html")):
                    body = client.get(url(site, path)).content
                    if body[:9] not in contents or body != contents[body[:9]][name]:
                        errors.append(f"{path}: {body[:40]!r}...{body[-20:]!r}")
                    seen += 1
        return seen

    services.sites.publish_files(domain, contents[b"version-A"])  # readers start on A or B, not the site before
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=5) as pool:
            published = pool.submit(publisher)
            readers = [pool.submit(reader) for _ in range(4)]
            counts = [future.result(timeout=DEADLINE) for future in readers]
            assert published.result(timeout=DEADLINE) >= 4
    finally:
        services.close()
    assert not errors, errors[:5]
    assert sum(counts) > 20


def read_responses(sock: socket.socket, methods: list[str]) -> list[tuple[int, bytes]]:
    """Status and body of consecutive HTTP/1.1 responses on one connection (bodies framed by Content-Length)."""
    buffer, answers = b"", []
    for method in methods:
        while b"\r\n\r\n" not in buffer:
            buffer += sock.recv(65536)
        head, _, buffer = buffer.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        fields = {name.strip().lower(): value.strip() for name, _, value in (line.partition(":") for line in lines[1:])}
        length = 0 if method == "HEAD" else int(fields.get("content-length", "0"))
        while len(buffer) < length:
            buffer += sock.recv(1 << 20)
        answers.append((int(lines[0].split()[1]), buffer[:length]))
        buffer = buffer[length:]
    return answers


def test_large_files_and_pipelined_requests_arrive_whole_and_in_order(site: Daemon) -> None:
    """Cached files are answered straight from the connection (a large one by sendfile): a 600 KB file comes
    whole every time, and pipelined requests, cached or not, are answered in the order they were sent."""
    big = os.urandom(600_000)
    services = open_services(config.load(site.config))
    try:
        domain = services.directory.get_domain(OPERATOR, DOMAIN)
        services.sites.publish_files(domain, {"index.html": b"<h1>in order</h1>", "big.bin": big})
    finally:
        services.close()
    with httpx.Client(headers={"Host": DOMAIN}) as client:
        for _ in range(3):  # the first fills the cache, the next ones are answered from it
            response = client.get(url(site, "/big.bin"))
            assert response.status_code == 200 and response.content == big
        assert client.get(url(site, "/big.bin"), headers={"Range": "bytes=500000-"}).content == big[500000:]
    sent = [("GET", "/big.bin"), ("GET", "/missing"), ("HEAD", "/"), ("GET", "/"), ("GET", "/big.bin")]
    with socket.create_connection(("127.0.0.1", site.ports["http"]), timeout=DEADLINE) as sock:
        sock.sendall(b"".join(f"{method} {path} HTTP/1.1\r\nHost: {DOMAIN}\r\n\r\n".encode() for method, path in sent))
        answers = read_responses(sock, [method for method, _ in sent])
    assert [status for status, _ in answers] == [200, 404, 200, 200, 200]
    assert answers[0][1] == big and answers[3][1] == b"<h1>in order</h1>" and answers[4][1] == big


def served_certificate_name(server: Daemon, server_name: str) -> str:
    """The common name of the certificate the https listener presents for this SNI name."""
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with (
        socket.create_connection(("127.0.0.1", server.ports["https"]), timeout=10) as sock,
        context.wrap_socket(sock, server_hostname=server_name) as tls_sock,
    ):
        der = tls_sock.getpeercert(binary_form=True)
    assert der is not None
    attribute = x509.load_der_x509_certificate(der).subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0]
    return str(attribute.value)


def test_a_domain_certificate_dropped_in_is_chosen_by_sni(site: Daemon) -> None:
    folder = site.folder / "data" / "tls" / "sites" / DOMAIN
    folder.mkdir(parents=True, exist_ok=True)
    tls.ensure_self_signed(folder / "cert.pem", folder / "key.pem", DOMAIN)
    assert served_certificate_name(site, DOMAIN) == DOMAIN
    assert served_certificate_name(site, f"www.{DOMAIN}") == DOMAIN
    assert served_certificate_name(site, "other.test") == "mail.example.test"  # the server certificate
