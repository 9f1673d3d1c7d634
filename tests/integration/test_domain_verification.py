"""Nobody claims a name that is not theirs (issue 11, "anyone can claim any name").

A domain an owner or partner adds in the admin UI is pending until its DNS carries the TXT record
`smb-suite-verification=<token>` (a twisted.names server on loopback plays the internet's DNS): until then it
receives no mail, cannot send, signs nothing and serves no site. Reserved names are refused for every role;
a domain of another business and a domain that does not exist get the same answer; a refused `tenant create`
leaves nothing behind.
"""

from __future__ import annotations

import html
import smtplib
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import httpx
import pytest

from smb_suite import config
from smb_suite.directory.model import OPERATOR
from smb_suite.ops import signing
from smb_suite.services import open_services
from tests.adminweb import (
    CUSTOMER,
    PASSWORD,
    browser,
    csrf_token,
    make_admin_daemon,
    post,
    prove_ownership,
    signed_in,
    verification_record,
)
from tests.daemon import DOMAIN, OWNER, USER, Daemon, Daemons
from tests.dnsserver import DnsServer, publish
from tests.mailtest import inbound, insecure_context
from tests.polling import wait_for

HOSTNAME = "mail.example.test"  # tests/daemon.py's [server] hostname
PENDING = "pending-shop.test"
PROVEN = "proven-shop.test"
DEADLINE = 60.0


@pytest.fixture(scope="module")
def zone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("zone") / "internet.zone"
    path.write_text("")
    return path


@pytest.fixture(scope="module")
def dns(zone: Path) -> Iterator[DnsServer]:
    server = DnsServer(zone).start()
    yield server
    server.stop()


def dns_config(dns: DnsServer, interval: str) -> str:
    return f'[dns]\nnameservers = ["{dns.address}"]\ntimeout = 5\n[domains]\nverify_interval = "{interval}"\n'


@pytest.fixture(scope="module")
def server(start_daemon: Daemons, dns: DnsServer) -> Daemon:
    """The admin daemon (tests/adminweb.py); the periodic check is far away so that only clicks verify here.
    Besides: the operator's business ops.test holds shop.parent.test (for the 'parent of' refusal)."""
    return start_daemon(dns_config(dns, "1h"), make=make_admin_daemon, name="verify")


@pytest.fixture(scope="module")
def owner(server: Daemon) -> Iterator[httpx.Client]:
    """The owner of example.test, who added PENDING and PROVEN (pending both) and a mailbox at each."""
    with closing(signed_in(server, "owner")) as client:
        for name in (PENDING, PROVEN):
            added = post(client, f"/admin/business/{DOMAIN}/domains", {"domain": name})
            assert added.status_code == 303, added.text
            assert added.headers["location"] == f"/admin/domains/{name}/?done=domain-pending"
            mailbox = {"local": "anna", "domain": name, "password": PASSWORD, "role": "user"}
            assert post(client, f"/admin/business/{DOMAIN}/mailboxes", mailbox).status_code == 303
        yield client


@pytest.fixture(scope="module")
def sessions(server: Daemon) -> Iterator[dict[str, httpx.Client]]:
    """The owner of example.test and the partner (steward of client-co), signed in once for the module."""
    clients = {role: signed_in(server, role) for role in ("owner", "partner")}
    yield clients
    for client in clients.values():
        client.close()


def hosted(server: Daemon) -> dict[str, str]:
    """Every hosted domain -> its business, read from the daemon's database (quicker than `domain list`)."""
    services = open_services(config.load(server.config))
    try:
        return {domain.name: domain.tenant_name for domain in services.directory.list_domains(OPERATOR)}
    finally:
        services.close()


def site(server: Daemon, host: str) -> httpx.Response:
    return httpx.get(f"http://127.0.0.1:{server.ports['http']}/", headers={"Host": host}, timeout=30)


