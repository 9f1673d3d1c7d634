"""The calendar pages: month and week views of "Team" and of the signed-in user's own calendar, the event form
(create, edit, delete), .ics import, and the secret subscription URL (/admin/ics/TOKEN.ics, no sign-in: the
token is the credential) for Outlook's "add calendar from the internet" and phones.

Views only translate HTTP; ops/calendar.py does the work on the signed-in user's own calendars (NotFound, so
404, for a business without the "collaboration" module). Times are shown and entered in the visitor's time
zone: chosen on the page and remembered in a cookie, like the language.
"""

from __future__ import annotations

import functools
import hashlib
import zoneinfo
from datetime import date, datetime, timedelta
from typing import TypeVar

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from smb_suite.dav import agenda, ical
from smb_suite.dav.calendar_items import PERSONAL, TEAM
from smb_suite.errors import InvalidInput, NotFound, PermissionDenied
from smb_suite.ops import calendar as calendar_ops
from smb_suite.web import i18n
from smb_suite.web.admin import FORM_BYTES, Views, Visitor, read_form, text_field
from smb_suite.web.pages import SECURITY_HEADERS

CALENDAR = "/admin/calendar"
FEED = "/admin/ics"
ZONE_COOKIE = "smb_tz"
YEAR = 365 * 86400
IMPORT_BYTES = 4 * 1024 * 1024  # an .ics export of years of a busy calendar
DEFAULT_ZONE = {"fr": "Europe/Paris"}  # until the visitor chooses: a guess from the page's language
EVENT_FIELDS = ("title", "all_day", "start_date", "start_time", "end_date", "end_time", "location", "description")
T = TypeVar("T")
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
# The refusals these pages show with their fixed texts (translated: tests/integration/test_admin_i18n.py).
ERRORS = (
    "No such calendar.",
    "No such event.",
    "give the event a title (at most 200 characters)",
    "give the start date as YYYY-MM-DD",
    "give the end date as YYYY-MM-DD",
    "give the start time as HH:MM",
    "give the end time as HH:MM",
    "the event must end after it starts",
    "the location or the description is too long",
    "this file is not an iCalendar (.ics) file",
    "this file holds no event",
    "an event of this file has no start (DTSTART)",
    "choose an .ics file",
    "this file is too large (at most 4 MB)",
)


@functools.cache
def zone_names() -> list[str]:
    return sorted(zoneinfo.available_timezones())


def _day(text: str, default: date) -> date:
    try:
        return date.fromisoformat(text) if text else default
    except ValueError:
        return default


