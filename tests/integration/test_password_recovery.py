"""Password recovery against the real daemon: a recovery address outside the business, confirmed by a link
mailed to it (through the outbound queue to a sink playing the outside world); "forgot password" mails a
single-use link that sets a new password for IMAP and the admin pages; the same answer for an unknown address;
expired and reused links refused; requests throttled; owners and partners reset the accounts they manage and
no others; every step in the audit log."""

from __future__ import annotations

import email
import email.policy
import re
from collections.abc import Iterator
from contextlib import closing
from urllib.parse import quote

import httpx
import pytest
import sqlalchemy as sa

from smb_suite import config
from smb_suite.directory.model import OPERATOR
from smb_suite.ops import recovery, users
from smb_suite.services import open_services
from smb_suite.storage import db
from tests.adminweb import (
    CUSTOMER_OWNER,
    PASSWORD,
    browser,
    csrf_token,
    imap_login,
    make_admin_daemon,
    post,
    sign_in,
    signed_in,
)
from tests.daemon import DOMAIN, OWNER, USER, Daemon
from tests.mailtest import free_port
from tests.polling import wait_for
from tests.sink import Sink

OUTSIDE = "outside.test"
CAROL = f"carol@{DOMAIN}"
CAROL_HOME = f"carol@{OUTSIDE}"
NEW_PASSWORD = "a brand new password 7"
SINK_PORT = free_port()
LINK = re.compile(r"https://\S+/admin/(reset|recovery/confirm)\?token=([A-Za-z0-9_-]+)")
OUTBOUND = (
    '[outbound]\nsmarthost = "127.0.0.1:9"\nretry_schedule = ["1s"]\nscan_interval = "1s"\n'
    f'[outbound.routes]\n"{OUTSIDE}" = "127.0.0.1:{SINK_PORT}"\n'
)
FRENCH = {"Accept-Language": "fr-FR,fr;q=0.9"}

pytestmark = pytest.mark.daemon(OUTBOUND, services=("http", "https", "imap"), make=make_admin_daemon)


@pytest.fixture(scope="module")
def sink(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sink]:
    server = Sink(tmp_path_factory.mktemp("outside"), SINK_PORT)
    server.start()
    yield server
    server.stop()


def mails(sink: Sink, to: str, subject: str) -> list[email.message.EmailMessage]:
    found = []
    for data in sink.messages():
        parsed = email.message_from_bytes(data, policy=email.policy.default)
        assert isinstance(parsed, email.message.EmailMessage)
        if parsed["To"] == to and subject in str(parsed["Subject"]):
            found.append(parsed)
    return found


def subjects(messages: list[bytes]) -> list[str]:
    return [str(email.message_from_bytes(data, policy=email.policy.default)["Subject"]) for data in messages]


def mailed_link(sink: Sink, to: str, subject: str, count: int = 1) -> str:
    """The path and query of the link in the count-th mail to `to` with this subject (waits for it)."""
    arrived = wait_for(f"mail {count} to {to}: {subject}", lambda: mails(sink, to, subject)[count - 1 :])
    body = arrived[0].get_body(("plain",))
    assert body is not None
    found = LINK.search(body.get_content())
    assert found, body.get_content()
    return f"/admin/{found[1]}?token={found[2]}"


def use_link(client: httpx.Client, link: str, data: dict[str, str] | None = None) -> httpx.Response:
    """Open the link's page, then send its form like a browser."""
    page = client.get(link)
    if page.status_code != 200:
        return page
    token = link.partition("token=")[2]
    return client.post(link.partition("?")[0], data={"csrf": csrf_token(page), "token": token, **(data or {})})


def post_link(client: httpx.Client, link: str, data: dict[str, str] | None = None) -> httpx.Response:
    """Send a link's form straight away, as a replay would (its page refuses to show a dead link)."""
    token = link.partition("token=")[2]
    form = {"csrf": csrf_token(client.get("/admin/forgot")), "token": token, **(data or {})}
    return client.post(link.partition("?")[0], data=form)


def audit(server: Daemon) -> list[tuple[str, str, str, str]]:
    services = open_services(config.load(server.config))
    try:
        return [(e.action, e.actor, e.client, e.target) for e in services.audit.entries(OPERATOR, limit=500)]
    finally:
        services.close()