def submission_mail_from(server: Daemon, address: str) -> tuple[int, bytes]:
    with smtplib.SMTP("127.0.0.1", server.ports["submission"], timeout=30) as client:
        client.starttls(context=insecure_context())
        client.ehlo("laptop")
        client.login(address, PASSWORD)
        return client.mail(address)


def mx_rcpt(server: Daemon, recipient: str) -> tuple[int, bytes]:
    with closing(inbound(server)) as client:
        assert client.mail("someone@remote.example")[0] == 250
        return client.rcpt(recipient)


# -- pending domains -------------------------------------------------------------------------------------------


def test_a_domain_an_owner_adds_is_pending_with_the_record_to_publish_and_a_check_button(
    server: Daemon, owner: httpx.Client
) -> None:
    page = owner.get(f"/admin/domains/{PENDING}/?done=domain-pending").text
    assert "It is pending until you publish the TXT record below." in page
    assert f"Pending: prove that {PENDING} is yours" in page
    assert verification_record(owner, PENDING).startswith("smb-suite-verification=")
    assert f'action="/admin/domains/{PENDING}/verify"' in page and 'name="csrf"' in page
    assert "Pending verification" in owner.get("/admin/").text
    assert f"{PENDING}\t{DOMAIN}\tpending" in server.cli("domain", "list").stdout
    assert f"{DOMAIN}\t{DOMAIN}\tverified" in server.cli("domain", "list").stdout


def test_each_domain_has_its_own_token(owner: httpx.Client) -> None:
    assert verification_record(owner, PENDING) != verification_record(owner, PROVEN)


def test_a_pending_domain_receives_no_mail(server: Daemon, owner: httpx.Client) -> None:
    code, text = mx_rcpt(server, f"anna@{PENDING}")
    assert code == 550 and text.startswith(b"5.7.1") and b"not verified" in text
    assert "smtp.rcpt_refused" in server.all_logs()


def test_a_pending_domain_cannot_send(server: Daemon, owner: httpx.Client) -> None:
    code, text = submission_mail_from(server, f"anna@{PENDING}")
    assert code == 553 and text.startswith(b"5.7.1") and b"not verified" in text


def test_mail_for_a_pending_domain_from_our_users_is_not_kept_here(server: Daemon, owner: httpx.Client) -> None:
    """Submission treats it as a remote domain (its real MX elsewhere), never as the claimant's mailbox."""
    with smtplib.SMTP("127.0.0.1", server.ports["submission"], timeout=30) as client:
        client.starttls(context=insecure_context())
        client.ehlo("laptop")
        client.login(USER, "alice-secret-1")
        client.mail(USER)
        code, _ = client.rcpt(f"anna@{PENDING}")
        assert code == 250
        code, reply = client.data(f"From: {USER}\r\nTo: anna@{PENDING}\r\nSubject: hi\r\n\r\nhello\r\n".encode())
    assert code == 250 and b"queued" in reply  # the outbound queue, not a local mailbox


def test_a_pending_domain_serves_no_site(server: Daemon, owner: httpx.Client) -> None:
    assert site(server, DOMAIN).status_code == 200
    for host in (PENDING, f"www.{PENDING}"):
        response = site(server, host)
        assert response.status_code == 404 and "No website is published at this address." in response.text


def test_a_pending_domain_signs_nothing(server: Daemon, owner: httpx.Client) -> None:
    services = open_services(config.load(server.config))
    try:
        assert services.dkim.active(PENDING)  # it has keys (for its DNS records) ...
        assert services.dkim.signing_keys(PENDING) == []  # ... but signs nothing with them
        message = f"From: anna@{PENDING}\r\nSubject: x\r\n\r\nbody\r\n".encode()
        assert signing.sign(services, message, PENDING) == message
        assert services.delivery.sign_generated(message) == message
        assert services.dkim.signing_keys(DOMAIN)
    finally:
        services.close()


