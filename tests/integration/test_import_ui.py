"""Moving a mailbox in from the admin UI: the form queues the import, the daemon runs it, the page shows a
progress bar of messages done / total; killed with kill -9 midway and started again, the daemon takes the run
up again by itself and every message arrives exactly once (Dovecot plays the previous provider)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import closing

import httpx
import pytest

from bench.dovecot import Dovecot
from tests.adminweb import make_admin_daemon, post, signed_in
from tests.daemon import USER, USER_PASSWORD, Daemon, Daemons
from tests.integration.test_import_imap import OLD_PASSWORD, OLD_USER, our_view, source_view
from tests.integration.test_import_imap import old_provider as old_provider  # the module's Dovecot
from tests.polling import wait_for

PAGE = f"/admin/mailboxes/{USER}/import"
_PROGRESS = re.compile(r'<progress max="(\d+)" value="(\d+)"')


@pytest.fixture
def server(fresh_daemon: Daemons) -> Daemon:
    return fresh_daemon(make=make_admin_daemon)


@pytest.fixture
def user(server: Daemon) -> Iterator[httpx.Client]:
    with closing(signed_in(server, "user")) as client:
        yield client


def progress(client: httpx.Client) -> tuple[int, int, str]:
    """(messages done, total, state) as the page shows them."""
    page = client.get(PAGE)
    assert page.status_code == 200
    bar = _PROGRESS.search(page.text)
    state = re.search(r'data-state="(\w+)"', page.text)
    return (int(bar[2]), int(bar[1]), state[1]) if bar and state else (0, 0, "")


@pytest.mark.timeout(900)  # 2,000 messages, a kill, a lease to lapse (30 s), on a loaded CI machine
def test_the_form_queues_an_import_the_daemon_resumes_it_after_a_kill_and_brings_every_message_once(
    server: Daemon, user: httpx.Client, old_provider: Dovecot
) -> None:
    account = user.get("/admin/account").text
    assert f'href="/admin/mailboxes/{USER.replace("@", "%40")}/import"' in account
    form = {"host": "127.0.0.1", "port": str(old_provider.port), "security": "none", "user": OLD_USER}
    refused = post(user, PAGE, {**form, "port": "imap"})
    assert refused.status_code == 422 and "give the port as a number" in refused.text
    started = post(user, PAGE, {**form, "password": OLD_PASSWORD})
    assert started.status_code == 303 and started.headers["location"].endswith("/import?done=import-queued")
    page = user.get(started.headers["location"]).text
    assert "this page follows it" in page and '<meta http-equiv="refresh"' in page

    wait_for("300 messages copied", lambda: progress(user)[0] >= 300, deadline=300)
    server.kill()
    server.start()
    with closing(signed_in(server, "user")) as again:
        wait_for("the import to finish", lambda: progress(again)[2] == "done", deadline=600)
        done, total, _ = progress(again)
        assert done == total == 2000
        assert "Done: every message is here." in again.get(PAGE).text
    ours = our_view(server, USER, USER_PASSWORD)
    assert len(ours) == 2000 and dict(ours) == source_view(old_provider)
