"""Pages of the operator and partners (many businesses): create a business for a customer, change its tier,
suspend and resume it; the audit log (also for owners: their business); and self-service sign-up.

Views only translate HTTP; ops/ (tenants, users, ...) does the work and refuse what the principal may not do.
"""

from __future__ import annotations

import logging
import time

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from smb_suite import log
from smb_suite.errors import InvalidInput, NotFound, PermissionDenied, SmbSuiteError
from smb_suite.ops import brands, sites, tenants, tiers
from smb_suite.web import i18n
from smb_suite.web.admin import FORM_BYTES, HOME, Views, client_ip, read_form, text_field
from smb_suite.web.business import business_url
from smb_suite.web.errors import status_for
from smb_suite.web.pages import SECURITY_HEADERS
from smb_suite.web.sessions import check_csrf

logger = logging.getLogger("smb_suite.web")
SIGNUP = "/admin/signup"
SIGNUP_FIELDS = ("business", "identifier", "activity", "phone", "city", "theme", "recovery")


def when(at: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(at))


class OperatorViews(Views):
    def routes(self) -> list[BaseRoute]:
        post = {"methods": ["POST"], "max_body_size": FORM_BYTES}
        tenant = "/admin/tenants/{tenant}"
        return [
            Route("/admin/tenants", self.create, **post),  # type: ignore[arg-type]
            Route(tenant + "/tier", self.tier, **post),  # type: ignore[arg-type]
            Route(tenant + "/suspend", self.suspend, **post),  # type: ignore[arg-type]
            Route(tenant + "/resume", self.resume, **post),  # type: ignore[arg-type]
            Route(tenant + "/partner", self.partner, **post),  # type: ignore[arg-type]
            Route("/admin/audit/", self.audit, methods=["GET"]),
            Route(SIGNUP, self.signup_form, methods=["GET"]),
            Route(SIGNUP, self.signup, **post),  # type: ignore[arg-type]
        ]

    async def create(self, request: Request) -> Response:
        visitor, form = await self.posted(request)
        fields = [text_field(form, name) for name in ("name", "domain", "owner", "password")]
        tenant, _, _ = await self.write(tenants.create_tenant, visitor.actor, *fields, text_field(form, "tier") or None)
        return self.done(business_url(tenant.name), "tenant-created")

    async def tier(self, request: Request) -> Response:
        visitor, form = await self.posted(request)
        usage = await self.write(tiers.set_tier, visitor.actor, request.path_params["tenant"], text_field(form, "tier"))
        return self.done(business_url(usage.tenant), "tier")

    async def suspend(self, request: Request) -> Response:
        visitor, _ = await self.posted(request)
        await self.write(tenants.set_suspended, visitor.actor, request.path_params["tenant"], True)
        return self.done(HOME, "suspended")

    async def resume(self, request: Request) -> Response:
        visitor, _ = await self.posted(request)
        await self.write(tenants.set_suspended, visitor.actor, request.path_params["tenant"], False)
        return self.done(HOME, "resumed")

    async def partner(self, request: Request) -> Response:
        visitor, form = await self.posted(request)
        partner = text_field(form, "partner").strip() or None
        tenant = await self.write(tenants.set_partner, visitor.actor, request.path_params["tenant"], partner)
        return self.done(business_url(tenant.name), "saved")

    async def audit(self, request: Request) -> Response:
        visitor = await self.require(request)
        tenant = request.query_params.get("tenant") or None
        entries = await self.read(tenants.audit_entries, visitor.actor, tenant)
        return self.render(request, "audit.html", visitor, entries=entries, when=when)

    # -- sign-up ----------------------------------------------------------------------------------------------

    async def _signup_page(
        self, request: Request, status: int = 200, error: str = "", partner: str = "", **values: str
    ) -> Response:
        if not self.services.config.signup.enabled:
            raise NotFound("Sign-up is not open on this server.")
        partner = partner or request.query_params.get("partner", "")
        brand = await self.read(brands.signup_brand, partner)  # a partner's sign-up shows its brand
        choices = await self.read(sites.theme_choices)
        chosen = values.get("theme") or self.services.config.sites.default_theme
        return self.public_form(
            request,
            "signup.html",
            status,
            error=error,
            values={name: values.get(name, "") for name in SIGNUP_FIELDS},
            themes=choices,
            chosen=chosen if chosen in choices else next(iter(choices), ""),
            platform=brand.platform_domain,
            brand=brand,
            partner=partner,
        )

    async def signup_form(self, request: Request) -> Response:
        return await self._signup_page(request)

    async def signup(self, request: Request) -> Response:
        form = await read_form(request, max_fields=13)
        check_csrf(self.sessions.login_form_token(request), form)
        values = {name: text_field(form, name) for name in SIGNUP_FIELDS}
        if not self.services.config.signup.enabled:
            raise NotFound("Sign-up is not open on this server.")
        per_hour = self.services.config.signup.per_hour
        if not await self.services.runner.write(
            self.services.rate_limits.allow, "signup", client_ip(request), per_hour
        ):
            raise PermissionDenied("Too many sign-ups from your address: try again in an hour.")
        answers = sites.FirstSite(
            business_name=values["business"],
            lang=i18n.language(request),  # the site speaks the language the owner signed up in
            theme=values["theme"],
            activity=values["activity"],
            phone=values["phone"],
            city=values["city"],
        )
        try:
            password, partner = text_field(form, "password"), text_field(form, "partner")
            user = await self.write(
                tenants.signup, answers, values["identifier"], password, client_ip(request), partner, values["recovery"]
            )
        except (InvalidInput, PermissionDenied, SmbSuiteError) as exc:
            if status_for(exc) >= 500:
                raise
            return await self._signup_page(request, status_for(exc), str(exc), partner, **values)
        log.event(logger, "web.signup", user=user.address, ip=client_ip(request))
        response = self.done(HOME, "welcome")
        response.headers.update(SECURITY_HEADERS)
        await self.sessions.start(response, request, user)
        return response
