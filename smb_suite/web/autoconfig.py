"""Mail clients configure themselves: Thunderbird autoconfig, Outlook autodiscover, the MTA-STS policy.

Thunderbird asks https://autoconfig.<domain>/mail/config-v1.1.xml and /.well-known/autoconfig/mail/...
(https://wiki.mozilla.org/Thunderbird:Autoconfiguration); Outlook POSTs its address to
/autodiscover/autodiscover.xml ([MS-OXDSCLI] POX); mail servers fetch mta-sts.<domain>/.well-known/mta-sts.txt
(RFC 8461 3.2). Each answers only for domains we host.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from xml.etree.ElementTree import Element, SubElement, tostring

import defusedxml.ElementTree as SafeXML
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from smb_suite.config import Config
from smb_suite.directory.core import Directory
from smb_suite.directory.model import Domain
from smb_suite.errors import InvalidInput, NotFound
from smb_suite.mail.address import parse_address
from smb_suite.ops import dns_records
from smb_suite.services import Services
from smb_suite.web.hosts import request_host

AUTODISCOVER_REQUEST = "{http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006}"
AUTODISCOVER_RESPONSE = "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"
OUTLOOK_RESPONSE = "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"
MAX_REQUEST = 16 * 1024


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One way in for a mail client: protocol, port, and whether TLS is implicit or via STARTTLS."""

    protocol: str
    port: int
    implicit_tls: bool


def endpoints(listening: Mapping[str, int]) -> list[Endpoint]:
    """The listening IMAP and submission services, implicit TLS first (RFC 8314 3.3 prefers it)."""
    services = (
        ("imap", "imaps", True),
        ("imap", "imap", False),
        ("smtp", "submissions", True),
        ("smtp", "submission", False),
    )
    return [Endpoint(protocol, listening[name], implicit) for protocol, name, implicit in services if name in listening]


def _hosted(directory: Directory, name: str) -> Domain:
    domain = directory.find_domain(name)
    if domain is None or not domain.verified:  # a pending domain is not hosted yet
        raise NotFound("No mail is hosted for this domain here.")
    return domain


def thunderbird_config(config: Config, listening: Mapping[str, int], domain: str, brand: str) -> bytes:
    """The settings of `domain`'s mail, shown in the mail app under the brand its business sees."""
    root = Element("clientConfig", version="1.1")
    provider = SubElement(root, "emailProvider", id=domain)
    SubElement(provider, "domain").text = domain
    SubElement(provider, "displayName").text = f"{brand} ({domain})"
    SubElement(provider, "displayShortName").text = brand
    for endpoint in endpoints(listening):
        kind = "incomingServer" if endpoint.protocol == "imap" else "outgoingServer"
        server = SubElement(provider, kind, type=endpoint.protocol)
        SubElement(server, "hostname").text = config.server.hostname
        SubElement(server, "port").text = str(endpoint.port)
        SubElement(server, "socketType").text = "SSL" if endpoint.implicit_tls else "STARTTLS"
        SubElement(server, "authentication").text = "password-cleartext"
        SubElement(server, "username").text = "%EMAILADDRESS%"
    return bytes(tostring(root, encoding="utf-8", xml_declaration=True))


def outlook_response(config: Config, listening: Mapping[str, int], address: str) -> bytes:
    root = Element("Autodiscover", xmlns=AUTODISCOVER_RESPONSE)
    account = SubElement(SubElement(root, "Response", xmlns=OUTLOOK_RESPONSE), "Account")
    SubElement(account, "AccountType").text = "email"
    SubElement(account, "Action").text = "settings"
    chosen: dict[str, Endpoint] = {}
    for endpoint in endpoints(listening):
        chosen.setdefault(endpoint.protocol, endpoint)
    for endpoint in chosen.values():
        protocol = SubElement(account, "Protocol")
        for tag, text in (
            ("Type", endpoint.protocol.upper()),
            ("Server", config.server.hostname),
            ("Port", str(endpoint.port)),
            ("DomainRequired", "off"),
            ("LoginName", address),
            ("SPA", "off"),
            ("SSL", "on"),
            ("Encryption", "SSL" if endpoint.implicit_tls else "TLS"),
            ("AuthRequired", "on"),
        ):
            SubElement(protocol, tag).text = text
    return bytes(tostring(root, encoding="utf-8", xml_declaration=True))


def _requested_address(body: bytes) -> str:
    try:
        document = SafeXML.fromstring(body)
    except (SafeXML.ParseError, ValueError) as exc:  # defusedxml refuses entities with ValueError subclasses
        raise InvalidInput("the autodiscover request is not valid XML") from exc
    element = document.find(f"{AUTODISCOVER_REQUEST}Request/{AUTODISCOVER_REQUEST}EMailAddress")
    if element is None or not element.text:
        raise InvalidInput("the autodiscover request names no EMailAddress")
    return str(element.text).strip()


class AutoconfigViews:
    def __init__(self, services: Services) -> None:
        self._services = services

    def routes(self) -> list[Route]:
        return [
            Route("/.well-known/autoconfig/mail/config-v1.1.xml", self.thunderbird, methods=["GET"]),
            Route("/mail/config-v1.1.xml", self.thunderbird, methods=["GET"]),
            Route("/autodiscover/autodiscover.xml", self.outlook, methods=["POST"]),
            Route("/Autodiscover/Autodiscover.xml", self.outlook, methods=["POST"]),
            Route("/.well-known/mta-sts.txt", self.mta_sts, methods=["GET"]),
        ]

    async def _domain(self, name: str) -> Domain:
        return await self._services.runner.read(_hosted, self._services.directory, name)

    async def thunderbird(self, request: Request) -> Response:
        address = request.query_params.get("emailaddress")
        name = parse_address(address).domain if address else request_host(request.headers).removeprefix("autoconfig.")
        domain = await self._domain(name)
        brand = await self._services.runner.read(self._services.brands.for_tenant, domain.tenant_id)
        document = thunderbird_config(self._services.config, self._services.listening, domain.name, brand.name)
        return Response(document, media_type="application/xml")

    async def outlook(self, request: Request) -> Response:
        body = await request.body()
        if len(body) > MAX_REQUEST:
            raise InvalidInput("the autodiscover request is too large")
        address = parse_address(_requested_address(body))
        await self._domain(address.domain)
        document = outlook_response(self._services.config, self._services.listening, str(address))
        return Response(document, media_type="application/xml")

    async def mta_sts(self, request: Request) -> Response:
        host = request_host(request.headers)
        if not host.startswith("mta-sts."):
            raise NotFound("MTA-STS policies are served on mta-sts.<domain>.")
        await self._domain(host.removeprefix("mta-sts."))
        return PlainTextResponse(dns_records.mta_sts_policy(self._services.config))
