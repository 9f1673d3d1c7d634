"""The admin pages in English and French: chosen from the browser's Accept-Language, switchable, remembered in
a cookie; every string the pages translate has its French text."""

from __future__ import annotations

import ast
import re
from contextlib import closing
from pathlib import Path

import httpx
import pytest

from smb_suite.ops import dns_records, recovery
from smb_suite.web import business, calendar_pages, crm, dav, i18n, imports, projects
from smb_suite.web.admin import Views
from smb_suite.web.i18n.fr import MESSAGES
from smb_suite.web.site_admin import LAYOUTS, NOTICES
from tests.adminweb import browser, make_admin_daemon, signed_in
from tests.daemon import Daemon

TEMPLATES = Path(business.__file__).resolve().parent / "templates"
CALL = re.compile(r"""_\(\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')""")
FIELD = re.compile(r"\{(\w+)\}")


def translated_strings() -> set[str]:
    found = {ast.literal_eval(m.group(1)) for path in TEMPLATES.glob("*.html") for m in CALL.finditer(path.read_text())}
    found |= set(Views.notices.values()) | set(NOTICES.values()) | set(LAYOUTS.values())
    found |= set(business.PURPOSES.values()) | set(business.STATUSES.values())
    found |= set(dns_records.WARNING_TEXTS)
    found |= set(imports.NOTICES.values()) | set(imports.SECURITIES.values()) | set(imports.ERRORS)
    found |= set(projects.NOTICES.values()) | set(projects.STATUS_LABELS.values()) | set(projects.ERRORS)
    found |= set(projects.PRIORITY_LABELS.values()) | {label for label, _ in dav.collection_urls("/dav/", 1, 1)}
    found |= set(recovery.REFUSALS.values()) | {recovery.THROTTLED}
    found |= set(calendar_pages.CalendarViews.notices.values()) | set(calendar_pages.ERRORS)
    found |= set(calendar_pages.MONTHS)
    found |= set(crm.NOTICES.values()) | set(crm.STATUSES.values()) | set(crm.EXPORTS.values())
    found |= set(crm.PHONE_LABELS.values()) | set(crm.ERRORS)
    return found


def test_every_translated_string_has_french_text_with_the_same_fields() -> None:
    strings = translated_strings()
    assert len(strings) > 100
    missing = sorted(text for text in strings if text not in MESSAGES)
    assert not missing
    for english, french in MESSAGES.items():
        assert set(FIELD.findall(english)) == set(FIELD.findall(french)), english


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("fr-FR,fr;q=0.9,en;q=0.8", "fr"),
        ("en-GB,en;q=0.9,fr;q=0.8", "en"),
        ("de-DE,de;q=0.9,fr;q=0.5", "fr"),
        ("de, fr;q=0", None),
        ("fr;q=0.2, en;q=0.7", "en"),
        ("*", None),
        ("", None),
    ],
)
def test_language_follows_accept_language_quality(header: str, expected: str | None) -> None:
    assert i18n.from_accept_language(header) == expected


pytestmark = pytest.mark.daemon(services=("http", "https"), make=make_admin_daemon)


def test_french_browser_gets_french_pages_and_the_switch_is_remembered(server: Daemon) -> None:
    with browser(server) as client:
        login = client.get("/admin/", headers={"Accept-Language": "fr-FR,fr;q=0.9"})
        assert '<html lang="fr">' in login.text and "Se connecter" in login.text
        switched = client.get("/admin/lang", params={"to": "en", "next": "/admin/"})
        assert switched.status_code == 303 and switched.headers["location"] == "/admin/"
        again = client.get("/admin/", headers={"Accept-Language": "fr-FR,fr;q=0.9"})
        assert '<html lang="en">' in again.text and "Sign in" in again.text


def test_language_switch_only_returns_to_admin_pages(server: Daemon) -> None:
    with browser(server) as client:
        away = client.get("/admin/lang", params={"to": "fr", "next": "https://evil.example/"})
        assert away.headers["location"] == "/admin/"
        sneaky = client.get("/admin/lang", params={"to": "fr", "next": "/admin//evil.example"})
        assert sneaky.headers["location"] == "/admin/"


def test_signed_in_pages_are_french_for_a_french_owner(server: Daemon) -> None:
    with closing(signed_in(server, "owner")) as owner:
        owner.cookies.set(i18n.LANG_COOKIE, "fr", path="/admin")
        page = owner.get("/admin/")
        assert "Boîtes mail de votre entreprise" in page.text and "Se déconnecter" in page.text
        denied = owner.get("/admin/business/client-co/")
        assert denied.status_code == 403 and "Interdit" in denied.text
        assert "cette entreprise n&#39;est pas l&#39;une des vôtres" in denied.text


def test_pages_without_a_session_are_french_too(server: Daemon) -> None:
    response = httpx.get(
        f"https://127.0.0.1:{server.ports['https']}/admin/signup", headers={"Accept-Language": "fr"}, verify=False
    )
    assert response.status_code == 200 and "Créer mon entreprise" in response.text
