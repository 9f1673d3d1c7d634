"""A mailbox of 100,000 messages selects, sorts and threads by subject from the index alone: no message file is
opened by SELECT, SORT or THREAD.

The messages are written straight into alice's Maildir and indexed the way the daemon does it after a crash
(MailStore.reconcile, in-process to save the daemon's start-up deadline); strace then watches every file the
daemon opens while a client selects the folder and fetches one message (the control: strace does see
message files being opened).
"""

from __future__ import annotations

import imaplib
import re
from pathlib import Path

import pytest

from smb_suite.config import load as load_config
from smb_suite.services import open_services
from tests.daemon import USER, USER_PASSWORD, make_daemon
from tests.tracing import traced

COUNT = 100_000


def write_messages(folder: Path) -> None:
    for n in range(COUNT):
        data = f"From: s{n}@partner.example\r\nTo: {USER}\r\nSubject: note {n}\r\n\r\nline {n}\r\n".encode()
        (folder / "cur" / f"{1700000000 + n}.M{n}P1.big,S={len(data)}:2,S").write_bytes(data)


def index_messages(config: Path) -> None:
    services = open_services(load_config(config))
    try:
        services.store.reconcile()
    finally:
        services.close()


def opened_message_files(trace: str, maildir: Path) -> set[str]:
    return set(re.findall(rf'open(?:at)?\([^"]*"({re.escape(str(maildir))}/(?:cur|new)/[^"]+)"', trace))


@pytest.mark.timeout(600)  # writing and indexing 100,000 files takes minutes on a loaded 2-core CI machine
def test_select_sort_and_thread_of_100000_messages_read_the_index_only(tmp_path: Path) -> None:
    server = make_daemon(tmp_path / "d", services=("imap",))
    maildir = server.maildir(USER)
    write_messages(maildir)
    index_messages(server.config)
    server.start()
    try:
        assert server.process is not None
        trace = traced(server.process.pid, tmp_path / "strace.log", "-e", "trace=open,openat,openat2")
        with trace as trace_file, imaplib.IMAP4("127.0.0.1", server.ports["imap"], timeout=300) as client:
            client.login(USER, USER_PASSWORD)
            status, data = client.select("INBOX")
            assert status == "OK" and data == [str(COUNT).encode()]
            status, data = client.sort("(REVERSE SUBJECT)", "UTF-8", "ALL")  # "note 99999" ... "note 0"
            assert status == "OK" and data[0].split()[:2] == [str(COUNT).encode(), str(COUNT - 1).encode()]
            for algorithm in ("ORDEREDSUBJECT", "REFERENCES"):  # References come from the index too
                assert client.thread(algorithm, "UTF-8", "1:3") == ("OK", [b"(1)(2)(3)"])
            during_select = opened_message_files(trace_file.read_text(), maildir)
            status, fetched = client.fetch(str(COUNT), "(BODY.PEEK[])")
            assert status == "OK" and f"note {COUNT - 1}".encode() in fetched[0][1]
        assert during_select == set()
        after_fetch = opened_message_files(trace_file.read_text(), maildir)
        assert len(after_fetch) == 1 and f".M{COUNT - 1}P1." in after_fetch.pop()  # the control
    finally:
        server.stop()
