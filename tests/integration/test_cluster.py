"""A cluster on one machine: HAProxy (tests/haproxy.py) on 127.0.0.1 in front of two nodes on 127.0.0.2 and
127.0.0.3 that share one PostgreSQL database (tests/pgserver.py) and one storage folder, and take the PROXY
protocol from the balancer only.

Clients bind to 127.0.0.5 and up, so each node sees the balancer as the peer and the client only through the
PROXY header. What a user observes: mail delivered through one node is heard at once by an IDLE session on the
other; when a node dies (kill -9) under SMTP and IMAP load, no message it acknowledged is lost and the clients
reconnect through the balancer to the node left.
"""

from __future__ import annotations

import collections
import contextlib
import secrets
import smtplib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from tests import haproxy
from tests.daemon import (
    OWNER,
    OWNER_PASSWORD,
    USER,
    USER_PASSWORD,
    Daemon,
    Daemons,
    maildir_in_database,
    write_config,
)
from tests.dnsserver import DnsServer
from tests.imapwire import Wire
from tests.mailtest import insecure_context, message
from tests.pgserver import Postgres
from tests.polling import wait_for
from tests.sink import Sink

BALANCER = "127.0.0.1"
NODE2, NODE3 = "127.0.0.2", "127.0.0.3"
SENDERS = ("127.0.0.5", "127.0.0.6", "127.0.0.7")
READERS = ("127.0.0.9", "127.0.0.10", "127.0.0.11", "127.0.0.12")
LISTEN = f'proxy_protocol_from = ["{BALANCER}/32"]\n'
SINK_DOMAIN = "sink.test"
QUEUED = 1000


@dataclass
class Cluster:
    nodes: dict[str, Daemon]
    balancer: haproxy.Balancer


@pytest.fixture(scope="module")
def sink(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sink]:
    server = Sink(tmp_path_factory.mktemp("sink"))
    yield server  # started by the test that needs it, once mail waits in the queue
    server.stop()


@pytest.fixture(scope="module")
def cluster(
    postgres: Postgres,
    quiet_dns: DnsServer,
    sink: Sink,
    start_daemon: Daemons,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Cluster]:
    url = postgres.create_database()
    options = {"nameservers": (quiet_dns.address,), "listen_extra": LISTEN}
    settings = (
        f'[database]\nurl = "{url}"\n[outbound]\nsmarthost = "127.0.0.1:9"\nretry_schedule = ["1s"]\n'
        f'scan_interval = "1s"\n[outbound.routes]\n"{SINK_DOMAIN}" = "127.0.0.1:{sink.port}"\n'
    )
    node2 = start_daemon(settings, name="node2", host=NODE2, **options)
    folder = tmp_path_factory.mktemp("node3")
    (folder / "data").symlink_to(node2.folder / "data")  # the shared file system of a cluster
    config = write_config(folder, settings, host=NODE3, **options)
    node3 = Daemon(folder, config).start()
    try:
        nodes = [haproxy.Node("node2", NODE2, node2.ports), haproxy.Node("node3", NODE3, node3.ports)]
        with haproxy.running(tmp_path_factory.mktemp("haproxy"), nodes) as balancer:
            yield Cluster({"node2": node2, "node3": node3}, balancer)
    finally:
        if node3.process is not None:
            node3.stop()