def test_a_wrong_record_does_not_verify(server: Daemon, owner: httpx.Client, zone: Path) -> None:
    publish(zone, f'{PENDING}.\t300\tIN\tTXT\t"smb-suite-verification=0123456789abcdef0123456789abcdef"')
    publish(zone, f'www.{PENDING}.\t300\tIN\tTXT\t"{verification_record(owner, PENDING)}"')  # not on the domain
    checked = post(owner, f"/admin/domains/{PENDING}/verify")
    assert checked.headers["location"] == f"/admin/domains/{PENDING}/?done=domain-not-verified"
    assert "The verification record was not found yet." in owner.get(checked.headers["location"]).text
    assert f"{PENDING}\t{DOMAIN}\tpending" in server.cli("domain", "list").stdout


def test_publishing_the_record_and_check_now_verifies_then_mail_site_and_signing_work(
    server: Daemon, owner: httpx.Client, zone: Path
) -> None:
    assert mx_rcpt(server, f"anna@{PROVEN}")[0] == 550
    checked = prove_ownership(owner, zone, PROVEN)
    assert checked.status_code == 303
    assert checked.headers["location"] == f"/admin/domains/{PROVEN}/?done=domain-verified"
    page = owner.get(checked.headers["location"]).text
    assert "The domain is verified" in page and "Pending: prove" not in page
    assert f"{PROVEN}\t{DOMAIN}\tverified" in server.cli("domain", "list").stdout
    assert mx_rcpt(server, f"anna@{PROVEN}")[0] == 250
    with closing(inbound(server)) as client:
        refused = client.sendmail("someone@remote.example", [f"anna@{PROVEN}"], b"Subject: hello\r\n\r\nhi\r\n")
        assert refused == {}
    assert submission_mail_from(server, f"anna@{PROVEN}")[0] == 250
    assert site(server, PROVEN).status_code == 200 and site(server, f"www.{PROVEN}").status_code == 200
    assert "domain.verified" in server.cli("audit", "--tenant", DOMAIN).stdout


def test_the_daemon_verifies_a_pending_domain_by_itself(tmp_path: Path, dns: DnsServer, zone: Path) -> None:
    daemon = make_admin_daemon(tmp_path / "periodic", dns_config(dns, "1s")).start()
    try:
        with closing(signed_in(daemon, "owner")) as client:
            name = "periodic-shop.test"
            assert post(client, f"/admin/business/{DOMAIN}/domains", {"domain": name}).status_code == 303
            publish(zone, f'{name}.\t300\tIN\tTXT\t"{verification_record(client, name)}"')

            def verified() -> bool:
                return "Pending: prove" not in client.get(f"/admin/domains/{name}/").text

            wait_for("the periodic check to verify the domain", verified, DEADLINE, interval=0.2)
        assert site(daemon, name).status_code == 200
    finally:
        daemon.stop()


def test_the_operator_checks_or_grants_a_pending_domain_at_the_command_line(
    server: Daemon, owner: httpx.Client
) -> None:
    name = "granted-shop.test"
    assert post(owner, f"/admin/business/{DOMAIN}/domains", {"domain": name}).status_code == 303
    checked = server.cli("domain", "verify", name, check=False)
    assert (
        checked.returncode == 1 and f"{name} is still pending: no TXT record smb-suite-verification=" in checked.stderr
    )
    assert "is verified (granted by the operator)" in server.cli("domain", "verify", name, "--grant").stdout
    assert f"{name}\t{DOMAIN}\tverified" in server.cli("domain", "list").stdout
    assert site(server, name).status_code == 200


def test_the_operators_domains_need_no_proof(server: Daemon) -> None:
    server.cli("domain", "add", "operator-made.test", "--tenant", DOMAIN)
    assert f"operator-made.test\t{DOMAIN}\tverified" in server.cli("domain", "list").stdout
    assert site(server, "operator-made.test").status_code == 200