def forgot(client: httpx.Client, address: str) -> httpx.Response:
    page = client.get("/admin/forgot")
    return client.post("/admin/forgot", data={"csrf": csrf_token(page), "address": address})


@pytest.fixture(scope="module")
def carol(server: Daemon, sink: Sink) -> str:
    """A user who chose a recovery address on the French account page and confirmed it by the mailed link."""
    core = open_services(config.load(server.config))
    try:
        users.add_user(core, OPERATOR, CAROL, PASSWORD)
    finally:
        core.close()
    with closing(browser(server)) as web:
        sign_in(web, CAROL, PASSWORD)
        inside = post(web, "/admin/account/recovery", {"address": f"me@{DOMAIN}", "current": PASSWORD})
        assert inside.status_code == 400 and "outside your business" in inside.text
        chosen = web.post(
            "/admin/account/recovery",
            data={"csrf": csrf_token(web.get("/admin/account")), "address": CAROL_HOME, "current": PASSWORD},
            headers=FRENCH,
        )
        assert chosen.status_code == 303 and "done=recovery-pending" in chosen.headers["location"]
        assert "attend sa confirmation" in web.get("/admin/account", headers=FRENCH).text
        link = mailed_link(sink, CAROL_HOME, f"Confirmez l'adresse de secours de {CAROL}")
        confirmed = use_link(web, link)
        assert confirmed.status_code == 303 and "done=recovery-confirmed" in confirmed.headers["location"]
        assert f"Reset links go to {CAROL_HOME}." in web.get("/admin/account").text
        assert use_link(web, link).status_code == 400  # used once
    return CAROL_HOME


def test_forgot_password_link_sets_a_new_password_once_and_ends_the_old_sessions(
    server: Daemon, sink: Sink, carol: str
) -> None:
    with closing(browser(server)) as stolen, closing(browser(server)) as web, closing(browser(server)) as other:
        assert sign_in(stolen, CAROL, PASSWORD).status_code == 303
        assert imap_login(server, CAROL, PASSWORD) == "OK"  # now in the verified-credential cache
        assert 'href="/admin/forgot"' in web.get("/admin/").text
        asked = forgot(web, CAROL)
        assert asked.status_code == 200 and "a link to choose a new password is on its way" in asked.text
        link = mailed_link(sink, carol, f"Réinitialisez le mot de passe de {CAROL}")  # the language she chose
        assert use_link(web, link, {"password": "short"}).status_code == 400  # the rules of every other path
        reset = use_link(web, link, {"password": NEW_PASSWORD})
        assert reset.status_code == 303 and reset.headers["location"] == "/admin/?done=password-reset"
        assert imap_login(server, CAROL, NEW_PASSWORD) == "OK"
        assert imap_login(server, CAROL, PASSWORD) == "NO"  # the cache entry died with the old hash
        assert sign_in(web, CAROL, NEW_PASSWORD).status_code == 303
        assert stolen.get("/admin/account").status_code == 303  # the other session ended
        told = f"Le mot de passe de {CAROL} a été réinitialisé"
        wait_for("the notice in carol's own mailbox", lambda: told in subjects(server.messages(CAROL)))
        again = use_link(other, link)
        assert again.status_code == 400 and "used already" in again.text
        assert post_link(other, link, {"password": "yet another password"}).status_code == 400
        assert imap_login(server, CAROL, NEW_PASSWORD) == "OK"


def test_unknown_address_and_account_without_recovery_get_the_same_answer(server: Daemon, carol: str) -> None:
    with closing(browser(server)) as web:
        answers = {address: forgot(web, address) for address in (f"nobody@{DOMAIN}", USER, "x@nowhere.test")}
    texts = {re.sub(r'name="csrf" value="[^"]+"', "", answer.text) for answer in answers.values()}
    assert {answer.status_code for answer in answers.values()} == {200} and len(texts) == 1
    wait_for(
        "the request of a user without recovery address audited",
        lambda: any(
            action == "recovery.request" and target == f"{USER}: no confirmed recovery address, nothing sent"
            for action, _, _, target in audit(server)
        ),
    )


