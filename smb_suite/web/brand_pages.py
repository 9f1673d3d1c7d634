"""White label in the admin pages: a partner edits its brand (name, colour, support address and phone) and
uploads its logo; every page links the stylesheet and logo of the brand its visitor sees (/admin/brand/KEY/...,
KEY a partner's business id or "default"), public since the sign-up page shows them too.

Views only translate HTTP; ops/brands checks the values and who may change them.
"""

from __future__ import annotations

from urllib.parse import quote

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from smb_suite.directory.brands import DEFAULT_KEY, Brand
from smb_suite.directory.model import Role
from smb_suite.errors import InvalidInput, NotFound
from smb_suite.ops import brands
from smb_suite.web.admin import FORM_BYTES, Views, Visitor, text_field

BRAND = "/admin/brand"
LOGO_BYTES = brands.MAX_LOGO + 16 * 1024
PUBLIC = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}


class BrandViews(Views):
    def routes(self) -> list[BaseRoute]:
        return [
            Route(BRAND, self.form, methods=["GET"]),
            Route(BRAND, self.save, methods=["POST"], max_body_size=FORM_BYTES),
            Route(BRAND + "/logo", self.upload, methods=["POST"], max_body_size=LOGO_BYTES),
            Route(BRAND + "/{key}/style.css", self.style, methods=["GET"]),
            Route(BRAND + "/{key}/logo", self.logo, methods=["GET"]),
        ]

    async def _partner(self, visitor: Visitor, request: Request, given: str = "") -> str:
        """The partner whose brand is edited: the visitor's own business, or (the operator) the one named."""
        if visitor.user.role is Role.OPERATOR:
            return given or request.query_params.get("partner", "")
        names = await self.services.runner.read(self.services.tenants.names, [visitor.user.tenant_id])
        return names.get(visitor.user.tenant_id, "")

    async def form(self, request: Request) -> Response:
        visitor = await self.require(request)
        partner = await self._partner(visitor, request)
        current = await self.read(brands.brand_of, visitor.actor, partner)
        return self.render(request, "brand.html", visitor, partner=partner, edited=current)

    async def save(self, request: Request) -> Response:
        visitor, form = await self.posted(request)
        partner = await self._partner(visitor, request, text_field(form, "partner"))
        fields = [text_field(form, name) for name in ("name", "colour", "support_email", "support_phone")]
        await self.write(brands.set_brand, visitor.actor, partner, *fields)
        return self.done(_form_url(visitor, partner), "saved")

    async def upload(self, request: Request) -> Response:
        form = await request.form(max_files=1, max_fields=3, max_part_size=brands.MAX_LOGO + 1)
        visitor, form = await self.posted(request, form)
        upload = form.get("logo")
        if not isinstance(upload, UploadFile):
            raise InvalidInput("choose a PNG, JPEG or WebP file")
        data = await upload.read(brands.MAX_LOGO + 1)
        partner = await self._partner(visitor, request, text_field(form, "partner"))
        await self.write(brands.set_logo, visitor.actor, partner, data)
        return self.done(_form_url(visitor, partner), "saved")

    async def _brand(self, key: str) -> Brand:
        if key == DEFAULT_KEY:
            return self.services.brands.default
        found = await self.services.runner.read(self.services.brands.of_partner, int(key)) if key.isdigit() else None
        if found is None:
            raise NotFound("No such brand.")
        return found

    async def style(self, request: Request) -> Response:
        brand = await self._brand(request.path_params["key"])
        body = f":root {{ --accent: {brand.colour}; }}\n"  # checked "#rrggbb" (ops/brands, config)
        return Response(body, media_type="text/css", headers=PUBLIC)

    async def logo(self, request: Request) -> Response:
        brand = await self._brand(request.path_params["key"])
        found = (
            None
            if brand.partner_id is None
            else await self.services.runner.read(self.services.brands.logo, brand.partner_id)
        )
        if found is None:
            raise NotFound("This brand has no logo.")
        data, media_type = found
        return Response(
            data, media_type=media_type, headers={**PUBLIC, "Content-Security-Policy": "default-src 'none'"}
        )


def _form_url(visitor: Visitor, partner: str) -> str:
    return BRAND + (f"?partner={quote(partner, safe='')}" if visitor.user.role is Role.OPERATOR else "")
