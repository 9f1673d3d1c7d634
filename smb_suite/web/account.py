"""A user's own pages: the account (storage, password, app passwords, mail client settings) and the Apple
configuration profile (.mobileconfig) that sets up Mail on iPhone, iPad and Mac.

Profile format: Apple's Configuration Profile Reference, payload type com.apple.mail.managed; a plist with
the IMAP and SMTP hosts, ports and TLS, the address as user name, and no password (the device asks); with the
collaboration module, com.apple.caldav.account and com.apple.carddav.account payloads for the same user,
pointing at its principal (web/dav.py).
"""

from __future__ import annotations

import plistlib
import uuid
from collections.abc import Mapping

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from smb_suite.config import Config
from smb_suite.dav.layout import user_principal
from smb_suite.directory.model import User, Vacation
from smb_suite.ops import accounts, users
from smb_suite.ops.tiers import COLLABORATION, has_module
from smb_suite.services import Services
from smb_suite.web.admin import (
    FORM_BYTES,
    Views,
    account_context,
    client_ip,
    read_form,
    require_current_password,
    text_field,
)
from smb_suite.web.autoconfig import Endpoint, endpoints
from smb_suite.web.dav import DAV_PREFIX
from smb_suite.web.pages import SECURITY_HEADERS

ACCOUNT = "/admin/account"
VACATION_BYTES = 64 * 1024
PROFILE_NAMESPACE = uuid.UUID("6f1d3c2e-5a7b-4c8d-9e0f-1a2b3c4d5e6f")


def dav_payloads(host: str, https_port: int, user: User, identifier: str) -> list[dict[str, object]]:
    """CalDAV and CardDAV accounts for the profile: same host, the user's principal, TLS."""
    address = str(user.address)
    payloads: list[dict[str, object]] = []
    for kind, label in (("CalDAV", "Calendars"), ("CardDAV", "Contacts")):
        payload_uuid = str(uuid.uuid5(PROFILE_NAMESPACE, f"{host}/{address}/{kind}")).upper()
        payloads.append(
            {
                "PayloadType": f"com.apple.{kind.lower()}.account",
                "PayloadVersion": 1,
                "PayloadIdentifier": f"{identifier}.{kind.lower()}.{payload_uuid}",
                "PayloadUUID": payload_uuid,
                "PayloadDisplayName": f"{label} {address}",
                f"{kind}AccountDescription": f"{label} {address}",
                f"{kind}HostName": host,
                f"{kind}Port": https_port,
                f"{kind}PrincipalURL": f"{DAV_PREFIX}/{user_principal(user.id)}/",
                f"{kind}UseSSL": True,
                f"{kind}Username": address,
            }
        )
    return payloads


def mobileconfig(
    config: Config, listening: Mapping[str, int], user: User, brand: str, collaboration: bool = False
) -> bytes:
    """An unsigned configuration profile with one mail account (and the user's calendars and contacts with the
    collaboration module), named after the brand its business sees; stable identifiers per address and server."""
    chosen: dict[str, Endpoint] = {}
    for endpoint in endpoints(listening):
        chosen.setdefault(endpoint.protocol, endpoint)
    imap, smtp = chosen.get("imap"), chosen.get("smtp")
    address = str(user.address)
    host = config.server.hostname
    identifier = ".".join(reversed(host.split("."))) + ".mail"
    account_uuid = str(uuid.uuid5(PROFILE_NAMESPACE, f"{host}/{address}/account")).upper()
    profile_uuid = str(uuid.uuid5(PROFILE_NAMESPACE, f"{host}/{address}/profile")).upper()
    account = {
        "PayloadType": "com.apple.mail.managed",
        "PayloadVersion": 1,
        "PayloadIdentifier": f"{identifier}.account.{account_uuid}",
        "PayloadUUID": account_uuid,
        "PayloadDisplayName": f"{brand} {address}",
        "EmailAccountDescription": f"{brand} ({address})",
        "EmailAccountType": "EmailTypeIMAP",
        "EmailAddress": address,
        "IncomingMailServerHostName": host,
        "IncomingMailServerPortNumber": imap.port if imap else 993,
        "IncomingMailServerUseSSL": imap.implicit_tls if imap else True,
        "IncomingMailServerUsername": address,
        "IncomingMailServerAuthentication": "EmailAuthPassword",
        "OutgoingMailServerHostName": host,
        "OutgoingMailServerPortNumber": smtp.port if smtp else 465,
        "OutgoingMailServerUseSSL": smtp.implicit_tls if smtp else True,
        "OutgoingMailServerUsername": address,
        "OutgoingMailServerAuthentication": "EmailAuthPassword",
        "OutgoingPasswordSameAsIncomingPassword": True,
    }
    profile = {
        "PayloadType": "Configuration",
        "PayloadVersion": 1,
        "PayloadIdentifier": f"{identifier}.{profile_uuid}",
        "PayloadUUID": profile_uuid,
        "PayloadDisplayName": f"{brand} mail {address}",
        "PayloadDescription": f"Mail account {address} on {host}",
        "PayloadOrganization": brand,
        "PayloadRemovalDisallowed": False,
        "PayloadContent": [
            account,
            *(dav_payloads(host, listening.get("https", 443), user, identifier) if collaboration else []),
        ],
    }
    return plistlib.dumps(profile, fmt=plistlib.FMT_XML)


