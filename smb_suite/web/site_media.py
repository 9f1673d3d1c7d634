"""Admin pages of a site's media library: upload a picture (with its alt text), show it, delete it, make it the
cover. The picture is checked and rewritten in a reader thread (sites/media.py: Pillow, defusedxml), then kept by
the store writer with its quota charge; a refused picture leaves nothing behind and publishes nothing.
"""

from __future__ import annotations

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from smb_suite.errors import InvalidInput
from smb_suite.ops import media as media_ops
from smb_suite.sites.media import MAX_MEDIA_BYTES
from smb_suite.web.admin import text_field
from smb_suite.web.site_admin import BASE, FORM_BYTES, PICTURE_HEADERS, SiteAdminViews


class SiteMediaViews(SiteAdminViews):
    def routes(self) -> list[BaseRoute]:
        site = BASE + "/{domain}"
        return [
            Route(site + "/media", self.upload_picture, methods=["POST"], max_body_size=MAX_MEDIA_BYTES + 64 * 1024),
            Route(site + "/media/{media:int}", self.show_picture, methods=["GET"]),
            Route(site + "/media/{media:int}/delete", self.delete_picture, methods=["POST"], max_body_size=FORM_BYTES),
            Route(site + "/cover", self.cover, methods=["POST"], max_body_size=FORM_BYTES),
        ]

    async def upload_picture(self, request: Request) -> Response:
        form = await request.form(max_files=1, max_fields=5, max_part_size=4096)
        actor, form, domain = await self._post(request, form)
        upload = form.get("picture")
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise InvalidInput("Choose a picture file (JPEG, PNG, WebP or SVG).")
        data = await upload.read(MAX_MEDIA_BYTES + 1)
        alt = text_field(form, "alt")
        services = self.services
        prepared = await services.runner.read(media_ops.prepare_picture, services, actor, domain, data, alt)
        await services.runner.write(media_ops.add_picture, services, actor, domain, prepared, alt)
        return self._done(domain, "picture-cleaned" if prepared.removed else "picture-added", "#pictures")

    async def show_picture(self, request: Request) -> Response:
        visitor = await self.require(request)
        domain, media_id = request.path_params["domain"], request.path_params["media"]
        found = await self.read(media_ops.picture, visitor.actor, domain, media_id)
        return Response(
            found.data, media_type=found.media_type, headers={**PICTURE_HEADERS, "Cache-Control": "no-store"}
        )

    async def delete_picture(self, request: Request) -> Response:
        actor, _, domain = await self._post(request)
        await self.services.runner.write(
            media_ops.delete_picture, self.services, actor, domain, request.path_params["media"]
        )
        return self._done(domain, "picture-deleted", "#pictures")

    async def cover(self, request: Request) -> Response:
        actor, form, domain = await self._post(request)
        chosen = text_field(form, "media")
        media_id = int(chosen) if chosen.isdigit() and chosen.isascii() else None
        await self.services.runner.write(media_ops.choose_cover, self.services, actor, domain, media_id)
        return self._done(domain, "cover", "#pictures")
