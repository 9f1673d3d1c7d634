"""An owner adds a domain in the admin UI, reads the DNS records to publish, downloads the zone file and checks
them live against a twisted.names server on loopback (the internet's DNS); mail clients configure themselves
for the new domain; the account page offers the Apple profile and the settings."""

from __future__ import annotations

import plistlib
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import httpx
import pytest

from smb_suite import config
from smb_suite.directory.model import OPERATOR
from smb_suite.ops import dns_records
from smb_suite.services import open_services
from tests.adminweb import make_admin_daemon, post, prove_ownership, signed_in
from tests.daemon import DOMAIN, Daemon, Daemons
from tests.dnsserver import DnsServer, parse_zone
from tests.integration.test_autoconfig import NS, OUTLOOK_REQUEST, servers
from tests.integration.test_autoconfig import get as autoconfig_get
from tests.integration.test_autoconfig import post as autoconfig_post

NEW = "bakery-new.test"
HOST = "mail.example.test"
WEB_ADDRESS = "93.184.215.14"  # this server's public address, as the internet's DNS gives it for HOST


@pytest.fixture(scope="module")
def dns_zone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("zone") / "zone.txt"


@pytest.fixture(scope="module")
def dns(dns_zone: Path) -> Iterator[DnsServer]:
    """Serves the MX as we ask, a wrong SPF, and nothing else for the new domain."""
    dns_zone.write_text(
        f"{NEW}.\t3600\tIN\tMX\t10 {HOST}.\n"
        f'{NEW}.\t3600\tIN\tTXT\t"v=spf1 include:elsewhere.example -all"\n'
        f'{NEW}.\t3600\tIN\tTXT\t"google-site-verification=abc"\n'
        f"autoconfig.{NEW}.\t3600\tIN\tCNAME\t{HOST}.\n"
        f"{HOST}.\t3600\tIN\tA\t{WEB_ADDRESS}\n"
    )
    server = DnsServer(dns_zone).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def server(start_daemon: Daemons, dns: DnsServer) -> Daemon:
    extra = f'[dns]\nnameservers = ["{dns.address}"]\ntimeout = 5\n'
    return start_daemon(extra, make=make_admin_daemon, name="domains")


@pytest.fixture(scope="module")
def owner(server: Daemon, dns_zone: Path) -> Iterator[httpx.Client]:
    """The owner of example.test, who added NEW and proved it is theirs (test_domain_verification: pending)."""
    with closing(signed_in(server, "owner")) as client:
        added = post(client, "/admin/business/example.test/domains", {"domain": NEW})
        assert added.status_code == 303 and added.headers["location"] == f"/admin/domains/{NEW}/?done=domain-pending"
        checked = prove_ownership(client, dns_zone, NEW)
        assert checked.headers["location"] == f"/admin/domains/{NEW}/?done=domain-verified"
        yield client


def test_new_domain_page_lists_every_record_to_publish(owner: httpx.Client) -> None:
    page = owner.get(f"/admin/domains/{NEW}/?done=domain-verified")
    assert page.status_code == 200
    assert "The domain is verified: it receives mail and its website is shown." in page.text
    assert 'class="warning"' not in page.text
    for name, kind in [
        (NEW, "A"),
        (f"www.{NEW}", "A"),
        (NEW, "MX"),
        (NEW, "TXT"),
        (f"_dmarc.{NEW}", "TXT"),
        (f"autoconfig.{NEW}", "CNAME"),
        (f"autodiscover.{NEW}", "CNAME"),
        (f"_imaps._tcp.{NEW}", "SRV"),
        (f"_submissions._tcp.{NEW}", "SRV"),
        (f"_imap._tcp.{NEW}", "SRV"),
        (f"_submission._tcp.{NEW}", "SRV"),
        (f"_caldavs._tcp.{NEW}", "SRV"),
        (f"_caldavs._tcp.{NEW}", "TXT"),
        (f"_carddavs._tcp.{NEW}", "SRV"),
        (f"_carddavs._tcp.{NEW}", "TXT"),
        (f"_mta-sts.{NEW}", "TXT"),
        (f"mta-sts.{NEW}", "CNAME"),
    ]:
        assert re.search(rf"<code[^>]*>{re.escape(name)}</code></td>\s*<td>{kind}</td>", page.text), (name, kind)
    assert 'data-copy="value-1"' in page.text  # copy buttons for the script to reveal


def test_zone_file_download_is_valid_zone_syntax_with_the_srv_ports(server: Daemon, owner: httpx.Client) -> None:
    zone = owner.get(f"/admin/domains/{NEW}/zone")
    assert zone.status_code == 200 and f'filename="{NEW}.zone"' in zone.headers["content-disposition"]
    records = {(name, kind): rdata for name, _, kind, rdata in parse_zone(zone.text)}
    assert records[(NEW, "MX")] == ["10", f"{HOST}."]
    assert records[(NEW, "A")] == records[(f"www.{NEW}", "A")] == [WEB_ADDRESS]
    assert records[(f"_imaps._tcp.{NEW}", "SRV")] == ["0", "1", str(server.ports["imaps"]), f"{HOST}."]
    assert records[(f"_submission._tcp.{NEW}", "SRV")] == ["0", "1", str(server.ports["submission"]), f"{HOST}."]
    assert records[(f"_mta-sts.{NEW}", "TXT")][0].startswith("v=STSv1; id=")
    for service in ("_caldavs", "_carddavs"):  # RFC 6764: the HTTPS port and the context path
        assert records[(f"{service}._tcp.{NEW}", "SRV")] == ["0", "1", str(server.ports["https"]), f"{HOST}."]
        assert records[(f"{service}._tcp.{NEW}", "TXT")] == ["path=/dav/"]


