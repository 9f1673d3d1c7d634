"""The contact form of one business's site delivers to that business only: an address on the site (or an alias
it names) that reaches another business's mailbox is ignored, and the site's own owners get the message."""

from __future__ import annotations

import httpx
import pytest

from smb_suite.config import load as load_config
from smb_suite.directory.model import OPERATOR
from smb_suite.ops import sites
from smb_suite.services import open_services
from tests.adminweb import CUSTOMER_OWNER, make_admin_daemon
from tests.daemon import DOMAIN, OWNER, Daemon

VISITOR = {"name": "Mallory", "email": "mallory@visitor.test", "phone": "", "subject": "Hello", "message": "Hi."}


pytestmark = pytest.mark.daemon(make=make_admin_daemon)


def set_site_email(server: Daemon, address: str) -> None:
    """What the owner of example.test may type into its site's e-mail field."""
    core = open_services(load_config(server.config))
    try:
        sites.save_info(core, OPERATOR, DOMAIN, {"business_name": "Example", "email": address}, True)
    finally:
        core.close()


def contact(server: Daemon, subject: str) -> httpx.Response:
    return httpx.post(
        f"http://127.0.0.1:{server.ports['http']}/_contact",
        headers={"Host": DOMAIN},
        data={**VISITOR, "subject": subject},
    )


def subjects(server: Daemon, address: str) -> list[bytes]:
    return [line for data in server.messages(address) for line in data.splitlines() if line.startswith(b"Subject:")]


@pytest.mark.parametrize("how", ["address", "alias"])
def test_a_site_form_never_delivers_to_another_business(server: Daemon, how: str) -> None:
    target = CUSTOMER_OWNER
    if how == "alias":
        target = f"relay@{DOMAIN}"
        added = server.cli("alias", "add", target, CUSTOMER_OWNER, check=False)
        if added.returncode != 0:  # an alias across businesses is refused outright: nothing left to try
            pytest.skip(f"aliases to another business are refused: {added.stderr.strip()}")
    set_site_email(server, target)
    subject = f"Meant for the other business via {how}"
    assert contact(server, subject).status_code == 303
    assert not any(subject.encode() in line for line in subjects(server, CUSTOMER_OWNER))
    assert any(subject.encode() in line for line in subjects(server, OWNER))  # the site's own owner has it
    assert "web.contact.foreign_recipient" in server.log_text()