def test_an_expired_link_is_refused(server: Daemon, sink: Sink, carol: str) -> None:
    with closing(browser(server)) as web:
        forgot(web, CAROL)
        link = mailed_link(sink, carol, f"Réinitialisez le mot de passe de {CAROL}", count=2)
        core = open_services(config.load(server.config))
        try:  # 30 minutes later (the unit tests move a clock; here the row's expiry moves)
            with core.engine.begin() as conn:
                conn.execute(sa.update(db.recovery_tokens).values(expires_at=1))
        finally:
            core.close()
        refused = web.get(link)
        assert refused.status_code == 400 and "expired" in refused.text
        assert post_link(web, link, {"password": "yet another password"}).status_code == 400
    assert imap_login(server, CAROL, NEW_PASSWORD) == "OK"
    assert any(action == "recovery.expired" and target.startswith(CAROL) for action, *_, target in audit(server))


def test_requests_for_one_address_are_throttled(server: Daemon) -> None:
    with closing(browser(server)) as web:
        answers = [forgot(web, f"guess@{DOMAIN}").status_code for _ in range(recovery.PER_ADDRESS_PER_HOUR + 1)]
        assert answers == [200] * recovery.PER_ADDRESS_PER_HOUR + [429]
        assert "Too many password reset requests" in forgot(web, f"guess@{DOMAIN}").text


def test_an_owner_mails_a_reset_link_to_its_user_but_touches_no_other_business(
    server: Daemon, sink: Sink, carol: str
) -> None:
    with closing(signed_in(server, "owner")) as owner:
        offered = owner.get(f"/admin/business/{DOMAIN}/").text
        assert f"/admin/mailboxes/{quote(CAROL)}/reset-link" in offered  # she has a confirmed recovery address
        assert f"/admin/mailboxes/{quote(USER)}/reset-link" not in offered
        sent = post(owner, f"/admin/mailboxes/{CAROL}/reset-link")
        assert sent.status_code == 303 and "done=reset-link-sent" in sent.headers["location"]
        mailed = wait_for("the owner's link", lambda: mails(sink, carol, "Réinitialisez")[2:])
        assert OWNER in mailed[0].get_body(("plain",)).get_content()  # type: ignore[union-attr]
        nowhere = post(owner, f"/admin/mailboxes/{USER}/reset-link")
        assert nowhere.status_code == 400 and "no confirmed recovery address" in nowhere.text
        for path in ("password", "reset-link"):
            foreign = post(owner, f"/admin/mailboxes/{CUSTOMER_OWNER}/{path}", {"password": NEW_PASSWORD})
            assert foreign.status_code == 403  # the same refusal as for a domain not hosted here
    assert imap_login(server, CUSTOMER_OWNER, PASSWORD) == "OK"


def test_a_partner_resets_the_owner_of_its_customer_only(server: Daemon) -> None:
    with closing(signed_in(server, "partner")) as partner:
        done = post(partner, f"/admin/mailboxes/{CUSTOMER_OWNER}/password", {"password": NEW_PASSWORD})
        assert done.status_code == 303
        assert post(partner, f"/admin/mailboxes/{OWNER}/password", {"password": NEW_PASSWORD}).status_code == 403
    assert imap_login(server, CUSTOMER_OWNER, NEW_PASSWORD) == "OK"
    assert ("password.set", "pat@agency.test", "127.0.0.1", CUSTOMER_OWNER) in audit(server)


def test_every_recovery_step_is_in_the_audit_log(server: Daemon, carol: str) -> None:
    actions = {(action, actor) for action, actor, _, target in audit(server) if target.startswith(CAROL)}
    assert {
        ("recovery.set", CAROL),
        ("recovery.confirm", recovery.LINK),
        ("recovery.request", recovery.FORM),
        ("recovery.mail", recovery.FORM),
        ("recovery.reset", recovery.LINK),
        ("recovery.failed", recovery.LINK),
        ("recovery.expired", recovery.LINK),
        ("recovery.mail", OWNER),
    } <= actions


def test_sign_up_takes_a_recovery_address_outside_the_new_business(server: Daemon, sink: Sink) -> None:
    with closing(browser(server)) as web:
        page = web.get("/admin/signup")
        form = {"csrf": csrf_token(page), "business": "Bakery", "identifier": "bakery", "password": PASSWORD}
        inside = web.post("/admin/signup", data={**form, "recovery": "me@bakery.sites.test"})
        assert inside.status_code == 400 and "outside your business" in inside.text
        made = web.post("/admin/signup", data={**form, "recovery": f"baker@{OUTSIDE}"})
        assert made.status_code == 303
    mailed_link(sink, f"baker@{OUTSIDE}", "Confirm the recovery address of owner@bakery.sites.test")
