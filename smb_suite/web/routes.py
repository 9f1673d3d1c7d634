"""The admin UI, the provisioning API and the contact form's view: the web front end's modules that a worker
loads at the first request for one of them (web/app.py `WebApp._views`), not at start.

Together with what they import (Radicale and icalendar for the calendar, contacts and project pages,
markdown-it and nh3 for the site editor, the admin views themselves) they are ~10 MB of every worker's memory,
which a worker that only serves hosted sites, or none of them yet, does without (docs/ARCHITECTURE.md,
"Worker memory").
"""

from __future__ import annotations

from starlette.routing import BaseRoute
from starlette.types import ASGIApp

from smb_suite.services import Services
from smb_suite.web.account import AccountViews
from smb_suite.web.admin import AdminViews
from smb_suite.web.api.app import Api
from smb_suite.web.billing_pages import BillingViews
from smb_suite.web.brand_pages import BrandViews
from smb_suite.web.business import BusinessViews
from smb_suite.web.calendar_pages import CalendarViews
from smb_suite.web.contact import ContactViews
from smb_suite.web.crm import CrmViews
from smb_suite.web.imports import ImportViews
from smb_suite.web.operator import OperatorViews
from smb_suite.web.pages import Pages
from smb_suite.web.projects import ProjectViews
from smb_suite.web.recovery import RecoveryViews
from smb_suite.web.sessions import Sessions
from smb_suite.web.site_admin import SiteAdminViews
from smb_suite.web.site_media import SiteMediaViews


def admin_routes(services: Services, pages: Pages, sessions: Sessions) -> list[BaseRoute]:
    """Every route of the admin UI (below /admin on our own host names)."""
    return [
        *AdminViews(services, pages, sessions).routes(),
        *AccountViews(services, pages, sessions).routes(),
        *BusinessViews(services, pages, sessions).routes(),
        *OperatorViews(services, pages, sessions).routes(),
        *BillingViews(services, pages, sessions).routes(),
        *BrandViews(services, pages, sessions).routes(),
        *SiteAdminViews(services, pages, sessions).routes(),
        *SiteMediaViews(services, pages, sessions).routes(),
        *ImportViews(services, pages, sessions).routes(),
        *ProjectViews(services, pages, sessions).routes(),
        *RecoveryViews(services, pages, sessions).routes(),
        *CalendarViews(services, pages, sessions).routes(),
        *CrmViews(services, pages, sessions).routes(),
    ]


def api(services: Services) -> ASGIApp:
    """The provisioning API (below /api on our own host names)."""
    return Api(services)


def contact(services: Services, pages: Pages) -> ContactViews:
    """The hosted sites' contact form (POST /_contact)."""
    return ContactViews(services, pages)