class AccountViews(Views):
    def routes(self) -> list[BaseRoute]:
        return [
            Route(ACCOUNT, self.account, methods=["GET"]),
            Route(ACCOUNT + "/password", self.password, methods=["POST"], max_body_size=FORM_BYTES),
            Route(ACCOUNT + "/app-passwords", self.add_app_password, methods=["POST"], max_body_size=FORM_BYTES),
            Route(ACCOUNT + "/app-passwords/{id:int}/revoke", self.revoke, methods=["POST"], max_body_size=FORM_BYTES),
            Route(ACCOUNT + "/mobileconfig", self.profile, methods=["GET"]),
            Route(ACCOUNT + "/forwarding", self.forwarding, methods=["POST"], max_body_size=FORM_BYTES),
            Route(ACCOUNT + "/vacation", self.vacation, methods=["POST"], max_body_size=VACATION_BYTES),
        ]

    async def account(self, request: Request) -> Response:
        visitor = await self.require(request)
        mailbox = await self.read(accounts.mailbox_row, visitor.actor, str(visitor.user.address))
        return self.render(request, "account.html", visitor, **await account_context(self, visitor, mailbox))

    async def password(self, request: Request) -> Response:
        visitor, form = await self.posted(request)
        address = str(visitor.user.address)
        await require_current_password(self.services, visitor.user, text_field(form, "current"), client_ip(request))
        user = await self.write(users.set_password, visitor.actor, address, text_field(form, "password"))
        response = self.done(ACCOUNT, "password")
        await self.sessions.start(response, request, await self.read(_reload, user))  # the old session ends with it
        return response

    async def add_app_password(self, request: Request) -> Response:
        visitor, form = await self.posted(request)
        created, password = await self.write(accounts.create_app_password, visitor.actor, text_field(form, "label"))
        return self.render(request, "app_password.html", visitor, created=created, password=password)

    async def revoke(self, request: Request) -> Response:
        visitor, _ = await self.posted(request)
        await self.write(accounts.revoke_app_password, visitor.actor, request.path_params["id"])
        return self.done(ACCOUNT, "app-password-revoked")

    async def forwarding(self, request: Request) -> Response:
        visitor, form = await self.posted(request)
        target = None if text_field(form, "off") else text_field(form, "target").strip() or None
        keep = text_field(form, "keep_copy") == "on"
        await self.write(accounts.set_forwarding, visitor.actor, str(visitor.user.address), target, keep)
        return self.done(ACCOUNT, "forwarding")

    async def vacation(self, request: Request) -> Response:
        visitor, form = await self.posted(request, await read_form(request, max_part_size=VACATION_BYTES))
        reply = None
        if not text_field(form, "off"):
            reply = Vacation(text_field(form, "subject").strip(), text_field(form, "body"))
        await self.write(accounts.set_vacation, visitor.actor, str(visitor.user.address), reply)
        return self.done(ACCOUNT, "vacation-off" if reply is None else "vacation-on")

    async def profile(self, request: Request) -> Response:
        visitor = await self.require(request)
        collaboration = await self.read(has_module, visitor.user.tenant_id, COLLABORATION)
        body = mobileconfig(
            self.services.config, self.services.listening, visitor.user, visitor.brand.name, collaboration
        )
        address = str(visitor.user.address)
        plain = "".join(ch if ch.isascii() and (ch.isalnum() or ch in ".-_") else "-" for ch in address)
        filename = f"{plain}.mobileconfig"
        headers = {**SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="{filename}"'}
        return Response(body, media_type="application/x-apple-aspen-config", headers=headers)


def _reload(services: Services, user: User) -> User:
    found = services.directory.find_user(str(user.address))
    assert found is not None
    return found
