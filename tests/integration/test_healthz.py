"""/healthz for load balancers, fetched with curl from the real daemon: plain and HTTPS, any Host, HEAD, and
503 while the daemon drains after SIGTERM. (RFC 9110 9.3.2: HEAD answers as GET without the content.)"""

from __future__ import annotations

import signal
import smtplib
import subprocess

import pytest

from tests.daemon import DOMAIN, USER, Daemon, Daemons
from tests.polling import wait_for

pytestmark = pytest.mark.daemon(services=("http", "https"))


def curl(url: str, *options: str) -> tuple[int, dict[str, str], str]:
    """Status, headers (lower-cased names) and body of one curl request (-k: the self-signed certificate)."""
    result = subprocess.run(["curl", "-s", "-k", "-D", "-", *options, url], capture_output=True, timeout=30, check=True)
    head, _, body = result.stdout.decode().partition("\r\n\r\n")
    status_line, *lines = head.split("\r\n")
    headers = {name.strip().lower(): value.strip() for name, _, value in (line.partition(":") for line in lines)}
    return int(status_line.split()[1]), headers, body


def healthz(server: Daemon, scheme: str = "http", *options: str) -> tuple[int, dict[str, str], str]:
    return curl(f"{scheme}://127.0.0.1:{server.ports[scheme]}/healthz", *options)


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_healthz_answers_ok_as_plain_uncached_text_on_an_ip_literal(server: Daemon, scheme: str) -> None:
    status, headers, body = healthz(server, scheme)
    assert (status, body) == (200, "ok")
    assert headers["content-type"].startswith("text/plain")
    assert headers["cache-control"] == "no-store"


def test_healthz_on_a_hosted_domain_is_ours_even_when_its_site_has_that_page(server: Daemon) -> None:
    page = server.site_folder(DOMAIN) / "current" / "healthz"
    page.write_text("the business's own page")
    try:
        status, _, body = healthz(server, "http", "-H", f"Host: {DOMAIN}")
        assert (status, body) == (200, "ok")
        status, _, body = healthz(server, "https", "-H", f"Host: www.{DOMAIN}")
        assert (status, body) == (200, "ok")
    finally:
        page.unlink()


def test_healthz_head_gives_the_status_and_headers_without_a_body(server: Daemon) -> None:
    status, headers, body = healthz(server, "http", "--head", "-o", "/dev/null")  # -D - alone on stdout
    assert (status, body) == (200, "")
    assert headers["content-type"].startswith("text/plain")
    assert headers["content-length"] == str(len("ok"))


def test_healthz_refuses_other_methods_naming_the_allowed_ones(server: Daemon) -> None:
    status, headers, _ = healthz(server, "http", "-X", "POST")
    assert status == 405
    assert headers["allow"] == "GET, HEAD"


def test_healthz_answers_503_draining_while_the_daemon_drains_after_sigterm(fresh_daemon: Daemons) -> None:
    node = fresh_daemon(services=("smtp", "http"), name="draining")
    assert node.process is not None
    with smtplib.SMTP("127.0.0.1", node.ports["smtp"], timeout=30) as client:
        client.ehlo("client.test")
        client.mail("someone@sender.test")
        client.rcpt(USER)  # a transaction in progress: SMTP drains it (up to 10 s) before the web stops
        node.process.send_signal(signal.SIGTERM)
        _, _, body = wait_for("/healthz to report draining", lambda: (answer := healthz(node))[0] == 503 and answer)
        assert body == "draining"
        client.rset()
    assert node.process.wait(timeout=30) == 0
    node.process = None
