"""One business as its owner manages it (and its partner or the operator): mailboxes with their storage,
password resets (a new password, or a link mailed to the account's recovery address), aliases, domains and the
DNS records each needs, the tier and how to upgrade.

Views only translate HTTP; ops/ (accounts, dns_records...) does the work, and the core refuses what the signed-in
principal may not touch.
"""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from smb_suite.directory.model import Domain, Principal, Role, Tenant, User
from smb_suite.errors import InvalidInput
from smb_suite.ops import accounts, certificates, dns_records, domains, recovery, selfservice, users, verification
from smb_suite.ops.tiers import COLLABORATION, has_module
from smb_suite.services import Services
from smb_suite.web.admin import FORM_BYTES, Views, text_field
from smb_suite.web.pages import SECURITY_HEADERS

BUSINESS = "/admin/business/{tenant}/"
PURPOSES = {
    "web": "Visitors reach the website",
    "mx": "Mail for the domain comes to this server",
    "spf": "Which servers may send its mail (SPF)",
    "dkim": "Signature key of its mail (DKIM)",
    "dmarc": "What receivers do with forged mail (DMARC)",
    "autoconfig": "Mail apps find their settings",
    "srv": "Mail apps find the servers (SRV)",
    "dav": "Calendar and contacts apps find the server (SRV, TXT)",
    "mta-sts": "Other servers always send with encryption (MTA-STS)",
}
STATUSES = {
    "present": "Present",
    "missing": "Missing",
    "wrong": "Wrong",
    "unknown": "Could not check",
}
CERTIFICATE_STATUSES = {
    "valid": "Obtained automatically; renewed 30 days before it expires.",
    "pending": "Being requested: it is used within minutes once these names point at this server.",
    "failing": "Could not be obtained. These names must point at this server (their DNS A or AAAA records).",
}


def business_url(tenant: str) -> str:
    return f"/admin/business/{quote(tenant, safe='')}/"


def _tenant(services: Services, actor: Principal, name: str) -> Tenant:
    return services.tenants.get(actor, name)


def _domain(services: Services, actor: Principal, name: str) -> Domain:
    return services.directory.get_domain(actor, name)  # users are refused: they do not manage domains


