"""The mini CRM's pages: the business's contacts (the shared "Contacts" address book its phones sync) with search,
status and tag filters, a form per contact, merging duplicates, Outlook CSV and vCard import and export.

Views only translate HTTP; ops/contacts.py decides who may see which business and does the work, in a thread
(Radicale's files and lock), never on the event loop nor on the store writer. An import that does not fit in
the business's storage is refused with 507 Insufficient Storage, like a CardDAV PUT, and changes nothing.
"""

from __future__ import annotations

import datetime
from typing import TypeVar
from urllib.parse import quote

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from smb_suite.dav import cards
from smb_suite.dav.cards import Contact, PhoneKind, PostalAddress, Status
from smb_suite.errors import InvalidInput, QuotaExceeded
from smb_suite.ops import contacts
from smb_suite.web.admin import Views, Visitor, read_form, text_field
from smb_suite.web.pages import SECURITY_HEADERS

CONTACTS = "/admin/business/{tenant}/contacts/"
MENU = "/admin/contacts/"  # the menu's entry: the visitor's own business's contacts
FORM_BYTES = 64 * 1024  # a contact's fields, notes included
IMPORT_BYTES = max(cards.MAX_FILE_BYTES, 4 * 1024 * 1024) + 64 * 1024
STATUSES = {
    Status.LEAD: "Lead",
    Status.CUSTOMER: "Customer",
    Status.SUPPLIER: "Supplier",
    Status.OTHER: "Other",
}
PHONE_FIELDS = {PhoneKind.WORK: "phone_work", PhoneKind.CELL: "phone_cell", PhoneKind.HOME: "phone_home"}
PHONE_LABELS = {PhoneKind.WORK: "Work phone", PhoneKind.CELL: "Mobile phone", PhoneKind.HOME: "Home phone"}
MERGE_CHOICE = "Choose at least two contacts to merge, and the one to keep."
NO_FILE = "Choose an Outlook CSV or vCard file."
FULL = "The business's storage is full: nothing was imported."
ERRORS = (MERGE_CHOICE, NO_FILE, FULL, *contacts.MESSAGES)
EXPORTS = {
    "vcard3": "vCard 3.0 (.vcf)",
    "vcard4": "vCard 4.0 (.vcf)",
    "csv": "Outlook CSV, UTF-8",
    "csv-windows-1252": "Outlook CSV, Windows-1252 (older Outlook)",
}
NOTICES = {
    "contact-saved": "The contact is saved.",
    "contact-deleted": "The contact is deleted.",
    "contacts-merged": "The contacts are merged into one.",
    "contacts-imported": "The contacts are imported.",
}
T = TypeVar("T")


def contacts_url(tenant: str, contact_id: str = "") -> str:
    return CONTACTS.format(tenant=quote(tenant, safe="")) + quote(contact_id, safe="@")


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.replace(";", ",").replace("\n", ",").split(",") if part.strip()]


def contact_from(form: FormData) -> Contact:
    """The contact a form describes (lists separated by commas)."""
    status = text_field(form, "status")
    return Contact(
        first_name=text_field(form, "first_name").strip(),
        last_name=text_field(form, "last_name").strip(),
        company=text_field(form, "company").strip(),
        role=text_field(form, "role").strip(),
        emails=cards.clean_list(_split(text_field(form, "emails"))),
        phones=tuple(
            (kind, number) for kind, name in PHONE_FIELDS.items() for number in _split(text_field(form, name))
        ),
        address=PostalAddress(
            text_field(form, "street").strip(),
            text_field(form, "city").strip(),
            text_field(form, "region").strip(),
            text_field(form, "code").strip(),
            text_field(form, "country").strip(),
        ),
        notes=text_field(form, "notes").replace("\r\n", "\n").strip(),
        tags=cards.clean_list(_split(text_field(form, "tags"))),
        status=Status(status) if status in cards.STATUSES else Status.OTHER,
        owner=text_field(form, "owner").strip(),
    )


def day(epoch: int | None) -> str:
    return datetime.datetime.fromtimestamp(epoch, datetime.UTC).date().isoformat() if epoch else ""


