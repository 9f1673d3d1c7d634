"""The contact form resolves the site's address the way SMTP does (delivery/): with the configured recipient
delimiter, so `alice-website@` on the site reaches alice's mailbox, not the business's owners."""

from __future__ import annotations

import pytest

from tests.adminweb import make_admin_daemon
from tests.daemon import DOMAIN, USER, Daemon
from tests.integration.test_contact_isolation import contact, set_site_email, subjects

pytestmark = pytest.mark.daemon('[delivery]\nrecipient_delimiter = "-"\n', make=make_admin_daemon)


def test_the_contact_form_reaches_a_site_address_written_with_the_recipient_delimiter(server: Daemon) -> None:
    set_site_email(server, f"alice-website@{DOMAIN}")
    subject = "For alice through the site"
    assert contact(server, subject).status_code == 303
    assert any(subject.encode() in line for line in subjects(server, USER))