def test_live_check_marks_each_record_present_missing_or_wrong(owner: httpx.Client) -> None:
    page = owner.get(f"/admin/domains/{NEW}/", params={"check": "1"}).text
    rows = {
        (name, kind): status
        for name, kind, status in re.findall(
            r"<code[^>]*>([^<]+)</code></td>\s*<td>(\w+)</td>.*?<td class=\"status-(\w+)\">", page, re.S
        )
    }
    assert rows[(NEW, "MX")] == "present"
    assert rows[(NEW, "TXT")] == "wrong"
    assert "v=spf1 include:elsewhere.example -all" in page  # what was found instead
    assert rows[(f"autoconfig.{NEW}", "CNAME")] == "present"
    assert rows[(f"_dmarc.{NEW}", "TXT")] == "missing"
    assert rows[(f"_imaps._tcp.{NEW}", "SRV")] == "missing"


def test_judging_answers_follows_the_record_kind() -> None:
    spf = dns_records.Record("a.test", "TXT", "v=spf1 mx -all", "spf")
    assert dns_records.judge(spf, ["other=1", "v=spf1 mx -all"]) is dns_records.Status.PRESENT
    assert dns_records.judge(spf, ["other=1"]) is dns_records.Status.MISSING
    assert dns_records.judge(spf, ["v=spf1 a -all"]) is dns_records.Status.WRONG
    mx = dns_records.Record("a.test", "MX", "10 mail.test.", "mx")
    assert dns_records.judge(mx, ["10 MAIL.test."]) is dns_records.Status.PRESENT
    assert dns_records.judge(mx, ["10 other.test."]) is dns_records.Status.WRONG


def test_cli_prints_the_same_records(server: Daemon) -> None:
    printed = server.cli("dns", NEW).stdout
    services = open_services(config.load(server.config))
    try:
        domain = services.directory.get_domain(OPERATOR, NEW)
        for record in dns_records.records(services, domain):
            assert record.name in printed
    finally:
        services.close()


def test_mail_clients_configure_themselves_for_a_domain_added_in_the_ui(server: Daemon, owner: httpx.Client) -> None:
    address = f"demo@{NEW}"
    thunderbird = autoconfig_get(server, f"autoconfig.{NEW}", f"/mail/config-v1.1.xml?emailaddress={address}")
    assert thunderbird.status_code == 200
    document = ET.fromstring(thunderbird.content)
    assert ("imap", HOST, server.ports["imaps"], "SSL", "%EMAILADDRESS%") in servers(document, "incomingServer")
    outlook = autoconfig_post(
        server, f"autodiscover.{NEW}", "/autodiscover/autodiscover.xml", OUTLOOK_REQUEST.format(address=address)
    )
    assert outlook.status_code == 200
    protocols = ET.fromstring(outlook.content).findall(f".//{NS}Protocol")
    assert {p.findtext(f"{NS}Type") for p in protocols} == {"IMAP", "SMTP"}
    assert all(p.findtext(f"{NS}LoginName") == address for p in protocols)


def test_account_page_offers_an_apple_profile_with_imap_smtp_caldav_carddav_and_no_password(server: Daemon) -> None:
    with closing(signed_in(server, "user")) as user:
        page = user.get("/admin/account").text
        assert "/admin/account/mobileconfig" in page and str(server.ports["imaps"]) in page
        assert f"https://{HOST}:{server.ports['https']}/dav/files/" in page  # the DAV addresses of the account
        profile = user.get("/admin/account/mobileconfig")
    assert profile.headers["content-type"] == "application/x-apple-aspen-config"
    assert ".mobileconfig" in profile.headers["content-disposition"]
    document = plistlib.loads(profile.content)
    assert document["PayloadType"] == "Configuration"
    account, calendars, contacts = document["PayloadContent"]
    assert account["PayloadType"] == "com.apple.mail.managed"
    assert (calendars["PayloadType"], contacts["PayloadType"]) == (
        "com.apple.caldav.account",
        "com.apple.carddav.account",
    )
    assert calendars["CalDAVUsername"] == contacts["CardDAVUsername"] == "alice@example.test"
    assert calendars["CalDAVPort"] == contacts["CardDAVPort"] == server.ports["https"]
    assert calendars["CalDAVPrincipalURL"] == contacts["CardDAVPrincipalURL"]
    assert re.fullmatch(r"/dav/u\d+/", calendars["CalDAVPrincipalURL"]) and calendars["CalDAVUseSSL"] is True
    assert account["EmailAddress"] == account["IncomingMailServerUsername"] == "alice@example.test"
    assert account["IncomingMailServerHostName"] == account["OutgoingMailServerHostName"] == HOST
    assert (account["IncomingMailServerPortNumber"], account["IncomingMailServerUseSSL"]) == (
        server.ports["imaps"],
        True,
    )
    assert (account["OutgoingMailServerPortNumber"], account["OutgoingMailServerUseSSL"]) == (
        server.ports["submissions"],
        True,
    )
    assert not any("Password" in key and key != "OutgoingPasswordSameAsIncomingPassword" for key in account)


def test_the_domain_page_warns_when_the_server_hostname_is_localhost(fresh_daemon: Daemons) -> None:
    server = fresh_daemon(make=make_admin_daemon, hostname="localhost", services=("http", "https"))
    with closing(signed_in(server, "owner")) as client:
        page = client.get(f"/admin/domains/{DOMAIN}/")
    assert page.status_code == 200
    assert "the server hostname is localhost: set [server] hostname" in page.text
    assert "10 localhost." in page.text  # the MX target the warning is about