class BusinessViews(Views):
    def routes(self) -> list[BaseRoute]:
        base = "/admin/business/{tenant}"
        post = {"methods": ["POST"], "max_body_size": FORM_BYTES}
        return [
            Route(base + "/", self.business, methods=["GET"]),
            Route(base + "/mailboxes", self.add_mailbox, **post),  # type: ignore[arg-type]
            Route(base + "/aliases", self.add_alias, **post),  # type: ignore[arg-type]
            Route(base + "/aliases/remove", self.remove_alias, **post),  # type: ignore[arg-type]
            Route(base + "/domains", self.add_domain, **post),  # type: ignore[arg-type]
            Route("/admin/mailboxes/{address}/password", self.reset_password, **post),  # type: ignore[arg-type]
            Route("/admin/mailboxes/{address}/reset-link", self.reset_link, **post),  # type: ignore[arg-type]
            Route("/admin/mailboxes/{address}/remove", self.remove_mailbox, **post),  # type: ignore[arg-type]
            Route("/admin/domains/{domain}/", self.domain, methods=["GET"]),
            Route("/admin/domains/{domain}/zone", self.zone, methods=["GET"]),
            Route("/admin/domains/{domain}/catchall", self.catchall, **post),  # type: ignore[arg-type]
            Route("/admin/domains/{domain}/verify", self.verify, **post),  # type: ignore[arg-type]
        ]

    # -- pages ----------------------------------------------------------------------------------------------

    async def business(self, request: Request) -> Response:
        visitor = await self.require(request)
        tenant = await self.read(_tenant, visitor.actor, request.path_params["tenant"])
        overview = await self.read(accounts.business, visitor.actor, tenant.id)
        return self.render(
            request,
            "business.html",
            visitor,
            business=overview,
            tenant=tenant.name,
            upgrade_contact=self.services.config.signup.upgrade_contact,
            partner=await self.read(_partner_name, tenant),
            offer=await self.read(selfservice.offer, visitor.actor, tenant.id),
            crm=await self.read(has_module, tenant.id, COLLABORATION),
        )

    async def domain(self, request: Request) -> Response:
        visitor = await self.require(request)
        domain = await self.read(_domain, visitor.actor, request.path_params["domain"])
        addresses = await dns_records.website_addresses(self.services)
        records = dns_records.records(self.services, domain, addresses)
        checks = request.query_params.get("check") == "1"
        if checks:
            rows = await dns_records.check(records, dns_records.lookup_for(self.services))
        else:
            rows = [dns_records.Check(record, dns_records.Status.UNKNOWN, ()) for record in records]
        return self.render(
            request,
            "domain.html",
            visitor,
            domain=domain,
            rows=rows,
            checks=checks,
            zone=dns_records.zone_file(records, domain),
            warnings=dns_records.warnings(self.services.config, addresses),
            purposes=PURPOSES,
            statuses=STATUSES,
            verification_record=verification.record_value(domain),
            certificate=await self.read(certificates.domain_certificate, visitor.actor, domain.name),
            certificate_statuses=CERTIFICATE_STATUSES,
        )

    async def zone(self, request: Request) -> Response:
        visitor = await self.require(request)
        domain = await self.read(_domain, visitor.actor, request.path_params["domain"])
        headers = {**SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="{domain.name}.zone"'}
        records = dns_records.records(self.services, domain, await dns_records.website_addresses(self.services))
        return PlainTextResponse(dns_records.zone_file(records, domain), headers=headers)

    # -- changes --------------------------------------------------------------------------------------------

    async def add_mailbox(self, request: Request) -> Response:
        visitor, form = await self.posted(request)
        tenant = await self.read(_tenant, visitor.actor, request.path_params["tenant"])
        role = Role.OWNER if text_field(form, "role") == "owner" else Role.USER
        local = text_field(form, "local").strip()
        if not local or "@" in local:
            raise InvalidInput("give the name before the @ only, like 'anna'")
        address = f"{local}@{text_field(form, 'domain')}"
        await self.write(users.add_user, visitor.actor, address, text_field(form, "password"), role)
        return self.done(business_url(tenant.name), "mailbox-added")

    async def reset_password(self, request: Request) -> Response:
        visitor, form = await self.posted(request)
        user = await self.write(
            users.set_password, visitor.actor, request.path_params["address"], text_field(form, "password")
        )
        if user.id == visitor.user.id:
            response = self.done("/admin/", "password")
            await self.sessions.start(response, request, await self.read(_reload_user, str(user.address)))
            return response
        return self.done(await self._home_of(visitor.actor, user.tenant_id), "password")

    async def reset_link(self, request: Request) -> Response:
        """Mail a password reset link to the account's recovery address (its owner never learns the password)."""
        visitor, _ = await self.posted(request)
        user = await self.write(recovery.send_reset_link, visitor.actor, request.path_params["address"])
        return self.done(await self._home_of(visitor.actor, user.tenant_id), "reset-link-sent")

    async def remove_mailbox(self, request: Request) -> Response:
        visitor, _ = await self.posted(request)
        user = await self.write(users.remove_user, visitor.actor, request.path_params["address"])
        return self.done(await self._home_of(visitor.actor, user.tenant_id), "mailbox-removed")

    async def add_alias(self, request: Request) -> Response:
        visitor, form = await self.posted(request)
        tenant = await self.read(_tenant, visitor.actor, request.path_params["tenant"])
        await self.write(accounts.add_alias, visitor.actor, text_field(form, "alias"), text_field(form, "target"))
        return self.done(business_url(tenant.name), "alias-added")

    async def remove_alias(self, request: Request) -> Response:
        visitor, form = await self.posted(request)
        tenant = await self.read(_tenant, visitor.actor, request.path_params["tenant"])
        await self.write(accounts.remove_alias, visitor.actor, text_field(form, "alias"), text_field(form, "target"))
        return self.done(business_url(tenant.name), "alias-removed")

    async def add_domain(self, request: Request) -> Response:
        visitor, form = await self.posted(request)
        tenant = await self.read(_tenant, visitor.actor, request.path_params["tenant"])
        domain = await self.write(domains.add_domain, visitor.actor, text_field(form, "domain"), tenant.name)
        return self.done(f"/admin/domains/{domain.name}/", "domain-added" if domain.verified else "domain-pending")

    async def verify(self, request: Request) -> Response:
        """ "Check now": look for the domain's verification TXT record at once."""
        visitor, _ = await self.posted(request)
        outcome = await verification.check_now(self.services, visitor.actor, request.path_params["domain"])
        base = f"/admin/domains/{outcome.domain.name}/"
        return self.done(base, "domain-verified" if outcome.verified else "domain-not-verified")

    async def catchall(self, request: Request) -> Response:
        visitor, form = await self.posted(request)
        target = None if text_field(form, "off") else text_field(form, "target").strip() or None
        domain = await self.write(accounts.set_catchall, visitor.actor, request.path_params["domain"], target)
        return self.done(await self._home_of(visitor.actor, domain.tenant_id), "catchall")

    async def _home_of(self, actor: Principal, tenant_id: int) -> str:
        names = await self.services.runner.read(self.services.tenants.names, [tenant_id])
        return business_url(names.get(tenant_id, "")) if actor.tenant_id != tenant_id else "/admin/"


def _partner_name(services: Services, tenant: Tenant) -> str:
    return "" if tenant.partner_id is None else services.tenants.names([tenant.partner_id]).get(tenant.partner_id, "")


def _reload_user(services: Services, address: str) -> User:
    found = services.directory.find_user(address)
    assert found is not None
    return found