def test_sign_up_names_below_the_platform_domain_need_no_proof(server: Daemon) -> None:
    with browser(server) as visitor:
        data = {
            "csrf": csrf_token(visitor.get("/admin/signup")),
            "business": "Bakery",
            "identifier": "bakery",
            "password": PASSWORD,
        }
        assert visitor.post("/admin/signup", data=data).status_code == 303
    assert "bakery.sites.test\tbakery\tverified" in server.cli("domain", "list").stdout
    assert site(server, "bakery.sites.test").status_code == 200


# -- reserved names --------------------------------------------------------------------------------------------

# (name, why) refused to the owner of example.test and to the partner for its customer client-co alike.
RESERVED = [
    (HOSTNAME, "this server's own name"),
    (f"imap.{HOSTNAME}", "below this server's own name"),
    ("sites.test", "the platform domain"),
    ("shop.sites.test", "given by sign-up only"),
    (f"www.{DOMAIN}", "answered for the hosted domain"),
    (f"autoconfig.{DOMAIN}", "answered for the hosted domain"),
    (f"autodiscover.{DOMAIN}", "answered for the hosted domain"),
    (f"mta-sts.{DOMAIN}", "answered for the hosted domain"),
    ("www.client.test", "answered for the hosted domain"),
    ("mta-sts.ops.test", "answered for the hosted domain"),
    ("shop.ops.test", "below ops.test, which another business holds"),
    ("parent.test", "above shop.parent.test, which another business holds"),
]


@pytest.fixture(scope="module")
def held_below(server: Daemon) -> None:
    server.cli("domain", "add", "shop.parent.test", "--tenant", "ops.test")


@pytest.mark.parametrize("role", ["owner", "partner"])
@pytest.mark.parametrize(("name", "why"), RESERVED, ids=[name for name, _ in RESERVED])
def test_reserved_names_are_refused_to_owners_and_partners(
    server: Daemon, sessions: dict[str, httpx.Client], held_below: None, role: str, name: str, why: str
) -> None:
    business = DOMAIN if role == "owner" else CUSTOMER
    response = post(sessions[role], f"/admin/business/{business}/domains", {"domain": name})
    assert response.status_code == 403 and why in html.unescape(response.text), (role, name, response.text[:300])
    assert name not in hosted(server)


def test_the_sub_domains_of_a_foreign_domain_are_refused_both_ways(server: Daemon) -> None:
    with closing(signed_in(server, "partner")) as partner:
        response = post(partner, f"/admin/business/{CUSTOMER}/domains", {"domain": f"shop.{DOMAIN}"})
        assert response.status_code == 403 and f"below {DOMAIN}, which another business holds" in response.text
        own = post(partner, f"/admin/business/{CUSTOMER}/domains", {"domain": "shop.client.test"})
        assert own.status_code == 303  # below its customer's own domain: allowed (and pending)


def test_a_pending_claim_reserves_nothing_around_it(server: Daemon) -> None:
    """A squatter's pending www.victim.test keeps nobody from adding victim.test."""
    with closing(signed_in(server, "partner")) as partner:
        assert post(partner, f"/admin/business/{CUSTOMER}/domains", {"domain": "shop.victim.test"}).status_code == 303
    with closing(signed_in(server, "owner")) as owner:
        assert post(owner, f"/admin/business/{DOMAIN}/domains", {"domain": "victim.test"}).status_code == 303


@pytest.mark.parametrize("name", [HOSTNAME, f"smtp.{HOSTNAME}", "sites.test", f"www.{DOMAIN}", "www.sites.test"])
def test_reserved_names_are_refused_to_the_operator_too(server: Daemon, name: str) -> None:
    result = server.cli("domain", "add", name, check=False)
    assert result.returncode != 0, result.stdout
    assert any(why in result.stderr for why in ("reserved", "server's own name", "platform domain")), result.stderr
    assert name not in hosted(server)


