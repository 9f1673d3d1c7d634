"""Mail clients configure themselves from what the daemon publishes for a hosted domain."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import httpx

from tests.daemon import DOMAIN, USER, Daemon

OUTLOOK_REQUEST = """<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006">
  <Request>
    <EMailAddress>{address}</EMailAddress>
    <AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema>
  </Request>
</Autodiscover>"""
NS = "{http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a}"


def get(daemon: Daemon, host: str, path: str) -> httpx.Response:
    with httpx.Client(verify=False) as client:
        return client.get(f"https://127.0.0.1:{daemon.ports['https']}{path}", headers={"Host": host})


def post(daemon: Daemon, host: str, path: str, body: str) -> httpx.Response:
    with httpx.Client(verify=False) as client:
        return client.post(
            f"https://127.0.0.1:{daemon.ports['https']}{path}",
            headers={"Host": host, "Content-Type": "text/xml"},
            content=body.encode(),
        )


def servers(document: ET.Element, kind: str) -> list[tuple[str, str, int, str, str]]:
    return [
        (
            server.get("type", ""),
            server.findtext("hostname", ""),
            int(server.findtext("port", "0")),
            server.findtext("socketType", ""),
            server.findtext("username", ""),
        )
        for server in document.iter(kind)
    ]


def test_thunderbird_autoconfig_names_our_servers_ports_and_tls(daemon: Daemon) -> None:
    response = get(daemon, f"autoconfig.{DOMAIN}", "/mail/config-v1.1.xml")
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/xml")
    document = ET.fromstring(response.content)
    assert document.find("emailProvider/domain").text == DOMAIN  # type: ignore[union-attr]
    host, ports = "mail.example.test", daemon.ports
    assert servers(document, "incomingServer") == [
        ("imap", host, ports["imaps"], "SSL", "%EMAILADDRESS%"),
        ("imap", host, ports["imap"], "STARTTLS", "%EMAILADDRESS%"),
    ]
    assert servers(document, "outgoingServer") == [
        ("smtp", host, ports["submissions"], "SSL", "%EMAILADDRESS%"),
        ("smtp", host, ports["submission"], "STARTTLS", "%EMAILADDRESS%"),
    ]


def test_thunderbird_well_known_url_on_the_domain_itself(daemon: Daemon) -> None:
    response = get(daemon, DOMAIN, f"/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress={USER}")
    assert response.status_code == 200
    assert ET.fromstring(response.content).find("emailProvider").get("id") == DOMAIN  # type: ignore[union-attr]


def test_autoconfig_for_a_domain_we_do_not_host_is_404(daemon: Daemon) -> None:
    assert get(daemon, "autoconfig.elsewhere.example", "/mail/config-v1.1.xml").status_code == 404


def test_outlook_autodiscover_answers_imap_and_smtp_over_ssl(daemon: Daemon) -> None:
    response = post(
        daemon, f"autodiscover.{DOMAIN}", "/autodiscover/autodiscover.xml", OUTLOOK_REQUEST.format(address=USER)
    )
    assert response.status_code == 200
    account = ET.fromstring(response.content).find(f"{NS}Response/{NS}Account")
    assert account is not None and account.findtext(f"{NS}Action") == "settings"
    protocols = {
        p.findtext(f"{NS}Type"): (p.findtext(f"{NS}Server"), int(p.findtext(f"{NS}Port", "0")), p.findtext(f"{NS}SSL"))
        for p in account.iter(f"{NS}Protocol")
    }
    assert protocols == {
        "IMAP": ("mail.example.test", daemon.ports["imaps"], "on"),
        "SMTP": ("mail.example.test", daemon.ports["submissions"], "on"),
    }
    assert {p.findtext(f"{NS}LoginName") for p in account.iter(f"{NS}Protocol")} == {USER}


def test_outlook_autodiscover_refuses_entities_and_garbage(daemon: Daemon) -> None:
    bomb = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]><x>&b;</x>'
    assert post(daemon, DOMAIN, "/autodiscover/autodiscover.xml", bomb).status_code == 400
    assert post(daemon, DOMAIN, "/autodiscover/autodiscover.xml", "not xml").status_code == 400
    unknown = OUTLOOK_REQUEST.format(address="someone@elsewhere.example")
    assert post(daemon, DOMAIN, "/autodiscover/autodiscover.xml", unknown).status_code == 404


def test_mta_sts_policy_is_served_on_mta_sts_host(daemon: Daemon) -> None:
    response = get(daemon, f"mta-sts.{DOMAIN}", "/.well-known/mta-sts.txt")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    assert response.text.splitlines() == ["version: STSv1", "mode: testing", "mx: mail.example.test", "max_age: 86400"]
    assert get(daemon, DOMAIN, "/.well-known/mta-sts.txt").status_code == 404