class CalendarViews(Views):
    notices = {
        **Views.notices,
        "event-saved": "The event is saved.",
        "event-saved-not-sent": "The event is saved. Only its organiser can send the attendees an update.",
        "event-deleted": "The event is deleted.",
        "feed-renewed": "The subscription address is new: the old one no longer works.",
        "imported": "The events of the file are in the calendar.",
    }

    def routes(self) -> list[BaseRoute]:
        page = CALENDAR + "/{calendar}"
        return [
            Route(CALENDAR + "/", self.start, methods=["GET"]),
            Route(page + "/", self.month_or_week, methods=["GET"]),
            Route(page + "/new", self.new_form, methods=["GET"]),
            Route(page + "/new", self.create, methods=["POST"], max_body_size=FORM_BYTES),
            Route(page + "/events/{event}", self.edit_form, methods=["GET"]),
            Route(page + "/events/{event}", self.update, methods=["POST"], max_body_size=FORM_BYTES),
            Route(page + "/events/{event}/delete", self.delete, methods=["POST"], max_body_size=FORM_BYTES),
            Route(page + "/import", self.upload, methods=["POST"], max_body_size=IMPORT_BYTES + FORM_BYTES),
            Route(page + "/feed", self.renew_feed, methods=["POST"], max_body_size=FORM_BYTES),
            Route(FEED + "/{token}.ics", self.feed, methods=["GET"]),
        ]

    @staticmethod
    def _zone(request: Request) -> tuple[zoneinfo.ZoneInfo, bool]:
        """The visitor's time zone, and whether it was chosen just now (then remembered)."""
        chosen = request.query_params.get("tz", "")
        if chosen:
            return agenda.zone_of(chosen), True
        remembered = request.cookies.get(ZONE_COOKIE, "")
        if remembered in zone_names():
            return zoneinfo.ZoneInfo(remembered), False
        return zoneinfo.ZoneInfo(DEFAULT_ZONE.get(i18n.language(request), "UTC")), False

    def _today(self, zone: zoneinfo.ZoneInfo) -> date:
        return datetime.fromtimestamp(self.services.clock(), zone).date()

    async def start(self, request: Request) -> Response:
        await self.require(request)
        return RedirectResponse(f"{CALENDAR}/{TEAM}/", status_code=303, headers=SECURITY_HEADERS)

    async def month_or_week(self, request: Request) -> Response:
        visitor = await self.require(request)
        calendar = _calendar(request)
        zone, chosen = self._zone(request)
        view = "week" if request.query_params.get("view") == "week" else "month"
        shown = _day(request.query_params.get("day", ""), self._today(zone))
        weeks = [agenda.week_of(shown)] if view == "week" else agenda.month_weeks(shown)
        days = [day for week in weeks for day in week]
        found = await self.read(calendar_ops.occurrences, visitor.user, calendar, days[0], days[-1], zone)
        laid_out = agenda.lay_out(days, shown.month if view == "month" else None, found)
        token = await self.read(calendar_ops.feed_token, visitor.user, calendar)
        step = (
            (agenda.shift_month(shown, -1), agenda.shift_month(shown, 1))
            if view == "month"
            else (shown - timedelta(days=agenda.WEEK), shown + timedelta(days=agenda.WEEK))
        )
        response = self.render(
            request,
            "calendar.html",
            visitor,
            calendar=calendar,
            view=view,
            shown=shown,
            today=self._today(zone),
            weeks=[laid_out[index : index + agenda.WEEK] for index in range(0, len(laid_out), agenda.WEEK)],
            previous=step[0],
            following=step[1],
            zone=zone.key,
            zones=zone_names(),
            month_name=MONTHS[shown.month - 1],
            feed_url=f"https://{self.services.config.server.hostname}{self._port()}{FEED}/{token}.ics",
        )
        if chosen:
            self.sessions.remember(response, request, ZONE_COOKIE, zone.key, YEAR)
        return response

    def _port(self) -> str:
        port = self.services.listening.get("https")
        return "" if port in (None, 443) else f":{port}"

    def _form_page(
        self,
        request: Request,
        visitor: Visitor,
        calendar: str,
        values: dict[str, str],
        href: str | None = None,
        error: str = "",
    ) -> Response:
        zone, _ = self._zone(request)
        return self.render(
            request,
            "event.html",
            visitor,
            400 if error else 200,
            calendar=calendar,
            href=href,
            values=values,
            error=error,
            zone=zone.key,
        )

    async def new_form(self, request: Request) -> Response:
        visitor = await self.require(request)
        calendar = _calendar(request)
        zone, _ = self._zone(request)
        day = _day(request.query_params.get("day", ""), self._today(zone)).isoformat()
        values = {"start_date": day, "end_date": day, "start_time": "09:00", "end_time": "10:00"}
        return self._form_page(request, visitor, calendar, values)

    async def edit_form(self, request: Request) -> Response:
        visitor = await self.require(request)
        calendar, href = _calendar(request), request.path_params["event"]
        zone, _ = self._zone(request)
        fields = await self.read(calendar_ops.event_fields, visitor.user, calendar, href, zone)
        return self._form_page(request, visitor, calendar, _values(fields), href)

    async def create(self, request: Request) -> Response:
        return await self._save(request, None)

    async def update(self, request: Request) -> Response:
        return await self._save(request, request.path_params["event"])

    async def _save(self, request: Request, href: str | None) -> Response:
        visitor, form = await self.posted(request, await read_form(request, max_fields=12))
        calendar = _calendar(request)
        zone, _ = self._zone(request)
        given = {name: text_field(form, name) for name in (*EVENT_FIELDS, "attendees")}
        try:
            fields = ical.fields_from_form(given)
        except InvalidInput as error:
            return self._form_page(request, visitor, calendar, given, href, str(error))
        shown = f"{CALENDAR}/{calendar}/?day={fields.start_date.isoformat()}"
        try:
            await calendar_ops.save_and_invite(self.services, visitor.user, calendar, href, fields, zone)
        except PermissionDenied:  # saved; the invitations are the organiser's to send
            return self.done(shown, "event-saved-not-sent")
        return self.done(shown, "event-saved")

    async def delete(self, request: Request) -> Response:
        visitor, _ = await self.posted(request)
        calendar = _calendar(request)
        await calendar_ops.cancel_and_delete(self.services, visitor.user, calendar, request.path_params["event"])
        return self.done(f"{CALENDAR}/{calendar}/", "event-deleted")

    async def upload(self, request: Request) -> Response:
        form = await request.form(max_files=1, max_fields=3, max_part_size=IMPORT_BYTES)
        visitor, form = await self.posted(request, form)
        calendar = _calendar(request)
        data = await _file(form)
        await self.read(calendar_ops.import_events, visitor.user, calendar, data)
        return self.done(f"{CALENDAR}/{calendar}/", "imported")

    async def renew_feed(self, request: Request) -> Response:
        visitor, _ = await self.posted(request)
        calendar = _calendar(request)
        await self.read(calendar_ops.feed_token, visitor.user, calendar, True)
        return self.done(f"{CALENDAR}/{calendar}/", "feed-renewed")

    async def feed(self, request: Request) -> Response:
        """The calendar a subscription token names, for clients that poll without signing in; a poll that finds
        it unchanged gets 304 (RFC 9110 13.1.2), as Outlook and phones poll every few minutes to hours."""
        text = await self.read(calendar_ops.feed, request.path_params["token"])
        etag = '"' + hashlib.sha256(text.encode("utf-8")).hexdigest()[:32] + '"'
        headers = {
            "ETag": etag,
            "Cache-Control": "no-cache",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        }
        if etag in request.headers.get("if-none-match", ""):
            return Response(status_code=304, headers=headers)
        return Response(text, media_type="text/calendar; charset=utf-8", headers=headers)


def _calendar(request: Request) -> str:
    calendar = str(request.path_params["calendar"])
    if calendar not in (TEAM, PERSONAL):
        raise NotFound("No such calendar.")
    return calendar


async def _file(form: FormData) -> bytes:
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise InvalidInput("choose an .ics file")
    data = await upload.read(IMPORT_BYTES + 1)
    if len(data) > IMPORT_BYTES:
        raise InvalidInput("this file is too large (at most 4 MB)")
    return data


def _values(fields: ical.EventFields) -> dict[str, str]:
    return {
        "title": fields.title,
        "all_day": "1" if fields.all_day else "",
        "start_date": fields.start_date.isoformat(),
        "end_date": fields.end_date.isoformat(),
        "start_time": fields.start_time.strftime("%H:%M") if fields.start_time else "",
        "end_time": fields.end_time.strftime("%H:%M") if fields.end_time else "",
        "location": fields.location,
        "description": fields.description,
        "attendees": ", ".join(fields.attendees),
        "recurring": "1" if fields.recurring else "",
    }