def subjects_in_inbox(host: str, port: int) -> list[str]:
    """The Subject of every message in alice's INBOX, read over IMAP from one node."""
    with haproxy.BoundIMAP(host, port, READERS[-1]) as client:
        client.login(USER, USER_PASSWORD)
        client.select("INBOX", readonly=True)
        status, data = client.fetch("1:*", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        assert status == "OK", data
        return [
            part[1].decode().partition(":")[2].strip()
            for part in data
            if isinstance(part, tuple) and part[1].lower().startswith(b"subject:")
        ]


def test_mail_through_one_node_is_heard_by_an_idle_client_on_the_other(cluster: Cluster) -> None:
    node2, node3 = cluster.nodes["node2"], cluster.nodes["node3"]
    with Wire(node3.ports["imap"], user=USER, password=USER_PASSWORD, host=NODE3, source=READERS[0]) as idler:
        idler.ok("SELECT INBOX")
        idler.send(b"idle IDLE\r\n")
        assert idler.response().startswith(b"+")
        subject = f"across nodes {secrets.token_hex(4)}"
        with smtplib.SMTP(NODE2, node2.ports["smtp"], timeout=30, source_address=(SENDERS[0], 0)) as client:
            client.sendmail("zoe@remote.example", [USER], message(subject, USER, "zoe@remote.example"))
        sent_at = time.monotonic()
        assert any(b"EXISTS" in line for line in idler.wait_for(b"EXISTS"))
        heard_after = time.monotonic() - sent_at
        idler.send(b"DONE\r\n")
        idler.until(b"idle")
    print(f"figure idle_across_nodes: {heard_after * 1000:.0f} ms")  # reported in the issue note, never asserted
    assert subject in subjects_in_inbox(NODE3, node3.ports["imap"])


@pytest.mark.timeout(600)  # 1,000 submissions and deliveries through two nodes on a loaded 2-core CI machine
def test_queued_mail_is_delivered_exactly_once_with_both_nodes_running_their_queue(
    cluster: Cluster, sink: Sink
) -> None:
    """QUEUED submissions wait in the shared queue while the sink is down, then both nodes' queue runners
    deliver the backlog at once: each message reaches the sink once (claims in the database)."""
    subjects: list[str] = []
    lock = threading.Lock()

    def submit(node: Daemon, host: str, source: str, count: int) -> None:
        with smtplib.SMTP(host, node.ports["submission"], timeout=60, source_address=(source, 0)) as client:
            client.starttls(context=insecure_context())
            client.login(OWNER, OWNER_PASSWORD)
            for number in range(count):
                subject = f"queued {source} {number}"
                client.sendmail(OWNER, [f"box{number % 10}@{SINK_DOMAIN}"], message(subject, f"box@{SINK_DOMAIN}"))
                with lock:
                    subjects.append(subject)

    node2, node3 = cluster.nodes["node2"], cluster.nodes["node3"]
    batches = [
        (node2, NODE2, SENDERS[0]),
        (node2, NODE2, SENDERS[1]),
        (node3, NODE3, SENDERS[2]),
        (node3, NODE3, READERS[0]),
    ]
    submitters = [threading.Thread(target=submit, args=(*batch, QUEUED // len(batches))) for batch in batches]
    started = time.monotonic()
    for submitter in submitters:
        submitter.start()
    for submitter in submitters:
        submitter.join()
    assert len(subjects) == QUEUED
    print(f"figure cluster_submissions: {QUEUED} messages queued in {time.monotonic() - started:.1f} s")
    sink.start()
    started = time.monotonic()
    wait_for(f"{QUEUED} messages at the sink", lambda: len(sink.subjects()) >= QUEUED, 600)
    print(f"figure cluster_queue_backlog: {QUEUED} messages in {time.monotonic() - started:.1f} s")
    for node in (node2, node3):
        wait_for(
            "an empty queue", lambda node=node: "0 message(s) in the queue" in node.cli("queue", "list").stdout, 120
        )
    delivered = collections.Counter(sink.subjects())
    assert set(delivered) == set(subjects)
    assert [subject for subject, count in delivered.items() if count > 1] == []
    for node in (node2, node3):
        assert "queue.sent" in node.log_text()  # both nodes ran their queue


@dataclass
class Load:
    """SMTP senders and IMAP readers going through the balancer until told to stop; what each achieved."""

    balancer: haproxy.Balancer
    stop: threading.Event = field(default_factory=threading.Event)
    acknowledged: list[str] = field(default_factory=list)  # subjects the cluster answered 250 for
    disconnects: int = 0  # sessions that ended under a client (sender or reader)
    reader_commands: dict[str, int] = field(default_factory=dict)  # per reader: commands answered OK
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def send(self, source: str) -> None:
        while not self.stop.is_set():
            port = self.balancer.ports["smtp"]
            with (
                contextlib.suppress(OSError, smtplib.SMTPException),
                smtplib.SMTP(BALANCER, port, timeout=30, source_address=(source, 0)) as c,
            ):
                while not self.stop.is_set():
                    subject = f"load {source} {secrets.token_hex(6)}"
                    c.sendmail("zoe@remote.example", [USER], message(subject, USER, "zoe@remote.example"))
                    with self.lock:
                        self.acknowledged.append(subject)
            self._cut()

    def read(self, source: str) -> None:
        while not self.stop.is_set():
            with (
                contextlib.suppress(OSError, AssertionError),
                Wire(self.balancer.ports["imap"], user=USER, password=USER_PASSWORD, source=source) as reader,
            ):
                reader.ok("SELECT INBOX")
                while not self.stop.is_set():
                    reader.ok("NOOP")
                    reader.ok("STATUS INBOX (MESSAGES UIDNEXT)")
                    with self.lock:
                        self.reader_commands[source] = self.reader_commands.get(source, 0) + 1
            self._cut()

    def _cut(self) -> None:
        """A session ended under its client (not by the end of the test)."""
        if not self.stop.is_set():
            with self.lock:
                self.disconnects += 1

    def acked(self) -> int:
        with self.lock:
            return len(self.acknowledged)

    def commands(self) -> dict[str, int]:
        with self.lock:
            return dict(self.reader_commands)


def test_a_node_killed_under_load_loses_no_acknowledged_mail_and_clients_reconnect(cluster: Cluster) -> None:
    node2, node3 = cluster.nodes["node2"], cluster.nodes["node3"]
    load = Load(cluster.balancer)
    workers = [threading.Thread(target=load.send, args=(source,)) for source in SENDERS]
    workers += [threading.Thread(target=load.read, args=(source,)) for source in READERS]
    for worker in workers:
        worker.start()
    try:
        wait_for("mail acknowledged through the balancer", lambda: load.acked() >= 30, 60)
        wait_for("every reader working", lambda: len(load.commands()) == len(READERS), 60)
        wait_for(
            "readers on both nodes",
            lambda: all(any(f"client={reader}" in node.log_text() for reader in READERS) for node in (node2, node3)),
            60,
        )
        node2.kill()
        killed_at_acked, killed_at_commands = load.acked(), load.commands()
        wait_for("node2 marked down", lambda: cluster.balancer.servers()[("smtp_nodes", "node2")][0] == "DOWN", 30)
        wait_for("more mail acknowledged by the node left", lambda: load.acked() >= killed_at_acked + 30, 120)
        wait_for(
            "every reader working again",
            lambda: all(count > killed_at_commands[source] + 2 for source, count in load.commands().items()),
            120,
        )
    finally:
        load.stop.set()
        for worker in workers:
            worker.join(timeout=60)
    assert load.disconnects >= 1  # the sessions on the node that died were cut
    stored = set(subjects_in_inbox(NODE3, node3.ports["imap"]))
    lost = [subject for subject in load.acknowledged if subject not in stored]
    assert not lost, f"{len(lost)} of {len(load.acknowledged)} acknowledged messages lost: {lost[:5]}"
    with haproxy.BoundIMAP(NODE3, node3.ports["imap"], READERS[-1]) as client:
        client.login(USER, USER_PASSWORD)
        client.select("INBOX", readonly=True)
        _, found = client.search(None, "SUBJECT", f'"{load.acknowledged[-1]}"')
        _, data = client.fetch(found[0].split()[-1].decode(), "(BODY.PEEK[HEADER.FIELDS (RECEIVED)])")
    received = b"".join(part[1] for part in data if isinstance(part, tuple)).decode()
    assert any(f"([{sender}])" in received for sender in SENDERS), received  # the client, never the balancer
    print(f"figure cluster_failover: {len(load.acknowledged)} acknowledged, {load.disconnects} sessions cut")


def test_a_node_restarted_beside_a_serving_one_leaves_that_nodes_mail_in_flight_alone(cluster: Cluster) -> None:
    """A start's repairs would take node3's mail in flight (a message file renamed into new/ whose row is not
    committed yet, a queue file fsynced before its rows) for a crash's debris: indexed twice, or deleted after
    node3 answered 250. node2, restarted while node3 serves, leaves them alone."""
    node2, node3 = cluster.nodes["node2"], cluster.nodes["node3"]
    if node2.process is not None:
        node2.kill()
    before = len(subjects_in_inbox(NODE3, node3.ports["imap"]))
    message_file = maildir_in_database(node3.config, USER, "INBOX") / "new" / "1700000000.M1P1Q1.node3,S=40"
    queue_file = node3.folder / "data" / "queue" / "msg" / "in-flight"
    for path in (message_file, queue_file):
        path.write_bytes(b"Subject: in flight on node3\r\n\r\nstill hers\r\n")
    try:
        node2.start()
        assert "store.reconcile_skipped" in node2.log_text()
        assert message_file.exists() and queue_file.exists()
        assert len(subjects_in_inbox(NODE2, node2.ports["imap"])) == before  # not indexed as a second copy
    finally:
        message_file.unlink(missing_ok=True)
        queue_file.unlink(missing_ok=True)
