"""POST /_contact on a hosted site: the static contact page's form, delivered to the business's mailbox.

Spam defences without cookies or scripts (the page itself stays a static file): a honeypot field that
people never see (a bot that fills it is told "thank you" and nothing is sent), a per-address hourly limit,
and a refusal of posts whose Origin names another host. The message is built with email.message in
ops/sites.py, and single-line fields with CR or LF are refused, so nothing a visitor types becomes a header.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from smb_suite import log
from smb_suite.errors import NotFound, PermissionDenied
from smb_suite.ops import sites
from smb_suite.services import Services
from smb_suite.web.admin import client_ip, read_form, text_field
from smb_suite.web.hosts import SITE_SCOPE_KEY, request_host
from smb_suite.web.pages import Pages

logger = logging.getLogger("smb_suite.web")

HONEYPOT = "website"
THANKS = "/thanks/"
BODY_BYTES = 64 * 1024


class ContactViews:
    def __init__(self, services: Services, pages: Pages) -> None:
        self._services = services
        self._pages = pages

    async def post(self, request: Request) -> Response:
        domain_name = request.scope.get(SITE_SCOPE_KEY)
        if not domain_name:
            raise NotFound("No website is published at this address.")
        origin = request.headers.get("origin")
        if origin and origin != "null" and urlsplit(origin).hostname != request_host(request.headers):
            raise PermissionDenied("This form can only be sent from its own website.")
        form = await read_form(request, max_part_size=BODY_BYTES // 2)
        ip = client_ip(request)
        if text_field(form, HONEYPOT):
            log.event(logger, "web.contact.honeypot", site=domain_name, ip=ip)
            return RedirectResponse(THANKS, status_code=303)
        message = sites.check_contact(
            text_field(form, "name"),
            text_field(form, "email"),
            text_field(form, "phone"),
            text_field(form, "subject"),
            text_field(form, "message"),
        )
        per_hour = self._services.config.sites.contact_per_hour
        if not await self._services.runner.write(self._services.rate_limits.allow, "contact", ip, per_hour):
            log.event(logger, "web.contact.throttled", site=domain_name, ip=ip)
            return self._pages.error(
                request, 429, "You have sent several messages in a short time. Please try again in an hour."
            )
        domain = await self._services.runner.read(self._services.directory.find_domain, domain_name)
        if domain is None:
            raise NotFound("No website is published at this address.")
        copies = await self._services.runner.write(sites.send_contact_message, self._services, domain, message, ip)
        log.event(logger, "web.contact.sent", site=domain.name, ip=ip, copies=copies)
        return RedirectResponse(THANKS, status_code=303)