class CrmViews(Views):
    notices = {**Views.notices, **NOTICES}

    def routes(self) -> list[BaseRoute]:
        post = {"methods": ["POST"], "max_body_size": FORM_BYTES}
        return [
            Route(MENU, self.own, methods=["GET"]),
            Route(CONTACTS, self.page, methods=["GET"]),
            Route(CONTACTS + "export", self.export, methods=["GET"]),
            Route(CONTACTS + "new", self.new, methods=["GET"]),
            Route(CONTACTS + "new", self.create, **post),  # type: ignore[arg-type]
            Route(CONTACTS + "merge", self.merge, **post),  # type: ignore[arg-type]
            Route(CONTACTS + "import", self.import_file, methods=["POST"], max_body_size=IMPORT_BYTES),
            Route(CONTACTS + "{contact}", self.edit, methods=["GET"]),
            Route(CONTACTS + "{contact}", self.save, **post),  # type: ignore[arg-type]
            Route(CONTACTS + "{contact}/delete", self.delete, **post),  # type: ignore[arg-type]
        ]

    # -- pages ----------------------------------------------------------------------------------------------

    async def own(self, request: Request) -> Response:
        visitor = await self.require(request)
        name = await self.read(contacts.own_business, visitor.actor)
        return RedirectResponse(contacts_url(name), status_code=303, headers=SECURITY_HEADERS)

    async def page(self, request: Request, status: int = 200, error: str = "") -> Response:
        visitor = await self.require(request)
        query = request.query_params
        search, chosen, tag = query.get("q", "").strip(), query.get("status", ""), query.get("tag", "")
        tenant = request.path_params["tenant"]
        book = await self.read(contacts.contact_book, visitor.actor, tenant, search, chosen, tag)
        return self.render(
            request, "contacts.html", visitor, status, book=book, search=search, chosen_status=chosen, tag=tag,
            statuses=STATUSES, exports=EXPORTS, day=day, url=contacts_url(book.tenant.name), error=error,
        )  # fmt: skip

    async def new(self, request: Request) -> Response:
        visitor = await self.require(request)
        return await self._form(request, visitor, None, Contact(status=Status.LEAD))

    async def edit(self, request: Request) -> Response:
        visitor = await self.require(request)
        tenant, contact_id = request.path_params["tenant"], request.path_params["contact"]
        row = await self.read(contacts.get_contact, visitor.actor, tenant, contact_id)
        return await self._form(request, visitor, row, row.contact)

    async def _form(
        self,
        request: Request,
        visitor: Visitor,
        row: contacts.ContactRow | None,
        contact: Contact,
        status: int = 200,
        error: str = "",
    ) -> Response:
        tenant = request.path_params["tenant"]
        members = await self.read(contacts.members, visitor.actor, tenant)
        return self.render(
            request, "contact_edit.html", visitor, status, row=row, contact=contact, members=members,
            statuses=STATUSES, phone_fields=PHONE_FIELDS, phone_labels=PHONE_LABELS, day=day,
            url=contacts_url(tenant), error=error,
        )  # fmt: skip

    async def export(self, request: Request) -> Response:
        visitor = await self.require(request)
        kind = request.query_params.get("format", "vcard3")
        content, media_type, filename = await self.read(
            contacts.export_contacts, visitor.actor, request.path_params["tenant"], kind
        )
        headers = {**SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="{quote(filename)}"'}
        return Response(content, media_type=media_type, headers={**headers, "Cache-Control": "no-store"})

    # -- changes --------------------------------------------------------------------------------------------

    async def create(self, request: Request) -> Response:
        return await self._save(request, None)

    async def save(self, request: Request) -> Response:
        return await self._save(request, request.path_params["contact"])

    async def _save(self, request: Request, contact_id: str | None) -> Response:
        visitor, form = await self.posted(request, await read_form(request, 16 * 1024, 30))
        tenant = request.path_params["tenant"]
        contact = contact_from(form)
        try:
            saved = await self.read(contacts.save_contact, visitor.actor, tenant, contact_id, contact)
        except InvalidInput as error:
            row = None
            if contact_id is not None:
                row = await self.read(contacts.get_contact, visitor.actor, tenant, contact_id)
            return await self._form(request, visitor, row, contact, 422, str(error))
        return self.done(contacts_url(tenant, saved), "contact-saved")

    async def delete(self, request: Request) -> Response:
        visitor, _ = await self.posted(request)
        tenant = request.path_params["tenant"]
        await self.read(contacts.delete_contacts, visitor.actor, tenant, [request.path_params["contact"]])
        return self.done(contacts_url(tenant), "contact-deleted")

    async def merge(self, request: Request) -> Response:
        visitor, form = await self.posted(request, await read_form(request, 4096, 500))
        tenant = request.path_params["tenant"]
        chosen = [value for value in form.getlist("id") if isinstance(value, str)]
        keep = text_field(form, "keep") or (chosen[0] if chosen else "")
        if keep not in chosen or len(chosen) < 2:
            return await self.page(request, 422, MERGE_CHOICE)
        await self.read(contacts.merge_contacts, visitor.actor, tenant, keep, chosen)
        return self.done(contacts_url(tenant, keep), "contacts-merged")

    async def import_file(self, request: Request) -> Response:
        form = await request.form(max_files=1, max_fields=3, max_part_size=4096)
        try:
            visitor, form = await self.posted(request, form)
            upload = form.get("file")
            filename = upload.filename if isinstance(upload, UploadFile) else None
            data = await upload.read(IMPORT_BYTES) if isinstance(upload, UploadFile) else b""
        finally:
            await form.close()  # the spooled file
        if not filename:
            return await self.page(request, 422, NO_FILE)
        tenant = request.path_params["tenant"]
        try:
            await self.read(contacts.import_contacts, visitor.actor, tenant, filename, data)
        except InvalidInput as error:
            return await self.page(request, 422, str(error))
        except QuotaExceeded:
            return await self.page(request, 507, FULL)
        return self.done(contacts_url(tenant), "contacts-imported")
