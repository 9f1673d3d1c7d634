"""The operator's Prometheus metrics on `[listen] metrics`: after mail arrives, mail waits for another domain and
a login fails, a scrape (curl and httpx) shows them; the public HTTP port never serves them."""

from __future__ import annotations

import imaplib
import os
import re
import signal
import subprocess

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.daemon import LISTENERS, USER, Daemon, Daemons
from tests.mailtest import free_port, insecure_context, message, send_inbound, submit
from tests.polling import wait_for

MX_PORT = free_port()  # the daemon's own MX, where a route sends bounce.test: it refuses the relay (550)
pytestmark = pytest.mark.daemon(
    f'[login]\nlock_after = 2\n[outbound.routes]\n"bounce.test" = "127.0.0.1:{MX_PORT}"\n',  # 3rd failure throttled
    services=LISTENERS,
    ports={"smtp": MX_PORT},
)
WORKER = re.compile(r"worker.started slot=(\d+) pid=(\d+)")
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(server: Daemon) -> Samples:
    response = httpx.get(f"http://127.0.0.1:{server.ports['metrics']}/metrics", timeout=30)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_mail_received_and_delivered_is_counted(server: Daemon) -> None:
    before = scrape(server)
    send_inbound(server, "someone@remote.example", [USER], message("counted", USER, "someone@remote.example"))
    after = scrape(server)
    assert value(after, "smb_messages_received_total", listener="mx") == (
        value(before, "smb_messages_received_total", listener="mx") + 1
    )
    assert value(after, "smb_messages_delivered_total", destination="local") >= 1
    assert value(after, "smb_command_seconds_count", protocol="smtp", command="DATA") >= 1
    assert value(after, "smb_sessions_opened_total", protocol="smtp") >= 1
    assert value(after, "smb_quota_used_bytes", tier="starter") > 0
    assert value(after, "smb_businesses", tier="starter") >= 1


def test_mail_for_another_domain_shows_in_the_queue_and_its_deferrals(server: Daemon) -> None:
    submit(server, ["someone@remote.example"], message("waiting", "someone@remote.example"))
    # the test daemons' smarthost is a closed port: the attempt fails temporarily and the mail waits

    def deferred() -> Samples | None:
        samples = scrape(server)
        return samples if value(samples, "smb_messages_deferred_total") else None

    samples = wait_for("a deferral", deferred)
    assert value(samples, "smb_queue_depth") >= 1
    assert value(samples, "smb_queue_oldest_age_seconds") >= 0
    assert value(samples, "smb_messages_received_total", listener="submission") >= 1


def test_mail_refused_by_the_receiving_server_is_counted_as_bounced(server: Daemon) -> None:
    before = value(scrape(server), "smb_messages_bounced_total")
    submit(server, ["nobody@bounce.test"], message("refused", "nobody@bounce.test"))
    wait_for("a bounce", lambda: value(scrape(server), "smb_messages_bounced_total") == before + 1)


def test_a_failed_login_is_counted(server: Daemon) -> None:
    before = value(scrape(server), "smb_auth_failures_total")
    with (
        imaplib.IMAP4_SSL("127.0.0.1", server.ports["imaps"], ssl_context=insecure_context()) as client,
        pytest.raises(imaplib.IMAP4.error),
    ):
        client.login(USER, "wrong password")
    samples = scrape(server)
    assert value(samples, "smb_auth_failures_total") == before + 1
    assert value(samples, "smb_command_seconds_count", protocol="imap", command="LOGIN") >= 1
    assert value(samples, "smb_sessions_opened_total", protocol="imap") >= 1


def test_a_login_refused_by_the_lock_is_counted_as_throttled(server: Daemon) -> None:
    before = scrape(server)
    for _ in range(3):  # two failures lock the account; the third attempt is refused unheard
        with (
            imaplib.IMAP4_SSL("127.0.0.1", server.ports["imaps"], ssl_context=insecure_context()) as client,
            pytest.raises(imaplib.IMAP4.error),
        ):
            client.login("locked@example.test", "wrong password")
    after = scrape(server)
    assert value(after, "smb_auth_throttled_total") == value(before, "smb_auth_throttled_total") + 1
    assert value(after, "smb_auth_failures_total") == value(before, "smb_auth_failures_total") + 2


def test_curl_scrapes_the_metrics_listener_and_the_public_port_does_not_serve_them(server: Daemon) -> None:
    result = subprocess.run(
        ["curl", "-sS", f"http://127.0.0.1:{server.ports['metrics']}/metrics"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert "# TYPE smb_messages_received_total counter" in result.stdout
    assert "smb_worker_restarts_total" in result.stdout and "process_resident_memory_bytes" in result.stdout
    public = httpx.get(f"http://127.0.0.1:{server.ports['http']}/metrics", headers={"Host": "example.test"})
    assert "smb_" not in public.text
    assert value(scrape(server), "smb_command_seconds_count", protocol="http", command="GET") >= 1
    other = httpx.get(f"http://127.0.0.1:{server.ports['metrics']}/", timeout=30)
    assert other.status_code == 404


def test_with_worker_processes_the_page_sums_every_worker_and_counts_restarts(start_daemon: Daemons) -> None:
    server = start_daemon(services=LISTENERS, workers=2, name="workers")
    for number in range(6):  # one connection each: the kernel hands them to either worker
        send_inbound(
            server, "someone@remote.example", [USER], message(f"worker {number}", USER, "someone@remote.example")
        )
    assert value(scrape(server), "smb_messages_received_total", listener="mx") == 6
    assert value(scrape(server), "smb_worker_restarts_total") == 0
    pids = {int(match[1]): int(match[2]) for match in WORKER.finditer(server.log_text())}
    os.kill(pids[1], signal.SIGKILL)
    wait_for("the restart counted", lambda: value(scrape(server), "smb_worker_restarts_total") == 1)
    assert value(scrape(server), "smb_messages_received_total", listener="mx") == 6  # the dead worker's count stays