def test_the_admin_host_serves_no_tenant_content(server: Daemon) -> None:
    for host in (HOSTNAME, "localhost", "127.0.0.1"):
        home = httpx.get(f"http://127.0.0.1:{server.ports['http']}/", headers={"Host": host}, timeout=30)
        assert home.status_code == 303 and home.headers["location"] == "/admin/"
        contact = httpx.post(
            f"http://127.0.0.1:{server.ports['http']}/_contact", headers={"Host": host}, data={"x": "1"}, timeout=30
        )
        assert contact.status_code in (403, 404)


# -- no probing ------------------------------------------------------------------------------------------------


def _same(foreign: httpx.Response, missing: httpx.Response, foreign_name: str, missing_name: str) -> None:
    assert foreign.status_code == missing.status_code == 403
    assert foreign.text.replace(foreign_name, "X") == missing.text.replace(missing_name, "X")


@pytest.mark.parametrize(
    ("method", "template"),
    [
        ("GET", "/admin/domains/{name}/"),
        ("GET", "/admin/domains/{name}/zone"),
        ("GET", "/admin/sites/{name}/"),
        ("POST", "/admin/domains/{name}/verify"),
        ("POST", "/admin/domains/{name}/catchall"),
        ("POST", "/admin/sites/{name}/publish"),
    ],
)
def test_a_foreign_domain_and_a_missing_one_get_the_same_answer(
    sessions: dict[str, httpx.Client], method: str, template: str
) -> None:
    owner = sessions["owner"]
    answers = []
    for name in ("client.test", "nowhere-at-all.test"):
        path = template.format(name=name)
        answers.append(owner.get(path) if method == "GET" else post(owner, path, {"off": "1"}))
    _same(*answers, "client.test", "nowhere-at-all.test")


def test_a_foreign_mailbox_and_a_missing_one_get_the_same_answer(server: Daemon) -> None:
    with closing(signed_in(server, "owner")) as owner:
        foreign = post(owner, "/admin/mailboxes/boss@client.test/password", {"password": "another long one"})
        missing = post(owner, "/admin/mailboxes/boss@nowhere-at-all.test/password", {"password": "another long one"})
        _same(foreign, missing, "client.test", "nowhere-at-all.test")
        foreign = post(owner, f"/admin/business/{CUSTOMER}/aliases", {"alias": "a@client.test", "target": OWNER})
        missing = post(owner, "/admin/business/nobody-co/aliases", {"alias": "a@client.test", "target": OWNER})
        _same(foreign, missing, CUSTOMER, "nobody-co")


def test_adding_a_domain_to_a_foreign_business_or_a_missing_one_gets_the_same_answer(server: Daemon) -> None:
    with closing(signed_in(server, "owner")) as owner:
        foreign = post(owner, f"/admin/business/{CUSTOMER}/domains", {"domain": "free-name.test"})
        missing = post(owner, "/admin/business/nobody-co/domains", {"domain": "free-name.test"})
    _same(foreign, missing, CUSTOMER, "nobody-co")


# -- tenant create ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("domain", "owner_address", "status"),
    [
        ("half.test", "boss@client.test", 400),  # the owner would be another business's mailbox
        ("www.client.test", "boss@www.client.test", 403),  # refused inside the transaction, after the business
        ("half.test", "not an address", 400),
    ],
)
def test_a_refused_tenant_create_leaves_nothing(server: Daemon, domain: str, owner_address: str, status: int) -> None:
    with closing(signed_in(server, "partner")) as partner:
        form = {"name": "half-co", "domain": domain, "owner": owner_address, "password": PASSWORD}
        response = post(partner, "/admin/tenants", form)
    assert response.status_code == status, response.text[:300]
    assert domain not in hosted(server)
    services = open_services(config.load(server.config))
    try:
        assert all(tenant.name != "half-co" for tenant in services.directory.list_tenants(OPERATOR))
    finally:
        services.close()
