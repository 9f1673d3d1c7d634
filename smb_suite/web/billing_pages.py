"""Billing in the admin pages: an owner adds or drops a module or a storage extension itself (ops/selfservice);
a partner reads its statement of a month (the numbers of `smb-suite billing statement`) and downloads it as CSV;
the operator reads every partner's totals of a month and any partner's statement.

Views only translate HTTP; ops/billing and ops/selfservice decide who may see and change what.
"""

from __future__ import annotations

import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from smb_suite.billing import export
from smb_suite.billing.money import Month
from smb_suite.directory.model import Role
from smb_suite.errors import InvalidInput
from smb_suite.ops import billing, selfservice
from smb_suite.services import Services
from smb_suite.web.admin import FORM_BYTES, Views, Visitor, text_field
from smb_suite.web.business import business_url
from smb_suite.web.pages import SECURITY_HEADERS

STATEMENT = "/admin/statement"
SUMMARY = "/admin/billing"


def _month(request: Request, services: Services) -> Month:
    text = request.query_params.get("month", "")
    if not text:
        today = services.subscriptions.today()
        return Month(today.year, today.month)
    return Month.parse(text)


def _own_name(services: Services, tenant_id: int) -> str:
    return services.tenants.names([tenant_id]).get(tenant_id, "")


def statement_home(visitor: Visitor) -> str:
    """Where the Statements link of a partner or the operator leads."""
    return SUMMARY if visitor.user.role is Role.OPERATOR else STATEMENT


class BillingViews(Views):
    def routes(self) -> list[BaseRoute]:
        return [
            Route("/admin/business/{tenant}/subscription", self.change, methods=["POST"], max_body_size=FORM_BYTES),
            Route(STATEMENT, self.statement, methods=["GET"]),
            Route(STATEMENT + ".csv", self.statement_csv, methods=["GET"]),
            Route(SUMMARY, self.summary, methods=["GET"]),
        ]

    async def change(self, request: Request) -> Response:
        visitor, form = await self.posted(request)
        tenant = request.path_params["tenant"]
        action, item = text_field(form, "action"), text_field(form, "item")
        await self.write(selfservice.change, visitor.actor, tenant, action, item)
        home = "/admin/" if visitor.user.role is Role.OWNER else business_url(tenant)
        return self.done(home, "subscription")

    async def _statement(self, request: Request) -> tuple[Visitor, billing.Statement]:
        visitor = await self.require(request)
        month = _month(request, self.services)
        if visitor.user.role is Role.OPERATOR:
            partner = request.query_params.get("partner", "")
            if not partner:
                raise InvalidInput("choose a partner on the billing page")
        else:
            partner = await self.read(_own_name, visitor.user.tenant_id)
        return visitor, await self.read(billing.statement, visitor.actor, partner, month)

    async def statement(self, request: Request) -> Response:
        visitor, found = await self._statement(request)
        return self.render(request, "statement.html", visitor, **_month_links(found.month), statement=found)

    async def statement_csv(self, request: Request) -> Response:
        _, found = await self._statement(request)
        name = f"statement-{found.partner}-{found.month}.csv"
        headers = {**SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="{name}"'}
        body = export.statement_csv(found.lines, found.totals)
        return Response(body, headers=headers, media_type="text/csv; charset=utf-8")

    async def summary(self, request: Request) -> Response:
        visitor = await self.require(request)
        month = _month(request, self.services)
        lines = await self.read(billing.summary, visitor.actor, month)
        return self.render(request, "billing.html", visitor, **_month_links(month), lines=lines)


def _month_links(month: Month) -> dict[str, Any]:
    first = datetime.date(month.year, month.month, 1)
    before = first - datetime.timedelta(days=1)
    after = first + datetime.timedelta(days=month.days)
    return {"month": str(month), "previous": f"{before:%Y-%m}", "next": f"{after:%Y-%m}"}
